"""The planner: the shortest decisive test from the bench, checked against the engine's own verdict.

Most tests plan on a small bench written to ``tmp_path`` whose every uncertainty is switched on
or off by a keyword, so that each test sees one effect; the Monte Carlo checks then run the
planned duration through the compiled fit, the Type-B terms and ``decay_entry``.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from rig.analysis.planner import (
    MAX_DECAY_FRACTION,
    MIN_PLANNED_SAMPLES,
    MeasurementSetup,
    choose_measurement,
    decides_at,
    effective_rho,
    level_before,
    monte_carlo_check,
    plan_duration,
    quantisation_autocovariance,
    setup_for,
    with_duration,
)
from rig.errors import InputError
from rig.procedure.loader import load_procedure

ROOT = Path(__file__).resolve().parents[2]
PROCEDURES = ROOT / "procedures"
SCCM = 1.81240000915248e-3  # 1 sccm (0 °C) as pV throughput at 293.15 K, Pa·m³/s
LIMIT = 0.1 * SCCM


def setup_of(
    tmp_path: Path,
    *,
    model: str = "DAQ970A",
    noise: str = "1 Pa",
    resolution: str = "0.001 Pa",
    volume: str = "1 L",
    volume_u: str = "0 L",
    accuracy: str = "0.000001",
    drift: str = "0 K/s",
    to: str = "2 bar",
    temperature: bool = False,
) -> MeasurementSetup:
    """A decay of a 1 L article after a fill, on a bench with exactly the uncertainties asked for."""
    gauge = f"  g: {{model: {model}}}\n" if model != "DAQ970A" else ""
    where = "instrument: g, channel: 1" if model != "DAQ970A" else "instrument: daq, channel: 102"
    (tmp_path / "bench.yaml").write_text(
        f"""\
bench: plan_test
instruments:
{gauge}  daq: {{model: DAQ970A}}
volumes:
  article: {{size: {volume}, uncertainty: {volume_u}}}
channels:
  p: {{{where}, measures: pressure, volume: article,
      noise: {noise}, resolution: {resolution}, accuracy: {accuracy}}}
  t: {{instrument: daq, channel: 101, measures: temperature, volume: article}}
valves:
  supply: {{instrument: daq, channel: 201, between: [supply, article]}}
safe_state: {{supply: closed}}
environment: {{temperature_drift: {drift}}}
"""
    )
    thermometer = ", temperature: t" if temperature else ""
    (tmp_path / "procedure.yaml").write_text(
        f"""\
procedure: plan_test
version: 1
bench: bench.yaml
sample_period: 1 s
main:
  - fill: {{volume: article, to: {to}, tolerance: 1 mbar, timeout: 5 min, through: supply}}
  - measure_decay: {{name: decay, channel: p, volume: article, duration: 10 min{thermometer}}}
"""
    )
    procedure = load_procedure(tmp_path / "procedure.yaml")
    return setup_for(procedure, choose_measurement(procedure))


def planned(setup: MeasurementSetup, limit: float = LIMIT, expected: float | None = None) -> float:
    plan = plan_duration(setup, limit, expected)
    assert plan.duration_s is not None, plan.reason
    return plan.duration_s


# --- the analytic search -------------------------------------------------------------------------


def test_more_noise_needs_a_longer_test(tmp_path: Path) -> None:
    durations = [planned(setup_of(tmp_path, noise=noise)) for noise in ("0.5 Pa", "1 Pa", "2 Pa", "4 Pa")]
    assert durations == sorted(durations) and len(set(durations)) == 4
    # Fit-bound: the slope's error falls as D^(-3/2), so doubling the noise costs 2^(2/3) in time.
    assert durations[2] / durations[1] == pytest.approx(2 ** (2 / 3), rel=0.05)


def test_a_larger_volume_needs_a_longer_test(tmp_path: Path) -> None:
    durations = [planned(setup_of(tmp_path, volume=v)) for v in ("0.5 L", "1 L", "4 L")]
    assert durations == sorted(durations) and len(set(durations)) == 3


def test_a_leak_nearer_the_limit_needs_a_longer_test(tmp_path: Path) -> None:
    setup = setup_of(tmp_path)
    durations = [planned(setup, expected=f * LIMIT) for f in (0.0, 0.3, 0.5, 0.8, 1.5, 1.2)]
    assert durations[:4] == sorted(durations[:4]) and len(set(durations[:4])) == 4
    # Above the limit it is a FAIL to decide: a larger gap is quicker there too.
    assert durations[4] < durations[5]


def test_the_planned_duration_is_the_shortest_decisive_one(tmp_path: Path) -> None:
    setup = setup_of(tmp_path, noise="10 Pa")
    plan = plan_duration(setup, LIMIT)
    assert plan.duration_s is not None and plan.reason is None
    assert plan.expected_pa_m3_s == LIMIT / 2.0 and plan.expected_outcome == "PASS"
    assert decides_at(setup, plan.duration_s, LIMIT, LIMIT / 2.0)
    # Bisection to 1 %: 2 % shorter no longer decides.
    assert plan.duration_s > 100.0
    assert not decides_at(setup, math.floor(0.98 * plan.duration_s), LIMIT, LIMIT / 2.0)
    assert plan.achieved_power() >= 0.9
    assert plan.duration_s == int(plan.duration_s)  # whole sample periods
    assert set(plan.model.test.terms) == {"fit", "resolution", "volume", "gauge_calibration", "temperature"}


def test_relative_type_b_terms_larger_than_the_gap_cannot_be_tested_away(tmp_path: Path) -> None:
    # A 10 % volume uncertainty on a leak at 90 % of the limit: no duration decides it.
    plan = plan_duration(setup_of(tmp_path, volume_u="0.1 L"), LIMIT, 0.9 * LIMIT)
    assert plan.duration_s is None
    assert plan.reason is not None and "Type-B" in plan.reason and "volume" in plan.reason
    # The same bench decides a leak far enough from the limit.
    assert plan_duration(setup_of(tmp_path, volume_u="0.1 L"), LIMIT, 0.2 * LIMIT).duration_s is not None


def test_an_unmeasured_temperature_drift_is_a_floor_too(tmp_path: Path) -> None:
    # 0.5 K/h at 2 bar in 1 L reads as 5.5e-5 Pa·m³/s: too much for 0.1 sccm without a thermometer.
    plan = plan_duration(setup_of(tmp_path, drift="0.5 K/h"), LIMIT)
    assert plan.duration_s is None and plan.reason is not None and "drift" in plan.reason
    # With a thermometer the fit is compensated and the drift term goes.
    assert plan_duration(setup_of(tmp_path, drift="0.5 K/h", temperature=True), LIMIT).duration_s is not None


def test_e2930_sets_the_duration_of_a_coarse_gauge(tmp_path: Path) -> None:
    # The TPG prints 5 digits: 10 Pa steps at 2 bar. E2930 asks V·step/D ≤ limit/10, over the window
    # the run records, which on a wall clock may fall a sample short of the step.
    setup = setup_of(tmp_path, model="TPG362", noise="3 Pa", resolution="0.01 Pa")
    plan = plan_duration(setup, LIMIT)
    assert plan.duration_s is not None
    assert plan.model.type_b.resolution_pa == 10.0
    needed = 1e-3 * 10.0 / (0.1 * LIMIT) + 1.0
    assert needed <= plan.duration_s <= 1.02 * needed
    assert plan.e2930()["met"]
    assert plan.model.test.terms["resolution"] > 3.0 * plan.model.test.terms["fit"]


def test_e2930_that_cannot_be_met_in_time_is_said(tmp_path: Path) -> None:
    # The 937B prints 3 digits: 1000 Pa steps at 2 bar; an hour resolves only 2.8e-4 Pa·m³/s.
    setup = setup_of(tmp_path, model="MKS937B", noise="3 Pa")
    plan = plan_duration(setup, LIMIT, max_duration_s=3600.0)
    assert plan.duration_s is None
    assert plan.reason is not None and "E2930" in plan.reason
    assert not plan.e2930()["met"]


def test_a_decay_is_planned_only_while_the_pressure_holds(tmp_path: Path) -> None:
    # 20 sccm against a 40 sccm limit on a 1 L article at 0.1 bar: 10 % of the gas is gone in 28 s,
    # too soon for a gauge this noisy.
    setup = setup_of(tmp_path, to="0.1 bar", noise="2000 Pa")
    plan = plan_duration(setup, 40 * SCCM)
    assert plan.duration_s is None and plan.reason is not None
    assert "straight-line decay" in plan.reason
    assert plan.model.test.duration_s <= MAX_DECAY_FRACTION * 1e4 * 1e-3 / (20 * SCCM)


def test_a_plan_needs_a_few_samples(tmp_path: Path) -> None:
    # An enormous leak against a small limit is decided at once, but a handful of samples cannot
    # say what the fit's autocorrelation estimate will do.
    plan = plan_duration(setup_of(tmp_path), LIMIT, 1000 * LIMIT)
    assert plan.duration_s == MIN_PLANNED_SAMPLES - 1
    assert plan.expected_outcome == "FAIL"


def test_a_leak_at_the_limit_and_bad_arguments(tmp_path: Path) -> None:
    setup = setup_of(tmp_path)
    plan = plan_duration(setup, LIMIT, LIMIT)
    assert plan.duration_s is None and plan.expected_outcome is None
    with pytest.raises(InputError):
        plan_duration(setup, -LIMIT)
    with pytest.raises(InputError):
        plan_duration(setup, LIMIT, -LIMIT)
    with pytest.raises(InputError):
        plan_duration(setup, LIMIT, power=1.0)


# --- the model's parts ---------------------------------------------------------------------------


def test_rounding_error_autocovariance() -> None:
    step = 10.0
    # A trace that never moves and has no noise repeats its rounding error: all of step²/12.
    assert quantisation_autocovariance(step, 0.0, 0.0) == pytest.approx(step**2 / 12.0, rel=1e-3)
    # Moving δ steps per sample: the sawtooth's (δ² − δ + 1/6)/2 step².
    delta = 0.3
    exact = (delta**2 - delta + 1.0 / 6.0) / 2.0 * step**2
    assert quantisation_autocovariance(step, 0.0, delta * step) == pytest.approx(exact, rel=1e-3)
    # Noise of a step dithers it white.
    assert abs(quantisation_autocovariance(step, step, 0.3 * step)) < 1e-6 * step**2
    assert quantisation_autocovariance(0.0, 1.0, 1.0) == 0.0


def test_the_fits_average_inflation_of_white_noise() -> None:
    # Measured through the compiled fit (4000 white-noise lines each): the mean of its AR(1)
    # inflation of the error is 1.159 at 10 samples, 1.043 at 100, 1.013 at 1000.
    for n, measured in ((10, 1.159), (100, 1.043), (1000, 1.013)):
        rho = effective_rho(0.0, n)
        assert math.sqrt((1.0 + rho) / (1.0 - rho)) == pytest.approx(measured, abs=0.04)
    assert effective_rho(0.9, 10_000) == pytest.approx(0.9, abs=0.01)


def test_the_measurement_and_its_level_in_the_shipped_procedures() -> None:
    seal = load_procedure(PROCEDURES / "seal_repair_certification.yaml")
    step = choose_measurement(seal)
    assert step.fields["name"] == "after_repair"  # the one with a limit
    assert level_before(seal, step) == pytest.approx((2e5, 5e3))
    assert choose_measurement(seal, "before_repair").fields["name"] == "before_repair"
    with pytest.raises(InputError, match="after_repair"):
        choose_measurement(seal, "nonesuch")
    rise = load_procedure(PROCEDURES / "rate_of_rise.yaml")
    setup = setup_for(rise, choose_measurement(rise))
    assert setup.sign == -1.0 and setup.level_pa == pytest.approx(1.0) and not setup.compensated
    # The simulated Pirani's noise is relative: sensor_floor alone would call it noiseless.
    assert setup.gauge_noise_relative == pytest.approx(0.002)
    with pytest.raises(InputError, match="no measure_decay"):
        choose_measurement(load_procedure(PROCEDURES / "reference_leak_check.yaml"))


def test_with_duration_changes_only_the_named_measurement() -> None:
    seal = load_procedure(PROCEDURES / "seal_repair_certification.yaml")
    edited = with_duration(seal, "after_repair", 558.0)
    durations = {s.fields["name"]: s.fields["duration"] for s in edited.main if s.kind == "measure_decay"}
    assert durations == {"before_repair": 1200.0, "after_repair": 558.0}
    original = {s.fields["name"]: s.fields["duration"] for s in seal.main if s.kind == "measure_decay"}
    assert original["after_repair"] == 1800.0  # the original is untouched


# --- the Monte Carlo check -----------------------------------------------------------------------


def test_monte_carlo_agrees_with_the_planned_power(tmp_path: Path) -> None:
    # Fit-bound (no Type-B to speak of): the decisive fraction is the power, within sampling error.
    setup = setup_of(tmp_path)
    plan = plan_duration(setup, LIMIT)
    assert plan.duration_s is not None
    mc = monte_carlo_check(setup, plan.duration_s, LIMIT, plan.expected_pa_m3_s, draws=400, seed=7)
    power = plan.achieved_power()
    assert 0.9 <= power < 0.95
    assert mc.fraction >= 0.85
    assert abs(mc.fraction - power) <= 3.0 * math.sqrt(power * (1.0 - power) / mc.draws)
    assert set(mc.outcomes) <= {"PASS", "INCONCLUSIVE"}
    # The fit's own error as the engine computes it is the planned one.
    assert mc.fit_stderrs_pa_m3_s.mean() == pytest.approx(plan.model.test.terms["fit"], rel=0.05)
    assert mc.rates_pa_m3_s.mean() == pytest.approx(plan.expected_pa_m3_s, rel=0.05)


def test_monte_carlo_finds_the_e2930_edge_where_the_plan_does(tmp_path: Path) -> None:
    setup = setup_of(tmp_path, model="TPG362", noise="0.3 Pa", resolution="0.01 Pa")
    plan = plan_duration(setup, LIMIT)
    assert plan.duration_s is not None
    at_plan = monte_carlo_check(setup, plan.duration_s, LIMIT, plan.expected_pa_m3_s, draws=100, seed=1)
    assert at_plan.fraction == 1.0
    # Three seconds short the engine refuses every pass: the test cannot resolve a tenth of the limit.
    short = monte_carlo_check(setup, plan.duration_s - 3.0, LIMIT, plan.expected_pa_m3_s, draws=50, seed=1)
    assert short.outcomes == {"INCONCLUSIVE": 50}


def test_monte_carlo_of_a_compensated_fail(tmp_path: Path) -> None:
    setup = setup_of(tmp_path, model="TPG362", noise="0.3 Pa", temperature=True)
    plan = plan_duration(setup, LIMIT, 3.0 * LIMIT)
    assert plan.duration_s is not None and plan.expected_outcome == "FAIL"
    mc = monte_carlo_check(setup, plan.duration_s, LIMIT, plan.expected_pa_m3_s, draws=200, seed=3)
    assert mc.expected_outcome == "FAIL"
    assert mc.fraction >= plan.achieved_power() - 3.0 * 0.03
