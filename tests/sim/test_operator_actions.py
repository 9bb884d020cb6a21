"""Operator actions in simulation: ``physics.actions`` changes named leaks from "now" on.

A prompt's ``action:`` (say, ``repair_seal``) is what the operator does; a simulated bench acts
it out through :meth:`SimulatedBench.act`. The bench here is a 1 L article at 2 bar behind a
5 µm seal in a 50 L chamber at 1 Pa: the seal's flow is choked, so the article loses moles at a
rate proportional to the seal's effective area, C_d·π·d²/4.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from rig.bench import load_bench
from rig.clock import VirtualClock
from rig.located_yaml import LocatedError
from rig.procedure.loader import ProcedureInvalid, load_procedure
from rig.sim.bench_physics import build_simulation
from rig.sim.flows import Capillary, Conductance, FlowElement, Orifice
from rig.sim.simulated_bench import SimulatedBench

BENCH = """\
bench: seal_bench
instruments:
  gauges: {{model: TPG362}}
  daq: {{model: DAQ970A}}
volumes:
  chamber: {{size: 50 L}}
  article: {{size: 1 L}}
channels:
  p_chamber: {{instrument: gauges, channel: 1, measures: pressure, volume: chamber}}
  p_article: {{instrument: gauges, channel: 2, measures: pressure, volume: article}}
valves:
  vent: {{instrument: daq, channel: 202, between: [chamber, atmosphere]}}
safe_state: {{vent: closed}}
physics:
  outside:
    atmosphere: {{pressure: 101325 Pa, temperature: 20 degC}}
  volumes:
    chamber: {{initial_pressure: 1 Pa}}
    article: {{initial_pressure: 2 bar}}
  leaks:
    - {{name: seal, between: [article, chamber], kind: orifice, diameter: {seal}, discharge_coefficient: 0.7}}
    - {{name: wall, between: [atmosphere, chamber], kind: molecular, conductance: 1e-9 m**3/s}}
    - {{name: gasket, between: [atmosphere, chamber], kind: permeation, conductance: 1e-12 m**3/s}}
    - {{name: crack, between: [atmosphere, chamber], kind: capillary, diameter: 5 um, length: 5 mm}}
    - {{between: [atmosphere, chamber], kind: molecular, conductance: 1e-11 m**3/s}}
  actions:
{actions}
"""
ACTIONS = """\
    repair_seal: [{leak: seal, diameter: 1 um}]
    seal_off: [{leak: seal, sealed: true}]
    fix_chamber:
      - {leak: wall, conductance: 1e-11 m**3/s}
      - {leak: gasket, sealed: true}
      - {leak: crack, diameter: 1 um}
"""


def write(tmp_path: Path, actions: str = ACTIONS, seal: str = "5 um") -> Path:
    path = tmp_path / "bench.yaml"
    path.write_text(BENCH.format(actions=actions.rstrip("\n"), seal=seal))
    return path


def simulate(path: Path) -> tuple[SimulatedBench, VirtualClock]:
    clock = VirtualClock()
    return build_simulation(load_bench(path), clock), clock


def leak(sim: SimulatedBench, kind: type[FlowElement], a: str, b: str) -> FlowElement:
    (found,) = [e for e in sim.network.elements if type(e) is kind and (e.a, e.b) == (a, b)]
    return found


def seal(sim: SimulatedBench) -> Orifice:
    found = leak(sim, Orifice, "article", "chamber")
    assert isinstance(found, Orifice)
    return found


def article_moles_after(sim: SimulatedBench, clock: VirtualClock, seconds: float) -> float:
    clock.advance(seconds)
    sim.now()
    return sim.network.moles("article")


def position(text: str, marker: str) -> str:
    """line:col (1-based) of the first ``marker`` in ``text``."""
    offset = text.index(marker)
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"{line}:{col}"


# --- acting --------------------------------------------------------------------------------------


def test_a_smaller_hole_scales_the_orifice_by_the_diameter_squared(tmp_path: Path) -> None:
    sim, _ = simulate(write(tmp_path))
    orifice = seal(sim)
    assert orifice.cd_area_m2 == pytest.approx(0.7 * math.pi * (5e-6) ** 2 / 4.0)
    state = (0.0, 200_000.0, 293.15, 1.0, 293.15)  # choked
    before = orifice.molar_flow(*state)
    sim.act("repair_seal")
    assert orifice.cd_area_m2 == pytest.approx(0.7 * math.pi * (1e-6) ** 2 / 4.0)
    assert orifice.molar_flow(*state) == pytest.approx(before * (1.0 / 5.0) ** 2, rel=1e-12)
    sub_critical = (0.0, 110_000.0, 293.15, 100_000.0, 293.15)
    assert orifice.molar_flow(*sub_critical) > 0.0


def test_the_article_loses_gas_25_times_slower_after_the_repair(tmp_path: Path) -> None:
    sim, clock = simulate(write(tmp_path))
    n0 = sim.network.moles("article")
    n1 = article_moles_after(sim, clock, 100.0)
    sim.act("repair_seal")
    n2 = article_moles_after(sim, clock, 100.0)
    # Still choked at 2 bar against a near vacuum: the molar flow is ∝ C_d·A.
    assert (n1 - n2) / (n0 - n1) == pytest.approx((1.0 / 5.0) ** 2, rel=1e-3)


def test_acting_twice_is_acting_once(tmp_path: Path) -> None:
    once, once_clock = simulate(write(tmp_path))
    twice, twice_clock = simulate(write(tmp_path))
    once_clock.advance(50.0)
    twice_clock.advance(50.0)
    once.act("repair_seal")
    twice.act("repair_seal")
    area = seal(twice).cd_area_m2
    twice.act("repair_seal")
    assert seal(twice).cd_area_m2 == area == seal(once).cd_area_m2
    assert article_moles_after(twice, twice_clock, 100.0) == pytest.approx(
        article_moles_after(once, once_clock, 100.0), rel=1e-12
    )


def test_the_past_keeps_the_old_physics(tmp_path: Path) -> None:
    # Time moved on without anyone looking; the repair at t = 100 s must not rewrite 0–100 s.
    acted, acted_clock = simulate(write(tmp_path))
    looked, looked_clock = simulate(write(tmp_path))
    repaired_all_along, repaired_clock = simulate(write(tmp_path, seal="1 um"))
    acted_clock.advance(100.0)
    acted.act("repair_seal")
    at_100 = acted.network.moles("article")
    assert acted.network.t == 100.0
    assert at_100 == pytest.approx(article_moles_after(looked, looked_clock, 100.0), rel=1e-12)
    n0 = repaired_all_along.network.moles("article")
    lost_repaired = n0 - article_moles_after(repaired_all_along, repaired_clock, 100.0)
    assert n0 - at_100 > 20.0 * lost_repaired


def test_a_sealed_leak_stops_its_flow(tmp_path: Path) -> None:
    sim, clock = simulate(write(tmp_path))
    n1 = article_moles_after(sim, clock, 100.0)
    sim.act("seal_off")
    assert seal(sim).cd_area_m2 == 0.0
    assert seal(sim).molar_flow(0.0, 200_000.0, 293.15, 1.0, 293.15) == 0.0
    assert article_moles_after(sim, clock, 100.0) == pytest.approx(n1, rel=1e-12)
    sim.act("repair_seal")  # a later action sets the size it names, whatever was done before
    assert seal(sim).cd_area_m2 == pytest.approx(0.7 * math.pi * (1e-6) ** 2 / 4.0)


def test_conductances_and_capillaries_are_set_as_named(tmp_path: Path) -> None:
    sim, _ = simulate(write(tmp_path))
    molecular = [e for e in sim.network.elements if isinstance(e, Conductance) and e.conductance_m3_s == 1e-9]
    permeation = [
        e for e in sim.network.elements if isinstance(e, Conductance) and e.conductance_m3_s == 1e-12
    ]
    unnamed = [e for e in sim.network.elements if isinstance(e, Conductance) and e.conductance_m3_s == 1e-11]
    capillary = leak(sim, Capillary, "atmosphere", "chamber")
    assert isinstance(capillary, Capillary)
    assert len(molecular) == len(permeation) == len(unnamed) == 1
    sim.act("fix_chamber")
    assert molecular[0].conductance_m3_s == pytest.approx(1e-11)
    assert permeation[0].conductance_m3_s == 0.0
    assert permeation[0].molar_flow(1e9, 101_325.0, 293.15, 1.0, 293.15) == 0.0
    assert capillary.diameter_m == pytest.approx(1e-6) and capillary.length_m == pytest.approx(5e-3)
    assert unnamed[0].conductance_m3_s == 1e-11  # an unnamed leak is nobody's to change
    assert seal(sim).cd_area_m2 == pytest.approx(0.7 * math.pi * (5e-6) ** 2 / 4.0)


def test_an_unknown_action_names_the_known_ones(tmp_path: Path) -> None:
    sim, _ = simulate(write(tmp_path))
    with pytest.raises(
        KeyError, match=r"no action 'frobnicate' \(actions: repair_seal, seal_off, fix_chamber\)"
    ):
        sim.act("frobnicate")
    assert seal(sim).cd_area_m2 == pytest.approx(0.7 * math.pi * (5e-6) ** 2 / 4.0)


def test_a_bench_without_actions_has_none(tmp_path: Path) -> None:
    sim, _ = simulate(write(tmp_path, actions="    {}"))
    assert sim.actions == {}
    with pytest.raises(KeyError, match=r"\(actions: none\)"):
        sim.act("repair_seal")


def test_the_shipped_mockup_repairs_its_seal() -> None:
    bench = Path(__file__).resolve().parents[2] / "procedures" / "benches" / "vacuum_chamber_mockup.yaml"
    sim, _ = simulate(bench)
    before = seal(sim).cd_area_m2
    sim.act("repair_seal")
    assert seal(sim).cd_area_m2 == pytest.approx(before / 25.0)


# --- mistakes, located ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "marker", "message"),
    [
        (
            "[{leak: ghost, diameter: 1 um}]",
            "ghost",
            "no leak named 'ghost' (named leaks: seal, wall, gasket, crack)",
        ),
        ("[{leak: seal, sealed: false}]", "false", "write `sealed: true` (or leave it out)"),
        ("[{leak: seal, sealed: yes please}]", "yes please", "write `sealed: true` (or leave it out)"),
        ("[{leak: seal, diameter: 1 um, size: 2}]", "size: 2", "unknown key 'size'"),
        ("[{diameter: 1 um}]", "{diameter", "missing key 'leak'"),
        ("[{leak: seal, diameter: 1}]", "1}", "expected a length with units"),
        ("[{leak: seal, diameter: 0 um}]", "0 um", "length must be positive"),
        ("[{leak: wall, conductance: 1 um}]", "1 um", "is not a conductance"),
        ("{leak: seal, diameter: 1 um}", "{leak", "expected a list"),
    ],
)
def test_a_mistaken_action_is_located(tmp_path: Path, action: str, marker: str, message: str) -> None:
    path = write(tmp_path, actions=f"    mistake: {action}")
    text = path.read_text()
    bench = load_bench(path)  # the physics part is read only when simulating
    with pytest.raises(LocatedError) as info:
        build_simulation(bench, VirtualClock())
    assert str(info.value).startswith(f"{path}:{position(text, marker)}: ")
    assert message in info.value.detail


@pytest.mark.parametrize("leak_name", ["seal", "crack"])
def test_a_missing_diameter_is_located_at_the_change(tmp_path: Path, leak_name: str) -> None:
    path = write(tmp_path, actions=f"    mistake: [{{leak: {leak_name}}}]")
    text = path.read_text()
    with pytest.raises(LocatedError) as info:
        build_simulation(load_bench(path), VirtualClock())
    message = str(info.value)
    assert message.startswith(f"{path}:{position(text, '{leak: ' + leak_name)}: this ")
    assert "needs its new `diameter:`" in message


def test_a_missing_diameter_says_diameter(tmp_path: Path) -> None:
    path = write(tmp_path, actions="    mistake: [{leak: crack}]")
    with pytest.raises(LocatedError) as info:
        build_simulation(load_bench(path), VirtualClock())
    assert "diameter" in info.value.detail


def test_a_missing_conductance_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, actions="    mistake: [{leak: wall, diameter: 1 um}]")
    text = path.read_text()
    with pytest.raises(LocatedError) as info:
        build_simulation(load_bench(path), VirtualClock())
    assert str(info.value).startswith(
        f"{path}:{position(text, '{leak: wall')}: this conductance leak's action needs its new `conductance:`"
    )


def test_an_unnamed_bench_says_it_has_no_named_leaks(tmp_path: Path) -> None:
    text = write(tmp_path).read_text().replace("{name: seal, ", "{").replace("{name: wall, ", "{")
    text = text.replace("{name: gasket, ", "{").replace("{name: crack, ", "{")
    path = tmp_path / "unnamed.yaml"
    path.write_text(text)
    with pytest.raises(LocatedError, match=r"no leak named 'seal' \(named leaks: none\)"):
        build_simulation(load_bench(path), VirtualClock())


def test_an_unknown_physics_part_is_refused_when_the_bench_loads(tmp_path: Path) -> None:
    path = write(tmp_path)
    path.write_text(path.read_text().replace("  actions:", "  action:"))
    with pytest.raises(LocatedError, match="unknown key 'action'"):
        load_bench(path)


def test_two_leaks_with_one_name_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, actions="    repair_seal: [{leak: seal, diameter: 1 um}]")
    crack = "{name: crack, between: [atmosphere, chamber], kind: capillary, diameter: 5 um, length: 5 mm}"
    second = "{name: seal, between: [atmosphere, chamber], kind: orifice, diameter: 5 um}"
    path.write_text(path.read_text().replace(crack, second))
    # Today this builds, and repair_seal shrinks only the second hole: the article's seal stays 5 µm.
    with pytest.raises(LocatedError) as info:
        build_simulation(load_bench(path), VirtualClock())
    assert "seal" in info.value.detail


# --- a procedure's prompt ------------------------------------------------------------------------

PROCEDURE = """\
procedure: repair
version: 1
bench: bench.yaml
main:
  - prompt: {{message: "Repair the seal, then confirm", action: {action}}}
"""


def test_a_prompt_naming_an_action_validates(tmp_path: Path) -> None:
    write(tmp_path)
    path = tmp_path / "repair.yaml"
    path.write_text(PROCEDURE.format(action="repair_seal"))
    (step,) = load_procedure(path).main
    assert step.kind == "prompt" and step.fields["action"] == "repair_seal"
    assert step.location == f"{path}:5:5"


def test_a_prompt_naming_an_action_the_simulated_bench_lacks_is_refused(tmp_path: Path) -> None:
    write(tmp_path)
    path = tmp_path / "repair.yaml"
    path.write_text(PROCEDURE.format(action="frobnicate"))
    with pytest.raises(ProcedureInvalid, match=r"repair.yaml:5:\d+: .*frobnicate"):
        load_procedure(path)
