"""The bench behind the instruments: relays move valves, gauges read the physics, faults bite."""

from __future__ import annotations

import pytest

from rig.clock import VirtualClock
from rig.sim.backend import GaugeStatus
from rig.sim.faults import Fault, FaultSchedule
from rig.sim.flows import Valve
from rig.sim.gauges import GaugeModel, ThermocoupleModel
from rig.sim.network import GasNetwork
from rig.sim.nodes import GasVolume, Reservoir, atmosphere
from rig.sim.simulated_bench import (
    OPEN_THERMOCOUPLE_C,
    AnalogOutput,
    GaugeChannel,
    RelayValve,
    SimulatedBench,
    ThermocoupleChannel,
)

ATM = 101325.0


def make_bench(faults: list[Fault] | None = None) -> tuple[SimulatedBench, VirtualClock]:
    clock = VirtualClock()
    supply_valve = Valve("supply", "chamber", 5e-6)
    vent_valve = Valve("chamber", "atmosphere", 5e-6)
    network = GasNetwork(
        [GasVolume("chamber", 0.01, initial_pressure_pa=ATM)],
        [atmosphere(), Reservoir("supply", 2 * ATM)],
        [supply_valve, vent_valve],
    )
    exact = GaugeModel(accuracy_rel=0.0, max_pa=1e6, seed=1)
    gauge = GaugeChannel("gauges", 1, "chamber", exact, switchable=True)
    bench = SimulatedBench(
        network,
        clock,
        gauges=[gauge],
        thermocouples=[ThermocoupleChannel("daq", 101, "chamber", ThermocoupleModel(0.0, 0.0, 0.0))],
        valves=[RelayValve("supply", "daq", 201, supply_valve), RelayValve("vent", "daq", 202, vent_valve)],
        analog_outputs=[AnalogOutput("daq", 102, gauge, 1e-4)],
        faults=FaultSchedule(faults or [], clock.now),
    )
    return bench, clock


def test_relay_opens_its_valve_and_the_gauge_sees_the_fill() -> None:
    bench, clock = make_bench()
    daq = bench.daq_backend("daq")
    gauges = bench.gauge_backend("gauges", 2)
    assert gauges.read(1).pressure_pa == pytest.approx(ATM)
    daq.set_relay(201, True)
    assert daq.relay_closed(201)
    clock.advance(60.0)
    assert bench.valve_is_open("supply")
    assert gauges.read(1).pressure_pa == pytest.approx(2 * ATM, rel=1e-3)
    daq.open_all_relays()
    assert not daq.relay_closed(201)
    clock.advance(1.0)
    assert not bench.valve_is_open("supply")


def test_stuck_valve_reads_back_closed_but_does_not_move() -> None:
    bench, clock = make_bench([Fault("daq", "stuck_valve", at_s=0.0, channel=201)])
    daq = bench.daq_backend("daq")
    daq.set_relay(201, True)
    clock.advance(60.0)
    assert daq.relay_closed(201)  # the instrument believes it
    assert not bench.valve_is_open("supply")  # the physics does not
    assert bench.true_pressure_pa("chamber") == pytest.approx(ATM, rel=1e-6)


def test_sensor_error_and_zero_shift_faults() -> None:
    bench, clock = make_bench(
        [
            Fault("gauges", "sensor_error", at_s=10.0, duration_s=5.0, channel=1),
            Fault("gauges", "zero_shift", at_s=20.0, channel=1, magnitude=50.0),
        ]
    )
    gauges = bench.gauge_backend("gauges", 2)
    clock.advance(11.0)
    assert gauges.read(1).status is GaugeStatus.SENSOR_ERROR
    clock.advance(10.0)
    reading = gauges.read(1)
    assert reading.status is GaugeStatus.OK
    assert reading.pressure_pa == pytest.approx(bench.true_pressure_pa("chamber") + 50.0)


def test_channels_without_sensors_and_switched_off_gauges() -> None:
    bench, _ = make_bench()
    gauges = bench.gauge_backend("gauges", 2)
    assert gauges.channel_count == 2
    assert gauges.read(2).status is GaugeStatus.NO_SENSOR
    assert gauges.sensor_id(2) == "noSENSOR"
    gauges.set_sensor_on(1, False)
    assert gauges.read(1).status is GaugeStatus.SENSOR_OFF
    gauges.set_sensor_on(1, True)
    assert gauges.read(1).status is GaugeStatus.OK


def test_thermocouple_and_analog_inputs() -> None:
    bench, _ = make_bench()
    daq = bench.daq_backend("daq")
    assert daq.temperature_c(101) == pytest.approx(20.0)
    assert daq.temperature_c(105) == OPEN_THERMOCOUPLE_C
    assert daq.volts(102) == pytest.approx(ATM * 1e-4)
    assert daq.volts(110) == 0.0
    assert daq.has_relay(201) and not daq.has_relay(101)
    assert daq.has_input(101) and not daq.has_input(299)
