"""The TPG 36x driver byte for byte against spec table 5.1 (rows named in each test), scripted.

Frames are written here as the transport returns them: the bytes of a line without its
``<CR><LF>`` (``VisaTransport`` strips the read termination, which ``Tpg36x.open`` sets to
``"\\r\\n"``). The bytes the driver writes are exact, terminators included.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import pytest

import drivers.tpg36x as tpg36x
from drivers.base import RetryPolicy
from drivers.errors import (
    ActuationNotConfirmedError,
    DriverError,
    InstrumentDisconnectedError,
    InstrumentError,
    InstrumentTimeoutError,
    ProtocolError,
)
from drivers.readings import GaugeState, PressureReading
from drivers.tpg36x import ComInterval, SensorSwitch, Tpg26x, Tpg36x, TpgUnit, UnconvertibleUnitError
from tests.drivers.scripted import Reply, ScriptedTransport

ACK = b"\x06"
NAK = b"\x15"
ENQ = b"\x05"
ETX = b"\x03"
IDENTITY = b"TPG362,PTG28290,44990000,010100,010000"
TORR_PA = 101325.0 / 760.0

Script = list[tuple[bytes, Sequence[Reply]]]


def handshake(command: bytes, data: bytes) -> Script:
    """``command`` answered ``<ACK>``, then ``<ENQ>`` answered ``data``."""
    return [(command, [ACK]), (ENQ, [data])]


def refused(command: bytes, word: bytes) -> Script:
    """``command`` answered ``<NAK>``, then ``<ENQ>`` answered the ERROR word."""
    return [(command, [NAK]), (ENQ, [word])]


UNIT_MBAR = handshake(b"UNI\r", b"0")


def make(
    script: Script, *, channels: int | None = 2, attempts: int = 2, cls: type[Tpg36x] = Tpg36x
) -> tuple[Tpg36x, ScriptedTransport]:
    transport = ScriptedTransport(script)
    driver = cls(transport, retry=RetryPolicy(attempts=attempts), sleep=lambda s: None, channels=channels)
    return driver, transport


class FakeClock:
    """``time.monotonic`` for the driver: each call advances by ``step_s``."""

    def __init__(self, step_s: float) -> None:
        self._times = itertools.count(start=1000.0, step=step_s)

    def __call__(self) -> float:
        return next(self._times)


# --- row 1: ETX, and connecting ---------------------------------------------------------------------


def test_row1_resync_sends_etx_and_drops_stale_input() -> None:
    driver, transport = make([(ETX, [])])
    driver.resync()
    assert transport.discards == 1
    transport.assert_done()


def test_open_reads_crlf_lines_and_sends_etx_first(monkeypatch: pytest.MonkeyPatch) -> None:
    made: dict[str, Any] = {}
    transport = ScriptedTransport([(ETX, [])])

    def fake_visa(resource_name: str, **kwargs: Any) -> ScriptedTransport:
        made.update(kwargs, resource_name=resource_name)
        return transport

    monkeypatch.setattr("drivers.base.VisaTransport", fake_visa)
    driver = Tpg36x.open("ASRL/dev/ttyUSB0::INSTR", timeout_s=0.5, baud_rate=9600)
    assert made == {
        "resource_name": "ASRL/dev/ttyUSB0::INSTR",
        "read_termination": "\r\n",
        "timeout_s": 0.5,
        "open_options": {"baud_rate": 9600},
    }
    assert driver.transport is transport and driver.model == "TPG36x"
    transport.assert_done()


class RefusedTransport(ScriptedTransport):
    """What pyvisa-py gives for a closed TCP port: it opens, then every write is refused."""

    def write(self, data: bytes) -> None:
        self.written.append(data)
        raise InstrumentDisconnectedError("connection refused")

    def reconnect(self) -> None:
        self.reconnects += 1
        raise InstrumentDisconnectedError("connection refused")


def test_open_returns_a_driver_whose_first_call_reports_the_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    transport = RefusedTransport([])
    monkeypatch.setattr("drivers.base.VisaTransport", lambda *args, **kwargs: transport)
    driver = Tpg36x.open("TCPIP::127.0.0.1::1::SOCKET")
    with pytest.raises(InstrumentDisconnectedError):
        driver.read(1)
    assert transport.written == [ETX, b"PR1\r", b"PR1\r"]  # no ETX while the reconnection fails


# --- rows 2, 3: AYT -----------------------------------------------------------------------------------


def test_rows2_3_identity_is_the_ayt_line() -> None:
    driver, transport = make(handshake(b"AYT\r", IDENTITY))
    assert driver.identity() == "TPG362,PTG28290,44990000,010100,010000"
    transport.assert_done()


@pytest.mark.parametrize(("model", "channels"), [(b"TPG361", 1), (b"TPG362", 2), (b"TPG366", 6)])
def test_channel_count_from_the_model_in_ayt_asked_once(model: bytes, channels: int) -> None:
    driver, transport = make(handshake(b"AYT\r", model + b",PTG28290,44990000,010100,010000"), channels=None)
    assert driver.channel_count == channels
    assert driver.channel_count == channels
    transport.assert_done()


def test_unknown_model_in_ayt_is_an_error() -> None:
    driver, _ = make(handshake(b"AYT\r", b"TPG999,PTG00000,1,010100,010000"), channels=None)
    with pytest.raises(DriverError, match="TPG999"):
        _ = driver.channel_count


def test_row2_a_tpg26x_refuses_ayt() -> None:
    driver, transport = make(refused(b"AYT\r", b"0001"))
    with pytest.raises(InstrumentError) as info:
        driver.identity()
    assert info.value.code == "0001"
    transport.assert_done()


# --- rows 4 to 7: UNI ---------------------------------------------------------------------------------


@pytest.mark.parametrize("unit", list(TpgUnit))
def test_rows4_5_unit_codes(unit: TpgUnit) -> None:
    driver, transport = make(handshake(b"UNI\r", str(int(unit)).encode()))
    assert driver.unit() is unit
    transport.assert_done()


def test_rows6_7_set_unit_confirmed_by_the_reply_then_used_for_readings() -> None:
    script = handshake(b"UNI,1\r", b"1") + handshake(b"PR1\r", b"0,7.6000E+02") + handshake(b"UNI\r", b"1")
    driver, transport = make(script)
    driver.set_unit(TpgUnit.TORR)
    assert driver.read(1) == PressureReading(1, GaugeState.OK, pytest.approx(101325.0))
    transport.assert_done()


def test_row6_refused_unit_raises_the_par_word_and_the_unit_is_read_again() -> None:
    script = refused(b"UNI,5\r", b"0010") + handshake(b"PR1\r", b"0,1.0000E+00") + handshake(b"UNI\r", b"2")
    driver, transport = make(script)
    with pytest.raises(InstrumentError) as info:
        driver.set_unit(TpgUnit.VOLT)
    assert info.value.code == "0010" and "inadmissible parameter" in str(info.value)
    assert driver.read(1).pressure_pa == 1.0
    transport.assert_done()


def test_set_unit_that_is_no_unit_code_writes_nothing() -> None:
    driver, transport = make([])
    with pytest.raises(ValueError):
        driver.set_unit(9)
    assert transport.written == []


def test_set_unit_answered_with_another_unit_is_not_confirmed() -> None:
    driver, transport = make(handshake(b"UNI,2\r", b"0") + handshake(b"PR1\r", b"0,1.0000E+00") + UNIT_MBAR)
    with pytest.raises(ActuationNotConfirmedError):
        driver.set_unit(TpgUnit.PASCAL)
    # What the controller said it shows is what it shows: mbar.
    assert driver.read(1).pressure_pa == 100.0
    transport.assert_done()


def test_set_unit_whose_reply_is_lost_leaves_the_unit_unconfirmed() -> None:
    script: Script = [(b"UNI,1\r", [ACK]), (ENQ, []), (ETX, []), (b"UNI,1\r", [ACK]), (ENQ, [])]
    # The broken-off call leaves the conversation suspect: the next one resynchronises first.
    script += [(ETX, []), *handshake(b"PR1\r", b"0,1.0000E+00"), *handshake(b"UNI\r", b"1")]
    driver, transport = make(script)
    with pytest.raises(InstrumentTimeoutError):
        driver.set_unit(TpgUnit.TORR)
    assert driver.read(1).pressure_pa == pytest.approx(TORR_PA)
    transport.assert_done()


# --- rows 8 to 14: readings ---------------------------------------------------------------------------


def test_rows8_9_reading_in_pa_with_the_unit_asked_once() -> None:
    driver, transport = make(handshake(b"PR1\r", b"0,1.2345E-03") + UNIT_MBAR)
    assert driver.read(1) == PressureReading(1, GaugeState.OK, pytest.approx(0.12345))
    transport.assert_done()


def test_row8_a_channel_the_model_lacks_is_refused_not_retried() -> None:
    driver, transport = make(refused(b"PR3\r", b"0001"))
    with pytest.raises(InstrumentError) as info:
        driver.read(3)
    assert info.value.code == "0001" and "syntax error" in str(info.value)
    assert driver.stats.retries == 0
    transport.assert_done()


@pytest.mark.parametrize("channel", [0, 7])
def test_no_channel_outside_1_to_6(channel: int) -> None:
    driver, transport = make([])
    with pytest.raises(ValueError):
        driver.read(channel)
    assert transport.written == []


def test_row10_each_reading_is_fresh_and_asks_the_unit_after_it() -> None:
    # The driver sends PR1 for each reading rather than a bare <ENQ>: correct after any resync too.
    # UNI after each: the unit may have changed at the panel since the last one.
    script = handshake(b"PR1\r", b"0,1.2345E-03") + UNIT_MBAR
    script += handshake(b"PR1\r", b"0,1.2340E-03") + UNIT_MBAR
    driver, transport = make(script)
    assert driver.read(1).pressure_pa == pytest.approx(0.12345)
    assert driver.read(1).pressure_pa == pytest.approx(0.12340)
    transport.assert_done()


def test_row11_all_gauges_at_once() -> None:
    driver, transport = make(handshake(b"PRX\r", b"0,1.2345E-03,0,9.8700E+02") + UNIT_MBAR)
    assert driver.read_all() == [
        PressureReading(1, GaugeState.OK, pytest.approx(0.12345)),
        PressureReading(2, GaugeState.OK, pytest.approx(98700.0)),
    ]
    transport.assert_done()


def test_row11_single_channel_model_reads_pr1_for_all() -> None:
    driver, transport = make(handshake(b"PR1\r", b"0,1.0000E+00") + UNIT_MBAR, channels=1)
    assert driver.read_all() == [PressureReading(1, GaugeState.OK, 100.0)]
    transport.assert_done()


@pytest.mark.parametrize("value", [b"2.0000E-2", b"2.0000E-02"])
def test_row12_no_sensor_in_both_documented_formats_needs_no_unit(value: bytes) -> None:
    driver, transport = make(handshake(b"PR2\r", b"5," + value))
    assert driver.read(2) == PressureReading(2, GaugeState.NO_SENSOR, None)
    transport.assert_done()


@pytest.mark.parametrize(
    ("digit", "state", "pressure_pa"),
    [
        (b"1", GaugeState.UNDERRANGE, 1.0e-2),  # row 14: the range limit
        (b"2", GaugeState.OVERRANGE, 1.0e-2),
        (b"3", GaugeState.SENSOR_ERROR, None),
        (b"4", GaugeState.SENSOR_OFF, None),  # row 13
        (b"5", GaugeState.NO_SENSOR, None),
        (b"6", GaugeState.IDENTIFICATION_ERROR, None),
    ],
)
def test_rows12_14_status_digits(digit: bytes, state: GaugeState, pressure_pa: float | None) -> None:
    script = handshake(b"PR1\r", digit + b",1.0000E-04")
    if pressure_pa is not None:
        script += UNIT_MBAR
    driver, transport = make(script)
    assert driver.read(1) == PressureReading(
        1, state, None if pressure_pa is None else pytest.approx(pressure_pa)
    )
    transport.assert_done()


@pytest.mark.parametrize(
    ("value", "mbar"),
    [(b"1.2345E-03", 1.2345e-3), (b"+1.7377E+00", 1.7377), (b"2.0000E-2", 2.0e-2), (b"-1.0000E-01", -0.1)],
)
def test_both_value_formats(value: bytes, mbar: float) -> None:
    driver, _ = make(handshake(b"PR1\r", b"0," + value) + UNIT_MBAR)
    assert driver.read(1).pressure_pa == pytest.approx(mbar * 100.0)


@pytest.mark.parametrize(
    ("unit", "pa_per_unit"),
    [
        (TpgUnit.MBAR, 100.0),
        (TpgUnit.TORR, TORR_PA),
        (TpgUnit.PASCAL, 1.0),
        (TpgUnit.MICRON, TORR_PA / 1000.0),
        (TpgUnit.HPA, 100.0),
    ],
)
def test_readings_are_in_pa_whatever_the_unit(unit: TpgUnit, pa_per_unit: float) -> None:
    script = handshake(b"PRX\r", b"0,1.5000E+00,1,1.0000E-04") + handshake(b"UNI\r", str(int(unit)).encode())
    driver, _ = make(script)
    first, second = driver.read_all()
    assert first.pressure_pa == pytest.approx(1.5 * pa_per_unit, rel=1e-12)
    assert second.pressure_pa == pytest.approx(1.0e-4 * pa_per_unit, rel=1e-12)


def test_volt_cannot_be_converted_and_says_so() -> None:
    driver, _ = make(handshake(b"PR1\r", b"0,5.2000E+00") + handshake(b"UNI\r", b"5"))
    with pytest.raises(UnconvertibleUnitError, match="Volt"):
        driver.read(1)


def test_a_unit_changed_at_the_panel_between_readings_is_used() -> None:
    # Torr, then Pa at the panel: the PR1 may have been taken before the change or after it, so
    # it is taken again, and converted with the unit UNI gives on both sides of it.
    script = handshake(b"PR1\r", b"0,7.6000E+02") + handshake(b"UNI\r", b"1")
    script += handshake(b"PR1\r", b"0,7.6000E+02") + handshake(b"UNI\r", b"2")
    script += handshake(b"PR1\r", b"0,1.0132E+05") + handshake(b"UNI\r", b"2")
    driver, transport = make(script)
    assert driver.read(1).pressure_pa == pytest.approx(101325.0)
    assert driver.read(1).pressure_pa == pytest.approx(101320.0)
    transport.assert_done()


def test_a_unit_changed_while_reconnecting_is_used() -> None:
    script = handshake(b"PR1\r", b"0,1.0000E+00") + UNIT_MBAR
    script += [(b"PR1\r", [ACK]), (ENQ, []), (ETX, [])]  # reply lost: reconnect, resync, again
    script += handshake(b"PR1\r", b"0,1.0000E+02") + handshake(b"UNI\r", b"2")
    script += handshake(b"PR1\r", b"0,1.0000E+02") + handshake(b"UNI\r", b"2")
    driver, transport = make(script)
    assert driver.read(1).pressure_pa == 100.0
    assert driver.read(1).pressure_pa == 100.0
    assert (driver.stats.retries, transport.reconnects) == (1, 1)
    transport.assert_done()


def test_a_unit_changing_under_every_reading_is_a_protocol_error() -> None:
    script = handshake(b"PR1\r", b"0,1.0000E+00") + UNIT_MBAR
    script += handshake(b"PR1\r", b"0,1.0000E+00") + handshake(b"UNI\r", b"1")
    script += handshake(b"PR1\r", b"0,1.0000E+00") + handshake(b"UNI\r", b"2")
    driver, transport = make(script, attempts=1)
    driver.read(1)
    with pytest.raises(ProtocolError, match="unit changed"):
        driver.read(1)
    transport.assert_done()


# --- rows 15 to 17: TID, SEN --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "ids"), [(b"PKR,TPR/PCR", ["PKR", "TPR/PCR"]), (b"noSEn,noid", ["noSEn", "noid"])]
)
def test_row15_gauge_ids(reply: bytes, ids: list[str]) -> None:
    driver, transport = make(handshake(b"TID\r", reply))
    assert driver.gauge_ids() == ids
    transport.assert_done()


def test_row15_a_name_per_channel_or_protocol_error() -> None:
    driver, _ = make(handshake(b"TID\r", b"PKR"), attempts=1)
    with pytest.raises(ProtocolError):
        driver.gauge_ids()


def test_row16_sensor_states() -> None:
    driver, transport = make(handshake(b"SEN\r", b"2,0"))
    assert driver.sensors() == [SensorSwitch.ON, SensorSwitch.CANNOT_SWITCH]
    transport.assert_done()


def test_row17_switching_a_gauge_off_is_sent_once_and_confirmed_by_readback() -> None:
    driver, transport = make(handshake(b"SEN,1,0\r", b"1,0") + handshake(b"SEN\r", b"1,0"))
    driver.set_sensor(1, False)
    transport.assert_done()


def test_row17_switching_on_writes_2_for_that_channel_only() -> None:
    driver, transport = make(handshake(b"SEN,0,2\r", b"0,2") + handshake(b"SEN\r", b"0,2"))
    driver.set_sensor(2, True)
    transport.assert_done()


def test_row17_a_readback_without_the_change_is_not_confirmed() -> None:
    driver, _ = make(handshake(b"SEN,1,0\r", b"2,0") + handshake(b"SEN\r", b"2,0"))
    with pytest.raises(ActuationNotConfirmedError):
        driver.set_sensor(1, False)


def test_row17_a_gauge_that_cannot_be_switched_says_so() -> None:
    driver, _ = make(handshake(b"SEN,0,1\r", b"2,0") + handshake(b"SEN\r", b"2,0"))
    with pytest.raises(InstrumentError, match="cannot be switched"):
        driver.set_sensor(2, False)


def test_row17_a_lost_reply_is_never_sent_again_the_readback_decides() -> None:
    script: Script = [(b"SEN,1,0\r", [ACK]), (ENQ, []), (ETX, []), *handshake(b"SEN\r", b"1,0")]
    driver, transport = make(script)
    driver.set_sensor(1, False)
    assert transport.written.count(b"SEN,1,0\r") == 1
    transport.assert_done()


def test_row17_refused_switch_raises_the_error_word() -> None:
    driver, _ = make(refused(b"SEN,1,0\r", b"0010"))
    with pytest.raises(InstrumentError) as info:
        driver.set_sensor(1, False)
    assert info.value.code == "0010"


def test_row17_no_such_channel() -> None:
    driver, transport = make([])
    with pytest.raises(ValueError):
        driver.set_sensor(3, True)
    assert transport.written == []


# --- rows 18 to 21: NAK, ERR, PNR ---------------------------------------------------------------------


def test_rows18_19_unknown_mnemonic_nak_then_the_syntax_error_word() -> None:
    driver, transport = make(refused(b"XYZ\r", b"0001"))
    with pytest.raises(InstrumentError) as info:
        driver.ask("XYZ")
    assert info.value.code == "0001"
    assert transport.written == [b"XYZ\r", ENQ]  # refused, not retried
    transport.assert_done()


def test_row19_an_error_word_that_is_none_is_a_protocol_error() -> None:
    driver, _ = make(refused(b"XYZ\r", b"0,1.2345E-03"), attempts=1)
    with pytest.raises(ProtocolError):
        driver.ask("XYZ")


def test_row20_error_word() -> None:
    driver, transport = make(handshake(b"ERR\r", b"0000"))
    assert driver.error_word() == "0000"
    transport.assert_done()


def test_row21_firmware() -> None:
    driver, transport = make(handshake(b"PNR\r", b"010100"))
    assert driver.firmware() == "010100"
    transport.assert_done()


def test_ask_any_mnemonic_with_parameters() -> None:
    driver, transport = make(handshake(b"FIL,2,1\r", b"2,1"))
    assert driver.ask("FIL", 2, 1) == "2,1"
    transport.assert_done()


@pytest.mark.parametrize("mnemonic", ["PR1\r", "P", "\x05PR1", "PR1,2\r"])
def test_ask_sends_no_control_characters(mnemonic: str) -> None:
    driver, transport = make([])
    with pytest.raises(ValueError):
        driver.ask(mnemonic)
    assert transport.written == []


# --- row 22: continuous output ------------------------------------------------------------------------

LINE = b"0,1.2345E-03,0,9.8700E+02"
LINE_PA = [
    PressureReading(1, GaugeState.OK, pytest.approx(0.12345)),
    PressureReading(2, GaugeState.OK, 98700.0),
]


def test_row22_continuous_reads_n_lines_then_stops_with_etx() -> None:
    driver, transport = make([*UNIT_MBAR, (b"COM,1\r", [ACK, LINE, LINE, LINE, LINE]), (ETX, [])])
    assert list(driver.continuous(ComInterval.S_1, max_lines=3, max_duration_s=10.0)) == [LINE_PA] * 3
    assert transport.discards == 1  # the fourth line, sent before the ETX arrived, is dropped
    transport.assert_done()


def test_row22_continuous_asks_the_unit_as_it_starts_even_when_one_is_known() -> None:
    # The last reading's mbar may have been changed to Torr at the panel since: UNI before COM.
    script = handshake(b"PR1\r", b"0,1.0000E+00") + UNIT_MBAR + handshake(b"UNI\r", b"1")
    script += [(b"COM,1\r", [ACK, LINE]), (ETX, [])]
    driver, transport = make(script)
    assert driver.read(1).pressure_pa == 100.0
    (line,) = driver.continuous(ComInterval.S_1, max_lines=1, max_duration_s=10.0)
    assert line[1].pressure_pa == pytest.approx(987.0 * TORR_PA)
    transport.assert_done()


def test_row22_continuous_stops_at_its_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tpg36x.time, "monotonic", FakeClock(step_s=1.0))
    driver, transport = make([*UNIT_MBAR, (b"COM,0\r", [ACK, LINE, LINE, LINE]), (ETX, [])])
    # The clock ticks 1 s a call: UNI, COM, start, first line, second line (past 1.5 s): two lines.
    lines = list(driver.continuous(ComInterval.MS_100, max_lines=100, max_duration_s=1.5))
    assert len(lines) == 2
    transport.assert_done()


def test_row22_closing_the_stream_early_stops_the_output() -> None:
    driver, transport = make([*UNIT_MBAR, (b"COM,0\r", [ACK, LINE, LINE]), (ETX, [])])
    stream = driver.continuous(ComInterval.MS_100, max_lines=10, max_duration_s=10.0)
    assert next(stream) == LINE_PA
    stream.close()
    transport.assert_done()


def test_row22_garbled_line_raises_and_still_stops_the_output() -> None:
    driver, transport = make([*UNIT_MBAR, (b"COM,1\r", [ACK, b"#$%&*?!~^_|#$%&*?!~^_|"]), (ETX, [])])
    with pytest.raises(ProtocolError):
        list(driver.continuous(max_lines=3, max_duration_s=10.0))
    transport.assert_done()


def test_row22_a_missing_line_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tpg36x.time, "monotonic", FakeClock(step_s=0.5))
    driver, transport = make([*UNIT_MBAR, (b"COM,0\r", [ACK, LINE]), (ETX, [])])
    with pytest.raises(InstrumentTimeoutError):
        list(driver.continuous(ComInterval.MS_100, max_lines=3, max_duration_s=60.0))
    transport.assert_done()


def test_row22_continuous_needs_bounds() -> None:
    driver, transport = make([])
    with pytest.raises(ValueError):
        driver.continuous(max_lines=0, max_duration_s=1.0)
    with pytest.raises(ValueError):
        driver.continuous(max_lines=1, max_duration_s=0.0)
    assert transport.written == []


# --- stale lines, garbled replies, timeouts -----------------------------------------------------------


def test_up_to_8_stale_lines_before_the_ack_are_skipped() -> None:
    driver, transport = make([(b"PR1\r", [LINE] * 8 + [ACK]), (ENQ, [b"0,1.0000E+00"]), *UNIT_MBAR])
    assert driver.read(1).pressure_pa == 100.0
    assert driver.stats.retries == 0
    transport.assert_done()


def test_a_ninth_stale_line_is_a_protocol_error() -> None:
    driver, _ = make([(b"PR1\r", [LINE] * 9 + [ACK])], attempts=1)
    with pytest.raises(ProtocolError, match="stale"):
        driver.read(1)


def test_stale_lines_then_nak_is_refused() -> None:
    driver, _ = make([(b"PR3\r", [LINE, NAK]), (ENQ, [b"0001"])])
    with pytest.raises(InstrumentError):
        driver.read(3)


def test_stale_lines_cannot_stretch_the_reply_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tpg36x.time, "monotonic", FakeClock(step_s=0.6))  # timeout_s is 1.0
    driver, _ = make([(b"PR1\r", [LINE, LINE, LINE, ACK])], attempts=1)
    with pytest.raises(InstrumentTimeoutError):
        driver.read(1)


GARBLED = [
    b"_",  # a garbled <ACK> (the simulator's alphabet)
    b"\x00\x06",
    b"\x06\x06",
]


@pytest.mark.parametrize("ack", GARBLED)
def test_garbled_ack_is_a_protocol_error_at_once(ack: bytes) -> None:
    driver, transport = make([(b"PR1\r", [ack, ACK])], attempts=1)
    with pytest.raises(ProtocolError):
        driver.read(1)
    assert transport.written == [b"PR1\r"]


@pytest.mark.parametrize(
    "data",
    [
        b"#$%&*?!~^_|",
        b"",
        b"0,1.2345E-",
        b"0,E-03",
        b"0,1.2345",
        b"0,1.23.45E-03",
        b"0,nan",
        b"0,inf",
        b"0,1.0000E+999",
        b"7,1.0000E+00",
        b"00,1.0000E+00",
        b"0,1.2345E-03,0",
        b"0,1.2345E-03,0,9.8700E+02",
        b"0 ,1.2345E-03",
        b"0,1.2345E-03\x06",
        "0,1.2345E-03µ".encode(),
    ],
)
def test_garbled_reading_is_retried_then_raised_never_a_number(data: bytes) -> None:
    driver, transport = make([*handshake(b"PR1\r", data), (ETX, []), *handshake(b"PR1\r", data)])
    with pytest.raises(ProtocolError):
        driver.read(1)
    assert (driver.stats.retries, transport.reconnects) == (1, 0)
    transport.assert_done()


def test_garbled_reply_retried_invisibly() -> None:
    script = [*handshake(b"PR1\r", b"#$%&*?!~^_|"), (ETX, []), *handshake(b"PR1\r", b"0,1.0000E+00")]
    driver, transport = make(script + UNIT_MBAR)
    assert driver.read(1).pressure_pa == 100.0
    assert driver.stats.retries == 1
    transport.assert_done()


def test_timeout_retried_once_then_raised() -> None:
    driver, transport = make([(b"PR1\r", []), (ETX, []), (b"PR1\r", [])])
    with pytest.raises(InstrumentTimeoutError):
        driver.read(1)
    assert (driver.stats.retries, driver.stats.reconnects, transport.reconnects) == (1, 1, 1)
    transport.assert_done()


def test_lost_data_line_retried_with_a_new_handshake() -> None:
    script: Script = [(b"PR1\r", [ACK]), (ENQ, []), (ETX, []), *handshake(b"PR1\r", b"0,1.0000E+00")]
    driver, transport = make(script + UNIT_MBAR)
    assert driver.read(1).pressure_pa == 100.0
    transport.assert_done()


# --- TPG 26x ------------------------------------------------------------------------------------------


def test_tpg26x_identity_is_its_program_number() -> None:
    driver, transport = make(handshake(b"PNR\r", b"302-510-A"), cls=Tpg26x)
    assert driver.identity() == "302-510-A" and driver.model == "TPG26x"
    transport.assert_done()


@pytest.mark.parametrize(
    ("prx", "channels"), [(refused(b"PRX\r", b"0001"), 1), (handshake(b"PRX\r", LINE), 2)]
)
def test_tpg26x_channel_count_from_prx(prx: Script, channels: int) -> None:
    driver, transport = make(prx, channels=None, cls=Tpg26x)
    assert driver.channel_count == channels
    transport.assert_done()


@pytest.mark.parametrize("unit", [TpgUnit.MICRON, TpgUnit.HPA, TpgUnit.VOLT])
def test_tpg26x_has_three_units_only(unit: TpgUnit) -> None:
    driver, transport = make(handshake(b"UNI\r", str(int(unit)).encode()), cls=Tpg26x, attempts=1)
    with pytest.raises(ValueError):
        driver.set_unit(unit)
    with pytest.raises(ProtocolError):
        driver.unit()
    transport.assert_done()
