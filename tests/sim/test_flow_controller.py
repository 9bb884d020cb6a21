"""A simulated mass-flow controller on a bench: its loop, its limits, its readings, its bench file part.

The bench: a 1 L article at 2 bar (or as a test starts it) fed by an Alicat MC-10SCCM from a
4 bar line, leaking to the atmosphere through an orifice; the controller's pressure loop has a
time constant of 3 s.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from drivers.models import MODELS
from rig.bench import load_bench
from rig.clock import VirtualClock
from rig.located_yaml import LocatedError
from rig.sim.backend import ControlMode
from rig.sim.bench_physics import build_simulation, physics_problems
from rig.sim.flows import Orifice
from rig.sim.simulated_bench import SimulatedBench
from rig.units import R_GAS

FLOW = MODELS["AlicatMC-10SCCM"].flow
assert FLOW is not None
FULL_SCALE = FLOW.full_scale_mol_s
TAU_S = 3.0
HOLD_PA = 2e5


def bench_text(
    *,
    initial: str = "2 bar",
    thermal_tau: str = "30 s",
    leak: str = "10 um",
    line: str = "4 bar",
    controllers: str = "mfc: {supply: line, time_constant: 3 s}",
    channel: str = "f_article: {instrument: mfc, channel: 1, measures: flow, volume: article}",
    instrument: str = "{model: AlicatMC-10SCCM}",
) -> str:
    return f"""\
bench: flow_test
instruments:
  mfc: {instrument}
volumes:
  article: {{size: 1 L}}
channels:
  {channel}
physics:
  seed: 1
  outside:
    atmosphere: {{pressure: 101325 Pa, temperature: 20 degC}}
    line: {{pressure: {line}, temperature: 20 degC}}
  volumes:
    article: {{thermal_tau: {thermal_tau}, initial_pressure: {initial}, initial_temperature: 20 degC}}
  flow_controllers:
    {controllers}
  leaks:
    - {{between: [article, atmosphere], kind: orifice, diameter: {leak}}}
"""


def simulation(tmp_path: Path, **changes: str) -> tuple[SimulatedBench, VirtualClock]:
    path = tmp_path / "bench.yaml"
    path.write_text(bench_text(**changes))
    clock = VirtualClock()
    return build_simulation(load_bench(path), clock), clock


def true_leak_mol_s(sim: SimulatedBench) -> float:
    """What leaks out of the article now, from the network itself."""
    (leak,) = [e for e in sim.network.elements if isinstance(e, Orifice)]
    net = sim.network
    return leak.molar_flow(
        net.t,
        net.pressure_pa("article"),
        net.temperature_k("article"),
        net.pressure_pa("atmosphere"),
        net.temperature_k("atmosphere"),
    )


def test_in_steady_state_the_make_up_flow_is_the_leak_and_the_pressure_is_held(tmp_path: Path) -> None:
    sim, clock = simulation(tmp_path)
    sim.command_flow("mfc", ControlMode.PRESSURE, HOLD_PA)
    clock.advance(300.0)
    leak = true_leak_mol_s(sim)
    assert 0.1 * FULL_SCALE < leak < FULL_SCALE  # a leak the controller can make up
    # Equal but for the gas still settling to its walls' temperature (parts in 10⁴).
    assert sim.true_flow_mol_s("mfc") == pytest.approx(leak, rel=1e-3)
    # Held below the setpoint by the leak over the loop's gain, V/(R·T·τ): a few Pa.
    gain = 1e-3 / (R_GAS * 293.15 * TAU_S)
    assert sim.true_pressure_pa("article") == pytest.approx(HOLD_PA - leak / gain, abs=0.5)
    assert HOLD_PA - sim.true_pressure_pa("article") < 20.0


def test_the_pressure_loop_is_first_order_with_its_time_constant(tmp_path: Path) -> None:
    # 20 Pa below the setpoint with no leak: the loop's demand stays below the full scale. The
    # walls hold the gas at their temperature (a short thermal τ): the gas coming in would
    # otherwise warm it, and the pressure would rise faster than the moles alone make it.
    sim, clock = simulation(tmp_path, initial="199980 Pa", leak="0.01 um", thermal_tau="0.05 s")
    sim.command_flow("mfc", ControlMode.PRESSURE, HOLD_PA)
    errors = []
    for _ in range(3):
        errors.append(HOLD_PA - sim.true_pressure_pa("article"))
        clock.advance(TAU_S)
    # Each time constant leaves e⁻¹ of the error.
    assert errors[1] / errors[0] == pytest.approx(math.exp(-1.0), rel=0.05)
    assert errors[2] / errors[1] == pytest.approx(math.exp(-1.0), rel=0.05)


def test_never_more_than_its_full_scale(tmp_path: Path) -> None:
    sim, clock = simulation(tmp_path, initial="1 bar")
    sim.command_flow("mfc", ControlMode.PRESSURE, HOLD_PA)
    clock.advance(60.0)
    assert sim.true_flow_mol_s("mfc") == pytest.approx(FULL_SCALE)
    sim.command_flow("mfc", ControlMode.MASS_FLOW, 2.0 * FULL_SCALE)
    clock.advance(1.0)
    assert sim.true_flow_mol_s("mfc") == pytest.approx(FULL_SCALE)


def test_stopped_it_passes_nothing_and_the_leak_shows(tmp_path: Path) -> None:
    sim, clock = simulation(tmp_path)
    sim.command_flow("mfc", ControlMode.PRESSURE, HOLD_PA)
    clock.advance(60.0)
    sim.command_flow("mfc", ControlMode.MASS_FLOW, 0.0)
    held = sim.true_pressure_pa("article")
    clock.advance(60.0)
    assert sim.true_flow_mol_s("mfc") == 0.0
    assert sim.flow_command("mfc") == (ControlMode.MASS_FLOW, 0.0)
    assert sim.true_pressure_pa("article") < held - 100.0


def test_no_flow_without_a_supply_above_the_volume(tmp_path: Path) -> None:
    sim, clock = simulation(tmp_path, line="1.5 bar")
    sim.command_flow("mfc", ControlMode.MASS_FLOW, 0.5 * FULL_SCALE)
    clock.advance(1.0)
    assert sim.true_flow_mol_s("mfc") == 0.0


def test_a_held_valve_passes_its_fraction_of_full_scale(tmp_path: Path) -> None:
    sim, clock = simulation(tmp_path)
    sim.command_flow("mfc", ControlMode.VALVE, 0.25)
    clock.advance(1.0)
    assert sim.true_flow_mol_s("mfc") == pytest.approx(0.25 * FULL_SCALE)


def test_its_readings_err_within_the_datasheet_and_scatter_as_its_noise(tmp_path: Path) -> None:
    sim, clock = simulation(tmp_path)
    sim.command_flow("mfc", ControlMode.MASS_FLOW, 0.5 * FULL_SCALE)
    samples = []
    for _ in range(400):
        clock.advance(1.0)
        samples.append(sim.read_flow("mfc").mass_flow_mol_s)
    true = sim.true_flow_mol_s("mfc")
    bound = FLOW.accuracy_bound_mol_s(true)
    noise = FLOW.noise_full_scale * FULL_SCALE
    assert abs(np.mean(samples) - true) < bound + 4.0 * noise / math.sqrt(len(samples))
    assert np.std(samples) == pytest.approx(noise, rel=0.15)
    reading = sim.read_flow("mfc")
    assert reading.pressure_pa == pytest.approx(sim.true_pressure_pa("article"))
    assert reading.temperature_c == pytest.approx(20.0)  # the gas through it: the line's


def test_two_seeds_give_two_instruments_one_seed_the_same(tmp_path: Path) -> None:
    path = tmp_path / "bench.yaml"
    path.write_text(bench_text())
    bench = load_bench(path)
    errors = [build_simulation(bench, VirtualClock(), seed=s).flow_at["mfc"] for s in (1, 1, 2)]
    assert (errors[0].span_error, errors[0].zero_offset_mol_s) == (
        errors[1].span_error,
        errors[1].zero_offset_mol_s,
    )
    assert errors[0].span_error != errors[2].span_error
    assert all(abs(e.span_error) <= FLOW.accuracy_reading for e in errors)


def test_an_hour_of_samples_costs_one_solver_per_command(tmp_path: Path) -> None:
    sim, clock = simulation(tmp_path)
    sim.command_flow("mfc", ControlMode.PRESSURE, HOLD_PA)
    for _ in range(3600):
        clock.advance(1.0)
        sim.read_flow("mfc")
    assert sim.network.starts <= 2
    assert sim.network.crawls == 0 and sim.network.rescues == 0


@pytest.mark.parametrize(
    ("changes", "where", "why"),
    [
        ({"controllers": "{}"}, "{model: AlicatMC", "needs its supply in physics.flow_controllers"),
        (
            {"controllers": "mfc: {supply: line}\n    pump: {supply: line}"},
            "pump",
            "'pump' is not a flow controller of this bench",
        ),
        ({"controllers": "mfc: {supply: nowhere}"}, "nowhere", "neither a volume nor an outside"),
        ({"controllers": "mfc: {supply: article}"}, "article", "its supply is another place"),
        ({"controllers": "mfc: {supply: line, time_constant: 1 h}"}, "1 h", "time constant lies in"),
        ({"controllers": "mfc: {supply: line, gain: 3}"}, "gain", "gain"),
        (
            {"channel": "p_article: {instrument: mfc, channel: 1, measures: pressure, volume: article}"},
            "pressure, volume",
            "reads a flow, not a pressure",
        ),
        (
            {"channel": "f_article: {instrument: mfc, channel: 2, measures: flow, volume: article}"},
            "2, measures",
            "has one flow channel, 1",
        ),
        (
            {"channel": "f_article: {instrument: mfc, channel: 1, measures: flow}"},
            "{instrument: mfc",
            "a flow channel names the volume its instrument feeds",
        ),
        ({"instrument": "{model: AlicatMC-10SCCM, address: 27}"}, "27}", "1 (A) to 26 (Z), got 27"),
        (
            {"instrument": "{model: TPG361}"},
            "flow, volume",
            "reads no flow: a flow channel is on a flow meter",
        ),
    ],
)
def test_a_flow_controllers_physics_is_refused_where_it_is_wrong(
    tmp_path: Path, changes: dict[str, str], where: str, why: str
) -> None:
    path = tmp_path / "bench.yaml"
    text = bench_text(**changes)
    path.write_text(text)
    try:
        problems = physics_problems(load_bench(path))
    except LocatedError as exc:  # a wiring problem: the bench itself is refused
        problems = [exc]
    assert problems, "refused"
    (problem,) = [p for p in problems if why in str(p)]
    line, col = (int(x) for x in str(problem).split(":")[1:3])
    assert where in text.splitlines()[line - 1][col - 1 :]
