"""Byte-exact unit tests of the XGS-600 driver with a scripted transport.

The exchanges of the manual's Table B-1 (address 00 on RS-232; the bytes are copied here
because tests never read the shared spec):

    #0001<CR>          -> >404C4CFEFEFE<CR>   board codes (10 HFIG, 3A IMG, 40 CNV, 4C analog, FE empty)
    #0002T1<CR>        -> >1.000E-02<CR>      one sensor by code (T<n>, I<n>) or user label (U<label>)
    #0003<CR>          -> >0005<CR>           setpoint states, bit n-1 for setpoint n
    #0005<CR>          -> >0110,0102<CR>      software revisions
    #000F<CR>          -> >x.xxxE-xx,...<CR>  every sensor in one line
    #0010/11/12<CR>    -> ><CR>               set Torr / mbar / Pa
    #0013<CR>          -> >00|01|02<CR>       read the unit
    invalid            -> ?FF<CR>
    other address      -> no reply

The transport hands over each line without its ``<CR>``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from drivers.base import RetryPolicy
from drivers.errors import (
    ActuationNotConfirmedError,
    InstrumentDisconnectedError,
    InstrumentError,
    InstrumentTimeoutError,
    ProtocolError,
)
from drivers.readings import GaugeState
from drivers.xgs600 import MIN_QUERY_INTERVAL_S, Board, Xgs600, XgsUnit
from tests.drivers.scripted import Reply, ScriptedTransport

TORR_PA = 101325.0 / 760.0
Exchange = tuple[bytes, Sequence[Reply]]
UNIT_TORR: Exchange = (b"#0013\r", [b">00"])


def dump(text: bytes) -> Exchange:
    return (b"#000F\r", [b">" + text])


class Driver:
    """A driver on a scripted transport, the waits it asked for recorded instead of slept."""

    def __init__(self, script: Sequence[Exchange], address: int = 0) -> None:
        self.transport = ScriptedTransport(script)
        self.sleeps: list[float] = []
        self.xgs = Xgs600(self.transport, address, retry=RetryPolicy(attempts=2), sleep=self.sleeps.append)

    def done(self) -> None:
        self.transport.assert_done()


def test_every_dump_is_followed_by_the_unit() -> None:
    d = Driver(
        [
            dump(b"7.600E+02,1.234E-03,5.000E-09"),
            UNIT_TORR,
            dump(b"7.599E+02,1.234E-03,5.000E-09"),
            UNIT_TORR,
        ]
    )
    first = d.xgs.read_all()
    assert [r.channel for r in first] == [1, 2, 3]
    assert all(r.state is GaugeState.OK for r in first)
    assert [r.pressure_pa for r in first] == pytest.approx(
        [760.0 * TORR_PA, 1.234e-3 * TORR_PA, 5e-9 * TORR_PA]
    )
    # The unit may have changed at the front panel since: #0013 again, the dump carries none.
    assert d.xgs.read_all()[0].pressure_pa == pytest.approx(759.9 * TORR_PA)
    d.done()


def test_a_unit_changed_at_the_panel_between_dumps_is_used() -> None:
    # Torr, then Pa at the panel: the dump may have come before the change or after it, so it
    # is taken again, and converted with the unit #0013 gives on both sides of it.
    d = Driver(
        [
            dump(b"7.600E+02"),
            UNIT_TORR,
            dump(b"7.600E+02"),
            (b"#0013\r", [b">02"]),
            dump(b"1.013E+05"),
            (b"#0013\r", [b">02"]),
        ]
    )
    assert d.xgs.read_all()[0].pressure_pa == pytest.approx(101325.0)
    assert d.xgs.read_all()[0].pressure_pa == pytest.approx(101300.0)
    d.done()


def test_a_unit_changing_under_every_dump_is_a_protocol_error() -> None:
    d = Driver(
        [
            dump(b"1.000E+00"),
            UNIT_TORR,
            dump(b"1.000E+00"),
            (b"#0013\r", [b">01"]),
            dump(b"1.000E+00"),
            (b"#0013\r", [b">02"]),
        ]
    )
    d.xgs.retry = RetryPolicy(attempts=1)
    d.xgs.read_all()
    with pytest.raises(ProtocolError, match="unit changed"):
        d.xgs.read_all()
    d.done()


def test_read_one_channel_is_its_field_of_the_dump() -> None:
    d = Driver([dump(b"7.600E+02,1.234E-03"), UNIT_TORR, dump(b"7.600E+02,1.234E-03"), UNIT_TORR])
    assert d.xgs.read(2).pressure_pa == pytest.approx(1.234e-3 * TORR_PA)
    with pytest.raises(InstrumentError, match="2 sensors, no channel 3"):
        d.xgs.read(3)
    d.done()


@pytest.mark.parametrize("channel", [0, 13, True, "1"])
def test_channel_out_of_range_is_refused_before_sending(channel: object) -> None:
    d = Driver([])
    with pytest.raises(ValueError, match="channel must be 1 to 12"):
        d.xgs.read(channel)  # type: ignore[arg-type]
    d.done()


@pytest.mark.parametrize(
    ("code", "unit", "pa"),
    [(b"00", XgsUnit.TORR, TORR_PA), (b"01", XgsUnit.MBAR, 100.0), (b"02", XgsUnit.PASCAL, 1.0)],
)
def test_every_unit_reads_in_pa(code: bytes, unit: XgsUnit, pa: float) -> None:
    d = Driver([(b"#0013\r", [b">" + code]), dump(b"2.500E+01"), (b"#0013\r", [b">" + code])])
    assert d.xgs.unit() is unit
    assert d.xgs.read_all()[0].pressure_pa == pytest.approx(25.0 * pa)
    d.done()


def test_states_and_range_limits() -> None:
    d = Driver([dump(b"OFF,NOCBL,OPEN,<1.000E-04,>1.000E+03,1.000E+03"), (b"#0013\r", [b">01"])])
    readings = d.xgs.read_all()
    assert [r.state for r in readings] == [
        GaugeState.SENSOR_OFF,
        GaugeState.NO_SENSOR,
        GaugeState.SENSOR_ERROR,
        GaugeState.UNDERRANGE,
        GaugeState.OVERRANGE,
        GaugeState.OK,
    ]
    assert [r.pressure_pa for r in readings] == [None, None, None, pytest.approx(1e-2), 1e5, 1e5]
    d.done()


def test_a_dump_of_words_only_needs_no_unit() -> None:
    d = Driver([dump(b"OFF,NOCBL")])
    assert [r.pressure_pa for r in d.xgs.read_all()] == [None, None]
    d.done()


@pytest.mark.parametrize(
    "text",
    [b"", b"7.600E+02,", b"ATM", b"7.6E+2", b"-1.000E+00", b"1.000E+02 ", b"nan", b"1.000E+02;1.000E+02"],
)
def test_unknown_fields_are_protocol_errors_never_numbers(text: bytes) -> None:
    # Retried once (garbled), then raised.
    d = Driver([dump(text), dump(text)])
    with pytest.raises(ProtocolError):
        d.xgs.read_all()
    d.done()


def test_thirteen_fields_are_too_many() -> None:
    text = b",".join([b"1.000E+00"] * 13)
    d = Driver([dump(text), dump(text)])
    with pytest.raises(ProtocolError, match="13 fields"):
        d.xgs.read_all()
    d.done()


def test_read_sensor_by_code_and_label() -> None:
    d = Driver(
        [
            (b"#0002T1\r", [b">1.000E-02"]),
            UNIT_TORR,
            (b"#0002UGATE\r", [b">OFF"]),
            (b"#0002I1\r", [b">>1.000E-02"]),
            UNIT_TORR,
        ]
    )
    one = d.xgs.read_sensor("T1")
    assert (one.channel, one.state) == (0, GaugeState.OK)
    assert one.pressure_pa == pytest.approx(1e-2 * TORR_PA)
    assert d.xgs.read_sensor("UGATE").state is GaugeState.SENSOR_OFF
    assert d.xgs.read_sensor("I1").state is GaugeState.OVERRANGE
    d.done()


@pytest.mark.parametrize("sensor", ["T0", "T13", "I7", "U", "UTOOLONG", "ugate", "T1\r"])
def test_bad_sensor_codes_are_refused_before_sending(sensor: str) -> None:
    d = Driver([])
    with pytest.raises(ValueError, match="sensor code"):
        d.xgs.read_sensor(sensor)
    d.done()


def test_invalid_is_an_instrument_error_with_its_code_and_not_retried() -> None:
    d = Driver([(b"#0002T9\r", [b"?FF"])])
    with pytest.raises(InstrumentError) as caught:
        d.xgs.read_sensor("T9")
    assert caught.value.code == "FF"
    d.done()


def test_boards_revisions_identity_and_setpoints() -> None:
    d = Driver(
        [
            (b"#0001\r", [b">104C3A40FEFE"]),
            (b"#0001\r", [b">404C4CFEFEFE"]),
            (b"#0005\r", [b">0110,0102,0102,0102"]),
            (b"#0003\r", [b">0005"]),
        ]
    )
    assert d.xgs.boards() == [Board.HFIG, Board.ANALOG, Board.IMG, Board.CNV, Board.EMPTY, Board.EMPTY]
    assert d.xgs.identity() == "XGS600,404C4CFEFEFE,0110/0102/0102/0102"
    states = d.xgs.setpoint_states()
    assert [n for n, on in states.items() if on] == [1, 3]
    d.done()


@pytest.mark.parametrize(
    ("command", "reply"), [(b"01", b">404C4CFEFE"), (b"01", b">404C4CFEFE77"), (b"05", b">1.10")]
)
def test_malformed_identity_replies(command: bytes, reply: bytes) -> None:
    frame = b"#00" + command + b"\r"
    d = Driver([(frame, [reply]), (frame, [reply])])
    with pytest.raises(ProtocolError):
        d.xgs.boards() if command == b"01" else d.xgs.software_revisions()
    d.done()


def test_set_unit_sent_once_and_confirmed_by_readback() -> None:
    d = Driver([(b"#0012\r", [b">"]), (b"#0013\r", [b">02"]), dump(b"2.500E+01"), (b"#0013\r", [b">02"])])
    d.xgs.set_unit(XgsUnit.PASCAL)
    assert d.xgs.read_all()[0].pressure_pa == pytest.approx(25.0)
    d.done()


def test_set_unit_whose_readback_disagrees_is_not_confirmed() -> None:
    d = Driver([(b"#0011\r", [b">"]), (b"#0013\r", [b">00"])])
    with pytest.raises(ActuationNotConfirmedError, match="unit MBAR"):
        d.xgs.set_unit(XgsUnit.MBAR)
    d.done()


def test_set_unit_lost_reply_is_judged_by_the_readback_never_resent() -> None:
    d = Driver([(b"#0010\r", [InstrumentTimeoutError("lost")]), (b"#0013\r", [b">00"])])
    d.xgs.set_unit(XgsUnit.TORR)
    assert d.transport.written.count(b"#0010\r") == 1
    assert d.transport.discards >= 1  # the late ">" of the lost reply is dropped first
    d.done()


def test_set_unit_refused() -> None:
    d = Driver([(b"#0011\r", [b"?FF"])])
    with pytest.raises(InstrumentError):
        d.xgs.set_unit(XgsUnit.MBAR)
    d.done()


def test_rs485_address_in_hex() -> None:
    d = Driver([(b"#1A0F\r", [b">1.000E+00"]), (b"#1A13\r", [b">00"])], address=0x1A)
    assert d.xgs.read_all()[0].ok
    d.done()


@pytest.mark.parametrize("address", [-1, 0x21, True])
def test_address_out_of_range(address: int) -> None:
    with pytest.raises(ValueError, match="addresses"):
        Xgs600(ScriptedTransport([]), address)


def test_timeout_is_retried_after_discarding_input() -> None:
    d = Driver([(b"#000F\r", [InstrumentTimeoutError("slow")]), dump(b"1.000E+00"), UNIT_TORR])
    assert d.xgs.read_all()[0].pressure_pa == pytest.approx(TORR_PA)
    assert d.xgs.stats.retries == 1
    assert d.transport.reconnects == 1  # a network timeout may be a closed peer
    assert d.transport.discards >= 1
    d.done()


def test_garbled_then_good() -> None:
    d = Driver([dump(b"#$%&*"), (b"#000F\r", [b"~^_|"])])
    with pytest.raises(ProtocolError):
        d.xgs.read_all()
    assert d.xgs.stats.retries == 1
    d.done()
    d2 = Driver([(b"#000F\r", [b"\xff\xfe"]), dump(b"OFF")])
    assert d2.xgs.read_all()[0].state is GaugeState.SENSOR_OFF
    d2.done()


def test_disconnect_reconnects_and_asks_the_unit_again() -> None:
    d = Driver(
        [
            dump(b"1.000E+00"),
            UNIT_TORR,
            (b"#000F\r", [InstrumentDisconnectedError("reset")]),
            dump(b"1.000E+00"),
            (b"#0013\r", [b">02"]),  # the controller came back in Pa: never scaled by the old unit
            dump(b"1.000E+00"),
            (b"#0013\r", [b">02"]),
        ]
    )
    assert d.xgs.read_all()[0].pressure_pa == pytest.approx(TORR_PA)
    assert d.xgs.read_all()[0].pressure_pa == pytest.approx(1.0)
    assert d.xgs.stats.reconnects == 1
    d.done()


def test_persistent_timeout_raises_after_the_policy() -> None:
    d = Driver(
        [(b"#000F\r", [InstrumentTimeoutError("gone")]), (b"#000F\r", [InstrumentTimeoutError("gone")])]
    )
    with pytest.raises(InstrumentTimeoutError):
        d.xgs.read_all()
    d.done()


def test_commands_are_spaced_by_the_manuals_ten_per_second() -> None:
    d = Driver([dump(b"1.000E+00"), UNIT_TORR, dump(b"1.000E+00"), UNIT_TORR])
    for _ in range(2):
        d.xgs.read_all()
    # Three commands after the first, each held back (never more than one interval).
    assert len(d.sleeps) == 3
    assert all(0.0 < s <= MIN_QUERY_INTERVAL_S for s in d.sleeps)
    d.done()


def test_ask_runs_read_commands_only() -> None:
    d = Driver([(b"#0032I1\r", [b">01"])])
    assert d.xgs.ask("32", "I1") == "01"
    for command in ("10", "06", "30", "5E", "0F\r"):
        with pytest.raises(ValueError, match="read command"):
            d.xgs.ask(command)
    d.done()
