"""The Edwards TIC driver against the simulated TIC, over pyvisa-py, by TCP socket and ASRLsocket.

The bench: gauge 1 a capacitance manometer (EXP_CM to the TIC) at 101325 Pa, gauge 2 a switchable
Pirani/cold-cathode gauge (a WRG) at 1.5e-3 Pa, gauge 3 a Pirani (an APGX-H) at 12.345 Pa; the
TIC prints 5 significant digits, in Pa whatever its display unit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from drivers.base import RetryPolicy
from drivers.edwards_tic import EdwardsTic, TicGaugeState, TicUnit
from drivers.errors import InstrumentError, InstrumentTimeoutError, ProtocolError
from drivers.readings import GaugeState
from rig.sim.backend import GaugeReading, GaugeStatus, StaticGauges
from rig.sim.servers.tic import TicServer
from tests.drivers.conftest import CountingFaults
from tests.sim.servers.conftest import wait_until

pytestmark = pytest.mark.integration

# Readings are printed with 5 significant digits: half a unit of the last one, relative.
DISPLAY_REL = 5e-5
# Timeout of the fault tests: loopback answers in well under a millisecond.
FAULT_TIMEOUT_S = 0.3
# The driver's bound is attempts × timeout + backoff; this is only the scheduling slack of a
# loaded 2-core machine, not time the driver may spend.
JITTER_S = 0.05
TRUE_PA = [101325.0, 1.5e-3, 12.345]


@pytest.fixture
def tic_bench() -> StaticGauges:
    return StaticGauges(
        readings={n: GaugeReading(GaugeStatus.OK, pa) for n, pa in enumerate(TRUE_PA, start=1)},
        sensor_ids={1: "CMR", 2: "PKR", 3: "TPR"},
        switchable_channels={2},
    )


@pytest.fixture
def tic_server(tic_bench: StaticGauges, faults: CountingFaults) -> Iterator[TicServer]:
    with TicServer(tic_bench, faults=faults) as server:
        yield server


@pytest.fixture(params=["tcpip", "asrl"])
def resource(request: pytest.FixtureRequest, tic_server: TicServer) -> str:
    return tic_server.resource if request.param == "tcpip" else tic_server.serial_resource


@pytest.fixture
def tic(resource: str) -> Iterator[EdwardsTic]:
    with EdwardsTic.open(resource, timeout_s=2.0) as driver:
        yield driver


@pytest.fixture
def fragile(resource: str) -> Iterator[EdwardsTic]:
    """A driver with the short timeout of the fault tests and the default retry policy."""
    with EdwardsTic.open(resource, timeout_s=FAULT_TIMEOUT_S, retry=RetryPolicy()) as driver:
        yield driver


def test_identity_and_gauges(tic: EdwardsTic) -> None:
    assert tic.identity() == "TIC,D39700640S,000000001,5.0"
    assert tic.channel_count == 3
    assert tic.gauge_ids() == ["EXP_CM", "WRG", "APGXH"]


def test_readings_in_pa_within_the_display_digits(tic: EdwardsTic) -> None:
    readings = tic.read_all()
    assert [(r.channel, r.state) for r in readings] == [(n, GaugeState.OK) for n in (1, 2, 3)]
    assert [r.pressure_pa for r in readings] == pytest.approx(TRUE_PA, rel=DISPLAY_REL)
    assert [tic.read(n).pressure_pa for n in (1, 2, 3)] == [r.pressure_pa for r in readings]


def test_display_unit_changes_leave_readings_in_pa(tic: EdwardsTic, tic_server: TicServer) -> None:
    assert tic.unit() is TicUnit.MBAR
    for unit in (TicUnit.KPA, TicUnit.TORR, TicUnit.MBAR):
        tic.set_unit(unit)
        assert tic.unit() is unit
        assert tic_server.display_unit == int(unit)
        assert [r.pressure_pa for r in tic.read_all()] == pytest.approx(TRUE_PA, rel=DISPLAY_REL)


@pytest.mark.parametrize(
    ("status", "state", "limit_pa"),
    [
        (GaugeStatus.UNDERRANGE, GaugeState.UNDERRANGE, 1e-2),
        (GaugeStatus.OVERRANGE, GaugeState.OVERRANGE, 2e5),
        (GaugeStatus.SENSOR_ERROR, GaugeState.SENSOR_ERROR, None),
        (GaugeStatus.SENSOR_OFF, GaugeState.SENSOR_OFF, None),
        (GaugeStatus.NO_SENSOR, GaugeState.NO_SENSOR, None),
        (GaugeStatus.IDENTIFICATION_ERROR, GaugeState.IDENTIFICATION_ERROR, None),
    ],
)
def test_every_status(
    tic: EdwardsTic, tic_bench: StaticGauges, status: GaugeStatus, state: GaugeState, limit_pa: float | None
) -> None:
    tic_bench.readings[3] = GaugeReading(status, limit_pa or 0.0)
    reading = tic.read(3)
    assert reading.state is state
    assert tic.read_all()[2] == reading
    if limit_pa is None:
        assert reading.pressure_pa is None
    else:
        assert reading.pressure_pa == pytest.approx(limit_pa, rel=DISPLAY_REL)


def test_gauge_off_and_on(tic: EdwardsTic, tic_bench: StaticGauges) -> None:
    tic.set_gauge_on(2, False)
    assert not tic_bench.sensor_on(2)
    assert tic.gauge(2).state is TicGaugeState.OFF
    assert tic.read(2).state is GaugeState.SENSOR_OFF
    tic.set_gauge_on(2, True)
    assert tic.read(2).pressure_pa == pytest.approx(1.5e-3, rel=DISPLAY_REL)


def test_refusals(tic: EdwardsTic) -> None:
    with pytest.raises(InstrumentError) as caught:
        tic.set_gauge_on(1, False)  # a capacitance gauge cannot be switched
    assert caught.value.code == 5
    assert tic.read(1).ok
    with pytest.raises(InstrumentError) as caught:
        tic.ask("?V904")  # the turbo pump is not simulated
    assert caught.value.code == 2
    with pytest.raises(InstrumentError) as caught:
        tic.ask("?S913 99")
    assert caught.value.code == 9


# --- faults -------------------------------------------------------------------------------------


def test_one_reply_in_fifty_dropped(fragile: EdwardsTic, faults: CountingFaults) -> None:
    faults.drop_every = 50
    readings = [fragile.read(1 + n % 3) for n in range(150)]
    assert all(r.ok for r in readings)
    assert [r.pressure_pa for r in readings[:3]] == pytest.approx(TRUE_PA, rel=DISPLAY_REL)
    assert fragile.stats.retries > 0


def test_dropped_connection_is_reconnected_by_the_next_call(
    fragile: EdwardsTic, faults: CountingFaults, tic_server: TicServer
) -> None:
    assert fragile.read(1).ok
    faults.kinds["disconnect"] = 0.0
    assert wait_until(lambda: tic_server.active_connections == 0)
    del faults.kinds["disconnect"]
    assert fragile.read(1).pressure_pa == pytest.approx(101325.0, rel=DISPLAY_REL)
    assert fragile.stats.reconnects >= 1


def test_persistent_timeout_is_bounded(fragile: EdwardsTic, faults: CountingFaults) -> None:
    assert fragile.read(1).ok
    faults.kinds["timeout"] = 0.0
    policy = fragile.retry
    bound = policy.attempts * FAULT_TIMEOUT_S + sum(policy.delays()) + JITTER_S
    start = time.monotonic()
    with pytest.raises(InstrumentTimeoutError):
        fragile.read_all()
    elapsed = time.monotonic() - start
    # Tried twice (not given up early) and no more than twice.
    assert policy.attempts * FAULT_TIMEOUT_S <= elapsed < bound, (elapsed, bound)
    del faults.kinds["timeout"]
    assert fragile.read(1).ok


def test_garbled_replies_never_yield_a_number(fragile: EdwardsTic, faults: CountingFaults) -> None:
    faults.kinds["garbled"] = 0.0
    calls: list[Callable[[], object]] = [
        lambda: fragile.read(1),
        fragile.read_all,
        fragile.unit,
        fragile.identity,
        fragile.gauge_ids,
        lambda: fragile.gauge(2),
        lambda: fragile.ask("?V940"),
    ]
    for call in calls:
        with pytest.raises(ProtocolError):
            call()
    del faults.kinds["garbled"]
    assert fragile.read(1).pressure_pa == pytest.approx(101325.0, rel=DISPLAY_REL)
