"""The simulated DAQ970A/34972A against spec table 5.2, through pyvisa-py on TCPIP SOCKET.

Row numbers refer to table 5.2 of the project's protocol spec; the bytes are copied here.
"""

from __future__ import annotations

from typing import Any

import pytest

from rig.sim.backend import StaticDaq
from rig.sim.servers.daq import DaqServer, compile_header
from tests.sim.servers.conftest import assert_silent, open_instrument

pytestmark = pytest.mark.integration

IDN_DAQ970A = "Keysight Technologies,DAQ970A,MY00000000,A.03.01-01.00-03.01-00.02-01.00-02.01"


def _synced(inst: Any) -> None:
    """Wait until the instrument has executed everything written before (``*OPC?``)."""
    assert inst.query("*OPC?") == "1"


def _backend(server: DaqServer) -> StaticDaq:
    daq = server.daq
    assert isinstance(daq, StaticDaq)
    return daq


def test_row1_identification(daq: Any) -> None:
    daq.write_raw(b"*IDN?\n")
    assert daq.read_raw() == IDN_DAQ970A.encode() + b"\n"


def test_row2_reset_opens_all_relays(daq: Any, daq_server: DaqServer) -> None:
    _backend(daq_server).closed.update({201, 205, 220})
    daq.write_raw(b"*RST\n")
    assert daq.query("ROUT:CLOS? (@201,205,220)") == "0,0,0"
    assert not _backend(daq_server).closed


def test_row3_clear_status_empties_the_error_queue(daq: Any) -> None:
    daq.write("FOO")
    daq.write("BAR")
    daq.write_raw(b"*CLS\n")
    assert daq.query("SYST:ERR?") == '+0,"No error"'


def test_rows4_7_close_query_open(daq: Any, daq_server: DaqServer) -> None:
    daq.write_raw(b"ROUT:CLOS (@201)\n")
    _synced(daq)
    assert _backend(daq_server).relay_closed(201)
    daq.write_raw(b"ROUT:CLOS? (@201,202)\n")
    assert daq.read_raw() == b"1,0\n"
    daq.write_raw(b"ROUT:OPEN (@201)\n")
    _synced(daq)
    assert not _backend(daq_server).relay_closed(201)
    daq.write_raw(b"ROUT:OPEN? (@201)\n")
    assert daq.read_raw() == b"1\n"
    assert daq.query("SYST:ERR?") == '+0,"No error"'


def test_row8_channel_the_module_lacks(daq: Any, daq_server: DaqServer) -> None:
    daq.write_raw(b"ROUT:CLOS (@299)\n")
    daq.write_raw(b"SYST:ERR?\n")
    assert daq.read_raw() == b'-222,"Data out of range"\n'
    # The whole list is refused, not just the bad channel.
    daq.write("ROUT:CLOS (@201,299)")
    assert daq.query("SYST:ERR?") == '-222,"Data out of range"'
    assert not _backend(daq_server).closed


def test_row9_undefined_header(daq: Any) -> None:
    daq.write_raw(b"FOO\n")
    daq.write_raw(b"SYST:ERR?\n")
    assert daq.read_raw() == b'-113,"Undefined header"\n'


def test_row10_empty_error_queue(daq: Any) -> None:
    daq.write_raw(b"SYST:ERR?\n")
    assert daq.read_raw() == b'+0,"No error"\n'


def test_row11_thermocouple(daq: Any) -> None:
    daq.write_raw(b"MEAS:TEMP? TC,K,(@101)\n")
    assert daq.read_raw() == b"+2.28850000E+01\n"
    daq.write_raw(b"MEAS:TEMP? TC,K,(@104)\n")  # nothing connected: open thermocouple
    assert daq.read_raw() == b"+9.90000000E+37\n"


def test_row12_temperature_unit(daq: Any) -> None:
    daq.write_raw(b"UNIT:TEMP?\n")
    assert daq.read_raw() == b"C\n"


def test_temperature_units_convert_but_overload_does_not(daq: Any) -> None:
    daq.write("UNIT:TEMP F")
    assert daq.query("UNIT:TEMP?") == "F"
    assert daq.query("MEAS:TEMP? TC,K,(@101)") == "+7.31930000E+01"
    daq.write("UNIT:TEMP K")
    assert daq.query("UNIT:TEMP?") == "K"
    assert daq.query("MEAS:TEMP? TC,K,(@101,104)") == "+2.96035000E+02,+9.90000000E+37"
    daq.write("UNIT:TEMP X")
    assert daq.query("SYST:ERR?") == '-224,"Illegal parameter value"'
    daq.write("*RST")
    assert daq.query("UNIT:TEMP?") == "C"


def test_row13_dc_volts(daq: Any) -> None:
    daq.write_raw(b"MEAS:VOLT:DC? (@102)\n")
    assert daq.read_raw() == b"+1.23456789E+00\n"
    assert daq.query("MEAS:VOLT:DC? 10,0.001,(@102)") == "+1.23456789E+00"
    assert daq.query("MEAS:VOLT? (@102)") == "+1.23456789E+00"


def test_row14_operation_complete(daq: Any) -> None:
    daq.write_raw(b"*OPC?\n")
    assert daq.read_raw() == b"1\n"


def test_channel_list_ranges(daq: Any, daq_server: DaqServer) -> None:
    daq.write("ROUT:CLOS (@201,203:205)")
    _synced(daq)
    assert _backend(daq_server).closed == {201, 203, 204, 205}
    assert daq.query("ROUT:CLOS? (@201:206)") == "1,0,1,1,1,0"
    assert daq.query("ROUT:OPEN? (@201:206)") == "0,1,0,0,0,1"
    daq.write("ROUT:OPEN (@203:204)")
    assert daq.query("ROUT:CLOS? (@ 201 , 203 : 205 )") == "1,0,0,1"


@pytest.mark.parametrize(
    ("command", "code"),
    [
        ("ROUT:CLOS", '-109,"Missing parameter"'),
        ("ROUT:CLOS (@)", '-109,"Missing parameter"'),
        ("ROUT:CLOS (@2x1)", '-102,"Syntax error"'),
        ("ROUT:CLOS 201", '-102,"Syntax error"'),
        ("ROUT:CLOS (@1:99999)", '-222,"Data out of range"'),
        ("ROUT:CLOS (@205:201)", '-222,"Data out of range"'),
        ("ROUT:CLOS? (@401)", '-222,"Data out of range"'),
        ("MEAS:TEMP? TC,K,(@201)", '-222,"Data out of range"'),
        ("MEAS:TEMP? TC,Q,(@101)", '-224,"Illegal parameter value"'),
        ("MEAS:TEMP? XX,K,(@101)", '-224,"Illegal parameter value"'),
        ("READ?", '-221,"Settings conflict"'),
        ("SYST:ERR", '-113,"Undefined header"'),
    ],
)
def test_errors_are_queued_and_failing_queries_reply_nothing(daq: Any, command: str, code: str) -> None:
    daq.write(command)
    if "?" in command:
        assert_silent(daq)
    assert daq.query("SYST:ERR?") == code
    assert daq.query("SYST:ERR?") == '+0,"No error"'


def test_error_queue_is_first_in_first_out_and_bounded(daq: Any) -> None:
    daq.write("FOO")
    daq.write("ROUT:CLOS (@299)")
    assert daq.query("SYST:ERR?") == '-113,"Undefined header"'
    assert daq.query("SYST:ERR?") == '-222,"Data out of range"'
    for _ in range(25):
        daq.write("FOO")
    errors = [daq.query("SYST:ERR?") for _ in range(21)]
    assert errors[:19] == ['-113,"Undefined header"'] * 19
    assert errors[19:] == ['-350,"Queue overflow"', '+0,"No error"']


def test_configure_scan_read(daq: Any) -> None:
    daq.write("CONF:TEMP TC,K,(@101,103)")
    daq.write("CONF:VOLT:DC (@102)")
    daq.write("ROUT:SCAN (@101:103)")
    assert daq.query("READ?") == "+2.28850000E+01,+1.23456789E+00,+2.31000000E+01"
    # CONF redefines the scan list; 102 now reads as an (open) thermocouple.
    daq.write("CONF:TEMP TC,K,(@101:103)")
    assert daq.query("READ?") == "+2.28850000E+01,+9.90000000E+37,+2.31000000E+01"
    daq.write("ROUT:SCAN (@110)")
    assert daq.query("SYST:ERR?") == '-221,"Settings conflict"'
    assert daq.query("SYST:ERR?") == '+0,"No error"'


@pytest.mark.parametrize(
    "command",
    [
        "MEAS:TEMP? TC,K,(@101)",
        "meas:temp? tc,k,(@101)",
        "MEASure:TEMPerature? TC,K,(@101)",
        "MEASURE:SCALAR:TEMPERATURE? TC,K,(@101)",
        ":Meas:Temp? TC,K,(@101)",
    ],
)
def test_headers_short_long_and_any_case(daq: Any, command: str) -> None:
    assert daq.query(command) == "+2.28850000E+01"


@pytest.mark.parametrize(
    "command",
    ["ROUTe:CLOSe (@202)", "route:close (@202)", "ROUT:CLOS (@202)", "Rout:Clos (@202)"],
)
def test_route_long_forms(daq: Any, daq_server: DaqServer, command: str) -> None:
    daq.write(command)
    _synced(daq)
    assert _backend(daq_server).relay_closed(202)
    assert daq.query("SYSTem:ERRor?") == '+0,"No error"'
    assert daq.query("CONFigure:TEMPerature TC,K,(@101);READ?") == "+2.28850000E+01"


def test_abbreviations_that_are_not_short_forms_are_undefined(daq: Any) -> None:
    daq.write("ROU:CLO (@201)")
    assert daq.query("SYST:ERR?") == '-113,"Undefined header"'


def test_several_commands_on_one_line(daq: Any) -> None:
    assert daq.query("ROUT:CLOS (@201);ROUT:CLOS? (@201,202);*OPC?") == "1,0;1"
    assert daq.query("FOO;SYST:ERR?;SYST:ERR?") == '-113,"Undefined header";+0,"No error"'


def test_input_channels_can_be_closed_as_mux_channels(daq: Any, daq_server: DaqServer) -> None:
    daq.write("ROUT:CLOS (@105)")
    assert daq.query("ROUT:CLOS? (@105,106)") == "1,0"
    assert not _backend(daq_server).closed


def test_crlf_lines_are_accepted(daq: Any) -> None:
    daq.write_raw(b"*OPC?\r\n")
    assert daq.read_raw() == b"1\n"


@pytest.mark.parametrize(
    ("model", "idn"),
    [
        ("34972A", "Agilent Technologies,34972A,MY00000000,1.16-1.12-02-02"),
        ("34970A", "HEWLETT-PACKARD,34970A,0,13-2-2"),
    ],
)
def test_older_models_by_identification(rm: Any, model: str, idn: str) -> None:
    with DaqServer(StaticDaq(), model=model) as server:
        inst = open_instrument(rm, server, "tcpip", read_termination="\n", write_termination="\n")
        try:
            assert inst.query("*IDN?") == idn
        finally:
            inst.close()


def test_unknown_model_is_refused() -> None:
    with pytest.raises(ValueError, match="model"):
        DaqServer(StaticDaq(), model="34980A")


def test_header_patterns() -> None:
    pattern = compile_header("MEASure[:SCALar]:VOLTage[:DC]?")
    for header in ["MEAS:VOLT?", "meas:volt:dc?", "MEASURE:SCALAR:VOLTAGE:DC?", "Meas:Scal:Volt?"]:
        assert pattern.fullmatch(header), header
    for header in ["MEA:VOLT?", "MEAS:VOLT", "MEAS:VOLTS?", "MEAS::VOLT?"]:
        assert not pattern.fullmatch(header), header
