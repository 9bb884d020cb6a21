"""The simulated TPG 36x against spec table 5.1, through pyvisa-py on TCPIP SOCKET and ASRLsocket.

Row numbers refer to table 5.1 of the project's protocol spec; the bytes are copied here.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import pyvisa

from rig.sim.backend import GaugeReading, GaugeStatus, StaticGauges
from rig.sim.servers.tpg import TpgServer, TpgUnit
from tests.sim.servers.conftest import (
    SILENCE_MS,
    TIMEOUT_MS,
    assert_silent,
    open_instrument,
    tpg_exchange,
)

pytestmark = pytest.mark.integration

ACK = "\x06"
NAK = "\x15"


def test_row1_etx_clears_the_input_buffer_and_replies_nothing(tpg: Any) -> None:
    tpg.write_raw(b"PR")
    tpg.write_raw(b"\x03")
    assert_silent(tpg)
    # Without the clear, the controller would see "PRAYT" and answer NAK.
    assert tpg_exchange(tpg, "AYT") == (ACK, "TPG362,PTG28290,44990000,010100,010000")


@pytest.mark.parametrize("terminator", [b"\r", b"\r\n"])
def test_rows2_3_ayt_with_cr_or_crlf(tpg: Any, terminator: bytes) -> None:
    tpg.write_raw(b"AYT" + terminator)
    assert tpg.read_raw() == b"\x06\r\n"
    tpg.write_raw(b"\x05")
    assert tpg.read_raw() == b"TPG362,PTG28290,44990000,010100,010000\r\n"


def test_rows4_7_unit_query_and_set(tpg: Any, tpg_server: TpgServer) -> None:
    assert tpg_exchange(tpg, "UNI") == (ACK, "0")
    assert tpg_exchange(tpg, "UNI,1") == (ACK, "1")
    assert tpg_server.unit is TpgUnit.TORR
    assert tpg_exchange(tpg, "UNI") == (ACK, "1")


def test_row6_invalid_unit_is_nak_with_par_error_word(tpg: Any, tpg_server: TpgServer) -> None:
    assert tpg_exchange(tpg, "UNI,9") == (NAK, "0010")
    assert tpg_server.unit is TpgUnit.MBAR
    tpg.write_raw(b"\x05")
    assert tpg.read() == "0000"


def test_rows8_10_pr1_then_fresh_reading_on_each_enq(tpg: Any, tpg_server: TpgServer) -> None:
    tpg.write_raw(b"PR1\r")
    assert tpg.read_raw() == b"\x06\r\n"
    tpg.write_raw(b"\x05")
    assert tpg.read_raw() == b"0,1.2345E-03\r\n"
    gauges = tpg_server.gauges
    assert isinstance(gauges, StaticGauges)
    gauges.readings[1] = GaugeReading(GaugeStatus.OK, 0.1234)
    tpg.write_raw(b"\x05")
    assert tpg.read_raw() == b"0,1.2340E-03\r\n"


def test_row8_pr3_on_a_tpg362_is_nak_with_syntax_error(tpg: Any) -> None:
    tpg.write_raw(b"PR3\r")
    assert tpg.read_raw() == b"\x15\r\n"
    tpg.write_raw(b"\x05")
    assert tpg.read_raw() == b"0001\r\n"


def test_row11_prx_reads_all_gauges(tpg: Any) -> None:
    tpg.write_raw(b"PRX\r")
    assert tpg.read_raw() == b"\x06\r\n"
    tpg.write_raw(b"\x05")
    assert tpg.read_raw() == b"0,1.2345E-03,0,9.8700E+02\r\n"


def test_row12_missing_sensor_prints_the_documented_placeholder(tpg: Any, tpg_server: TpgServer) -> None:
    _gauges(tpg_server).readings[2] = GaugeReading(GaugeStatus.NO_SENSOR, 0.0)
    assert tpg_exchange(tpg, "PR2") == (ACK, "5,2.0000E-02")
    # A placeholder, not a measurement: the unit does not change it.
    tpg_exchange(tpg, "UNI,2")
    assert tpg_exchange(tpg, "PR2") == (ACK, "5,2.0000E-02")


def test_row13_switched_off_gauge(tpg: Any, tpg_server: TpgServer) -> None:
    _gauges(tpg_server).set_sensor_on(1, False)
    assert tpg_exchange(tpg, "PR1") == (ACK, "4,0.0000E+00")


def test_row14_under_and_overrange_print_the_range_limit(tpg: Any, tpg_server: TpgServer) -> None:
    gauges = _gauges(tpg_server)
    gauges.readings[1] = GaugeReading(GaugeStatus.UNDERRANGE, 1e-7)  # 1e-9 mbar
    gauges.readings[2] = GaugeReading(GaugeStatus.OVERRANGE, 110000.0)  # 1100 mbar
    assert tpg_exchange(tpg, "PRX") == (ACK, "1,1.0000E-09,2,1.1000E+03")


def test_status_3_and_6_print_zero(tpg: Any, tpg_server: TpgServer) -> None:
    gauges = _gauges(tpg_server)
    gauges.readings[1] = GaugeReading(GaugeStatus.SENSOR_ERROR, 5.0)
    gauges.readings[2] = GaugeReading(GaugeStatus.IDENTIFICATION_ERROR, 5.0)
    assert tpg_exchange(tpg, "PRX") == (ACK, "3,0.0000E+00,6,0.0000E+00")


def test_row15_gauge_identification(tpg: Any) -> None:
    tpg.write_raw(b"TID\r")
    assert tpg.read_raw() == b"\x06\r\n"
    tpg.write_raw(b"\x05")
    assert tpg.read_raw() == b"PKR,TPR/PCR\r\n"


def test_rows16_17_sensor_on_off(tpg: Any, tpg_server: TpgServer) -> None:
    assert tpg_exchange(tpg, "SEN") == (ACK, "2,0")
    tpg.write_raw(b"SEN,1,0\r")
    assert tpg.read_raw() == b"\x06\r\n"
    tpg.write_raw(b"\x05")
    assert tpg.read_raw() == b"1,0\r\n"
    assert not _gauges(tpg_server).sensor_on(1)
    assert tpg_exchange(tpg, "SEN,2,0") == (ACK, "2,0")
    assert tpg_exchange(tpg, "SEN,3,0") == (NAK, "0010")


def test_rows18_19_unknown_mnemonic_then_error_word_cleared(tpg: Any) -> None:
    tpg.write_raw(b"XYZ\r")
    assert tpg.read_raw() == b"\x15\r\n"
    tpg.write_raw(b"\x05")
    assert tpg.read_raw() == b"0001\r\n"
    tpg.write_raw(b"\x05")
    assert tpg.read_raw() == b"0000\r\n"


def test_row20_err_reads_and_clears_the_error_word(tpg: Any) -> None:
    tpg.write_raw(b"ERR\r")
    assert tpg.read_raw() == b"\x06\r\n"
    tpg.write_raw(b"\x05")
    assert tpg.read_raw() == b"0000\r\n"
    assert tpg_exchange(tpg, "XYZ") == (NAK, "0001")
    tpg.write("XYZ")
    assert tpg.read() == NAK
    assert tpg_exchange(tpg, "ERR") == (ACK, "0001")
    assert tpg_exchange(tpg, "ERR") == (ACK, "0000")


def test_row21_program_number(tpg: Any) -> None:
    tpg.write_raw(b"PNR\r")
    assert tpg.read_raw() == b"\x06\r\n"
    tpg.write_raw(b"\x05")
    assert tpg.read_raw() == b"010100\r\n"


def test_row22_continuous_output_every_second_until_a_character_arrives(tpg: Any) -> None:
    tpg.write_raw(b"COM,1\r")
    assert tpg.read_raw() == b"\x06\r\n"
    tpg.timeout = 3000
    first = tpg.read_raw()
    t_first = time.monotonic()
    second = tpg.read_raw()
    spacing_s = time.monotonic() - t_first
    assert first == second == b"0,1.2345E-03,0,9.8700E+02\r\n"
    assert spacing_s >= 0.9
    # Any character stops the stream; a line already on its way may still arrive.
    tpg.timeout = TIMEOUT_MS
    tpg.write_raw(b"PR1\r")
    reply = tpg.read_raw()
    if reply != b"\x06\r\n":
        assert reply == first
        assert tpg.read_raw() == b"\x06\r\n"
    tpg.write_raw(b"\x05")
    assert tpg.read_raw() == b"0,1.2345E-03\r\n"


def test_continuous_output_fast_stops_on_etx(tpg: Any) -> None:
    tpg.write_raw(b"COM,0\r")
    assert tpg.read_raw() == b"\x06\r\n"
    lines = [tpg.read_raw() for _ in range(3)]
    assert set(lines) == {b"0,1.2345E-03,0,9.8700E+02\r\n"}
    tpg.write_raw(b"\x03")
    # At most a line already on its way, then silence for more than two intervals.
    tpg.timeout = SILENCE_MS
    for _ in range(2):
        try:
            assert tpg.read_raw() == lines[0]
        except pyvisa.errors.VisaIOError as error:
            assert error.abbreviation == "VI_ERROR_TMO"
            return
    pytest.fail("the stream did not stop")


def test_com_default_interval_and_invalid_interval(tpg: Any) -> None:
    assert tpg_exchange(tpg, "COM,3") == (NAK, "0010")
    tpg.write("COM")
    assert tpg.read() == ACK
    assert tpg.read() == "0,1.2345E-03,0,9.8700E+02"
    tpg.write_raw(b"\x03")


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        ("0", "0,1.2345E-03,0,9.8700E+02"),
        ("1", "0,9.2595E-04,0,7.4031E+02"),
        ("2", "0,1.2345E-01,0,9.8700E+04"),
        ("3", "0,9.2595E-01,0,7.4031E+05"),
        ("4", "0,1.2345E-03,0,9.8700E+02"),
        ("5", "0,5.0519E+00,0,8.5929E+00"),
    ],
)
def test_readings_in_every_unit(tpg: Any, unit: str, expected: str) -> None:
    assert tpg_exchange(tpg, f"UNI,{unit}") == (ACK, unit)
    assert tpg_exchange(tpg, "PRX") == (ACK, expected)


def test_spaces_ignored_and_lower_case_accepted(tpg: Any) -> None:
    assert tpg_exchange(tpg, " p r 1 ") == (ACK, "0,1.2345E-03")
    assert tpg_exchange(tpg, "UNI, 2") == (ACK, "2")


def test_parameters_on_a_query_only_mnemonic_are_par_errors(tpg: Any) -> None:
    assert tpg_exchange(tpg, "PR1,1") == (NAK, "0010")
    assert tpg_exchange(tpg, "UNI,1,2") == (NAK, "0010")
    assert tpg_exchange(tpg, "UNI,x") == (NAK, "0010")


def test_filter_query_and_set(tpg: Any) -> None:
    assert tpg_exchange(tpg, "FIL") == (ACK, "1,1")
    assert tpg_exchange(tpg, "FIL,2,0") == (ACK, "2,0")
    assert tpg_exchange(tpg, "FIL,3,0") == (NAK, "0010")


def test_enq_before_any_command_returns_the_clear_error_word(tpg: Any) -> None:
    tpg.write_raw(b"\x05")
    assert tpg.read_raw() == b"0000\r\n"


def test_state_survives_a_reconnect(rm: Any, tpg_server: TpgServer) -> None:
    first = open_instrument(rm, tpg_server, "tcpip", read_termination="\r\n", write_termination="\r")
    assert tpg_exchange(first, "UNI,1") == (ACK, "1")
    first.close()
    second = open_instrument(rm, tpg_server, "tcpip", read_termination="\r\n", write_termination="\r")
    try:
        assert tpg_exchange(second, "UNI") == (ACK, "1")
    finally:
        second.close()


@pytest.mark.parametrize(
    ("channels", "model", "part"),
    [(1, "TPG361", "PTG28040"), (2, "TPG362", "PTG28290"), (6, "TPG366", "PTG28770")],
)
def test_model_follows_the_channel_count(rm: Any, channels: int, model: str, part: str) -> None:
    gauges = StaticGauges({ch: GaugeReading(GaugeStatus.OK, 100.0 * ch) for ch in range(1, channels + 1)})
    with TpgServer(gauges) as server:
        inst = open_instrument(rm, server, "tcpip", read_termination="\r\n", write_termination="\r")
        try:
            assert tpg_exchange(inst, "AYT") == (ACK, f"{model},{part},44990000,010100,010000")
            assert tpg_exchange(inst, f"PR{channels}") == (ACK, f"0,{float(channels):.4E}")
            assert tpg_exchange(inst, f"PR{channels + 1}") == (NAK, "0001")
            expected_prx = (ACK, ",".join(f"0,{float(ch):.4E}" for ch in range(1, channels + 1)))
            assert tpg_exchange(inst, "PRX") == (expected_prx if channels > 1 else (NAK, "0001"))
        finally:
            inst.close()


def test_a_channel_count_beyond_six_is_refused() -> None:
    gauges = StaticGauges({ch: GaugeReading(GaugeStatus.OK, 1.0) for ch in range(1, 8)})
    with pytest.raises(ValueError, match="1 to 6"):
        TpgServer(gauges)


def _gauges(server: TpgServer) -> StaticGauges:
    gauges = server.gauges
    assert isinstance(gauges, StaticGauges)
    return gauges
