"""Abrupt level shifts in a trace: a gauge whose zero jumped in the middle of a measurement.

A leak makes a pressure change smoothly; a gauge's zero shifting (a fault, a knock, a
range change) makes it jump. A jump inside a fitted window biases the fitted slope by
about ``jump / duration`` and can turn a failing seal into a passing one, so a fit that
contains one proves nothing.

The scan fits a straight line to the ``w`` samples on each side of every point and compares
the two lines where they meet: a smooth curve (a thermal transient, the decay itself) makes
them agree, a jump makes them differ by its size. The difference is judged against its own
standard error (from the trace's noise, estimated from the first differences, robustly, and
never below the quantisation a floor implies) with a wide margin, because every point of
the window is tried: :data:`JUMP_SIGMAS` standard errors, and at least :data:`JUMP_FLOORS`
times the gauge's floor (its resolution, printed step or noise).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# How many standard errors a jump must stand out by (a few hundred points are scanned).
JUMP_SIGMAS = 8.0
# ...and how many of the gauge's floor (its steps cannot show less).
JUMP_FLOORS = 2.0
# Samples each side of a point, at most (enough to average the noise, short enough that the
# curvature of a decay over them is negligible) and at least.
SIDE_MAX = 30
SIDE_MIN = 6
MAD_TO_SIGMA = 1.4826

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class LevelShift:
    """A jump of ``size`` (in the trace's unit) between samples at ``t_before`` and ``t_after``."""

    size: float
    t_before: float
    t_after: float
    sigmas: float  # how many standard errors it stands out by


def find_level_shift(t: FloatArray, y: FloatArray, floor: float = 0.0) -> LevelShift | None:
    """The largest jump in ``y(t)`` beyond noise and ``floor``, or None if there is none.

    Non-finite samples (dropouts) are left out. Too few samples to have ``SIDE_MIN`` on each
    side of a point: None (nothing can be told).
    """
    keep = np.isfinite(t) & np.isfinite(y)
    t, y = np.asarray(t, dtype=np.float64)[keep], np.asarray(y, dtype=np.float64)[keep]
    n = t.size
    w = min(SIDE_MAX, n // 4)
    if w < SIDE_MIN:
        return None
    # Centred and scaled, so that the sums below keep their precision at 2e5 Pa and 1e5 s.
    tc = (t - t.mean()) / max(float(np.ptp(t)), 1e-300)
    yc = y - float(np.median(y))
    left_at, left_var = _line_ends(tc, yc, w)  # line of samples [k-w, k) at its right end
    right_at, right_var = _line_ends(tc[::-1], yc[::-1], w)  # of [k, k+w) at its left end
    right_at, right_var = right_at[::-1], right_var[::-1]
    # Window ending at sample k-1 (index k-w) meets the window starting at sample k (index k).
    jumps = right_at[w:] - left_at[: n - 2 * w + 1]
    var_factor = right_var[w:] + left_var[: n - 2 * w + 1]
    sigma = _noise(yc, floor)
    if sigma == 0.0:
        sigma = float(np.finfo(np.float64).tiny)
    se = sigma * np.sqrt(var_factor)
    score = np.abs(jumps) / se
    i = int(np.argmax(score))
    size = float(jumps[i])
    if score[i] < JUMP_SIGMAS or abs(size) < JUMP_FLOORS * floor:
        return None
    k = i + w  # the first sample after the jump
    return LevelShift(size, float(t[k - 1]), float(t[k]), float(score[i]))


def _line_ends(t: FloatArray, y: FloatArray, w: int) -> tuple[FloatArray, FloatArray]:
    """For each run of ``w`` samples ending at index j (j ≥ w-1, returned from j = w-1 on):
    the least-squares line's value half a step past its last sample, and that value's variance
    per unit noise variance."""

    def windowed(x: FloatArray) -> FloatArray:
        c = np.concatenate(([0.0], np.cumsum(x)))
        return c[w:] - c[:-w]

    s_t, s_y, s_tt, s_ty = windowed(t), windowed(y), windowed(t * t), windowed(t * y)
    mean_t, mean_y = s_t / w, s_y / w
    sxx = s_tt - w * mean_t * mean_t
    sxy = s_ty - w * mean_t * mean_y
    slope = np.divide(sxy, sxx, out=np.zeros_like(sxy), where=sxx > 0.0)
    last = t[w - 1 :]
    step = np.empty_like(last)
    step[:-1] = np.diff(last) / 2.0
    step[-1] = step[-2] if step.size > 1 else 0.0
    at = last + step
    value = mean_y + slope * (at - mean_t)
    var = 1.0 / w + np.divide((at - mean_t) ** 2, sxx, out=np.zeros_like(sxx), where=sxx > 0.0)
    return value, var


def _noise(y: FloatArray, floor: float) -> float:
    """The white noise of ``y``: robust from its first differences, at least a step's worth."""
    d = np.diff(y)
    mad = float(np.median(np.abs(d - np.median(d)))) if d.size else 0.0
    robust = MAD_TO_SIGMA * mad / math.sqrt(2.0)
    # A trace quantised to steps of `floor` scatters by floor/√12 around the truth even when
    # its differences are mostly zero (which makes their MAD zero).
    return max(robust, floor / math.sqrt(12.0))
