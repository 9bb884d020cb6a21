"""The TPG 36x driver against the simulated TPG 362 through pyvisa-py, on TCPIP SOCKET and ASRLsocket.

The bench (``tpg_bench``): channel 1 a CMR at 101325 Pa, channel 2 a switchable PKR at
1.5e-3 Pa. The controller prints four decimals, so values compare to 1e-4 relative.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from drivers.base import RetryPolicy
from drivers.errors import InstrumentError, InstrumentTimeoutError, ProtocolError
from drivers.readings import GaugeState
from drivers.tpg36x import ComInterval, SensorSwitch, Tpg36x, TpgUnit, UnconvertibleUnitError
from rig.sim.backend import GaugeReading, GaugeStatus, StaticGauges
from rig.sim.servers.tpg import TpgServer
from rig.sim.servers.tpg import TpgUnit as SimUnit
from rig.testing import wait_until
from tests.drivers.conftest import CountingFaults

pytestmark = pytest.mark.integration

RESOURCE_KINDS = ["tcpip", "asrl"]
ATMOSPHERE_PA = 101325.0
PKR_PA = 1.5e-3
# Fault tests: short enough to keep the suite fast, long enough for a loaded CI machine on loopback.
FAULT_TIMEOUT_S = 0.3
# The lost-reply tests: each lost reply is waited out once (some 15-35 of them a test), and a
# spurious timeout there is only one more retry (a read fails only if both of its attempts time out),
# so they wait less than the tests that time the retry bound.
DROP_TIMEOUT_S = 0.1
# The driver's bound is attempts × timeout + backoff (recovery is taken out of the backoff); this is
# only the scheduling slack of a loaded 2-core machine, not time the driver may spend.
JITTER_S = 0.05


@pytest.fixture(params=RESOURCE_KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


def resource(server: TpgServer, kind: str) -> str:
    return server.resource if kind == "tcpip" else server.serial_resource


@pytest.fixture
def tpg(tpg_server: TpgServer, kind: str) -> Iterator[Tpg36x]:
    with Tpg36x.open(resource(tpg_server, kind), timeout_s=2.0) as driver:
        yield driver


@pytest.fixture
def faulty_tpg(tpg_server: TpgServer, kind: str) -> Iterator[Tpg36x]:
    with Tpg36x.open(resource(tpg_server, kind), timeout_s=FAULT_TIMEOUT_S) as driver:
        yield driver


@pytest.fixture
def dropping_tpg(tpg_server: TpgServer, kind: str) -> Iterator[Tpg36x]:
    with Tpg36x.open(resource(tpg_server, kind), timeout_s=DROP_TIMEOUT_S) as driver:
        yield driver


# --- conversation -------------------------------------------------------------------------------------


def test_identity_and_channel_count(tpg: Tpg36x) -> None:
    assert tpg.identity() == "TPG362,PTG28290,44990000,010100,010000"
    assert tpg.channel_count == 2
    assert tpg.firmware() == "010100"
    assert tpg.gauge_ids() == ["CMR", "PKR"]
    assert tpg.error_word() == "0000"


def test_unit_round_trip(tpg: Tpg36x, tpg_server: TpgServer) -> None:
    assert tpg.unit() is TpgUnit.MBAR
    for unit in (TpgUnit.TORR, TpgUnit.PASCAL, TpgUnit.MICRON, TpgUnit.HPA, TpgUnit.VOLT, TpgUnit.MBAR):
        tpg.set_unit(unit)
        assert int(tpg_server.unit) == int(unit)
        assert tpg.unit() is unit


# Loops rather than parameters over one connection: every ASRLsocket connection costs 0.3 s to close.


def test_readings_in_pa_in_every_pressure_unit(tpg: Tpg36x) -> None:
    for unit in (TpgUnit.MBAR, TpgUnit.TORR, TpgUnit.PASCAL, TpgUnit.MICRON, TpgUnit.HPA):
        tpg.set_unit(unit)
        one, two = tpg.read(1), tpg.read(2)
        assert one.state is GaugeState.OK and one.pressure_pa == pytest.approx(ATMOSPHERE_PA, rel=1e-4), unit
        assert two.state is GaugeState.OK and two.pressure_pa == pytest.approx(PKR_PA, rel=1e-4), unit
        assert tpg.read_all() == [one, two]
    tpg.set_unit(TpgUnit.VOLT)
    with pytest.raises(UnconvertibleUnitError):
        tpg.read(1)


def test_after_a_reconnection_the_unit_is_read_again(
    faulty_tpg: Tpg36x, tpg_server: TpgServer, faults: CountingFaults
) -> None:
    assert faulty_tpg.read(1).pressure_pa == pytest.approx(ATMOSPHERE_PA, rel=1e-4)
    tpg_server.unit = SimUnit.TORR  # set on the front panel, say, while the link was down
    faults.kinds["disconnect"] = 0.0
    wait_until(lambda: tpg_server.active_connections == 0)
    del faults.kinds["disconnect"]
    # Converted with the cached mbar, 760 Torr would read 76000 Pa.
    assert faulty_tpg.read(1).pressure_pa == pytest.approx(ATMOSPHERE_PA, rel=1e-4)


STATUSES = [
    (GaugeStatus.UNDERRANGE, GaugeState.UNDERRANGE, True),
    (GaugeStatus.OVERRANGE, GaugeState.OVERRANGE, True),
    (GaugeStatus.SENSOR_ERROR, GaugeState.SENSOR_ERROR, False),
    (GaugeStatus.SENSOR_OFF, GaugeState.SENSOR_OFF, False),
    (GaugeStatus.NO_SENSOR, GaugeState.NO_SENSOR, False),
    (GaugeStatus.IDENTIFICATION_ERROR, GaugeState.IDENTIFICATION_ERROR, False),
]


def test_statuses(tpg: Tpg36x, tpg_bench: StaticGauges) -> None:
    for status, state, has_value in STATUSES:
        tpg_bench.readings[2] = GaugeReading(status, 1.0e-4)  # for under/over range: the range limit
        reading = tpg.read(2)
        assert reading.state is state
        assert reading.pressure_pa == (pytest.approx(1.0e-4, rel=1e-4) if has_value else None), state
        assert tpg.read_all()[1] == reading


def test_switching_a_gauge_off_and_on(tpg: Tpg36x) -> None:
    assert tpg.sensors() == [SensorSwitch.CANNOT_SWITCH, SensorSwitch.ON]
    tpg.set_sensor(2, False)
    assert tpg.read(2).state is GaugeState.SENSOR_OFF
    tpg.set_sensor(2, True)
    assert tpg.read(2).ok
    with pytest.raises(InstrumentError, match="cannot be switched"):
        tpg.set_sensor(1, False)


def test_refused_mnemonic_raises_the_syntax_error_word(tpg: Tpg36x) -> None:
    with pytest.raises(InstrumentError) as info:
        tpg.ask("XYZ")
    assert info.value.code == "0001"
    with pytest.raises(InstrumentError) as info:
        tpg.read(3)
    assert info.value.code == "0001"
    assert tpg.error_word() == "0000"


def test_continuous_output_then_back_to_questions(tpg: Tpg36x) -> None:
    lines = list(tpg.continuous(ComInterval.MS_100, max_lines=3, max_duration_s=5.0))
    assert len(lines) == 3
    for one, two in lines:
        assert one.pressure_pa == pytest.approx(ATMOSPHERE_PA, rel=1e-4)
        assert two.pressure_pa == pytest.approx(PKR_PA, rel=1e-4)
    assert tpg.read(2).pressure_pa == pytest.approx(PKR_PA, rel=1e-4)


# --- faults -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["tcpip"])  # overrides the kind fixture
def test_a_dropped_reply_in_50_is_retried_invisibly(dropping_tpg: Tpg36x, faults: CountingFaults) -> None:
    # TCPIP only: each of the ~20 reconnections costs pyserial's 0.3 s close() sleep on ASRLsocket (12 s
    # in all); the serial path's recovery is the same code, exercised by the tests below.
    faults.drop_every = 50
    readings = [dropping_tpg.read(1) for _ in range(200)]
    assert all(r.ok and r.pressure_pa == pytest.approx(ATMOSPHERE_PA, rel=1e-4) for r in readings)
    assert dropping_tpg.stats.retries > 0


def test_a_dropped_connection_is_reconnected_by_the_next_call(
    faulty_tpg: Tpg36x, tpg_server: TpgServer, faults: CountingFaults
) -> None:
    assert faulty_tpg.read(1).ok
    faults.kinds["disconnect"] = 0.0
    wait_until(lambda: tpg_server.active_connections == 0)
    del faults.kinds["disconnect"]
    assert faulty_tpg.read(1).pressure_pa == pytest.approx(ATMOSPHERE_PA, rel=1e-4)
    assert faulty_tpg.stats.reconnects >= 1


def test_a_persistent_timeout_raises_within_the_retry_bound(
    faulty_tpg: Tpg36x, faults: CountingFaults, kind: str
) -> None:
    faulty_tpg.unit()
    policy = faulty_tpg.retry
    faults.kinds["timeout"] = 0.0
    start = time.monotonic()
    with pytest.raises(InstrumentTimeoutError):
        faulty_tpg.read(1)
    elapsed_s = time.monotonic() - start
    assert faulty_tpg.stats.retries == policy.attempts - 1
    bound_s = policy.attempts * FAULT_TIMEOUT_S + sum(policy.delays()) + JITTER_S
    assert 0.9 * policy.attempts * FAULT_TIMEOUT_S <= elapsed_s <= bound_s


def test_garbled_replies_never_yield_a_number(faulty_tpg: Tpg36x, faults: CountingFaults) -> None:
    faulty_tpg.unit()
    faults.kinds["garbled"] = 0.0
    for call in (lambda: faulty_tpg.read(1), faulty_tpg.read_all, faulty_tpg.unit, faulty_tpg.identity):
        with pytest.raises(ProtocolError):
            call()
    del faults.kinds["garbled"]
    assert faulty_tpg.read(1).pressure_pa == pytest.approx(ATMOSPHERE_PA, rel=1e-4)


def test_three_attempts_bound_a_persistent_timeout_too(tpg_server: TpgServer, faults: CountingFaults) -> None:
    policy = RetryPolicy(attempts=3, backoff_s=0.01)
    with Tpg36x.open(tpg_server.resource, timeout_s=0.2, retry=policy) as driver:
        faults.kinds["timeout"] = 0.0
        start = time.monotonic()
        with pytest.raises(InstrumentTimeoutError):
            driver.read(1)
        elapsed_s = time.monotonic() - start
    assert elapsed_s <= 3 * 0.2 + sum(policy.delays()) + JITTER_S
