"""The VGC 50x driver against the simulated VGC 503 through pyvisa-py, on TCPIP SOCKET and ASRLsocket.

The bench: channel 1 an MPG at 1.5e-3 Pa, channel 2 a CDG at 101325 Pa, channel 3 a BPG at
2e-6 Pa; the MPG and the BPG have a high voltage to switch. The controller prints four decimals,
so values compare to 1e-4 relative.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from drivers.base import RetryPolicy
from drivers.errors import InstrumentError, InstrumentTimeoutError, ProtocolError
from drivers.readings import GaugeState
from drivers.tpg36x import ComInterval, TpgUnit, UnconvertibleUnitError
from drivers.vgc50x import Vgc50x
from rig.sim.backend import GaugeReading, GaugeStatus, StaticGauges
from rig.sim.servers.vgc import VgcServer
from rig.testing import wait_until
from tests.drivers.conftest import CountingFaults

pytestmark = pytest.mark.integration

MPG_PA = 1.5e-3
ATMOSPHERE_PA = 101325.0
BPG_PA = 2.0e-6
FAULT_TIMEOUT_S = 0.3
# The lost-reply tests: each lost reply is waited out once (some 15-35 of them a test), and a
# spurious timeout there is only one more retry (a read fails only if both of its attempts time out),
# so they wait less than the tests that time the retry bound.
DROP_TIMEOUT_S = 0.1
# Scheduling slack of a loaded 2-core machine, not time the driver may spend.
JITTER_S = 0.05


@pytest.fixture
def vgc_bench() -> StaticGauges:
    return StaticGauges(
        readings={
            1: GaugeReading(GaugeStatus.OK, MPG_PA),
            2: GaugeReading(GaugeStatus.OK, ATMOSPHERE_PA),
            3: GaugeReading(GaugeStatus.OK, BPG_PA),
        },
        sensor_ids={1: "MPG", 2: "CDG", 3: "BPG"},
        switchable_channels={1, 3},
    )


@pytest.fixture
def vgc_server(vgc_bench: StaticGauges, faults: CountingFaults) -> Iterator[VgcServer]:
    with VgcServer(vgc_bench, faults=faults) as server:
        yield server


@pytest.fixture(params=["tcpip", "asrl"])
def kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


def resource(server: VgcServer, kind: str) -> str:
    return server.resource if kind == "tcpip" else server.serial_resource


@pytest.fixture
def vgc(vgc_server: VgcServer, kind: str) -> Iterator[Vgc50x]:
    with Vgc50x.open(resource(vgc_server, kind), timeout_s=2.0) as driver:
        yield driver


@pytest.fixture
def faulty_vgc(vgc_server: VgcServer) -> Iterator[Vgc50x]:
    with Vgc50x.open(vgc_server.resource, timeout_s=FAULT_TIMEOUT_S) as driver:
        yield driver


@pytest.fixture
def dropping_vgc(vgc_server: VgcServer) -> Iterator[Vgc50x]:
    with Vgc50x.open(vgc_server.resource, timeout_s=DROP_TIMEOUT_S) as driver:
        yield driver


def assert_readings(readings: list[float | None]) -> None:
    assert readings == [
        pytest.approx(MPG_PA, rel=1e-4),
        pytest.approx(ATMOSPHERE_PA, rel=1e-4),
        pytest.approx(BPG_PA, rel=1e-4),
    ]


# --- conversation -------------------------------------------------------------------------------------


def test_identity_channel_count_and_gauges(vgc: Vgc50x) -> None:
    assert vgc.identity() == "VGC503,398-483,100,1.00,1.0"
    assert vgc.channel_count == 3
    assert vgc.firmware() == "1.00"
    assert vgc.gauge_ids() == ["MPG", "CDG", "BPG"]
    assert vgc.error_word() == "0000"


@pytest.mark.parametrize(("channels", "model"), [(1, "VGC501"), (2, "VGC502")])
def test_the_smaller_models_read_their_own_channels(channels: int, model: str) -> None:
    gauges = StaticGauges({ch: GaugeReading(GaugeStatus.OK, 1000.0 * ch) for ch in range(1, channels + 1)})
    with VgcServer(gauges) as server, Vgc50x.open(server.resource) as driver:
        assert driver.identity().startswith(model + ",")
        assert [r.pressure_pa for r in driver.read_all()] == [
            pytest.approx(1000.0 * ch) for ch in range(1, channels + 1)
        ]
        assert driver.gauge_ids() == ["CMR"] * channels


def test_unit_round_trip(vgc: Vgc50x, vgc_server: VgcServer) -> None:
    assert vgc.unit() is TpgUnit.MBAR
    for unit in (TpgUnit.TORR, TpgUnit.PASCAL, TpgUnit.MICRON, TpgUnit.HPA, TpgUnit.VOLT, TpgUnit.MBAR):
        vgc.set_unit(unit)
        assert int(vgc_server.unit) == int(unit)
        assert vgc.unit() is unit


def test_readings_in_pa_in_every_pressure_unit(vgc: Vgc50x) -> None:
    for unit in (TpgUnit.MBAR, TpgUnit.TORR, TpgUnit.PASCAL, TpgUnit.MICRON, TpgUnit.HPA):
        vgc.set_unit(unit)
        singles = [vgc.read(ch) for ch in (1, 2, 3)]
        assert all(r.state is GaugeState.OK for r in singles), unit
        assert_readings([r.pressure_pa for r in singles])
        assert vgc.read_all() == singles
    vgc.set_unit(TpgUnit.VOLT)
    with pytest.raises(UnconvertibleUnitError):
        vgc.read(2)


STATUSES = [
    (GaugeStatus.UNDERRANGE, GaugeState.UNDERRANGE, True),
    (GaugeStatus.OVERRANGE, GaugeState.OVERRANGE, True),
    (GaugeStatus.SENSOR_ERROR, GaugeState.SENSOR_ERROR, False),  # printed 7 on the BPG
    (GaugeStatus.SENSOR_OFF, GaugeState.SENSOR_OFF, False),
    (GaugeStatus.NO_SENSOR, GaugeState.NO_SENSOR, False),
    (GaugeStatus.IDENTIFICATION_ERROR, GaugeState.IDENTIFICATION_ERROR, False),
]


def test_every_status(vgc: Vgc50x, vgc_bench: StaticGauges) -> None:
    for channel in (2, 3):  # a CDG prints a sensor error as 3, the BPG as 7
        for status, state, has_value in STATUSES:
            vgc_bench.readings[channel] = GaugeReading(status, 1.0e-4)  # under/over range: the range limit
            reading = vgc.read(channel)
            assert reading.state is state
            assert reading.pressure_pa == (pytest.approx(1.0e-4, rel=1e-4) if has_value else None), state
            assert vgc.read_all()[channel - 1] == reading


def test_refused_mnemonics_raise_the_syntax_error_word(vgc: Vgc50x) -> None:
    for call in (lambda: vgc.ask("SEN"), lambda: vgc.read(4)):
        with pytest.raises(InstrumentError) as info:
            call()
        assert info.value.code == "0001"
    assert vgc.error_word() == "0000"


def test_switching_the_high_voltage(vgc: Vgc50x) -> None:
    assert vgc.high_voltage() == [True, False, True]
    vgc.set_high_voltage(3, False)
    assert vgc.read(3).state is GaugeState.SENSOR_OFF
    assert vgc.high_voltage() == [True, False, False]
    vgc.set_high_voltage(3, True)
    assert vgc.read(3).pressure_pa == pytest.approx(BPG_PA, rel=1e-4)
    with pytest.raises(InstrumentError) as info:
        vgc.set_high_voltage(2, True)  # a CDG has none
    assert info.value.code == "0010"
    assert vgc.high_voltage() == [True, False, True]


def test_continuous_output_then_back_to_questions(vgc: Vgc50x) -> None:
    lines = list(vgc.continuous(ComInterval.MS_100, max_lines=3, max_duration_s=5.0))
    assert len(lines) == 3
    for line in lines:
        assert_readings([r.pressure_pa for r in line])
    assert vgc.read(2).pressure_pa == pytest.approx(ATMOSPHERE_PA, rel=1e-4)


# --- faults (TCPIP: the serial path's recovery is the same code, tested with the TPG) ------------------


def test_a_dropped_reply_in_50_is_retried_invisibly(dropping_vgc: Vgc50x, faults: CountingFaults) -> None:
    faults.drop_every = 50
    readings = [dropping_vgc.read_all() for _ in range(100)]
    assert all(r.ok for line in readings for r in line)
    assert_readings([r.pressure_pa for r in readings[-1]])
    assert dropping_vgc.stats.retries > 0


def test_a_dropped_connection_is_reconnected_by_the_next_call(
    faulty_vgc: Vgc50x, vgc_server: VgcServer, faults: CountingFaults
) -> None:
    assert faulty_vgc.read(2).ok
    faults.kinds["disconnect"] = 0.0
    wait_until(lambda: vgc_server.active_connections == 0)
    del faults.kinds["disconnect"]
    assert faulty_vgc.read(2).pressure_pa == pytest.approx(ATMOSPHERE_PA, rel=1e-4)
    assert faulty_vgc.stats.reconnects >= 1


def test_a_persistent_timeout_raises_within_the_retry_bound(
    faulty_vgc: Vgc50x, faults: CountingFaults
) -> None:
    faulty_vgc.unit()
    policy = faulty_vgc.retry
    faults.kinds["timeout"] = 0.0
    start = time.monotonic()
    with pytest.raises(InstrumentTimeoutError):
        faulty_vgc.read_all()
    elapsed_s = time.monotonic() - start
    assert faulty_vgc.stats.retries == policy.attempts - 1
    bound_s = policy.attempts * FAULT_TIMEOUT_S + sum(policy.delays()) + JITTER_S
    assert 0.9 * policy.attempts * FAULT_TIMEOUT_S <= elapsed_s <= bound_s
    del faults.kinds["timeout"]
    assert faulty_vgc.read(1).pressure_pa == pytest.approx(MPG_PA, rel=1e-4)


def test_garbled_replies_never_yield_a_number(faulty_vgc: Vgc50x, faults: CountingFaults) -> None:
    faulty_vgc.unit()
    faults.kinds["garbled"] = 0.0
    for call in (lambda: faulty_vgc.read(1), faulty_vgc.read_all, faulty_vgc.unit, faulty_vgc.identity):
        with pytest.raises(ProtocolError):
            call()
    del faults.kinds["garbled"]
    assert_readings([r.pressure_pa for r in faulty_vgc.read_all()])


def test_three_attempts_bound_a_persistent_timeout_too(vgc_server: VgcServer, faults: CountingFaults) -> None:
    policy = RetryPolicy(attempts=3, backoff_s=0.01)
    with Vgc50x.open(vgc_server.resource, timeout_s=0.2, retry=policy) as driver:
        faults.kinds["timeout"] = 0.0
        start = time.monotonic()
        with pytest.raises(InstrumentTimeoutError):
            driver.read(1)
        elapsed_s = time.monotonic() - start
    assert elapsed_s <= 3 * 0.2 + sum(policy.delays()) + JITTER_S
