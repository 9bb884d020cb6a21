"""The XGS-600 driver against the simulated controller, over pyvisa-py, by TCP socket and ASRLsocket.

The bench: channel 1 a capacitance manometer (analog board) at 101325 Pa, channel 2 a hot-filament
ion gauge at 1.5e-3 Pa, channel 3 a convection gauge at 2.5 Pa; the controller prints 4
significant digits, in Torr from the factory.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator

import pytest

from drivers.base import RetryPolicy
from drivers.errors import InstrumentError, InstrumentTimeoutError, ProtocolError
from drivers.readings import GaugeState
from drivers.xgs600 import MIN_QUERY_INTERVAL_S, Board, Xgs600, XgsUnit
from rig.sim.backend import GaugeReading, GaugeStatus, StaticGauges
from rig.sim.servers.xgs import XgsServer
from tests.drivers.conftest import CountingFaults
from tests.sim.servers.conftest import wait_until

pytestmark = pytest.mark.integration

# 4 significant digits: half a last digit is at most 5e-4 of the reading.
DIGITS_REL = 5e-4
FAULT_TIMEOUT_S = 0.3
# Only the scheduling slack of a loaded 2-core machine, not time the driver may spend.
JITTER_S = 0.05
# How much later than sent a loaded 2-core machine may hand a command to the server.
DELIVERY_JITTER_S = 0.04
TRUE_PA = {1: 101325.0, 2: 1.5e-3, 3: 2.5}


@pytest.fixture
def xgs_bench() -> StaticGauges:
    return StaticGauges(
        readings={ch: GaugeReading(GaugeStatus.OK, pa) for ch, pa in TRUE_PA.items()},
        sensor_ids={1: "CMR", 2: "HFIG", 3: "CNV"},
    )


@pytest.fixture
def xgs_server(xgs_bench: StaticGauges, faults: CountingFaults) -> Iterator[XgsServer]:
    with XgsServer(xgs_bench, faults=faults, labels={3: "GATE"}) as server:
        yield server


@pytest.fixture(params=["tcpip", "asrl"])
def resource(request: pytest.FixtureRequest, xgs_server: XgsServer) -> str:
    return xgs_server.resource if request.param == "tcpip" else xgs_server.serial_resource


@pytest.fixture
def xgs(resource: str) -> Iterator[Xgs600]:
    with Xgs600.open(resource, timeout_s=2.0) as driver:
        yield driver


@pytest.fixture
def fragile(resource: str) -> Iterator[Xgs600]:
    """A driver with the short timeout of the fault tests and the default retry policy."""
    with Xgs600.open(resource, timeout_s=FAULT_TIMEOUT_S, retry=RetryPolicy()) as driver:
        yield driver


def test_identity_and_boards(xgs: Xgs600) -> None:
    # Channels 1 and 2 share slot 1 (its first sensor, the manometer, makes it analog).
    assert xgs.boards() == [Board.ANALOG, Board.CNV, Board.EMPTY, Board.EMPTY, Board.EMPTY, Board.EMPTY]
    assert xgs.identity() == "XGS600,4C40FEFEFEFE,0110/0102/0102"


def test_readings_in_pa_within_the_display_digits(xgs: Xgs600) -> None:
    readings = xgs.read_all()
    assert [r.channel for r in readings] == [1, 2, 3]
    assert all(r.state is GaugeState.OK for r in readings)
    for reading in readings:
        assert reading.pressure_pa == pytest.approx(TRUE_PA[reading.channel], rel=DIGITS_REL)
    assert xgs.read(2).pressure_pa == readings[1].pressure_pa


def test_one_sample_is_the_dump_and_the_unit(xgs: Xgs600, xgs_server: XgsServer) -> None:
    # The dump's numbers carry no unit, which may have changed at the front panel since the last.
    for _ in range(3):
        xgs.read_all()
    assert len(xgs_server.arrivals_s) == 6


def test_the_driver_paces_itself_to_ten_queries_a_second(xgs: Xgs600, xgs_server: XgsServer) -> None:
    for _ in range(3):
        xgs.read_all()  # #000F and #0013 each
    arrivals = list(xgs_server.arrivals_s)
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert len(gaps) == 5
    # Spaced at the driver's send; a loaded machine may deliver one command late, which shortens
    # the gap after it, never the span of them all (unpaced, a gap is a millisecond).
    assert arrivals[-1] - arrivals[0] >= 5 * MIN_QUERY_INTERVAL_S - DELIVERY_JITTER_S, gaps
    assert min(gaps) >= MIN_QUERY_INTERVAL_S - DELIVERY_JITTER_S, gaps


def test_a_slower_pace_is_kept_too(resource: str, xgs_server: XgsServer) -> None:
    with Xgs600.open(resource, min_interval_s=0.25) as slow:
        for _ in range(2):
            slow.read_all()  # #000F and #0013 each
    gaps = [b - a for a, b in itertools.pairwise(xgs_server.arrivals_s)]
    assert len(gaps) == 3 and min(gaps) >= 0.25 - DELIVERY_JITTER_S, gaps


def test_sensor_by_code_and_label(xgs: Xgs600) -> None:
    assert xgs.read_sensor("T1").pressure_pa == pytest.approx(101325.0, rel=DIGITS_REL)
    assert xgs.read_sensor("I1").pressure_pa == pytest.approx(1.5e-3, rel=DIGITS_REL)
    assert xgs.read_sensor("UGATE").pressure_pa == pytest.approx(2.5, rel=DIGITS_REL)
    with pytest.raises(InstrumentError) as caught:
        xgs.read_sensor("T3")  # two convection/analog sensors only
    assert caught.value.code == "FF"
    with pytest.raises(InstrumentError, match="3 sensors, no channel 4"):
        xgs.read(4)


def test_unit_round_trip_keeps_readings_in_pa(xgs: Xgs600, xgs_server: XgsServer) -> None:
    assert xgs.unit() is XgsUnit.TORR
    for unit in (XgsUnit.MBAR, XgsUnit.PASCAL, XgsUnit.TORR):
        xgs.set_unit(unit)
        assert xgs_server.unit_code == unit.value
        assert xgs.unit() is unit
        for reading in xgs.read_all():
            assert reading.pressure_pa == pytest.approx(TRUE_PA[reading.channel], rel=DIGITS_REL)


@pytest.mark.parametrize(
    ("status", "state", "limit_pa"),
    [
        (GaugeStatus.UNDERRANGE, GaugeState.UNDERRANGE, 1e-4),
        (GaugeStatus.OVERRANGE, GaugeState.OVERRANGE, 133322.0),
        (GaugeStatus.SENSOR_ERROR, GaugeState.SENSOR_ERROR, None),
        (GaugeStatus.SENSOR_OFF, GaugeState.SENSOR_OFF, None),
        (GaugeStatus.NO_SENSOR, GaugeState.NO_SENSOR, None),
        (GaugeStatus.IDENTIFICATION_ERROR, GaugeState.NO_SENSOR, None),
    ],
)
def test_every_status(
    xgs: Xgs600, xgs_bench: StaticGauges, status: GaugeStatus, state: GaugeState, limit_pa: float | None
) -> None:
    xgs_bench.readings[2] = GaugeReading(status, limit_pa or 0.0)
    readings = xgs.read_all()
    assert readings[1].state is state
    assert readings[0].ok and readings[2].ok
    if limit_pa is None:
        assert readings[1].pressure_pa is None
    else:
        assert readings[1].pressure_pa == pytest.approx(limit_pa, rel=DIGITS_REL)
    assert xgs.read_sensor("I1").state is state


def test_another_address_gets_no_answer(resource: str) -> None:
    other = Xgs600.open(resource, address=5, timeout_s=FAULT_TIMEOUT_S, retry=RetryPolicy(attempts=1))
    with other, pytest.raises(InstrumentTimeoutError):
        other.read_all()


# --- faults -------------------------------------------------------------------------------------


def test_dropped_replies_are_retried(fragile: Xgs600, faults: CountingFaults) -> None:
    faults.drop_every = 5
    readings = [fragile.read_all() for _ in range(8)]
    assert all(r.ok for sample in readings for r in sample)
    assert readings[0][0].pressure_pa == pytest.approx(101325.0, rel=DIGITS_REL)
    assert fragile.stats.retries > 0


def test_dropped_connection_is_reconnected_by_the_next_call(
    fragile: Xgs600, faults: CountingFaults, xgs_server: XgsServer
) -> None:
    assert fragile.read(1).ok
    faults.kinds["disconnect"] = 0.0
    assert wait_until(lambda: xgs_server.active_connections == 0)
    del faults.kinds["disconnect"]
    assert fragile.read(1).pressure_pa == pytest.approx(101325.0, rel=DIGITS_REL)
    assert fragile.stats.reconnects >= 1


def test_persistent_timeout_is_bounded(fragile: Xgs600, faults: CountingFaults) -> None:
    assert fragile.read(1).ok
    faults.kinds["timeout"] = 0.0
    policy = fragile.retry
    # Tries × timeout, the backoff, and at most one pacing interval before the first try.
    bound = policy.attempts * FAULT_TIMEOUT_S + sum(policy.delays()) + MIN_QUERY_INTERVAL_S + JITTER_S
    start = time.monotonic()
    with pytest.raises(InstrumentTimeoutError):
        fragile.read_all()
    elapsed = time.monotonic() - start
    assert policy.attempts * FAULT_TIMEOUT_S <= elapsed < bound, (elapsed, bound)
    del faults.kinds["timeout"]
    assert fragile.read(1).ok


def test_garbled_replies_never_yield_a_number(fragile: Xgs600, faults: CountingFaults) -> None:
    faults.kinds["garbled"] = 0.0
    calls: list[Callable[[], object]] = [
        fragile.read_all,
        lambda: fragile.read(1),
        lambda: fragile.read_sensor("T1"),
        fragile.unit,
        fragile.identity,
        fragile.setpoint_states,
    ]
    for call in calls:
        with pytest.raises(ProtocolError):
            call()
    del faults.kinds["garbled"]
    assert fragile.read(1).pressure_pa == pytest.approx(101325.0, rel=DIGITS_REL)
