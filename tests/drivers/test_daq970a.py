"""Byte-exact tests of the DAQ970A/34972A driver against spec table 5.2 (rows copied here).

Row numbers refer to table 5.2 of the project's protocol spec. Every exchange the
instrument can refuse ends with ``SYST:ERR?`` (see the driver's module docstring), so the
scripts show the table's bytes followed by that check.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from drivers.base import RetryPolicy
from drivers.daq970a import (
    MAX_ERROR_READS,
    Daq970a,
    OverloadError,
    ScpiError,
    channel_numbers,
    format_channel_list,
)
from drivers.errors import (
    ActuationNotConfirmedError,
    InstrumentDisconnectedError,
    InstrumentError,
    InstrumentTimeoutError,
    ProtocolError,
)
from tests.drivers.scripted import Reply, ScriptedTransport

IDN = b"Keysight Technologies,DAQ970A,MY00000000,A.03.01-01.00-03.01-00.02-01.00-02.01"
NO_ERROR = b'+0,"No error"'
OUT_OF_RANGE = b'-222,"Data out of range"'
UNDEFINED_HEADER = b'-113,"Undefined header"'
ERR = b"SYST:ERR?\n"
# 22.885 °C on the 34901A's channel 101, as table 5.2 row 11 prints it.
ROOM_K = 22.885 + 273.15

Script = Sequence[tuple[bytes, Sequence[Reply]]]


class Harness:
    """A driver on a scripted transport, with the waits it asked for recorded instead of slept."""

    def __init__(self, script: Script, retry: RetryPolicy | None = None) -> None:
        self.transport = ScriptedTransport(script)
        self.sleeps: list[float] = []
        self.daq = Daq970a(self.transport, retry=retry, sleep=self.sleeps.append)

    def writes(self, data: bytes) -> int:
        return self.transport.written.count(data)


def asked(command: bytes, *replies: Reply) -> list[tuple[bytes, Sequence[Reply]]]:
    """A query and the error check behind it; ``replies`` answer both."""
    return [(command, []), (ERR, list(replies))]


def unit(reply: bytes = b"C") -> list[tuple[bytes, Sequence[Reply]]]:
    return [(b"UNIT:TEMP?\n", [reply])]


# --- table 5.2, row by row -------------------------------------------------------------------------


def test_row1_identity() -> None:
    h = Harness([(b"*IDN?\n", [IDN])])
    assert h.daq.identity() == IDN.decode()
    h.transport.assert_done()


def test_row2_reset_is_written_once_and_confirmed_by_row14_opc() -> None:
    h = Harness([(b"*RST\n", []), (b"*OPC?\n", [InstrumentTimeoutError("lost")]), (b"*OPC?\n", [b"1"])])
    h.daq.reset()
    h.transport.assert_done()
    assert h.writes(b"*RST\n") == 1
    assert h.daq.stats.retries == 1


def test_row3_clear_empties_the_queue_and_checks_it() -> None:
    h = Harness([(b"*CLS\n", []), (ERR, [NO_ERROR])])
    h.daq.clear()
    h.transport.assert_done()


def test_rows4_5_close_one_relay_confirmed_by_readback() -> None:
    h = Harness(
        [(b"ROUT:CLOS (@201)\n", []), (ERR, [NO_ERROR]), *asked(b"ROUT:CLOS? (@201)\n", b"1", NO_ERROR)]
    )
    h.daq.close_relays([201])
    h.transport.assert_done()


def test_row5_readback_of_two_relays() -> None:
    h = Harness(asked(b"ROUT:CLOS? (@201,202)\n", b"1,0", NO_ERROR))
    assert h.daq.relays_closed([202, 201]) == {201: True, 202: False}
    h.transport.assert_done()


def test_row6_open_relay_confirmed_by_closed_readback() -> None:
    h = Harness(
        [(b"ROUT:OPEN (@201)\n", []), (ERR, [NO_ERROR]), *asked(b"ROUT:CLOS? (@201)\n", b"0", NO_ERROR)]
    )
    h.daq.open_relays([201])
    h.transport.assert_done()


def test_row7_open_readback() -> None:
    h = Harness(asked(b"ROUT:OPEN? (@201)\n", b"1", NO_ERROR))
    assert h.daq.relays_open([201]) == {201: True}
    h.transport.assert_done()


def test_row8_channel_the_module_lacks_is_refused_and_nothing_is_resent() -> None:
    h = Harness([(b"ROUT:CLOS (@299)\n", []), (ERR, [OUT_OF_RANGE]), (ERR, [NO_ERROR])])
    with pytest.raises(InstrumentError) as caught:
        h.daq.close_relays([299])
    assert caught.value.code == -222
    assert 'ROUT:CLOS (@299): -222,"Data out of range"' in str(caught.value)
    h.transport.assert_done()  # no readback, no second ROUT:CLOS
    assert h.daq.stats.retries == 0


def test_row8_refused_query_answers_only_the_error_check() -> None:
    # A refused query sends nothing; the SYST:ERR? behind it answers at once instead of a timeout.
    h = Harness([*asked(b"ROUT:CLOS? (@299)\n", OUT_OF_RANGE), (ERR, [NO_ERROR])])
    with pytest.raises(InstrumentError) as caught:
        h.daq.relays_closed([299])
    assert caught.value.code == -222
    h.transport.assert_done()
    assert h.daq.stats.retries == 0


def test_row9_undefined_header_through_send() -> None:
    h = Harness([(b"FOO\n", []), (ERR, [UNDEFINED_HEADER]), (ERR, [NO_ERROR])])
    with pytest.raises(InstrumentError) as caught:
        h.daq.send("FOO")
    assert caught.value.code == -113
    assert "Undefined header" in str(caught.value)
    h.transport.assert_done()


def test_row9_queued_errors_are_drained_oldest_first() -> None:
    h = Harness([(ERR, [UNDEFINED_HEADER]), (ERR, [OUT_OF_RANGE]), (ERR, [NO_ERROR])])
    assert h.daq.errors() == [ScpiError(-113, "Undefined header"), ScpiError(-222, "Data out of range")]
    h.transport.assert_done()


def test_row10_empty_error_queue() -> None:
    h = Harness([(ERR, [NO_ERROR])])
    assert h.daq.errors() == []
    h.transport.assert_done()


def test_row11_thermocouple_in_kelvin() -> None:
    h = Harness([*unit(), *asked(b"MEAS:TEMP? TC,K,(@101)\n", b"+2.28850000E+01", NO_ERROR)])
    assert h.daq.temperature_k(101) == pytest.approx(ROOM_K, abs=1e-9)
    h.transport.assert_done()


def test_row11_open_thermocouple_raises_never_a_number() -> None:
    h = Harness([*unit(), *asked(b"MEAS:TEMP? TC,K,(@104)\n", b"+9.90000000E+37", NO_ERROR)])
    with pytest.raises(OverloadError) as caught:
        h.daq.temperature_k(104)
    assert caught.value.channels == [104]
    assert isinstance(caught.value, InstrumentError)
    h.transport.assert_done()  # an overload is an answer, not a failure to retry
    assert h.daq.stats.retries == 0


@pytest.mark.parametrize(
    ("unit_reply", "reading"),
    [(b"C", b"+2.28850000E+01"), (b"F", b"+7.31930000E+01"), (b"K", b"+2.96035000E+02")],
)
def test_row12_unit_is_read_once_and_converted(unit_reply: bytes, reading: bytes) -> None:
    measure = asked(b"MEAS:TEMP? TC,K,(@101)\n", reading, NO_ERROR)
    h = Harness([*unit(unit_reply), *measure, *measure])
    assert h.daq.temperature_k(101) == pytest.approx(ROOM_K, abs=1e-9)
    assert h.daq.temperature_k(101) == pytest.approx(ROOM_K, abs=1e-9)
    h.transport.assert_done()
    assert h.writes(b"UNIT:TEMP?\n") == 1


def test_row12_unknown_unit_is_a_protocol_error() -> None:
    h = Harness([*unit(b"X"), *unit(b"X")])
    with pytest.raises(ProtocolError):
        h.daq.temperature_k(101)
    h.transport.assert_done()


def test_row13_dc_volts() -> None:
    h = Harness(asked(b"MEAS:VOLT:DC? (@102)\n", b"+1.23456789E+00", NO_ERROR))
    assert h.daq.volts(102) == 1.23456789
    h.transport.assert_done()


def test_row13_voltage_beyond_range_raises() -> None:
    h = Harness(asked(b"MEAS:VOLT:DC? (@102)\n", b"-9.90000000E+37", NO_ERROR))
    with pytest.raises(OverloadError):
        h.daq.volts(102)


# --- beyond single rows -------------------------------------------------------------------------------


def test_several_thermocouples_in_one_scan() -> None:
    h = Harness(
        [
            *unit(),
            *asked(
                b"MEAS:TEMP? TC,J,(@101:103)\n", b"+2.28850000E+01,+2.31000000E+01,-1.00000000E+01", NO_ERROR
            ),
        ]
    )
    temperatures = h.daq.temperatures_k([103, 101, 102], thermocouple="j")
    assert temperatures == pytest.approx({101: ROOM_K, 102: 273.15 + 23.1, 103: 263.15})
    h.transport.assert_done()


def test_one_open_thermocouple_in_a_scan_is_named() -> None:
    h = Harness(
        [*unit(), *asked(b"MEAS:TEMP? TC,K,(@101,104)\n", b"+2.28850000E+01,+9.90000000E+37", NO_ERROR)]
    )
    with pytest.raises(OverloadError, match=r"\(@104\)") as caught:
        h.daq.temperatures_k([101, 104])
    assert caught.value.channels == [104]


def test_unknown_thermocouple_type_is_refused_before_anything_is_sent() -> None:
    h = Harness([])
    with pytest.raises(ValueError, match="thermocouple type"):
        h.daq.temperature_k(101, thermocouple="Q")
    assert h.transport.written == []


@pytest.mark.parametrize(
    ("channels", "text"),
    [
        ([201], "(@201)"),
        ([201, 202], "(@201,202)"),
        ([201, 203, 204, 205], "(@201,203:205)"),
        ([205, 204, 203, 201], "(@201,203:205)"),
        ([201, 201, 202], "(@201,202)"),
        ([101, 102, 103, 201, 202, 203], "(@101:103,201:203)"),
        ([119, 120, 201], "(@119,120,201)"),
        (list(range(201, 221)), "(@201:220)"),
        ([101, 103, 105], "(@101,103,105)"),
        ((ch for ch in (302, 301, 303)), "(@301:303)"),
    ],
)
def test_channel_list_formatting(channels: list[int], text: str) -> None:
    assert format_channel_list(channels) == text


@pytest.mark.parametrize("channels", [[], [100], [400], [99], [1000], [200], [True], [201.0], ["201"]])
def test_channel_list_rejects_what_is_not_a_channel(channels: list[object]) -> None:
    with pytest.raises(ValueError):
        channel_numbers(channels)  # type: ignore[arg-type]


def test_relay_commands_compress_ranges() -> None:
    h = Harness(
        [
            (b"ROUT:CLOS (@201,203:205)\n", []),
            (ERR, [NO_ERROR]),
            *asked(b"ROUT:CLOS? (@201,203:205)\n", b"1,1,1,1", NO_ERROR),
        ]
    )
    h.daq.close_relays([205, 201, 204, 203])
    h.transport.assert_done()


def test_actuation_not_confirmed_is_raised_and_not_resent() -> None:
    h = Harness(
        [
            (b"ROUT:CLOS (@201,202)\n", []),
            (ERR, [NO_ERROR]),
            *asked(b"ROUT:CLOS? (@201,202)\n", b"1,0", NO_ERROR),
        ]
    )
    with pytest.raises(ActuationNotConfirmedError, match=r"ROUT:CLOS \(@201,202\)"):
        h.daq.close_relays([201, 202])
    h.transport.assert_done()
    assert h.writes(b"ROUT:CLOS (@201,202)\n") == 1


def test_open_not_confirmed_when_a_relay_stays_closed() -> None:
    h = Harness(
        [(b"ROUT:OPEN (@201)\n", []), (ERR, [NO_ERROR]), *asked(b"ROUT:CLOS? (@201)\n", b"1", NO_ERROR)]
    )
    with pytest.raises(ActuationNotConfirmedError):
        h.daq.open_relays([201])
    assert h.writes(b"ROUT:OPEN (@201)\n") == 1


def test_lost_readback_is_retried_but_the_actuation_is_not_resent() -> None:
    h = Harness(
        [
            (b"ROUT:CLOS (@201)\n", []),
            (ERR, [NO_ERROR]),
            *asked(b"ROUT:CLOS? (@201)\n", b"1"),  # the error check's reply is lost: timeout
            (ERR, [NO_ERROR]),
            *asked(b"ROUT:CLOS? (@201)\n", b"1", NO_ERROR),
        ]
    )
    h.daq.close_relays([201])
    h.transport.assert_done()
    assert h.writes(b"ROUT:CLOS (@201)\n") == 1
    assert h.daq.stats.retries == 1
    assert h.transport.reconnects == 1


def test_a_send_is_not_repeated_when_its_check_is_lost() -> None:
    h = Harness([(b"CONF:VOLT:DC (@102)\n", []), (ERR, []), (ERR, [NO_ERROR])])
    h.daq.send("CONF:VOLT:DC (@102)")
    h.transport.assert_done()
    assert h.writes(b"CONF:VOLT:DC (@102)\n") == 1


def test_timeout_is_retried_once_then_raised() -> None:
    readback = asked(b"ROUT:CLOS? (@201)\n")  # no reply at all
    h = Harness([*readback, *readback])
    with pytest.raises(InstrumentTimeoutError):
        h.daq.relays_closed([201])
    h.transport.assert_done()
    assert h.daq.stats.retries == 1
    assert h.transport.reconnects == 1
    assert h.sleeps == pytest.approx(RetryPolicy().delays(), abs=0.005)


def test_retry_policy_sets_the_number_of_attempts() -> None:
    readback = asked(b"ROUT:CLOS? (@201)\n")
    h = Harness(
        [*readback, *readback, *readback, *asked(b"ROUT:CLOS? (@201)\n", b"0", NO_ERROR)], RetryPolicy(4)
    )
    assert h.daq.relays_closed([201]) == {201: False}
    # The backoff waits, less the (scripted, near-instant) recovery time.
    assert h.sleeps == pytest.approx(RetryPolicy(4).delays(), abs=0.005)


def test_disconnection_is_retried_after_a_reconnect() -> None:
    h = Harness([(b"*IDN?\n", [InstrumentDisconnectedError("reset by peer")]), (b"*IDN?\n", [IDN])])
    assert h.daq.identity() == IDN.decode()
    assert h.daq.stats.reconnects == 1
    assert h.transport.reconnects == 1


GARBLED = [b"#$%&*?!~", b"\xff\xfe", b""]


@pytest.mark.parametrize("garbage", GARBLED)
def test_garbled_readback_is_retried_then_raised(garbage: bytes) -> None:
    readback = asked(b"ROUT:CLOS? (@201)\n", garbage, garbage)
    h = Harness([*readback, *readback, *asked(b"ROUT:CLOS? (@201)\n", b"1", NO_ERROR)])
    with pytest.raises(ProtocolError):
        h.daq.relays_closed([201])
    assert h.daq.stats.retries == 1
    assert h.transport.discards == 1
    assert h.transport.reconnects == 0  # garbled bytes do not mean the connection is gone
    # The failed call may have left replies unread: the next one drops them before it asks.
    assert h.daq.relays_closed([201]) == {201: True}
    assert h.transport.discards == 2
    h.transport.assert_done()


def test_a_stale_reply_left_by_a_failed_call_is_never_taken_for_a_new_one() -> None:
    # Both attempts time out on the check; their readback replies "1" stay unread.
    readback = asked(b"ROUT:CLOS? (@201)\n", b"1")
    h = Harness([*readback, *readback, *asked(b"ROUT:CLOS? (@202)\n", b"0", NO_ERROR)])
    with pytest.raises(InstrumentTimeoutError):
        h.daq.relays_closed([201])
    assert h.daq.relays_closed([202]) == {202: False}
    h.transport.assert_done()


def test_a_call_after_a_clean_instrument_error_does_not_resync() -> None:
    h = Harness([*asked(b"ROUT:CLOS? (@299)\n", OUT_OF_RANGE), (ERR, [NO_ERROR]), (b"*IDN?\n", [IDN])])
    with pytest.raises(InstrumentError):
        h.daq.relays_closed([299])
    h.daq.identity()
    assert h.transport.discards == 0


@pytest.mark.parametrize(
    "reading",
    [b"#$%&*?!~", b"nan", b"inf", b"+2.2#850E+01", b"1_0", b"+2.28850000E+01,+2.31000000E+01", b"", b"\xb0C"],
)
def test_a_garbled_reading_never_yields_a_number(reading: bytes) -> None:
    measure = asked(b"MEAS:VOLT:DC? (@102)\n", reading, NO_ERROR)
    h = Harness([*measure, *measure, *asked(b"MEAS:VOLT:DC? (@102)\n", b"+1.0E+00", NO_ERROR)])
    with pytest.raises(ProtocolError):
        h.daq.volts(102)
    assert h.daq.volts(102) == 1.0
    h.transport.assert_done()


def test_garbled_temperature_is_retried_and_the_unit_read_again() -> None:
    # A resync forgets the cached unit: after a failure the instrument may have been restarted.
    h = Harness(
        [
            *unit(),
            *asked(b"MEAS:TEMP? TC,K,(@101)\n", b"~^_|#", NO_ERROR),
            *unit(b"K"),
            *asked(b"MEAS:TEMP? TC,K,(@101)\n", b"+2.96035000E+02", NO_ERROR),
        ]
    )
    assert h.daq.temperature_k(101) == pytest.approx(ROOM_K)
    h.transport.assert_done()


@pytest.mark.parametrize("reply", [b"1", b"1,0,1", b"1,2", b"+1,0", b"1;0"])
def test_relay_readback_must_be_one_state_per_channel(reply: bytes) -> None:
    readback = asked(b"ROUT:CLOS? (@201,202)\n", reply, NO_ERROR)
    h = Harness([*readback, *readback])
    with pytest.raises(ProtocolError):
        h.daq.relays_closed([201, 202])


def test_missing_reply_with_an_answered_check_is_out_of_step_and_retried() -> None:
    h = Harness(
        [
            *asked(b"ROUT:CLOS? (@201)\n", NO_ERROR),  # the readback's reply was lost on the way
            *asked(b"ROUT:CLOS? (@201)\n", b"1", NO_ERROR),
        ]
    )
    assert h.daq.relays_closed([201]) == {201: True}
    assert h.daq.stats.retries == 1


def test_an_error_queued_behind_a_good_reply_is_reported_and_drained() -> None:
    h = Harness(
        [*asked(b"ROUT:CLOS? (@201)\n", b"1", UNDEFINED_HEADER), (ERR, [OUT_OF_RANGE]), (ERR, [NO_ERROR])]
    )
    with pytest.raises(InstrumentError, match=r"-113.*-222") as caught:
        h.daq.relays_closed([201])
    assert caught.value.code == -113
    h.transport.assert_done()


def test_error_drain_is_bounded() -> None:
    h = Harness([(ERR, [UNDEFINED_HEADER])] * MAX_ERROR_READS)
    assert len(h.daq.errors()) == MAX_ERROR_READS
    h.transport.assert_done()  # and no read beyond the bound


def test_each_error_read_is_retried_on_its_own() -> None:
    h = Harness([(ERR, [UNDEFINED_HEADER]), (ERR, []), (ERR, [OUT_OF_RANGE]), (ERR, [NO_ERROR])])
    assert [e.code for e in h.daq.errors()] == [-113, -222]
    h.transport.assert_done()


@pytest.mark.parametrize("reply", [b"Keysight Technologies DAQ970A", b"#$%&*?!~"])
def test_identity_needs_four_fields(reply: bytes) -> None:
    h = Harness([(b"*IDN?\n", [reply]), (b"*IDN?\n", [reply])])
    with pytest.raises(ProtocolError):
        h.daq.identity()


def test_reset_with_a_garbled_opc_is_retried_not_resent() -> None:
    h = Harness([(b"*RST\n", []), (b"*OPC?\n", [b"#"]), (b"*OPC?\n", [b"#"])])
    with pytest.raises(ProtocolError):
        h.daq.reset()
    assert h.writes(b"*RST\n") == 1


def test_resync_drops_input_and_sends_nothing() -> None:
    h = Harness([])
    h.daq.resync()
    assert h.transport.discards == 1
    assert h.transport.written == []


def test_close_closes_the_transport() -> None:
    transport = ScriptedTransport([])
    with Daq970a(transport):
        pass
    assert transport.closed
