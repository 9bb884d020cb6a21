"""The Alicat driver against the simulated unit, over pyvisa-py, by TCP socket and ASRLsocket.

The line behind it (:class:`rig.sim.backend.StaticFlow`): 2 bar, 25 °C, 3.000 sccm; on the
mass-flow loop the static line reads its setpoint as the flow. The unit prints psia with two
decimals (69 Pa steps) and flows with three (0.001 sccm).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from drivers.alicat import PA_PER_PSI, AlicatController, AlicatMeter
from drivers.base import RetryPolicy
from drivers.errors import InstrumentDisconnectedError, InstrumentError, InstrumentTimeoutError, ProtocolError
from drivers.models import MODELS
from drivers.readings import FlowState
from rig.sim.backend import ControlMode, FlowSample, StaticFlow
from rig.sim.servers.alicat import AlicatServer
from tests.drivers.conftest import CountingFaults

pytestmark = pytest.mark.integration

FLOW = MODELS["AlicatMC-10SCCM"].flow
assert FLOW is not None
SCCM = FLOW.mol_s_per_sccm
FAULT_TIMEOUT_S = 0.3
JITTER_S = 0.05
PRESSURE_STEP_PA = 0.01 * PA_PER_PSI


@pytest.fixture
def line() -> StaticFlow:
    return StaticFlow(FlowSample(2e5, 25.0, 3.0 * SCCM))


@pytest.fixture
def server(line: StaticFlow, faults: CountingFaults) -> Iterator[AlicatServer]:
    with AlicatServer(line, FLOW, faults=faults, unit="B") as srv:
        yield srv


@pytest.fixture(params=["tcpip", "asrl"])
def resource(request: pytest.FixtureRequest, server: AlicatServer) -> str:
    return server.resource if request.param == "tcpip" else server.serial_resource


@pytest.fixture
def mfc(resource: str) -> Iterator[AlicatController]:
    with AlicatController.open(resource, address=2, timeout_s=2.0) as driver:
        yield driver


@pytest.fixture
def fragile(resource: str) -> Iterator[AlicatController]:
    with AlicatController.open(resource, address=2, timeout_s=FAULT_TIMEOUT_S, retry=RetryPolicy()) as driver:
        yield driver


def test_identity(mfc: AlicatController) -> None:
    assert mfc.identity().startswith("Alicat B,10v05")


def test_the_reading_is_the_lines_in_si_within_the_printed_digits(mfc: AlicatController) -> None:
    reading = mfc.read_flow(1)
    assert reading.state is FlowState.OK
    assert reading.mass_flow_mol_s == pytest.approx(3.0 * SCCM, abs=0.0005 * SCCM)
    assert reading.pressure_pa == pytest.approx(2e5, abs=PRESSURE_STEP_PA / 2)
    assert reading.temperature_k == pytest.approx(298.15, abs=0.005)
    # Opened, it read its loop (mass flow): the setpoint is in mol/s from the first frame.
    assert reading.setpoint == 0.0


def test_holding_a_pressure_reaches_the_line_in_pa(mfc: AlicatController, line: StaticFlow) -> None:
    mfc.hold_pressure(1, 2.5e5)
    mode, setpoint = line.commands[-1]
    assert mode is ControlMode.PRESSURE
    assert setpoint == pytest.approx(2.5e5, abs=0.0005 * PA_PER_PSI)
    assert mfc.control_point() == 34
    assert mfc.read_flow(1).setpoint == pytest.approx(2.5e5, abs=0.0005 * PA_PER_PSI)


def test_stopping_the_flow_leaves_a_zero_flow_setpoint(mfc: AlicatController, line: StaticFlow) -> None:
    mfc.hold_pressure(1, 2.5e5)
    mfc.stop_flow(1)
    assert line.commands[-1] == (ControlMode.MASS_FLOW, 0.0)
    assert mfc.control_point() == 37
    reading = mfc.read_flow(1)
    assert reading.setpoint == 0.0 and reading.mass_flow_mol_s == 0.0


def test_another_unit_id_gets_no_reply(resource: str) -> None:
    with (
        AlicatController.open(resource, address=1, timeout_s=FAULT_TIMEOUT_S) as other,
        pytest.raises(InstrumentTimeoutError),
    ):
        other.read_flow(1)


def test_a_meter_refuses_a_setpoint(server: AlicatServer, line: StaticFlow) -> None:
    meter_server = AlicatServer(line, FLOW, controller=False)
    with meter_server, AlicatMeter.open(meter_server.resource, timeout_s=2.0) as meter:
        assert meter.read_flow(1).setpoint is None
        with pytest.raises(InstrumentError, match="refused"):
            meter.query(lambda: meter._exchange("S1.0"))


def test_over_range_reads_as_such(mfc: AlicatController, line: StaticFlow) -> None:
    line.sample = FlowSample(2e5, 25.0, 20.0 * SCCM)
    assert mfc.read_flow(1).state is FlowState.OVERRANGE
    line.sample = FlowSample(2e5, 75.0, 0.0)
    assert mfc.read_flow(1).state is FlowState.OVERRANGE


def test_persistent_timeout_is_bounded(fragile: AlicatController, faults: CountingFaults) -> None:
    assert fragile.read_flow(1).ok
    faults.kinds["timeout"] = 0.0
    policy = fragile.retry
    bound = policy.attempts * FAULT_TIMEOUT_S + sum(policy.delays()) + JITTER_S
    start = time.monotonic()
    with pytest.raises(InstrumentTimeoutError):
        fragile.read_flow(1)
    elapsed = time.monotonic() - start
    assert policy.attempts * FAULT_TIMEOUT_S <= elapsed < bound, (elapsed, bound)
    del faults.kinds["timeout"]
    assert fragile.read_flow(1).ok


def test_garbled_replies_never_yield_a_number(fragile: AlicatController, faults: CountingFaults) -> None:
    faults.kinds["garbled"] = 0.0
    for call in (lambda: fragile.read_flow(1), fragile.identity, fragile.control_point):
        with pytest.raises(ProtocolError):
            call()
    del faults.kinds["garbled"]
    assert fragile.read_flow(1).mass_flow_mol_s == pytest.approx(3.0 * SCCM, abs=0.0005 * SCCM)


def test_a_dropped_connection_is_recovered(fragile: AlicatController, faults: CountingFaults) -> None:
    faults.kinds["disconnect"] = 0.0
    with pytest.raises((InstrumentTimeoutError, ProtocolError, InstrumentDisconnectedError)):
        fragile.read_flow(1)
    del faults.kinds["disconnect"]
    assert fragile.read_flow(1).ok


def test_one_lost_reply_in_three_is_hidden_by_the_retry(
    fragile: AlicatController, faults: CountingFaults
) -> None:
    faults.drop_every = 3
    for _ in range(6):
        assert fragile.read_flow(1).ok
    assert fragile.stats.retries >= 1
