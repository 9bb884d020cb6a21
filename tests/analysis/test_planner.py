"""The plan's maths: the shortest decisive test from a measurement's numbers.

Most tests plan on a small bench written to ``tmp_path`` (``tests/planning/bench_files.py``)
whose every uncertainty is switched on or off by a keyword, so that each test sees one effect;
one plans from plain numbers, as :mod:`rig.analysis.planner` takes them. The checks of a plan
(Monte Carlo, the simulated bench) are tested under ``tests/planning``.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from rig.analysis.budget import SQRT3, TypeB
from rig.analysis.planner import (
    MAX_DECAY_FRACTION,
    MIN_PLANNED_SAMPLES,
    MeasurementSetup,
    decides_at,
    effective_rho,
    plan_duration,
    quantisation_autocovariance,
)
from rig.errors import InputError
from tests.planning.bench_files import LIMIT, SCCM, setup_of


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
    assert set(plan.model.test.terms) == {
        "fit",
        "resolution",
        "volume",
        "gauge_calibration",
        "temperature",
        "zero_drift",
    }


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
    setup = setup_of(tmp_path)
    plan = plan_duration(setup, LIMIT, 1000 * LIMIT)
    assert plan.duration_s is not None and plan.duration_s >= MIN_PLANNED_SAMPLES - 1
    assert plan.expected_outcome == "FAIL"
    # Nor shorter than the validator lets the limit be tested over (the gauge's noise binds here).
    assert setup.refusal(LIMIT, plan.duration_s) is None
    shorter = plan.duration_s - setup.sample_period_s
    assert shorter < MIN_PLANNED_SAMPLES - 1 or setup.refusal(LIMIT, shorter) is not None


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


def test_a_plan_from_plain_numbers_is_the_plan_from_the_bench(tmp_path: Path) -> None:
    # The maths needs no procedure: the numbers the bench file gives, written out, plan the same.
    asked: list[float] = []

    def type_b_at(top_pa: float) -> TypeB:
        asked.append(top_pa)
        return TypeB(gauge_rel=1e-6 / SQRT3, resolution_pa=0.001)

    plain = MeasurementSetup(
        name="decay",
        channel="p",
        volume="article",
        volume_m3=1e-3,
        temperature_channel=None,
        sign=1.0,
        level_pa=2e5,
        level_margin_pa=100.0,
        sample_period_s=1.0,
        gauge_noise_pa=10.0,
        gauge_noise_relative=0.0,
        thermometer_noise_k=0.01,
        duration_s=600.0,
        limit_pa_m3_s=None,
        type_b_at=type_b_at,
    )
    from_bench = setup_of(tmp_path, noise="10 Pa")
    assert from_bench.volume_m3 == pytest.approx(1e-3, rel=1e-12)  # "1 L" through pint
    assert dataclasses.replace(from_bench, type_b_at=type_b_at, volume_m3=1e-3, resolving=None) == plain
    assert from_bench.type_b(LIMIT / 2.0, 600.0) == TypeB(gauge_rel=1e-6 / SQRT3, resolution_pa=0.001)
    plan = plan_duration(plain, LIMIT)
    assert plan.duration_s is not None and plan.duration_s == plan_duration(from_bench, LIMIT).duration_s
    # The gauge's step is asked for at the window's highest pressure: a decay's start, plus the fill's
    # tolerance.
    assert set(asked) == {2e5 + 100.0}


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
    # Measured through the compiled fit (4000 white-noise lines each): the mean of its error
    # over the OLS one is 1.244 at 10 samples, 1.006 at 100, 1.000 at 1000 (a negative estimate
    # of ρ deflates down to RHO_FLOOR, a positive one inflates). The model, a normal estimate of
    # ρ with the exact small-sample spread of a line's residuals, is 1.248 at 10.
    for n, measured, within in ((10, 1.244, 0.02), (100, 1.006, 0.01), (1000, 1.000, 0.01)):
        rho = effective_rho(0.0, n)
        assert math.sqrt((1.0 + rho) / (1.0 - rho)) == pytest.approx(measured, abs=within)
    assert effective_rho(0.9, 10_000) == pytest.approx(0.9, abs=0.01)
