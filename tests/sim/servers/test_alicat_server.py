"""The simulated Alicat against spec table 5.4, through pyvisa-py on TCPIP SOCKET and ASRLsocket.

Table 5.4 (unit A, ``\\r`` terminated both ways), the bytes copied here:

    A\\r        -> A +014.70 +025.00 +000.000 +000.000 +000.000     N2\\r
    AS5.00\\r   -> A +014.70 +025.00 +005.000 +005.000 +005.000     N2\\r
    AR122\\r    -> A   122 = 37\\r
    B\\r        -> (other unit) no reply
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from drivers.models import MODELS
from rig.sim.backend import ControlMode, FlowSample, StaticFlow
from rig.sim.servers.alicat import PA_PER_PSI, AlicatServer
from tests.sim.servers.conftest import RESOURCE_KINDS, assert_silent, open_instrument

pytestmark = pytest.mark.integration

FLOW = MODELS["AlicatMC-10SCCM"].flow
assert FLOW is not None
# 14.696 psia, printed 14.70: the standard pressure, so volumetric and mass flow agree at 25 °C.
ATMOSPHERE_25C = FlowSample(101325.0, 25.0, 0.0)
IDLE = "A +014.70 +025.00 +000.000 +000.000 +000.000      N2"


@pytest.fixture
def line() -> StaticFlow:
    return StaticFlow(ATMOSPHERE_25C)


@pytest.fixture
def server(line: StaticFlow) -> Iterator[AlicatServer]:
    with AlicatServer(line, FLOW) as srv:
        yield srv


@pytest.fixture(params=RESOURCE_KINDS)
def unit(request: pytest.FixtureRequest, rm: Any, server: AlicatServer) -> Iterator[Any]:
    inst = open_instrument(rm, server, request.param, read_termination="\r", write_termination="\r")
    yield inst
    inst.close()


def test_row1_poll(unit: Any) -> None:
    # The gas is right-aligned in seven characters ("     N2" is five spaces, then the gas; the
    # field's own separating space makes the six before "N2").
    assert unit.query("A") == IDLE


def test_row2_setpoint_answers_a_frame(unit: Any, line: StaticFlow) -> None:
    assert unit.query("AS5.00") == "A +014.70 +025.00 +005.000 +005.000 +005.000      N2"
    assert line.commands[-1] == (ControlMode.MASS_FLOW, pytest.approx(5.0 * FLOW.mol_s_per_sccm))


def test_row3_control_point_register(unit: Any) -> None:
    assert unit.query("AR122") == "A   122 = 37"
    assert unit.query("A$$R122") == "A   122 = 37"


def test_row4_another_unit_gets_no_reply(unit: Any) -> None:
    unit.write("B")
    assert_silent(unit)
    assert unit.query("A") == IDLE  # and the unit still answers its own


def test_the_pressure_loop_takes_its_setpoint_in_psia(unit: Any, line: StaticFlow) -> None:
    assert unit.query("AW122=34") == "A   122 = 34"
    assert unit.query("AR122") == "A   122 = 34"
    assert unit.query("AS29.008").endswith("+029.008      N2")
    assert line.commands[-1] == (ControlMode.PRESSURE, pytest.approx(29.008 * PA_PER_PSI))


def test_an_unknown_control_point_or_command_is_refused(unit: Any) -> None:
    assert unit.query("AW122=99") == "A ?"
    assert unit.query("AXYZ") == "A ?"
    assert unit.query("AR7") == "A ?"


def test_a_setpoint_beyond_the_range_is_refused(unit: Any) -> None:
    assert unit.query("AS10.5") == "A ?"  # 10 sccm full scale
    assert unit.query("AS-1") == "A ?"


def test_firmware_gas_and_lock(unit: Any) -> None:
    assert unit.query("AVE").startswith("A   10v05")
    assert unit.query("A$$W46=1") == "A   046 = 1"
    assert unit.query("A$$R46") == "A   046 = 1"
    assert unit.query("A").endswith("     Ar")
    assert unit.query("A$$L").endswith(" LCK")
    assert not unit.query("A$$U").endswith(" LCK")


def test_a_held_valve_is_flagged_until_cancelled(unit: Any, line: StaticFlow) -> None:
    assert unit.query("AHPUR 50").endswith(" HLD")
    assert line.commands[-1] == (ControlMode.VALVE, 0.5)
    assert not unit.query("AC").endswith(" HLD")
    assert line.commands[-1][0] is ControlMode.MASS_FLOW


def test_over_range_flags(unit: Any, line: StaticFlow) -> None:
    line.sample = FlowSample(200.0 * PA_PER_PSI, 70.0, 13.0 * FLOW.mol_s_per_sccm)
    flags = unit.query("A").split()[-4:]
    assert set(flags) >= {"MOV", "POV", "TOV"}


def test_a_meter_takes_no_setpoint(rm: Any, line: StaticFlow) -> None:
    with AlicatServer(line, FLOW, controller=False) as meter_server:
        meter = open_instrument(rm, meter_server, "tcpip", read_termination="\r", write_termination="\r")
        try:
            assert meter.query("A") == "A +014.70 +025.00 +000.000 +000.000      N2"
            assert meter.query("AS1") == "A ?"
            assert meter.query("AR122") == "A ?"
        finally:
            meter.close()
