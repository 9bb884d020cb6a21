"""The MKS 937B driver against the simulated controller, over pyvisa-py, by TCP socket and ASRLsocket.

The bench (``mks_bench`` in conftest): channel 1 a capacitance manometer at 101325 Pa, channel 2 a
switchable hot-cathode ion gauge at 1.33e-7 Pa; the controller prints 3 significant digits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from drivers.base import RetryPolicy
from drivers.errors import InstrumentError, InstrumentTimeoutError, ProtocolError
from drivers.mks937b import IonGaugeStatus, Mks937b, PressureUnit, SetpointDirection
from drivers.readings import GaugeState
from rig.sim.backend import GaugeReading, GaugeStatus, StaticGauges
from rig.sim.servers.mks import MksServer
from tests.drivers.conftest import CountingFaults
from tests.sim.servers.conftest import wait_until

pytestmark = pytest.mark.integration

TORR_PA = 101325.0 / 760.0
# Timeout of the fault tests: loopback answers in well under a millisecond.
FAULT_TIMEOUT_S = 0.3
# The lost-reply tests: each lost reply is waited out once (some 15-35 of them a test), and a
# spurious timeout there is only one more retry (a read fails only if both of its attempts time out),
# so they wait less than the tests that time the retry bound.
DROP_TIMEOUT_S = 0.1
# The driver's bound is attempts × timeout + backoff (recovery is taken out of the backoff); this is
# only the scheduling slack of a loaded 2-core machine, not time the driver may spend.
JITTER_S = 0.05


@pytest.fixture(params=["tcpip", "asrl"])
def resource(request: pytest.FixtureRequest, mks_server: MksServer) -> str:
    return mks_server.resource if request.param == "tcpip" else mks_server.serial_resource


@pytest.fixture
def mks(resource: str) -> Iterator[Mks937b]:
    with Mks937b.open(resource, timeout_s=2.0) as driver:
        yield driver


@pytest.fixture
def fragile(resource: str) -> Iterator[Mks937b]:
    """A driver with the short timeout of the fault tests and the default retry policy."""
    with Mks937b.open(resource, timeout_s=FAULT_TIMEOUT_S, retry=RetryPolicy()) as driver:
        yield driver


@pytest.fixture
def dropping(resource: str) -> Iterator[Mks937b]:
    """:func:`fragile` with the lost-reply tests' shorter timeout."""
    with Mks937b.open(resource, timeout_s=DROP_TIMEOUT_S, retry=RetryPolicy()) as driver:
        yield driver


def test_identity(mks: Mks937b) -> None:
    assert mks.identity() == "MKS937B,0000000"


def test_readings_in_pa(mks: Mks937b) -> None:
    one, two = mks.read(1), mks.read(2)
    assert (one.channel, one.state) == (1, GaugeState.OK)
    assert one.pressure_pa == pytest.approx(101325.0, rel=5e-3)
    assert two.pressure_pa == pytest.approx(1.33e-7, rel=5e-3)
    assert [r.pressure_pa for r in mks.read_all()] == [one.pressure_pa, two.pressure_pa]


def test_unit_round_trip_keeps_readings_in_pa(mks: Mks937b, mks_server: MksServer) -> None:
    assert mks.unit() is PressureUnit.TORR
    for unit in (PressureUnit.MBAR, PressureUnit.PASCAL, PressureUnit.MICRON, PressureUnit.TORR):
        mks.set_unit(unit)
        assert mks.unit() is unit
        assert mks_server.unit == unit.name
        # Whatever the unit, Pa come back (to the controller's 3 significant digits).
        assert mks.read(1).pressure_pa == pytest.approx(101325.0, rel=5e-3)
        assert mks.read(2).pressure_pa == pytest.approx(1.33e-7, rel=5e-3)
        assert mks.setpoint(1).setpoint_pa == pytest.approx(2.0 * TORR_PA, rel=5e-3)


@pytest.mark.parametrize(
    ("status", "state"),
    [
        (GaugeStatus.UNDERRANGE, GaugeState.UNDERRANGE),
        (GaugeStatus.OVERRANGE, GaugeState.OVERRANGE),
        (GaugeStatus.SENSOR_ERROR, GaugeState.SENSOR_ERROR),
        (GaugeStatus.NO_SENSOR, GaugeState.NO_SENSOR),
    ],
)
def test_non_numeric_readings(
    mks: Mks937b, mks_bench: StaticGauges, status: GaugeStatus, state: GaugeState
) -> None:
    mks_bench.readings[1] = GaugeReading(status, 0.0)
    assert mks.read(1).state is state
    assert mks.read_all()[0].state is state
    if state is GaugeState.UNDERRANGE:
        assert mks.read(1).pressure_pa == pytest.approx(1e-11 * TORR_PA)
    else:
        assert mks.read(1).pressure_pa is None


def test_power_off_and_on(mks: Mks937b, mks_bench: StaticGauges) -> None:
    assert mks.channel_power(2) is True
    assert mks.ion_gauge_status(2) is IonGaugeStatus.GOOD
    mks.set_channel_power(2, False)
    assert not mks_bench.sensor_on(2)
    assert mks.channel_power(2) is False
    assert mks.read(2).state is GaugeState.SENSOR_OFF
    assert mks.ion_gauge_status(2) is IonGaugeStatus.OFF
    mks.set_channel_power(2, True)
    assert mks.read(2).pressure_pa == pytest.approx(1.33e-7, rel=5e-3)


def test_refusals(mks: Mks937b) -> None:
    with pytest.raises(InstrumentError) as caught:
        mks.set_channel_power(1, False)  # a capacitance manometer cannot be switched
    assert caught.value.code == 169
    assert mks.channel_power(1) is True
    with pytest.raises(InstrumentError) as caught:
        mks.ion_gauge_status(1)
    assert caught.value.code == 152
    with pytest.raises(InstrumentError) as caught:
        mks.ask("XYZ?")
    assert caught.value.code == 160
    with pytest.raises(InstrumentError) as caught:
        mks.ask("PR3?")  # the bench has two channels
    assert caught.value.code == 169


def test_setpoint_relays(mks: Mks937b) -> None:
    setpoint = mks.setpoint(1)
    assert setpoint.direction is SetpointDirection.ABOVE
    assert setpoint.hysteresis_pa == pytest.approx(2.2 * TORR_PA, rel=5e-3)
    assert mks.relay_set(1) is True  # channel 1 at atmosphere, above 2 Torr
    assert mks.relay_set(3) is False  # channel 2 at 1e-9 Torr


# --- faults -------------------------------------------------------------------------------------


def test_one_reply_in_fifty_dropped(dropping: Mks937b, faults: CountingFaults) -> None:
    faults.drop_every = 50
    readings = [dropping.read(1 + n % 2) for n in range(200)]
    assert all(r.ok for r in readings)
    assert [r.pressure_pa for r in readings[:2]] == pytest.approx([101325.0, 1.33e-7], rel=5e-3)
    assert dropping.stats.retries > 0


def test_dropped_connection_is_reconnected_by_the_next_call(
    fragile: Mks937b, faults: CountingFaults, mks_server: MksServer
) -> None:
    assert fragile.read(1).ok
    faults.kinds["disconnect"] = 0.0
    assert wait_until(lambda: mks_server.active_connections == 0)
    del faults.kinds["disconnect"]
    assert fragile.read(1).pressure_pa == pytest.approx(101325.0, rel=5e-3)
    assert fragile.stats.reconnects >= 1


def test_persistent_timeout_is_bounded(fragile: Mks937b, faults: CountingFaults, resource: str) -> None:
    assert fragile.read(1).ok
    faults.kinds["timeout"] = 0.0
    policy = fragile.retry
    backoff = sum(policy.delays())
    bound = policy.attempts * FAULT_TIMEOUT_S + backoff + JITTER_S
    start = time.monotonic()
    with pytest.raises(InstrumentTimeoutError):
        fragile.read(1)
    elapsed = time.monotonic() - start
    # Tried twice (not given up early) and no more than twice.
    assert policy.attempts * FAULT_TIMEOUT_S <= elapsed < bound, (elapsed, bound)
    del faults.kinds["timeout"]
    assert fragile.read(1).ok


def test_garbled_replies_never_yield_a_number(fragile: Mks937b, faults: CountingFaults) -> None:
    faults.kinds["garbled"] = 0.0
    calls: list[Callable[[], object]] = [
        lambda: fragile.read(1),
        fragile.read_all,
        fragile.unit,
        fragile.identity,
        lambda: fragile.channel_power(2),
        lambda: fragile.ion_gauge_status(2),
        lambda: fragile.setpoint(1),
        lambda: fragile.relay_set(1),
    ]
    for call in calls:
        with pytest.raises(ProtocolError):
            call()
    del faults.kinds["garbled"]
    assert fragile.read(1).pressure_pa == pytest.approx(101325.0, rel=5e-3)
