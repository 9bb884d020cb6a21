"""Straight-line fit statistics on top of the compiled core.

The core returns centred moments (one pass) and residual sums (a second pass); this
module turns them into a slope with an honest standard error. Gauge noise is often
correlated from one sample to the next (drift, filtering, 1/f), which makes the plain
OLS standard error too small; the lag-1 autocorrelation of the residuals gives an
AR(1) variance inflation I = (1 + ρ)/(1 − ρ) and an effective sample size n_eff = n/I.
A negative estimate deflates (I < 1) as the model says, so the reported error can be below
the plain OLS one (the third point below says why), but not below ρ = RHO_FLOOR (the fourth).

Small effective samples (issue 14, VALIDATION.md). With 5 to 20 effective samples the
intervals used to cover 0.91-0.93 and a leak at the limit passed 6-7 % of the time, for
reasons the AR(1) model itself names, all fixed here with O(1) work on the core's sums:

* **the bias of the lag-1 estimate** of OLS residuals, about −(2 + 4ρ)/n, is a bias in
  terms of the *true* ρ; adding (2 + 4ρ̂)/n with the biased ρ̂ in place of ρ left most of
  it in place where ρ is large and n small (0.49 for ρ = 0.6 at n = 20). Solving
  ρ̂_raw = ρ − (2 + 4ρ)/n for ρ removes it on average;
* **the residual variance** of a fitted line loses two *effective* samples, not two
  samples: E[SSE] ≈ σ²(n − tr(HΣ)/σ²) and tr(HΣ)/σ² ≈ 2·I under AR(1) noise, so
  s² = SSE/(n − 2I) = SSE/(I·(n_eff − 2)). Dividing by n − 2 read σ² up to 40 % low at
  n_eff = 5. With it the slope's variance is SSE/((n_eff − 2)·S_tt);
* **the noise of the estimate of ρ** (round 2). From 20 residuals ρ̂ scatters by ±0.2, and a
  window whose ρ̂ happens to be low gets a too-narrow interval (0.93 coverage at n = 20,
  ρ = 0.6, 0.937-0.939 at n_eff ≈ 5 from 50-100 samples). The verdict's Student t now has the
  Satterthwaite degrees of freedom of the whole variance estimate (:func:`interval_dof`): the
  χ² dof of the residual sum of squares under AR(1) noise and the variance of ln I/(n − 2I)
  from Bartlett's variance (1 − ρ²)/n of ρ̂. Counting that noise widens every window whose ρ̂
  is positive, white noise's half of the time; with the old rule "the error is never below
  OLS" white noise at n ≤ 50 was then over-covered (0.965-0.975). A negative ρ̂ therefore
  narrows the error as the AR(1) model says, which brings white noise back to 0.95-0.96 for
  n ≥ 20.
* **the small-sample spread of ρ̂** (round 3). Bartlett's (1 − ρ²)/n is a large-sample
  variance; the lag-1 estimate of the residuals of a *line* through n white-noise samples has
  an exact variance (:func:`lag1_variance_factor`: a ratio of quadratic forms independent of
  the SSE, whose moments are traces) of 0.65/n at n = 10 and 0.84/n at n = 20. The dof uses
  Bartlett's variance times that factor, which lowers the over-coverage of white noise at
  n = 10 (0.983 to 0.966) and n = 20 (0.964 to 0.960), and costs the n_eff ≈ 5 AR(1) cells
  0.001-0.004 of coverage (still ≥ 0.945). The planner's model of the
  fit's mean error with it matches the fit at n = 10 (1.248 against 1.244 measured).
* **a floor on the deflation** (round 3): ρ̂ is held at or above RHO_FLOOR = −0.5 (I ≥ 1/3),
  so the error is never below √(1/3) ≈ 0.58 of the OLS one for long windows (0.53 at n = 10).
  A strongly negative lag-1 is rarely AR(1) gauge noise; an alternating artefact (pickup, a
  dithering regulator) gave ρ̂ ≈ −0.9 and 0.23 of the OLS error. White noise reaches the floor
  in about 12 % of 10-sample windows, 2 % at 20 and practically never from 50 up, and the floor
  moves no white cell's coverage by more than the Monte Carlo's noise.

Rejected, by Monte Carlo (tests/analysis/small_sample_mc.py): the expectation of the inflation
over ρ̂'s sampling distribution (0.96-0.99 at n ≤ 20), the same Satterthwaite dof with the
spread of the *debiased* estimate, (1 − ρ²)/n/(1 − 4/n)² (0.96-0.97 at n = 20 and 0.998 for
white noise at n = 10: the linearisation overstates a skewed, bounded ρ̂ there), a Prais–Winsten
fit (another estimator of the slope than the one every record reports). What remains: at
n = 10 (white, or ρ ≲ 0.3) ρ̂ scatters by ±0.4 and the intervals over-cover white noise, on the
safe side (0.966), while AR(1) noise of ρ = 0.3 (n_eff 5.4) is covered 0.949: an estimate that
cannot tell the two apart cannot give both 0.95 (round 3's shrunk plug-in took white n = 10 to
0.962 and n = 20 / ρ = 0.6 to 0.940). So no verdict is taken from fewer than MIN_JUDGED_SAMPLES
(round 4, rig.analysis.verdict.decide), where white noise's coverage has entered the band.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy import special

from rig import _linfit
from rig.errors import InputError

FloatArray = npt.NDArray[np.float64]

MIN_SAMPLES = 3
# The fewest samples a verdict is taken from (rig.analysis.verdict.decide; the validator and the
# planner refuse windows shorter at the bench's sample period). The interval's calibration rests on
# the residuals' lag-1 estimate, which from fewer than about 20 samples cannot tell white noise from
# AR(1) noise of ρ = 0.3 (both scatter by ±0.4 at n = 10): no one interval covers 94-96 % for both,
# and white noise's over-covers there (0.966 at n = 10, 0.961 at 16; 0.958 at 20). VALIDATION.md.
MIN_JUDGED_SAMPLES = 20
# Keeps the AR(1) inflation finite (at most sqrt(199) ~ 14x) when residuals are a smooth curve.
RHO_CAP = 0.99
# The most negative ρ the inflation deflates for: the error is never below √(1/3) ≈ 0.58 of the OLS
# one (≥ 0.53 from ten samples up). Beyond it a "negative correlation" is more likely an artefact
# (an alternating pickup, a dithering regulator) than AR(1) noise; white noise gives a de-biased
# ρ̂ below −0.5 in about 2 % of 20-sample windows and practically never from 50 up (module docstring).
RHO_FLOOR = -0.5


ResidualPass = Callable[[float, float, float, float], tuple[float, ...]]


class InsufficientDataError(InputError):
    """Fewer than three usable samples, or all samples at one time."""


def as_samples(values: npt.ArrayLike, name: str) -> FloatArray:
    """Return ``values`` as a contiguous 1-D float64 array (what the core reads)."""
    arr = np.ascontiguousarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise InputError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


@dataclass(frozen=True)
class LineFit:
    """Least-squares line y = y0 + a + b (t - t0) with its uncertainty.

    ``t0, y0`` is the first usable sample; ``slope`` is b. ``slope_stderr`` is the
    autocorrelation-aware standard error, ``ols_slope_stderr`` the plain one.
    """

    n: int
    n_skipped: int
    t0: float
    y0: float
    intercept_rel: float
    slope: float
    ols_slope_stderr: float
    slope_stderr: float
    residual_std: float
    rho1: float
    n_eff: float
    dof: float
    duration: float

    def t_quantile(self, probability: float) -> float:
        """Student-t quantile at ``probability`` for this fit's degrees of freedom."""
        return float(special.stdtrit(self.dof, probability))

    def predict(self, t: npt.ArrayLike) -> FloatArray:
        """The fitted line at times ``t``."""
        tt = np.asarray(t, dtype=np.float64)
        return self.y0 + self.intercept_rel + self.slope * (tt - self.t0)


def line_statistics(moments: tuple[float, ...], residuals: tuple[float, ...]) -> LineFit:
    """Build a :class:`LineFit` from the core's moments and residual sums."""
    n, skipped, t0, y0, mean_t, mean_y, s_tt, s_ty, _s_yy = moments
    n = int(n)
    if n < MIN_SAMPLES:
        raise InsufficientDataError(f"need at least {MIN_SAMPLES} usable samples, got {n}")
    if not s_tt > 0.0:
        raise InsufficientDataError("all usable samples share one time stamp")
    slope = s_ty / s_tt
    intercept_rel = mean_y - slope * mean_t
    _n_res, sse, lag1, _dsq, pairs = residuals
    sse = max(float(sse), 0.0)
    dof_ols = n - 2
    residual_var = sse / dof_ols
    ols_se = math.sqrt(residual_var / s_tt)
    rho = 0.0
    dof = float(dof_ols) if dof_ols > 0 else 1.0
    if sse > 0.0 and pairs > 0:
        rho = debiased_rho(float(lag1) / sse, n)
        dof = interval_dof(rho, n)
    # The AR(1) inflation of either sign: a negative ρ̂ narrows the error below the OLS one as the
    # model says (module docstring: without it, once dof counts the noise of ρ̂, white noise is
    # over-covered at n ≤ 50), down to RHO_FLOOR (debiased_rho holds ρ̂ there).
    inflation = (1.0 + rho) / (1.0 - rho)
    n_eff = n / inflation
    # The line took two effective samples of the residual variance (module docstring): the
    # slope's variance is SSE/((n_eff − 2)·S_tt), which is the OLS one times I·(n − 2)/(n − 2I).
    slope_se = math.sqrt(sse / (max(n_eff - 2.0, 1.0) * s_tt))
    return LineFit(
        n=n,
        n_skipped=int(skipped),
        t0=float(t0),
        y0=float(y0),
        intercept_rel=float(intercept_rel),
        slope=float(slope),
        ols_slope_stderr=ols_se,
        slope_stderr=slope_se,
        residual_std=math.sqrt(residual_var),
        rho1=rho,
        n_eff=n_eff,
        dof=dof,
        duration=0.0,
    )


def interval_dof(rho: float, n: int) -> float:
    """Satterthwaite degrees of freedom of the slope's variance estimate for a fit whose ρ̂ is ``rho``.

    The estimate SSE·g(ρ̂)/S_tt, g = I/(n − 2I), has two sources of noise: the residual sum
    of squares, a scaled χ² of about ν_SSE = (n − 2I)(1 − ρ²)/(1 + ρ²) degrees of freedom under
    AR(1) noise (white: n − 2), and the estimate ρ̂, of variance about (1 − ρ²)/n (Bartlett's
    variance of a lag-1 estimate), which moves ln g by (d ln g/dρ)·δρ with d ln g/dρ =
    2/(1 − ρ²) + 4/((1 − ρ)²(n − 2I)). Their relative variances add: 2/ν = 2/ν_SSE +
    Var(ln g). Bartlett's variance is the large-sample one; the lag-1 estimate of the residuals
    of a line through n samples scatters less (:func:`lag1_variance_factor`, 0.65 of it at n = 10),
    and the variance used is Bartlett's times that factor. The result is held between 1 and the
    OLS n − 2. O(1), from ρ̂ and n alone.
    """
    rho = min(max(rho, RHO_FLOOR), RHO_CAP)
    inflation = (1.0 + rho) / (1.0 - rho)
    residual = max(n - 2.0 * inflation, 1.0)
    nu_sse = max(residual * (1.0 - rho * rho) / (1.0 + rho * rho), 1.0)
    dlog = 2.0 / (1.0 - rho * rho) + 4.0 / ((1.0 - rho) ** 2 * residual)
    var_log = dlog * dlog * (1.0 - rho * rho) / n * lag1_variance_factor(n)
    dof = 1.0 / (1.0 / nu_sse + var_log / 2.0)
    return min(max(dof, 1.0), max(n - 2.0, 1.0))


def debiased_rho(raw: float, n: int) -> float:
    """The lag-1 autocorrelation behind residuals whose lag-1 estimate is ``raw``, capped.

    The lag-1 estimate of the residuals of a fitted line is biased low by about (2 + 4ρ)/n
    (measured for AR(1) noise, n = 10 to 1000) in terms of the true ρ, so ρ = (ρ̂_raw + 2/n)
    / (1 − 4/n) (solving ρ̂_raw = ρ − (2 + 4ρ)/n). Below eight samples, where the bias was
    not measured, the division would amplify the estimate's scatter without bound: it is
    held at the factor 2 it has at eight.
    """
    rho = (raw + 2.0 / n) / max(1.0 - 4.0 / n, 0.5)
    return min(max(rho, RHO_FLOOR), RHO_CAP)


def lag1_variance_factor(n: int) -> float:
    """The exact variance of the lag-1 estimate of white noise's OLS-line residuals, times n.

    For residuals e = Mε of a straight line through n samples of Gaussian white noise, the lag-1
    estimate r = e'Ae/e'e (A: ½ on the first off-diagonals) is independent of e'e, so its first
    two moments are exact ratios of traces (m = n − 2): E r = tr(MA)/m = −2/n and
    Var r = 2·(tr((MA)²) − 4m/n²)/(m(m + 2)), with tr((MA)²) = (n⁵ − 5n⁴ + 7n³ + 13n² − 20n − 20)/
    (2n²(n² − 1)) (fitted on the matrices for n = 4 to 21, checked at 50 and 600). n·Var r is
    0.65 at n = 10, 0.84 at 20, 0.94 at 50 and tends to 1 (Bartlett's 1/n). Used as the
    small-sample factor on Bartlett's (1 − ρ²)/n in :func:`interval_dof`.
    """
    if n < 4:
        return 0.0  # one residual degree of freedom: the estimate does not scatter
    m = n - 2.0
    tr2 = (((((n - 5.0) * n + 7.0) * n + 13.0) * n - 20.0) * n - 20.0) / (2.0 * n * n * (n * n - 1.0))
    var = 2.0 * (tr2 - 4.0 * m / (n * n)) / (m * (m + 2.0))
    return min(max(n * var, 0.0), 1.0)


def fit_line_one_pass(
    t: FloatArray, y: FloatArray, temperature: FloatArray | None = None, t_ref: float = 293.15
) -> LineFit:
    """Plain OLS of y(t) (or of y·t_ref/T) in one pass: slope, intercept, OLS standard error.

    The residual sum of squares comes from the centred moments (S_yy − S_ty²/S_tt), so no
    second pass and no autocorrelation estimate: ``slope_stderr`` equals the plain OLS
    error. :func:`fit_line` is the honest one for verdicts; this one is for speed.
    """
    if temperature is None:
        moments = _linfit.line_moments(t, y)
    else:
        moments = _linfit.line_moments_compensated(t, y, temperature, t_ref)
    n, _skipped, _t0, _y0, _mt, _my, s_tt, s_ty, s_yy = moments
    sse = s_yy - s_ty * s_ty / s_tt if s_tt > 0.0 else 0.0
    return replace(line_statistics(moments, (n, sse, 0.0, 0.0, 0)), duration=_span(t))


def fit_line(t: FloatArray, y: FloatArray) -> LineFit:
    """Fit y(t) with the compiled core (NaN samples skipped and counted)."""
    moments = _linfit.line_moments(t, y)
    return _finish(moments, lambda t0, y0, a, b: _linfit.residual_stats(t, y, t0, y0, a, b), t)


def fit_line_compensated(t: FloatArray, p: FloatArray, temperature: FloatArray, t_ref: float) -> LineFit:
    """Fit p * t_ref / T against t, without building the compensated array."""
    moments = _linfit.line_moments_compensated(t, p, temperature, t_ref)
    return _finish(
        moments,
        lambda t0, y0, a, b: _linfit.residual_stats_compensated(t, p, temperature, t_ref, t0, y0, a, b),
        t,
    )


def fit_line_log(t: FloatArray, p: FloatArray, p_ext: float) -> LineFit:
    """Fit ln(p - p_ext) against t; samples at or below p_ext are skipped."""
    moments = _linfit.line_moments_log(t, p, p_ext)
    return _finish(moments, lambda t0, y0, a, b: _linfit.residual_stats_log(t, p, p_ext, t0, y0, a, b), t)


def _finish(moments: tuple[float, ...], residual_pass: ResidualPass, t: FloatArray) -> LineFit:
    n, _skipped, t0, y0, mean_t, mean_y, s_tt, s_ty, _ = moments
    if int(n) >= MIN_SAMPLES and s_tt > 0.0:
        slope = s_ty / s_tt
        residuals = residual_pass(t0, y0, mean_y - slope * mean_t, slope)
    else:
        residuals = (0, 0.0, 0.0, 0.0, 0)
    fit = line_statistics(moments, residuals)
    return replace(fit, duration=_span(t))


def _span(t: FloatArray) -> float:
    """Time from the first to the last finite time stamp, without a full-array temporary."""
    first = next((float(v) for v in t if math.isfinite(v)), math.nan)
    last = next((float(v) for v in t[::-1] if math.isfinite(v)), math.nan)
    return last - first if math.isfinite(first) else 0.0
