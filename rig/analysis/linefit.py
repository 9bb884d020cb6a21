"""Straight-line fit statistics on top of the compiled core.

The core returns centred moments (one pass) and residual sums (a second pass); this
module turns them into a slope with an honest standard error. Gauge noise is often
correlated from one sample to the next (drift, filtering, 1/f), which makes the plain
OLS standard error too small; the lag-1 autocorrelation of the residuals gives an
AR(1) variance inflation and an effective sample size. The inflation is never below
one, so the reported error is never smaller than the plain OLS error.
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
# Keeps the AR(1) inflation finite (at most sqrt(199) ~ 14x) when residuals are a smooth curve.
RHO_CAP = 0.99


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
    if sse > 0.0 and pairs > 0:
        # Residuals of a fitted line are biased towards negative autocorrelation, by about
        # (2 + 4ρ)/n (measured for AR(1) noise, n = 50 to 1000); undo it before inflating.
        raw = float(lag1) / sse
        rho = min(max(raw + (2.0 + 4.0 * raw) / n, -RHO_CAP), RHO_CAP)
    inflation = (1.0 + rho) / (1.0 - rho) if rho > 0.0 else 1.0
    n_eff = n / inflation
    dof = max(n_eff - 2.0, 1.0)
    return LineFit(
        n=n,
        n_skipped=int(skipped),
        t0=float(t0),
        y0=float(y0),
        intercept_rel=float(intercept_rel),
        slope=float(slope),
        ols_slope_stderr=ols_se,
        slope_stderr=ols_se * math.sqrt(inflation),
        residual_std=math.sqrt(residual_var),
        rho1=rho,
        n_eff=n_eff,
        dof=dof,
        duration=0.0,
    )


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
