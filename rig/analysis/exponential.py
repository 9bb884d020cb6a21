"""Exponential decay towards an outside pressure: ln(p − p_ext) is a straight line.

An isolated volume leaking through a choked orifice to vacuum decays as
p(t) = p0·exp(−t/τ), τ = V/C; a molecular leak from outside approaches p_ext the same
way. The fit returns the rate constant k = 1/τ with its standard error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rig.analysis.linefit import LineFit, as_samples, fit_line_log
from rig.errors import InputError


@dataclass(frozen=True)
class ExponentialFit:
    """Result of :func:`fit_exponential`."""

    line: LineFit
    p_ext_pa: float

    @property
    def rate_constant_1_s(self) -> float:
        """k in 1/s: positive when |p − p_ext| shrinks."""
        return -self.line.slope

    @property
    def rate_constant_stderr_1_s(self) -> float:
        """Autocorrelation-aware standard error of k, 1/s."""
        return self.line.slope_stderr

    @property
    def time_constant_s(self) -> float:
        """τ = 1/k in s (inf when k ≤ 0)."""
        k = self.rate_constant_1_s
        return 1.0 / k if k > 0.0 else math.inf

    @property
    def initial_difference_pa(self) -> float:
        """Fitted |p − p_ext| at the first usable sample, Pa."""
        return math.exp(self.line.y0 + self.line.intercept_rel)

    @property
    def n(self) -> int:
        """Usable samples in the fit."""
        return self.line.n


def fit_exponential(t: npt.ArrayLike, p: npt.ArrayLike, p_ext_pa: float = 0.0) -> ExponentialFit:
    """Fit p(t) = p_ext + (p0 − p_ext)·exp(−k t) by least squares on ln|p − p_ext|.

    The side of ``p_ext_pa`` is the one most samples lie on; samples on the other side,
    at ``p_ext_pa`` or non-finite are skipped and counted.
    """
    tt = as_samples(t, "time")
    pp = as_samples(p, "pressure")
    if tt.shape != pp.shape:
        raise InputError(f"time has {tt.size} samples but pressure has {pp.size}")
    p_ext = float(p_ext_pa)
    finite = pp[np.isfinite(pp)]
    if finite.size and float(np.median(finite)) < p_ext:
        # Approach from below (a vacuum filling towards the outside): ln(p_ext − p).
        return ExponentialFit(fit_line_log(tt, -pp, -p_ext), p_ext)
    return ExponentialFit(fit_line_log(tt, pp, p_ext), p_ext)
