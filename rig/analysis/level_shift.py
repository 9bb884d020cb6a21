"""Abrupt level shifts in a trace: a gauge whose zero jumped in the middle of a measurement.

A leak makes a pressure change smoothly; a gauge's zero shifting (a fault, a knock, a
range change) makes it jump. A jump inside a fitted window biases the fitted slope by
about ``jump / duration`` and can turn a failing seal into a passing one, so a fit that
contains one proves nothing.

The scan fits a straight line to the ``w`` samples on each side of every point and compares
the two lines where they meet: a smooth curve (a thermal transient, the decay itself) makes
them agree, a jump makes them differ by its size. The difference is judged against its own
standard error (from the trace's noise, estimated from the first differences, robustly, and
never below the quantisation a floor implies), with a margin because every point of the
window is tried: :data:`JUMP_SIGMAS` standard errors or more (:func:`threshold`), and at
least :data:`JUMP_FLOORS` times the gauge's floor (its resolution, printed step or noise).

Correlated noise (issue 14). Gauge noise that is correlated from one sample to the next
(AR(1) of lag-1 correlation ρ) has first differences that show only σ²(1 − ρ) of its variance,
while the ends of the two lines scatter by more than white noise would (their samples do not
average out). Judged as white, clean windows of ρ = 0.7 were called jumps half of the time and
of ρ = 0.9 nearly always. ρ comes from the lag-one correlation of the differences, −(1 − ρ)/2
for AR(1) noise, each clipped at a few robust deviations first (a jump is one large
difference), and the standard error is the exact one of the two lines' AR(1) covariance.
With an honest standard error the margin is a family-wise one: :data:`FALSE_REFUSAL` for the
whole window, counting its ~n/w independent comparisons (Bonferroni), and never below
:data:`JUMP_SIGMAS`, the margin for noise that is not Gaussian. It was a flat 8 standard
errors, which let a jump of four times the noise bias a 100-sample window by several
standard errors of its slope unseen (VALIDATION.md). For the same reason a point less than
``w`` samples from either end is compared too, with the line on its short side as long as the
samples allow (down to :data:`SIDE_MIN`): those ends were half of a 100-sample window.

The scan runs over :data:`BLOCK` points at a time, so that a day's window at 10 Hz costs one
array of its length (the differences whose median gives the noise) and a few hundred kB of
blocks, where twenty arrays of its length took 130 MB; its running sums continue from block
to block in the order one pass over the whole window adds them, so the result does not
depend on the block size.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

# How many standard errors a jump must stand out by, at least (non-Gaussian noise: spikes,
# rounding), whatever the window's length.
JUMP_SIGMAS = 5.0
# The chance that a window of Gaussian noise, white or AR(1), is called a jump anywhere.
FALSE_REFUSAL = 1e-3
# Beyond this the differences no longer tell ρ apart from one (a random walk).
RHO_MAX = 0.98
# Differences are clipped at this many deviations before their correlation is taken.
WINSOR = 4.0
# ...and how many of the gauge's floor (its steps cannot show less).
JUMP_FLOORS = 2.0
# Samples each side of a point, at most (enough to average the noise, short enough that the
# curvature of a decay over them is negligible) and at least.
SIDE_MAX = 30
SIDE_MIN = 6
MAD_TO_SIGMA = 1.4826
# Points scanned at once: the scan holds some thirty arrays of this length.
BLOCK = 1024

FloatArray = npt.NDArray[np.float64]
# Running sums of t, y, t², t·y carried from one block to the next; None before the first sample.
Carry = Sequence[float] | None


@dataclass(frozen=True)
class LevelShift:
    """A jump of ``size`` (in the trace's unit) between samples at ``t_before`` and ``t_after``."""

    size: float
    t_before: float
    t_after: float
    sigmas: float  # how many standard errors it stands out by


@dataclass(frozen=True)
class _Trace:
    """The usable samples, and how to centre and scale them."""

    t: FloatArray
    y: FloatArray
    t_mid: float
    t_scale: float
    y_mid: float

    def terms(self, lo: int, hi: int) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """t, y, t², t·y of samples [lo, hi), centred and scaled so that the sums below keep
        their precision at 2e5 Pa and 1e5 s."""
        t = (self.t[lo:hi] - self.t_mid) / self.t_scale
        y = self.y[lo:hi] - self.y_mid
        return t, y, t * t, t * y


def find_level_shift(t: FloatArray, y: FloatArray, floor: float = 0.0) -> LevelShift | None:
    """The largest jump in ``y(t)`` beyond noise and ``floor``, or None if there is none.

    Non-finite samples (dropouts) are left out. Too few samples to have ``SIDE_MIN`` on each
    side of a point: None (nothing can be told).
    """
    # Views where there is nothing to leave out: a day's window is not copied.
    t, y = np.ascontiguousarray(t, dtype=np.float64), np.ascontiguousarray(y, dtype=np.float64)
    keep = np.isfinite(t) & np.isfinite(y)
    if not keep.all():
        t, y = t[keep], y[keep]
    del keep
    n = t.size
    w = min(SIDE_MAX, n // 4)
    if w < SIDE_MIN:
        return None
    trace = _Trace(t, y, t.mean(), max(float(np.ptp(t)), 1e-300), float(np.median(y)))
    noise = _noise(trace)
    sigma = float(_scales(noise, floor, [w], [w])[0])
    # Point i compares the line of samples [i, i+w) at its right end with the line of samples
    # [i+w, i+2w) at its left end: a jump between samples i+w-1 and i+w.
    points = n - 2 * w + 1
    blocks = [(a, min(a + BLOCK, points)) for a in range(0, points, BLOCK)]
    after = _sums_after(trace, blocks, w)
    best: tuple[int, float, float] | None = None  # (point, jump, score)
    before: Carry = None
    for (a, b), carry in zip(blocks, after, strict=True):
        jumps, score, before = _scan(trace, a, b, w, sigma, before, carry)
        i = int(np.argmax(score))
        # np.argmax over the whole scan: the first largest, and a NaN before any number.
        if best is None or score[i] > best[2] or (math.isnan(score[i]) and not math.isnan(best[2])):
            best = (a + i, float(jumps[i]), float(score[i]))
    assert best is not None
    k, size, score_i = best[0] + w, best[1], best[2]  # k: the first sample after the jump
    for edge in _edges(trace, w, noise, floor):
        if edge[2] > score_i:
            k, size, score_i = edge
    if score_i < threshold(n, w) or abs(size) < JUMP_FLOORS * floor:
        return None
    return LevelShift(size, float(t[k - 1]), float(t[k]), score_i)


def _edges(trace: _Trace, w: int, noise: tuple[float, float], floor: float) -> list[tuple[int, float, float]]:
    """The largest jump (first sample after, size, score) less than ``w`` samples from each end.

    The scan proper needs ``w`` samples on both sides; a jump nearer an end would bias the slope
    almost as much (three quarters as much at w from the end of a 100-sample window) unseen.
    Here the line on the short side has as many samples as there are, down to ``SIDE_MIN``.
    """
    n = trace.y.size
    found = []
    for lo, ks in ((0, np.arange(SIDE_MIN, w)), (n - 2 * w, np.arange(n - w + 1, n - SIDE_MIN + 1))):
        if not ks.size:
            continue
        terms = trace.terms(lo, lo + 2 * w)
        sums = [np.concatenate([[0.0], np.cumsum(x)]) for x in terms]
        k = ks - lo  # local index of the first sample after the jump
        a, b = np.maximum(k - w, 0), np.minimum(k + w, 2 * w)
        wl, wr = k - a, b - k
        t = terms[0]
        at = t[k - 1] + (t[k] - t[k - 1]) / 2.0
        left_at, left_var = _line_ends([c[k] - c[a] for c in sums], at, wl.astype(np.float64))
        right_at, right_var = _line_ends([c[b] - c[k] for c in sums], at, wr.astype(np.float64))
        jumps = right_at - left_at
        scale = _scales(noise, floor, wl.tolist(), wr.tolist())
        score = np.abs(jumps) / (scale * np.sqrt(left_var + right_var))
        i = int(np.argmax(score))
        found.append((int(ks[i]), float(jumps[i]), float(score[i])))
    return found


def threshold(n: int, w: int) -> float:
    """Standard errors a jump must stand out by in a window of ``n`` samples scanned ``w`` a side.

    Comparisons ``w`` apart share no sample: about n/w independent ones, each two-sided, so
    Gaussian noise exceeds the threshold anywhere with probability :data:`FALSE_REFUSAL`.
    """
    independent = max(n / w, 1.0)
    return max(JUMP_SIGMAS, float(-special.ndtri(FALSE_REFUSAL / (2.0 * independent))))


def _running(x: FloatArray, carry: float | None) -> FloatArray:
    """Running sums of ``x`` continuing from ``carry`` (None: from nothing, as ``np.cumsum``)."""
    # Not 0.0 for nothing: np.cumsum's first sum is the first value itself, -0.0 included.
    if carry is None:
        return np.cumsum(x)
    out = np.empty(x.size + 1)
    out[0] = carry
    out[1:] = x
    return np.cumsum(out, out=out)[1:]


def _sums_after(trace: _Trace, blocks: list[tuple[int, int]], w: int) -> list[Carry]:
    """For each block [a, b): the sums of samples [b+2w-1, n), added from the last sample back
    (the order the right-hand lines take them in)."""
    carries: list[Carry] = [None] * len(blocks)
    carry: Carry = None
    for k in range(len(blocks) - 1, -1, -1):
        carries[k] = carry
        if k:
            lo, hi = blocks[k - 1][1] + 2 * w - 1, blocks[k][1] + 2 * w - 1
            old = [None] * 4 if carry is None else carry
            carry = [float(_running(x[::-1], c)[-1]) for x, c in zip(trace.terms(lo, hi), old, strict=True)]
    return carries


def _scan(
    trace: _Trace, a: int, b: int, w: int, sigma: float, before: Carry, after: Carry
) -> tuple[FloatArray, FloatArray, Carry]:
    """The jumps and their scores at points [a, b), and the sums of samples [0, b) for the next block.

    ``before`` holds the sums of samples [0, a), ``after`` those of [b+2w-1, n).
    """
    m = b - a
    terms = trace.terms(a, b + 2 * w - 1)  # local index = sample index - a
    left, right, carry = [], [], []
    old_before = [None] * 4 if before is None else before
    old_after = [None] * 4 if after is None else after
    for x, c_before, c_after in zip(terms, old_before, old_after, strict=True):
        # Sums of samples [0, j) for j in [a, b+w-1].
        upto = np.empty(m + w)
        upto[0] = 0.0 if c_before is None else c_before
        upto[1:] = _running(x[: m + w - 1], c_before)
        left.append(upto[w : w + m] - upto[:m])
        carry.append(float(upto[m]))
        # Sums of samples [j, n) for j in [a+w, b+2w-1].
        down = np.empty(m + w)
        down[-1] = 0.0 if c_after is None else c_after
        down[:-1] = _running(x[w : m + 2 * w - 1][::-1], c_after)[::-1]
        right.append(down[:m] - down[w : w + m])
    t = terms[0]
    last, first = t[w - 1 : w - 1 + m], t[w : w + m]  # samples i+w-1 and i+w
    # Each line is read half a step past its end sample, where the two meet.
    left_at, left_var = _line_ends(left, last + (first - last) / 2.0, w)
    right_at, right_var = _line_ends(right, first + (last - first) / 2.0, w)
    jumps = right_at - left_at
    se = sigma * np.sqrt(right_var + left_var)
    return jumps, np.abs(jumps) / se, carry


def _line_ends(sums: list[FloatArray], at: FloatArray, w: int | FloatArray) -> tuple[FloatArray, FloatArray]:
    """From the sums of t, y, t², t·y over runs of ``w`` samples: each least-squares line's value
    at ``at``, and that value's variance per unit noise variance."""
    s_t, s_y, s_tt, s_ty = sums
    mean_t, mean_y = s_t / w, s_y / w
    sxx = s_tt - w * mean_t * mean_t
    sxy = s_ty - w * mean_t * mean_y
    slope = np.divide(sxy, sxx, out=np.zeros_like(sxy), where=sxx > 0.0)
    value = mean_y + slope * (at - mean_t)
    var = 1.0 / w + np.divide((at - mean_t) ** 2, sxx, out=np.zeros_like(sxx), where=sxx > 0.0)
    return value, var


def _noise(trace: _Trace) -> tuple[float, float]:
    """The white part of the trace's noise (robust from its first differences) and its lag-1
    correlation ρ (module docstring)."""
    d = np.empty(max(trace.y.size - 1, 0))
    if not d.size:
        return 0.0, 0.0
    _differences(trace, d)
    centre = float(np.median(d, overwrite_input=True))
    # In place: the differences are not needed in order for their median and spread.
    np.subtract(d, centre, out=d)
    spread = MAD_TO_SIGMA * float(np.median(np.abs(d, out=d), overwrite_input=True))
    rho = 0.0
    if spread > 0.0 and d.size > 1:
        # Lag-one correlation of the differences, −(1 − ρ)/2 for AR(1) noise, with each clipped
        # at WINSOR deviations so that a jump (one large difference) cannot pass for correlation.
        _differences(trace, d)
        np.subtract(d, centre, out=d)
        np.clip(d, -WINSOR * spread, WINSOR * spread, out=d)
        total = float(np.dot(d, d))
        r = float(np.dot(d[:-1], d[1:])) / total if total > 0.0 else -0.5
        rho = min(max(1.0 + 2.0 * r, 0.0), RHO_MAX)
    return spread / math.sqrt(2.0), rho


def _scales(noise: tuple[float, float], floor: float, wl: Sequence[int], wr: Sequence[int]) -> FloatArray:
    """The noise scales that, times √(var_left + var_right), are the standard errors of jumps
    between lines of ``wl[i]`` and ``wr[i]`` samples.

    White noise: its deviation, and at least a step's worth. Correlated noise: that deviation
    over √(1 − ρ) (what the differences do not show) times the root of the two lines' AR(1)
    covariance over their white variance.
    """
    white, rho = noise
    scales: FloatArray = np.full(len(wl), white)
    if rho > 0.0:
        size = max(wl) + max(wr)
        powers = rho ** np.abs(np.subtract.outer(np.arange(size), np.arange(size)))
        for i, (left, right) in enumerate(zip(wl, wr, strict=True)):
            # Each line's value half a step past its end sample, as the scan reads it
            # (_line_ends); the right line's weights are a left line's reversed.
            weights = np.concatenate([-_end_weights(left), _end_weights(right)[::-1]])
            m = weights.size
            ratio = float(weights @ powers[:m, :m] @ weights) / float(weights @ weights)
            scales[i] = white * math.sqrt(ratio / (1.0 - rho))
    # A trace quantised to steps of `floor` scatters by floor/√12 around the truth even when
    # its differences are mostly zero (which makes their MAD zero).
    least = max(floor / math.sqrt(12.0), float(np.finfo(np.float64).tiny))
    np.maximum(scales, least, out=scales)
    return scales


def _differences(trace: _Trace, d: FloatArray) -> None:
    """The first differences of the trace, into ``d``, a block at a time."""
    n = trace.y.size
    for lo in range(0, n - 1, BLOCK):
        y = trace.y[lo : min(lo + BLOCK, n - 1) + 1] - trace.y_mid
        d[lo : lo + y.size - 1] = y[1:] - y[:-1]


@functools.lru_cache(maxsize=128)
def _end_weights(w: int) -> FloatArray:
    """Weights of ``w`` evenly spaced samples in their line's value half a step past the last
    (read-only: shared between calls)."""
    centred = np.arange(w, dtype=np.float64) - (w - 1) / 2.0
    weights: FloatArray = 1.0 / w + centred * (w / 2.0) / (w * (w * w - 1) / 12.0)
    weights.flags.writeable = False
    return weights
