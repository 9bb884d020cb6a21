"""A gauge's zero drift never flips a verdict silently (issue 14), in seeded simulations of the 1 L article.

A zero drifting at r Pa/s reads as a leak of V·r. With the drift in the budget (``zero_drift``)
a drift within the gauge's declared stability cannot make a tight part (half the 0.5 sccm limit)
FAIL nor a leak at twice it PASS; a drift beyond it is caught by the zero checks bracketing the
measurement (INCONCLUSIVE, the drift named in the refusal). The old flips (0.5x with the zero
drifting −0.5 Pa/s FAILed, 2x with +1.2 Pa/s PASSed) no longer happen.

The leak is the seal's orifice (``physics.leaks[0].diameter``): 5 µm leaks 4.886e-4 Pa·m³/s at
2 bar (measured by the shipped pressure_decay), and a choked orifice's flow goes with its area.
The decays start from an article already at 2 bar (no fill, no transient to wait out), so each
run is a few simulated minutes.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from rig.outcome import Outcome
from rig.record.measurement import Measurement
from tests.engine import sim_runs

pytestmark = pytest.mark.integration

LIMIT = 9.062e-4  # 0.5 sccm (20 °C) in Pa·m³/s, as the engine converts it
SEAL_5UM = 4.886e-4  # Pa·m³/s through the 5 µm seal at 2 bar
SEEDS = range(20)
SEAL = "kind: orifice, diameter: 5 um"
SENSOR = "resolution: 0.01 Pa, drift: 0.002 Pa}"
DECLARED = "zero_stability: 1 Pa/h, zero_temperature_coefficient: 10 Pa/K"
ARTICLE = "article: {thermal_tau: 60 s}"


def diameter_um(times_limit: float) -> float:
    """The seal's diameter that leaks ``times_limit`` × the limit at 2 bar (flow ∝ area)."""
    return 5.0 * math.sqrt(times_limit * LIMIT / SEAL_5UM)


def bench(
    tmp_path: Path,
    name: str,
    times_limit: float,
    rate_pa_h: float,
    declared_pa_h: float | None,
    *,
    full: bool,
) -> Path:
    """The mockup with the seal leaking ``times_limit`` × the limit and p_article's zero drifting at
    ``rate_pa_h``; ``declared_pa_h`` replaces its declared stability; ``full``: the article starts at
    atmosphere (a procedure fills it), else at 2 bar."""

    def edit(text: str) -> str:
        text = text.replace(SEAL, f"kind: orifice, diameter: {diameter_um(times_limit):.5f} um")
        text = text.replace(
            SENSOR, f"resolution: 0.01 Pa, drift: 0.002 Pa, zero_drift: {{rate: {rate_pa_h} Pa/h}}}}"
        )
        if declared_pa_h is not None:
            text = text.replace(
                DECLARED, f"zero_stability: {declared_pa_h} Pa/h, zero_temperature_coefficient: 0 Pa/K"
            )
        if not full:
            text = text.replace(ARTICLE, "article: {thermal_tau: 60 s, initial_pressure: 2 bar}")
        return text

    return sim_runs.variant(tmp_path, sim_runs.MOCKUP, edit, name=f"{name}.yaml")


DECAY = """procedure: drift_decay
version: 1
bench: {bench}
sample_period: 1 s
setup:
  - set_valves: {{valves: {{supply: closed, pump: closed, reference: closed, cal_leak: closed,
      article: closed, vent: open}}}}
main:
  - measure_decay: {{name: decay, channel: p_article, temperature: t_article, volume: article,
      duration: 4 min, limit: 0.5 sccm}}
cleanup:
  - set_valves: {{valves: {{vent: open, article: open}}}}
"""

# The shipped zero_checked_decay, with shorter holds.
CHECKED = """procedure: checked_decay
version: 1
bench: {bench}
sample_period: 2 s
setup:
  - set_valves: {{valves: {{supply: closed, vent: closed, reference: closed, cal_leak: closed}}}}
main:
  - set_valves: {{valves: {{article: open, pump: open}}}}
  - pump_down: {{volume: chamber, below: 1 Pa, timeout: 15 min, channel: p_chamber}}
  - zero_check: {{channel: p_article, against: vacuum, reference: p_chamber, duration: 20 s}}
  - set_valves: {{valves: {{pump: closed}}}}
  - vent: {{volume: chamber, timeout: 3 min}}
  - set_valves: {{valves: {{vent: closed}}}}
  - fill: {{volume: article, to: 2 bar, tolerance: 50 mbar, timeout: 5 min, through: supply,
      channel: p_article}}
  - isolate: {{volume: article}}
  - set_valves: {{valves: {{vent: open}}}}
  - wait: {{duration: 3 min}}
  - measure_decay: {{name: decay, channel: p_article, temperature: t_article, volume: article,
      duration: 4 min, limit: 0.5 sccm}}
  - set_valves: {{valves: {{article: open}}}}
  - vent: {{volume: chamber, timeout: 3 min}}
  - set_valves: {{valves: {{vent: closed, pump: open}}}}
  - pump_down: {{volume: chamber, below: 1 Pa, timeout: 15 min, channel: p_chamber}}
  - zero_check: {{channel: p_article, against: vacuum, reference: p_chamber, duration: 20 s}}
cleanup:
  - set_valves: {{valves: {{supply: closed, pump: closed, vent: open, article: open}}}}
"""


def decay(tmp_path: Path, template: str, bench_path: Path, seed: int) -> Measurement:
    procedure = tmp_path / f"procedure_{bench_path.stem}.yaml"
    procedure.write_text(template.format(bench=bench_path))
    finished = sim_runs.run(tmp_path / bench_path.stem, procedure, bench_path, seed=seed, timeout_s=2.0)
    return finished.outcome.measurements["decay"]


def test_a_drift_within_the_declared_stability_never_flips_a_verdict(tmp_path: Path) -> None:
    """20 seeds each of a tight part (0.5x) and a leak (2x), the zero drifting linearly at 50-100 %
    of its declared stability, either sign. Half the seeds declare 1800 Pa/h (0.5 Pa/s: the drift
    fakes more than the limit, so no PASS can be certified), half 250 Pa/h (a PASS can be)."""
    outcomes: dict[tuple[float, float], list[Outcome]] = {}
    for seed in SEEDS:
        declared = 1800.0 if seed % 2 else 250.0
        sign = 1.0 if seed % 4 < 2 else -1.0
        rate = sign * declared * (0.5 + 0.5 * (seed % 5) / 4.0)
        for times_limit in (0.5, 2.0):
            path = bench(tmp_path, f"b{seed}_{times_limit}", times_limit, rate, declared, full=False)
            entry = decay(tmp_path, DECAY, path, seed)
            assert entry.uncertainty is not None and "zero_drift" in entry.uncertainty.terms
            drift_term = entry.uncertainty.terms["zero_drift"]
            assert drift_term == pytest.approx(1e-3 * declared / 3600.0 / math.sqrt(3.0), rel=1e-6)
            if times_limit == 0.5:
                assert entry.outcome is not Outcome.FAIL, (seed, rate, entry)
            else:
                assert entry.outcome is not Outcome.PASS, (seed, rate, entry)
            outcomes.setdefault((declared, times_limit), []).append(entry.outcome)
    # Where the declared drift leaves room, the verdicts are still decisive, not all withheld.
    assert outcomes[(250.0, 0.5)].count(Outcome.PASS) >= 8, outcomes
    assert outcomes[(250.0, 2.0)].count(Outcome.FAIL) >= 8, outcomes
    # Where it fakes more than a tenth of the limit, E2930 refuses every PASS.
    assert Outcome.PASS not in outcomes[(1800.0, 0.5)]


def test_a_drift_beyond_the_declared_stability_is_caught_by_the_zero_checks(tmp_path: Path) -> None:
    """Zero checks bracketing the decay: a drift of 10-100x the declared 6 Pa/h (1 Pa/h and
    10 Pa/K at 0.5 K/h) makes the decay INCONCLUSIVE with the drift as its reason. Five seeds, not
    twenty: each run pumps down twice, fills and vents (some 20 simulated minutes, 4 s of wall time)."""
    for seed in range(0, 20, 4):
        rate = (1.0 if seed % 8 == 0 else -1.0) * 6.0 * (10.0 + 90.0 * seed / 19.0)
        path = bench(tmp_path, f"c{seed}", 0.5, rate, None, full=True)
        entry = decay(tmp_path, CHECKED, path, seed)
        assert entry.outcome is Outcome.INCONCLUSIVE, (seed, rate, entry)
        assert entry.refusal is not None and entry.refusal.startswith("zero drift"), entry.refusal


@pytest.mark.parametrize(("times_limit", "rate_pa_s"), [(0.5, -0.5), (2.0, 1.2)])
def test_the_old_flips_no_longer_flip(tmp_path: Path, times_limit: float, rate_pa_s: float) -> None:
    """0.5x with the zero drifting −0.5 Pa/s FAILed, 2x with +1.2 Pa/s PASSed: with zero checks
    they are INCONCLUSIVE (the drift named), and without them the declared 6 Pa/h cannot save a
    verdict the drift invalidates, so it is the checks that catch it."""
    path = bench(tmp_path, "flip", times_limit, rate_pa_s * 3600.0, None, full=True)
    entry = decay(tmp_path, CHECKED, path, seed=7)
    wrong = Outcome.FAIL if times_limit < 1.0 else Outcome.PASS
    assert entry.outcome is not wrong, entry
    assert entry.outcome is Outcome.INCONCLUSIVE and entry.refusal is not None
    assert entry.refusal.startswith("zero drift"), entry.refusal
