"""The VGC 50x driver byte for byte against the operating manual (tina96e1-b), scripted.

Only the VGC dialect is tested here (three-channel lines, status 7, ``AYT``, unit table, no
``SEN``); the handshake, retries and resync it shares with the TPG 36x are that driver's code,
tested in ``test_tpg36x.py``, and are checked once more here on the VGC's own replies.
Frames are the bytes of a line without its ``<CR><LF>``, as the transport returns them.
"""

from __future__ import annotations

from typing import Any

import pytest

from drivers.base import RetryPolicy
from drivers.errors import (
    ActuationNotConfirmedError,
    DriverError,
    InstrumentError,
    InstrumentTimeoutError,
    ProtocolError,
)
from drivers.readings import GaugeState, PressureReading
from drivers.tpg36x import ComInterval, TpgUnit
from drivers.vgc50x import Vgc50x
from tests.drivers.scripted import ScriptedTransport
from tests.drivers.test_tpg36x import ACK, ENQ, ETX, Script, handshake, refused

IDENTITY = b"VGC503,398-483,100,1.00,1.0"
UNIT_MBAR = handshake(b"UNI\r", b"0")
TORR_PA = 101325.0 / 760.0
# Gauge 1 at 1.2345e-3 mbar, gauge 2 at 987 mbar, gauge 3 absent (a VGC 502's PRX line).
PRX_502 = b"0,1.2345E-03,0,9.8700E+02,5,2.0000E-02"


def make(script: Script, *, channels: int | None = 2, attempts: int = 2) -> tuple[Vgc50x, ScriptedTransport]:
    transport = ScriptedTransport(script)
    driver = Vgc50x(transport, retry=RetryPolicy(attempts=attempts), sleep=lambda s: None, channels=channels)
    return driver, transport


def test_open_reads_crlf_lines_and_sends_etx_first(monkeypatch: pytest.MonkeyPatch) -> None:
    made: dict[str, Any] = {}
    transport = ScriptedTransport([(ETX, [])])

    def fake_visa(resource_name: str, **kwargs: Any) -> ScriptedTransport:
        made.update(kwargs, resource_name=resource_name)
        return transport

    monkeypatch.setattr("drivers.base.VisaTransport", fake_visa)
    driver = Vgc50x.open("TCPIP::192.0.2.1::8000::SOCKET", timeout_s=0.5)
    assert made == {
        "resource_name": "TCPIP::192.0.2.1::8000::SOCKET",
        "read_termination": "\r\n",
        "timeout_s": 0.5,
        "open_options": {},
    }
    assert driver.model == "VGC50x"
    transport.assert_done()


# --- AYT (manual p. 97) -------------------------------------------------------------------------------


def test_identity_is_the_ayt_line() -> None:
    driver, transport = make(handshake(b"AYT\r", IDENTITY))
    assert driver.identity() == "VGC503,398-483,100,1.00,1.0"
    transport.assert_done()


@pytest.mark.parametrize(("model", "channels"), [(b"VGC501", 1), (b"VGC502", 2), (b"VGC503", 3)])
def test_channel_count_from_the_type_in_ayt_asked_once(model: bytes, channels: int) -> None:
    driver, transport = make(handshake(b"AYT\r", model + b",398-483,100,1.00,1.0"), channels=None)
    assert driver.channel_count == channels
    assert driver.channel_count == channels
    transport.assert_done()


def test_an_unknown_type_in_ayt_is_an_error() -> None:
    driver, _ = make(handshake(b"AYT\r", b"VGC599,398-499,100,1.00,1.0"), channels=None)
    with pytest.raises(DriverError, match="VGC599"):
        _ = driver.channel_count


@pytest.mark.parametrize("reply", [b"VGC503,398-483,100,1.00", b"VGC503,398-483,100,1.00,1.0,x", b"VGC503;1"])
def test_an_ayt_line_without_five_fields_is_a_protocol_error(reply: bytes) -> None:
    driver, transport = make([*handshake(b"AYT\r", reply), (ETX, []), *handshake(b"AYT\r", reply)])
    with pytest.raises(ProtocolError):
        driver.identity()
    transport.assert_done()


# --- UNI ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("unit", list(TpgUnit))
def test_the_six_unit_codes(unit: TpgUnit) -> None:
    driver, transport = make(handshake(b"UNI\r", str(int(unit)).encode()))
    assert driver.unit() is unit
    transport.assert_done()


def test_set_unit_confirmed_by_the_reply_then_used_for_readings() -> None:
    script = handshake(b"UNI,1\r", b"1") + handshake(b"PR1\r", b"0,7.6000E+02") + handshake(b"UNI\r", b"1")
    driver, transport = make(script)
    driver.set_unit(TpgUnit.TORR)
    assert driver.read(1) == PressureReading(1, GaugeState.OK, pytest.approx(101325.0))
    transport.assert_done()


def test_a_unit_changed_at_the_panel_between_readings_is_used() -> None:
    # mbar, then Torr at the panel: the PRX is taken again once UNI no longer says mbar.
    script = handshake(b"PRX\r", PRX_502) + UNIT_MBAR
    script += handshake(b"PRX\r", PRX_502) + handshake(b"UNI\r", b"1")
    script += handshake(b"PRX\r", b"0,9.2593E-04,0,7.4031E+02,5,2.0000E-02") + handshake(b"UNI\r", b"1")
    driver, transport = make(script)
    assert driver.read_all()[1].pressure_pa == pytest.approx(98700.0)
    first, second = driver.read_all()
    assert first.pressure_pa == pytest.approx(9.2593e-4 * TORR_PA)
    assert second.pressure_pa == pytest.approx(740.31 * TORR_PA)
    transport.assert_done()


def test_a_unit_code_beyond_volt_is_a_protocol_error() -> None:
    driver, transport = make([*handshake(b"UNI\r", b"6"), (ETX, []), *handshake(b"UNI\r", b"6")])
    with pytest.raises(ProtocolError):
        driver.unit()
    transport.assert_done()


# --- PRn (manual p. 72) -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digit", "state", "pressure_pa"),
    [
        (b"0", GaugeState.OK, 1.0e-3),
        (b"1", GaugeState.UNDERRANGE, 1.0e-3),
        (b"2", GaugeState.OVERRANGE, 1.0e-3),
        (b"3", GaugeState.SENSOR_ERROR, None),
        (b"4", GaugeState.SENSOR_OFF, None),
        (b"5", GaugeState.NO_SENSOR, None),
        (b"6", GaugeState.IDENTIFICATION_ERROR, None),
        (b"7", GaugeState.SENSOR_ERROR, None),
    ],
)
def test_status_digits_including_7_error_bpg_hpg_bcg(
    digit: bytes, state: GaugeState, pressure_pa: float | None
) -> None:
    with_unit = pressure_pa is not None
    driver, transport = make(handshake(b"PR2\r", digit + b",1.0000E-05") + (UNIT_MBAR if with_unit else []))
    reading = driver.read(2)
    assert reading.state is state
    assert reading.pressure_pa == (pytest.approx(pressure_pa) if with_unit else None)
    transport.assert_done()


def test_a_status_digit_beyond_7_is_a_protocol_error() -> None:
    driver, transport = make(
        [*handshake(b"PR1\r", b"8,1.0000E-05"), (ETX, []), *handshake(b"PR1\r", b"8,1.0000E-05")]
    )
    with pytest.raises(ProtocolError):
        driver.read(1)
    transport.assert_done()


def test_a_channel_the_model_lacks_is_refused_with_the_syntax_error_word() -> None:
    driver, transport = make(refused(b"PR3\r", b"0001"))
    with pytest.raises(InstrumentError) as info:
        driver.read(3)
    assert info.value.code == "0001"
    transport.assert_done()


# --- PRX (manual p. 73): three pairs on every model ---------------------------------------------------


def test_prx_carries_three_pairs_and_the_driver_keeps_its_models_channels() -> None:
    driver, transport = make(handshake(b"PRX\r", PRX_502) + UNIT_MBAR)
    assert driver.read_all() == [
        PressureReading(1, GaugeState.OK, pytest.approx(0.12345)),
        PressureReading(2, GaugeState.OK, pytest.approx(98700.0)),
    ]
    transport.assert_done()


def test_a_vgc503_reads_all_three() -> None:
    line = b"0,1.2345E-03,0,9.8700E+02,7,0.0000E+00"
    driver, transport = make(handshake(b"PRX\r", line) + UNIT_MBAR, channels=3)
    assert [r.state for r in driver.read_all()] == [GaugeState.OK, GaugeState.OK, GaugeState.SENSOR_ERROR]
    transport.assert_done()


def test_a_vgc501_reads_pr1_for_all() -> None:
    driver, transport = make(handshake(b"PR1\r", b"0,1.0000E+00") + UNIT_MBAR, channels=1)
    assert driver.read_all() == [PressureReading(1, GaugeState.OK, 100.0)]
    transport.assert_done()


@pytest.mark.parametrize(
    "line", [b"0,1.2345E-03,0,9.8700E+02", b"0,1.2345E-03,0,9.8700E+02,5,2.0000E-02,0,1.0000E+00"]
)
def test_a_prx_line_without_three_pairs_is_a_protocol_error(line: bytes) -> None:
    driver, transport = make([*handshake(b"PRX\r", line), (ETX, []), *handshake(b"PRX\r", line)])
    with pytest.raises(ProtocolError, match="3 status,value pairs"):
        driver.read_all()
    assert driver.stats.retries == 1
    transport.assert_done()


# --- TID ----------------------------------------------------------------------------------------------


def test_tid_names_three_gauges_and_the_driver_keeps_its_models() -> None:
    driver, transport = make(handshake(b"TID\r", b"MPG,CDG,noSEn"))
    assert driver.gauge_ids() == ["MPG", "CDG"]
    transport.assert_done()


def test_a_tid_line_of_two_names_is_a_protocol_error() -> None:
    driver, transport = make([*handshake(b"TID\r", b"MPG,CDG"), (ETX, []), *handshake(b"TID\r", b"MPG,CDG")])
    with pytest.raises(ProtocolError):
        driver.gauge_ids()
    transport.assert_done()


# --- COM (manual p. 70) -------------------------------------------------------------------------------


def test_continuous_lines_carry_three_pairs() -> None:
    driver, transport = make([*UNIT_MBAR, (b"COM,0\r", [ACK, PRX_502, PRX_502]), (ETX, [])])
    lines = list(driver.continuous(ComInterval.MS_100, max_lines=2, max_duration_s=10.0))
    assert [[r.pressure_pa for r in line] for line in lines] == [
        [pytest.approx(0.12345), pytest.approx(98700.0)]
    ] * 2
    transport.assert_done()


# --- errors, retries, resync --------------------------------------------------------------------------


def test_an_unknown_mnemonic_raises_the_syntax_error_word() -> None:
    driver, transport = make(refused(b"XYZ\r", b"0001"))
    with pytest.raises(InstrumentError) as info:
        driver.ask("XYZ")
    assert info.value.code == "0001" and "syntax error" in str(info.value)
    transport.assert_done()


def test_garbled_reading_retried_invisibly_after_etx() -> None:
    script = [*handshake(b"PR1\r", b"#$%&*?!~^_|"), (ETX, []), *handshake(b"PR1\r", b"7,0.0000E+00")]
    driver, transport = make(script)
    assert driver.read(1) == PressureReading(1, GaugeState.SENSOR_ERROR, None)
    assert driver.stats.retries == 1
    transport.assert_done()


def test_timeout_retried_once_after_reconnecting_then_raised() -> None:
    driver, transport = make([(b"PRX\r", []), (ETX, []), (b"PRX\r", [])])
    with pytest.raises(InstrumentTimeoutError):
        driver.read_all()
    assert (driver.stats.retries, transport.reconnects) == (1, 1)
    transport.assert_done()


def test_lost_data_line_retried_with_a_new_handshake() -> None:
    script: Script = [(b"PRX\r", [ACK]), (ENQ, []), (ETX, []), *handshake(b"PRX\r", PRX_502)]
    driver, transport = make(script + UNIT_MBAR)
    assert [r.pressure_pa for r in driver.read_all()] == [pytest.approx(0.12345), pytest.approx(98700.0)]
    transport.assert_done()


# --- HVC (manual p. 81): the VGC's gauge switching -----------------------------------------------------


def test_high_voltage_of_the_models_channels() -> None:
    driver, transport = make(handshake(b"HVC\r", b"1,0,1"))
    assert driver.high_voltage() == [True, False]
    transport.assert_done()


@pytest.mark.parametrize("reply", [b"1,0", b"1,0,1,0", b"1,2,0", b"on,off,off", b""])
def test_an_hvc_line_without_three_digits_is_a_protocol_error(reply: bytes) -> None:
    driver, transport = make([*handshake(b"HVC\r", reply), (ETX, []), *handshake(b"HVC\r", reply)])
    with pytest.raises(ProtocolError):
        driver.high_voltage()
    transport.assert_done()


def test_switching_sets_all_three_keeping_the_others_sent_once_and_confirmed() -> None:
    script = (
        handshake(b"HVC\r", b"1,1,0") + handshake(b"HVC,0,1,0\r", b"0,1,0") + handshake(b"HVC\r", b"0,1,0")
    )
    driver, transport = make(script)
    driver.set_high_voltage(1, False)
    transport.assert_done()


def test_a_readback_without_the_change_is_not_confirmed() -> None:
    script = (
        handshake(b"HVC\r", b"1,0,0") + handshake(b"HVC,0,0,0\r", b"1,0,0") + handshake(b"HVC\r", b"1,0,0")
    )
    driver, transport = make(script)
    with pytest.raises(ActuationNotConfirmedError):
        driver.set_high_voltage(1, False)
    transport.assert_done()


def test_a_lost_reply_is_never_sent_again_the_readback_decides() -> None:
    script: Script = [*handshake(b"HVC\r", b"0,0,0"), (b"HVC,0,1,0\r", [ACK]), (ENQ, []), (ETX, [])]
    driver, transport = make(script + handshake(b"HVC\r", b"0,1,0"))
    driver.set_high_voltage(2, True)
    assert transport.written.count(b"HVC,0,1,0\r") == 1
    transport.assert_done()


def test_a_gauge_without_high_voltage_is_refused_with_the_par_word() -> None:
    driver, transport = make(handshake(b"HVC\r", b"0,0,0") + refused(b"HVC,1,0,0\r", b"0010"))
    with pytest.raises(InstrumentError) as info:
        driver.set_high_voltage(1, True)
    assert info.value.code == "0010"
    transport.assert_done()


def test_a_vgc501_sends_zeros_for_the_channels_it_lacks() -> None:
    script = (
        handshake(b"HVC\r", b"0,0,0") + handshake(b"HVC,1,0,0\r", b"1,0,0") + handshake(b"HVC\r", b"1,0,0")
    )
    driver, transport = make(script, channels=1)
    driver.set_high_voltage(1, True)
    transport.assert_done()


@pytest.mark.parametrize("channel", [0, 3])
def test_no_such_channel_writes_nothing(channel: int) -> None:
    driver, transport = make([])
    with pytest.raises(ValueError):
        driver.set_high_voltage(channel, True)
    assert transport.written == []


def test_the_tpg_sen_methods_are_refused_without_a_byte_sent() -> None:
    driver, transport = make([])
    with pytest.raises(NotImplementedError, match="high_voltage"):
        driver.sensors()
    with pytest.raises(NotImplementedError, match="set_high_voltage"):
        driver.set_sensor(1, False)
    assert transport.written == []
