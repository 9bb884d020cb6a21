# cython: language_level=3
"""Least-squares slopes over a sliding window of samples, for every position, in O(n).

The window sums (count, dt, dy, dt², dt·dy) move by the entering minus the leaving
sample. They are taken relative to an anchor sample that follows the window: every
``window`` positions the sums are shifted to a new anchor with the exact shift
formulas (O(1)), and every ``REBUILD`` shifts they are recomputed from the samples
(O(window)), so rounding cannot build up over a long series while the whole pass stays
O(n). The positions are cut into four runs that advance side by side as the lanes of a
SIMD kernel; a stretch that meets a NaN or an infinity is redone sample by sample,
skipping the unusable ones.
"""

import numpy as np

from libc.math cimport NAN
from _moments cimport PLAIN, TCOMP, sample_y, usable


cdef extern from "_slide_kernels.h" nogil:
    double leakrig_slope5(double cnt, double st, double sy, double stt, double sty)
    enum: LEAKRIG_LANES
    int leakrig_slide_lanes(const double* t, const double* p, const double* temp, double k, int tcomp,
                            Py_ssize_t w, const Py_ssize_t* pos, Py_ssize_t count, const double* cnt,
                            const double* tc, const double* yc, double* sums, double* out)


cdef enum:
    REBUILD = 16  # re-anchorings between exact recomputations of the sums


cdef inline void _add(double* s, double sign, double dt, double dy) noexcept nogil:
    s[0] += sign
    s[1] += sign * dt
    s[2] += sign * dy
    s[3] += sign * (dt * dt)
    s[4] += sign * (dt * dy)


cdef void _rebuild(int mode, const double* t, const double* p, const double* temp, double k,
                   Py_ssize_t lo, Py_ssize_t hi, double tc, double yc, double* s) noexcept nogil:
    """Sums of the usable samples in [lo, hi) relative to (tc, yc), from scratch."""
    cdef Py_ssize_t j
    cdef double y
    s[0] = 0.0
    s[1] = 0.0
    s[2] = 0.0
    s[3] = 0.0
    s[4] = 0.0
    for j in range(lo, hi):
        y = sample_y(mode, p, temp, j, k)
        if usable(t[j], y):
            _add(s, 1.0, t[j] - tc, y - yc)


cdef void _slide_careful(int mode, const double* t, const double* p, const double* temp, double k,
                         Py_ssize_t pos, Py_ssize_t end, Py_ssize_t w, double tc, double yc,
                         double* s, double* out) noexcept nogil:
    cdef Py_ssize_t q
    cdef double y
    for q in range(pos, end):
        y = sample_y(mode, p, temp, q - 1, k)
        if usable(t[q - 1], y):
            _add(s, -1.0, t[q - 1] - tc, y - yc)
        y = sample_y(mode, p, temp, q + w - 1, k)
        if usable(t[q + w - 1], y):
            _add(s, 1.0, t[q + w - 1] - tc, y - yc)
        out[q] = leakrig_slope5(s[0], s[1], s[2], s[3], s[4])


cdef void _first_window(int mode, const double* t, const double* p, const double* temp, double k,
                     Py_ssize_t n, Py_ssize_t w, Py_ssize_t start, double* tc, double* yc, double* s,
                     double* out) noexcept nogil:
    """Anchor on the first usable sample from ``start`` and sum the window there."""
    cdef Py_ssize_t j
    cdef double y
    tc[0] = 0.0
    yc[0] = 0.0
    for j in range(start, n):
        y = sample_y(mode, p, temp, j, k)
        if usable(t[j], y):
            tc[0] = t[j]
            yc[0] = y
            break
    _rebuild(mode, t, p, temp, k, start, start + w, tc[0], yc[0], s)
    out[start] = leakrig_slope5(s[0], s[1], s[2], s[3], s[4])


cdef void _move_anchor(int mode, const double* t, const double* p, const double* temp, double k,
                       Py_ssize_t pos, Py_ssize_t w, bint rebuild, double* tc, double* yc,
                       double* s) noexcept nogil:
    """Re-anchor the sums of window [pos - 1, pos - 1 + w) on sample ``pos`` if it is usable."""
    cdef double y = sample_y(mode, p, temp, pos, k), dt, dy
    if not usable(t[pos], y):
        return
    if rebuild:
        _rebuild(mode, t, p, temp, k, pos - 1, pos - 1 + w, t[pos], y, s)
    else:
        dt = t[pos] - tc[0]
        dy = y - yc[0]
        s[3] += dt * (s[0] * dt - 2.0 * s[1])
        s[4] += dt * (s[0] * dy - s[2]) - dy * s[1]
        s[1] -= s[0] * dt
        s[2] -= s[0] * dy
    tc[0] = t[pos]
    yc[0] = y


cdef void _sliding(int mode, const double* t, const double* p, const double* temp, double k,
                   Py_ssize_t n, Py_ssize_t w, double* out) noexcept nogil:
    cdef Py_ssize_t m = n - w + 1, share, count, moves = 0, lane, i, last
    cdef Py_ssize_t start[LEAKRIG_LANES]
    cdef Py_ssize_t pos[LEAKRIG_LANES]
    cdef Py_ssize_t stop[LEAKRIG_LANES]
    cdef double tc[LEAKRIG_LANES]
    cdef double yc[LEAKRIG_LANES]
    cdef double cnt[LEAKRIG_LANES]
    cdef double s[5 * LEAKRIG_LANES]
    cdef double saved[5 * LEAKRIG_LANES]
    cdef double packed[4 * LEAKRIG_LANES]
    cdef bint rebuild, fast
    # Lane l takes positions [start[l], stop[l]); the last lane may be a little shorter.
    share = (m + LEAKRIG_LANES - 1) // LEAKRIG_LANES
    if share < 2:
        _first_window(mode, t, p, temp, k, n, w, 0, &tc[0], &yc[0], &s[0], out)
        _slide_careful(mode, t, p, temp, k, 1, m, w, tc[0], yc[0], &s[0], out)
        return
    for lane in range(LEAKRIG_LANES):
        start[lane] = lane * share if lane * share < m else m
        stop[lane] = (lane + 1) * share if (lane + 1) * share < m else m
        if start[lane] < stop[lane]:
            _first_window(mode, t, p, temp, k, n, w, start[lane], &tc[lane], &yc[lane], &s[5 * lane], out)
        pos[lane] = start[lane] + 1
    last = LEAKRIG_LANES - 1
    while pos[last] < stop[last]:
        count = w if pos[last] + w <= stop[last] else stop[last] - pos[last]
        if moves > 0:
            rebuild = moves % REBUILD == 0
            for lane in range(LEAKRIG_LANES):
                _move_anchor(mode, t, p, temp, k, pos[lane], w, rebuild, &tc[lane], &yc[lane], &s[5 * lane])
        moves += 1
        for i in range(5 * LEAKRIG_LANES):
            saved[i] = s[i]
        fast = True
        for lane in range(LEAKRIG_LANES):
            cnt[lane] = s[5 * lane]
            fast = fast and cnt[lane] >= 2.0
            for i in range(4):
                packed[4 * lane + i] = s[5 * lane + 1 + i]
        if fast and leakrig_slide_lanes(t, p, temp, k, mode == TCOMP, w, pos, count, cnt, tc, yc, packed, out):
            for lane in range(LEAKRIG_LANES):
                for i in range(4):
                    s[5 * lane + 1 + i] = packed[4 * lane + i]
        else:
            for i in range(5 * LEAKRIG_LANES):
                s[i] = saved[i]
            for lane in range(LEAKRIG_LANES):
                _slide_careful(mode, t, p, temp, k, pos[lane], pos[lane] + count, w, tc[lane], yc[lane],
                               &s[5 * lane], out)
        for lane in range(LEAKRIG_LANES):
            pos[lane] += count
    # Earlier lanes can be a few positions longer than the last one.
    for lane in range(last):
        if pos[lane] < stop[lane]:
            _slide_careful(mode, t, p, temp, k, pos[lane], stop[lane], w, tc[lane], yc[lane], &s[5 * lane], out)


def _prepare(Py_ssize_t n, Py_ssize_t window, out):
    if window < 2:
        raise ValueError(f"window must hold at least 2 samples, got {window}")
    if window > n:
        raise ValueError(f"window of {window} samples is longer than the series ({n})")
    if out is None:
        return np.empty(n - window + 1, dtype=np.float64)
    if not (isinstance(out, np.ndarray) and out.dtype == np.float64 and out.ndim == 1
            and out.shape[0] == n - window + 1 and out.flags.c_contiguous and out.flags.writeable):
        raise ValueError(f"out must be a writeable, contiguous float64 array of length {n - window + 1}")
    return out


def sliding_slopes(const double[::1] t, const double[::1] y, Py_ssize_t window, out=None):
    """Slope of y(t) over samples [i, i + window) for every i; NaN where < 2 usable samples.

    ``out``, if given, receives the result (length n - window + 1) and is returned.
    """
    if t.shape[0] != y.shape[0]:
        raise ValueError(f"length mismatch: {t.shape[0]} times, {y.shape[0]} values")
    result = _prepare(t.shape[0], window, out)
    cdef double[::1] view = result
    with nogil:
        _sliding(PLAIN, &t[0], &y[0], &y[0], 0.0, t.shape[0], window, &view[0])
    return result


def sliding_slopes_compensated(const double[::1] t, const double[::1] p, const double[::1] temperature,
                               double t_ref, Py_ssize_t window, out=None):
    """:func:`sliding_slopes` of p * t_ref / T, computed on the fly."""
    if t.shape[0] != p.shape[0] or t.shape[0] != temperature.shape[0]:
        raise ValueError("time, pressure and temperature must have the same length")
    result = _prepare(t.shape[0], window, out)
    cdef double[::1] view = result
    with nogil:
        _sliding(TCOMP, &t[0], &p[0], &temperature[0], t_ref, t.shape[0], window, &view[0])
    return result
