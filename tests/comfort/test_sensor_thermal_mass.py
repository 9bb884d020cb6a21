"""Simulated thermocouples with a thermal mass: a pump-down and a vent stay physically plausible.

The gas itself swings by a hundred kelvin and more (adiabatic expansion and compression); a
real thermocouple, held by its mount on the wall and swept by a gas of little heat capacity,
sees a fraction of it, late. The leak-rate physics (the gas) is untouched: only the reading.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from rig.clock import VirtualClock
from rig.engine.runner import Runner
from rig.located_yaml import LocatedError
from rig.procedure.loader import load_procedure
from rig.sim.simulated_bench import SimulatedBench
from rig.sim.simulated_rig import SimulatedRig
from rig.sim.thermal import SensorThermalMass
from tests.engine.sim_runs import MOCKUP, PROCEDURES, run, variant

PLAUSIBLE_C = (0.0, 45.0)
KELVIN = 273.15


def test_the_sensor_lags_and_is_held_by_the_wall() -> None:
    mass = SensorThermalMass(time_constant_s=30.0, gas_coupling=0.2)
    assert mass.temperature_k(0.0, 293.15, 293.15, 101325.0) == pytest.approx(293.15)  # starts at rest
    # A step of the gas to 400 K at one atmosphere: the sensor heads for 1/6 of the step...
    target = 293.15 + (400.0 - 293.15) * 0.2 / 1.2
    after_tau = mass.temperature_k(25.0, 400.0, 293.15, 101325.0)  # 25 s = tau / (1 + 0.2)
    assert after_tau == pytest.approx(target + (293.15 - target) * math.exp(-1.0))
    assert mass.temperature_k(10_000.0, 400.0, 293.15, 101325.0) == pytest.approx(target)
    # ...and in a vacuum the gas has no hold on it at all: it reads the wall.
    assert mass.temperature_k(20_000.0, 100.0, 293.15, 0.0) == pytest.approx(293.15)
    with pytest.raises(ValueError):
        SensorThermalMass(time_constant_s=-1.0)


class Temperatures:
    """Every sample's thermocouple readings, and the gas temperature the physics had then."""

    def __init__(self, simulation: SimulatedBench) -> None:
        self.simulation = simulation
        self.read_c: list[float] = []
        self.gas_c: list[float] = []

    def sampled(self, t_s: float, values: dict[str, float | None]) -> None:
        for channel, volume in (("t_chamber", "chamber"), ("t_article", "article")):
            value = values.get(channel)
            if value is not None:
                self.read_c.append(value - KELVIN)
            self.gas_c.append(self.simulation.true_temperature_k(volume) - KELVIN)

    def step_started(self, progress: object) -> None:
        pass

    def leak_rate(self, name: str, rate_pa_m3_s: float, stderr_pa_m3_s: float, n: int) -> None:
        pass

    def event(self, t_s: float, kind: str, message: str, **data: object) -> None:
        pass

    def finished(self, outcome: object) -> None:
        pass


@pytest.mark.parametrize("procedure", ["rate_of_rise", "pressure_decay"])
def test_a_pump_down_a_fill_and_a_vent_read_plausibly(tmp_path: Path, procedure: str) -> None:
    seen: list[Temperatures] = []

    def watch(runner: Runner, simulation: SimulatedBench) -> None:
        seen.append(Temperatures(simulation))
        runner.events.add(seen[-1])

    done = run(tmp_path, procedure, prepare=watch)
    assert done.outcome.verdict.value == "PASS", done.outcome.reason
    (temps,) = seen
    low, high = PLAUSIBLE_C
    # The gas really does swing out of the band (so the band is a claim about the sensor)...
    assert min(temps.gas_c) < low or max(temps.gas_c) > high
    # ...and the thermocouples, with their thermal mass, stay in it.
    assert low <= min(temps.read_c) and max(temps.read_c) <= high, (min(temps.read_c), max(temps.read_c))


def test_the_time_constant_and_coupling_come_from_the_bench_file(tmp_path: Path) -> None:
    edit = "t_article: {accuracy: 0.3 K, noise: 0.01 K, resolution: 0.001 K, measures: gas"
    bench = variant(
        tmp_path, MOCKUP, lambda t: t.replace(edit, edit + ", time_constant: 2 min, gas_coupling: 0.5")
    )
    procedure = load_procedure(PROCEDURES / "pressure_decay.yaml", bench)
    with SimulatedRig(procedure.bench, VirtualClock(), seed=1) as rig:
        (article,) = [tc for tc in rig.simulation.thermocouples if tc.volume == "article"]
        assert article.thermal is not None
        assert (article.thermal.time_constant_s, article.thermal.gas_coupling) == (120.0, 0.5)
    bad = variant(tmp_path, MOCKUP, lambda t: t.replace(edit, edit + ", gas_coupling: -1"), "bad.yaml")
    bad_bench = load_procedure(PROCEDURES / "pressure_decay.yaml", bad).bench
    with pytest.raises(LocatedError) as caught, SimulatedRig(bad_bench, VirtualClock()):
        pass
    assert "not below 0" in str(caught.value) and f"{bad}:" in str(caught.value)
