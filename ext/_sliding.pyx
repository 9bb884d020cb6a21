# cython: language_level=3
"""Least-squares slopes over a sliding window of samples, for every position, in O(n).

Running sums move by the difference between the entering and the leaving sample. To
keep them small (and so free of cancellation) they are taken relative to an anchor
sample that moves every ``window`` positions, when the window's sums are rebuilt from
scratch: the rebuild costs O(window) once per ``window`` steps, so the pass stays
O(n) and rounding cannot accumulate over more than one block.
"""

import numpy as np

from libc.math cimport NAN
from _moments cimport PLAIN, TCOMP, sample_y, usable


cdef inline double _slope(double cnt, double st, double sy, double stt, double sty) noexcept nogil:
    cdef double sxx
    if cnt < 2.0:
        return NAN
    sxx = cnt * stt - st * st
    if not sxx > 0.0:
        return NAN
    return (cnt * sty - st * sy) / sxx


cdef inline void _sliding(int mode, const double* t, const double* p, const double* temp, double k,
                          Py_ssize_t n, Py_ssize_t w, double* out) noexcept nogil:
    cdef Py_ssize_t m = n - w + 1, s, j, pos, stop
    cdef double tc = 0.0, yc = 0.0, tj, yj, dt, dy, ti, yi, dto, dyo, vi, vo
    cdef double cnt, st, sy, stt, sty
    cdef bint anchored
    s = 0
    while s < m:
        stop = s + w if s + w < m else m
        # Every window of this block lies in [s, stop + w - 1): anchor on its first usable sample.
        anchored = False
        for j in range(s, stop + w - 1):
            tj = t[j]
            yj = sample_y(mode, p, temp, j, k)
            if usable(tj, yj):
                tc = tj
                yc = yj
                anchored = True
                break
        if not anchored:
            for pos in range(s, stop):
                out[pos] = NAN
            s = stop
            continue
        cnt = 0.0
        st = 0.0
        sy = 0.0
        stt = 0.0
        sty = 0.0
        for j in range(s, s + w):
            tj = t[j]
            yj = sample_y(mode, p, temp, j, k)
            if usable(tj, yj):
                dt = tj - tc
                dy = yj - yc
                cnt += 1.0
                st += dt
                sy += dy
                stt += dt * dt
                sty += dt * dy
        out[s] = _slope(cnt, st, sy, stt, sty)
        for pos in range(s + 1, stop):
            # Branch-free: an unusable sample contributes zeros. Each running sum moves by
            # one difference, so only one add per sum sits on the loop-carried path.
            ti = t[pos + w - 1]
            yi = sample_y(mode, p, temp, pos + w - 1, k)
            tj = t[pos - 1]
            yj = sample_y(mode, p, temp, pos - 1, k)
            vi = 1.0 if usable(ti, yi) else 0.0
            vo = 1.0 if usable(tj, yj) else 0.0
            dt = (ti - tc) if vi != 0.0 else 0.0
            dy = (yi - yc) if vi != 0.0 else 0.0
            dto = (tj - tc) if vo != 0.0 else 0.0
            dyo = (yj - yc) if vo != 0.0 else 0.0
            cnt += vi - vo
            st += dt - dto
            sy += dy - dyo
            stt += dt * dt - dto * dto
            sty += dt * dy - dto * dyo
            out[pos] = _slope(cnt, st, sy, stt, sty)
        s = stop


def _prepare(Py_ssize_t n, Py_ssize_t window):
    if window < 2:
        raise ValueError(f"window must hold at least 2 samples, got {window}")
    if window > n:
        raise ValueError(f"window of {window} samples is longer than the series ({n})")
    return np.empty(n - window + 1, dtype=np.float64)


def sliding_slopes(const double[::1] t, const double[::1] y, Py_ssize_t window):
    """Slope of y(t) over samples [i, i + window) for every i; NaN where < 2 usable samples."""
    if t.shape[0] != y.shape[0]:
        raise ValueError(f"length mismatch: {t.shape[0]} times, {y.shape[0]} values")
    out = _prepare(t.shape[0], window)
    cdef double[::1] view = out
    with nogil:
        _sliding(PLAIN, &t[0], &y[0], &y[0], 0.0, t.shape[0], window, &view[0])
    return out


def sliding_slopes_compensated(const double[::1] t, const double[::1] p, const double[::1] temperature,
                               double t_ref, Py_ssize_t window):
    """:func:`sliding_slopes` of p * t_ref / T, computed on the fly."""
    if t.shape[0] != p.shape[0] or t.shape[0] != temperature.shape[0]:
        raise ValueError("time, pressure and temperature must have the same length")
    out = _prepare(t.shape[0], window)
    cdef double[::1] view = out
    with nogil:
        _sliding(TCOMP, &t[0], &p[0], &temperature[0], t_ref, t.shape[0], window, &view[0])
    return out
