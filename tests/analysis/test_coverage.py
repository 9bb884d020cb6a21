"""Do the 95 % intervals cover the true leak 95 % of the time? (500 seeded synthetic runs each)"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.signal import lfilter

from rig.analysis import fit_decay
from rig.analysis.linefit import lag1_variance_factor

RUNS = 500
SAMPLES = 300
TRUE_SLOPE_PA_S = -0.01
VOLUME_M3 = 2e-3


def ar1_noise(rng: np.random.Generator, n: int, rho: float, sigma: float) -> np.ndarray:
    """Stationary AR(1) noise with marginal standard deviation ``sigma``."""
    burn_in = 200
    e = rng.normal(0.0, sigma * np.sqrt(1.0 - rho**2), n + burn_in)
    return lfilter([1.0], [1.0, -rho], e)[burn_in:]


def coverage(rho: float, seed: int) -> tuple[float, float]:
    """Fraction of runs whose interval covers the truth: ours, and plain OLS for contrast."""
    rng = np.random.default_rng(seed)
    t = 1.7e9 + np.arange(SAMPLES) * 0.5
    true_q = -VOLUME_M3 * TRUE_SLOPE_PA_S
    ours = plain = 0
    for _ in range(RUNS):
        p = 2.0e5 + TRUE_SLOPE_PA_S * (t - t[0]) + ar1_noise(rng, SAMPLES, rho, 0.2)
        fit = fit_decay(t, p, volume_m3=VOLUME_M3)
        low, high = fit.interval(0.95)
        ours += low <= true_q <= high
        half = stats.t.ppf(0.975, SAMPLES - 2) * VOLUME_M3 * fit.line.ols_slope_stderr
        plain += abs(fit.leak_rate_pa_m3_s - true_q) <= half
    return ours / RUNS, plain / RUNS


@pytest.mark.slow
def test_white_noise_intervals_cover_93_to_97_percent() -> None:
    ours, plain = coverage(rho=0.0, seed=2025)
    assert 0.93 <= ours <= 0.97
    assert 0.93 <= plain <= 0.97


@pytest.mark.slow
def test_correlated_noise_intervals_still_cover_at_least_90_percent() -> None:
    ours, plain = coverage(rho=0.8, seed=2026)
    assert ours >= 0.90
    # Without the autocorrelation correction the same data would be badly overconfident.
    assert plain < 0.70


def test_reported_error_follows_the_sign_of_the_estimated_correlation() -> None:
    # A positive lag-1 estimate widens the error beyond plain OLS; a negative one narrows it, as
    # the AR(1) model says (VALIDATION.md: the interval's dof counts the noise of ρ̂, and without
    # the narrowing white noise would be over-covered at n ≤ 50).
    rng = np.random.default_rng(7)
    t = np.arange(200.0)
    for rho in (-0.8, -0.3, 0.0, 0.3, 0.9):
        fit = fit_decay(t, 1e5 - 0.01 * t + ar1_noise(rng, 200, rho, 0.3))
        if fit.line.rho1 >= 0.0:
            assert fit.slope_stderr_pa_s >= fit.line.ols_slope_stderr
        else:
            assert fit.slope_stderr_pa_s < fit.line.ols_slope_stderr
            assert fit.line.dof <= fit.n - 2


@pytest.mark.parametrize("n", [10, 40, 400])
def test_an_alternating_artefact_does_not_shrink_the_error_below_half_the_ols_one(n: int) -> None:
    # +a, −a, +a, … on a line: ρ̂ ≈ −1, not AR(1) noise (a pickup, a dithering regulator). The
    # deflation stops at RHO_FLOOR = −0.5: I = 1/3, so the error is at least √(1/3) ≈ 0.58 of the
    # OLS one at large n and √(8/28) ≈ 0.53 at n = 10 (n_eff − 2 against n − 2). Half the OLS
    # error is the bound: an artefact may narrow the interval by at most the factor the AR(1)
    # model allows at ρ = −0.5, never to the 0.23 it got at ρ̂ = −0.9.
    t = np.arange(float(n))
    fit = fit_decay(t, 1e5 - 0.01 * t + 0.2 * (-1.0) ** np.arange(n))
    assert fit.line.rho1 == pytest.approx(-0.5)
    assert fit.slope_stderr_pa_s >= 0.5 * fit.line.ols_slope_stderr


@pytest.mark.parametrize("n", [5, 10, 23, 50])
def test_the_small_sample_spread_of_the_lag1_estimate_is_the_exact_one(n: int) -> None:
    # Var r of r = e'Ae/e'e for the residuals e = Mε of a line through white noise, from traces.
    t = np.arange(float(n))
    x = np.column_stack([np.ones(n), t])
    m = np.eye(n) - x @ np.linalg.solve(x.T @ x, x.T)
    a = (np.eye(n, k=1) + np.eye(n, k=-1)) / 2.0
    ma = m @ a
    tr1, tr2, dof = np.trace(ma), np.trace(ma @ ma), n - 2
    var = (tr1 * tr1 + 2.0 * tr2) / (dof * (dof + 2)) - (tr1 / dof) ** 2
    assert lag1_variance_factor(n) == pytest.approx(n * var, rel=1e-9)
