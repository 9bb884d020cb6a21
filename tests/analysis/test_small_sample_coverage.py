"""Honest small samples (issue 14): coverage and false PASS of the compiled fit at n_eff 5 to 600.

Each cell fits :data:`DRAWS` seeded synthetic decays with the leak exactly at the limit
(:mod:`tests.analysis.small_sample_mc`). At 4 000 draws a share near 0.95 (or 0.05) has a
binomial standard error of 0.0034; the tolerance is three of them, :data:`TOL` = 0.0103, so a
cell whose true coverage is on target fails by chance about once in 370.
"""

from __future__ import annotations

import numpy as np
import pytest

from rig.analysis import decide, fit_decay
from rig.analysis.linefit import MIN_JUDGED_SAMPLES
from rig.outcome import Outcome
from tests.analysis.small_sample_mc import binomial_tolerance, run_cell

DRAWS = 4000
TOL = binomial_tolerance(0.05, DRAWS)

# (kind, n, ρ) with n_eff = n(1 − ρ)/(1 + ρ) from 5 to 600, where both targets are met.
ON_TARGET = [
    ("white", 20, 0.0),
    ("white", 50, 0.0),
    ("white", 600, 0.0),
    ("ar1", 20, 0.3),
    ("ar1", 20, 0.6),
    ("ar1", 50, 0.5),
    ("ar1", 50, 0.8),
    ("ar1", 100, 0.9),
    ("ar1", 200, 0.7),
    ("ar1", 300, 0.9),
    ("ar1", 1000, 0.3),
    ("ar1", 1000, 0.9),
]


@pytest.mark.parametrize(("kind", "n", "rho"), ON_TARGET)
def test_intervals_cover_95_percent_and_a_leak_at_the_limit_passes_at_most_5pc(
    kind: str, n: int, rho: float
) -> None:
    cell = run_cell(kind, n, rho, DRAWS, seed=14)
    assert 0.94 - TOL <= cell.coverage <= 0.96 + TOL
    assert cell.false_pass <= 0.05 + TOL


def test_ten_white_samples_get_an_interval_on_the_safe_side_and_no_verdict() -> None:
    # From 10 residuals the estimate of ρ scatters by ±0.4 and cannot tell white noise from AR(1)
    # noise of ρ = 0.3: the interval over-covers white noise a little (about 0.965, VALIDATION.md),
    # and no verdict is taken from fewer than MIN_JUDGED_SAMPLES samples, so never a false PASS.
    cell = run_cell("white", 10, 0.0, DRAWS, seed=14)
    assert 0.95 - TOL <= cell.coverage <= 0.97 + TOL
    assert cell.false_pass == 0.0


@pytest.mark.parametrize("n", [MIN_JUDGED_SAMPLES - 1, MIN_JUDGED_SAMPLES])
def test_a_verdict_needs_min_judged_samples(n: int) -> None:
    # A leak far above the limit, in little noise: decisive from the bounds alone, at any n.
    t = np.arange(float(n))
    p = 1e5 - 1.0 * t + np.random.default_rng(n).normal(0.0, 0.01, n)
    decision = decide(fit_decay(t, p, volume_m3=1e-3), 1e-4)
    if n < MIN_JUDGED_SAMPLES:
        assert decision.verdict is Outcome.INCONCLUSIVE
        assert decision.refusal is not None and f"{n} samples" in decision.refusal
        # The same sampling reaches the minimum after this much more time.
        assert decision.additional_time_s == pytest.approx((MIN_JUDGED_SAMPLES - 1) - (n - 1))
    else:
        assert decision.verdict is Outcome.FAIL and decision.refusal is None
