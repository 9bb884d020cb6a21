"""Straight-line fit statistics on top of the compiled core.

The compiled core (``ext/_linfit.pyx``) fits in one pass: centred moments and, from lag-1
co-moments accumulated beside them, the residuals' lag-1 sum (issue 19; it was a second pass);
it also does the O(1) statistics below and returns the finished :class:`LineFit`, so that a small
fit costs its arithmetic and one object. This module is the typed face and the reasoning. Gauge noise is often
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

import numpy as np
import numpy.typing as npt

from rig import _linfit
from rig._linfit import (
    MIN_SAMPLES,
    RHO_CAP,
    RHO_FLOOR,
    LineFit,
    debiased_rho,
    fit_line,
    fit_line_compensated,
    fit_line_log,
    interval_dof,
    lag1_variance_factor,
)
from rig.errors import InputError, InsufficientDataError

__all__ = [
    "MIN_JUDGED_SAMPLES",
    "MIN_SAMPLES",
    "RHO_CAP",
    "RHO_FLOOR",
    "InsufficientDataError",
    "LineFit",
    "as_samples",
    "debiased_rho",
    "fit_line",
    "fit_line_compensated",
    "fit_line_log",
    "fit_line_one_pass",
    "interval_dof",
    "lag1_variance_factor",
]

FloatArray = npt.NDArray[np.float64]

# The fewest samples a verdict is taken from (rig.analysis.verdict.decide; the validator and the
# planner refuse windows shorter at the bench's sample period). The interval's calibration rests on
# the residuals' lag-1 estimate, which from fewer than about 20 samples cannot tell white noise from
# AR(1) noise of ρ = 0.3 (both scatter by ±0.4 at n = 10): no one interval covers 94-96 % for both,
# and white noise's over-covers there (0.966 at n = 10, 0.961 at 16; 0.958 at 20). VALIDATION.md.
MIN_JUDGED_SAMPLES = 20


def as_samples(values: npt.ArrayLike, name: str) -> FloatArray:
    """Return ``values`` as a contiguous 1-D float64 array (what the core reads)."""
    arr = np.ascontiguousarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise InputError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def fit_line_one_pass(
    t: FloatArray, y: FloatArray, temperature: FloatArray | None = None, t_ref: float = 293.15
) -> LineFit:
    """Plain OLS of y(t) (or of y·t_ref/T): slope, intercept, OLS standard error.

    The same pass as :func:`fit_line`, without the autocorrelation estimate: ``slope_stderr``
    equals the plain OLS error. :func:`fit_line` is the honest one for verdicts.
    """
    return _linfit.fit_line_plain_error(t, y, temperature, t_ref)
