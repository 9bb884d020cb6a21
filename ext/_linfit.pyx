# cython: language_level=3
"""Single-pass, numerically stable straight-line fits over typed memoryviews.

Every function skips samples whose time or ordinate is not finite (NaN marks a gauge
dropout) and counts them; nothing non-finite ever reaches the sums. Results are
returned as plain tuples so that the Python face (``rig.analysis``) owns the statistics.
"""

from libc.math cimport NAN
from _moments cimport (CHUNK, PLAIN, TCOMP, LOGDIFF, ChunkSums, Moments, chunk_reset,
                       moments_merge_chunk, moments_reset, sample_y, usable)


cdef inline Py_ssize_t _careful_sums(int mode, const double* t, const double* p, const double* temp,
                                     Py_ssize_t lo, Py_ssize_t hi, double k, double tc, double yc,
                                     ChunkSums* c) noexcept nogil:
    """Sums of the usable samples only; returns how many were skipped."""
    cdef Py_ssize_t j, skipped = 0
    cdef double tj, yj, dt, dy
    c.n = 0.0
    c.st = 0.0
    c.sy = 0.0
    c.stt = 0.0
    c.sty = 0.0
    c.syy = 0.0
    for j in range(lo, hi):
        tj = t[j]
        yj = sample_y(mode, p, temp, j, k)
        if not usable(tj, yj):
            skipped += 1
            continue
        dt = tj - tc
        dy = yj - yc
        c.n += 1.0
        c.st += dt
        c.sy += dy
        c.stt += dt * dt
        c.sty += dt * dy
        c.syy += dy * dy
    return skipped


cdef extern from "_chunk_kernels.h" nogil:
    void leakrig_chunk_sums_plain(const double* t, const double* y, Py_ssize_t lo, Py_ssize_t hi,
                                  double tc, double yc, double* out)
    void leakrig_chunk_sums_tcomp(const double* t, const double* p, const double* temp, double k,
                                  Py_ssize_t lo, Py_ssize_t hi, double tc, double yc, double* out)
    void leakrig_residual_sums_plain(const double* t, const double* y, Py_ssize_t lo, Py_ssize_t hi,
                                     double t0, double y0, double a, double b, double* out)
    void leakrig_residual_sums_tcomp(const double* t, const double* p, const double* temp, double k,
                                     Py_ssize_t lo, Py_ssize_t hi, double t0, double y0, double a, double b,
                                     double* out)


cdef inline void _fast_sums(int mode, const double* t, const double* p, const double* temp,
                            Py_ssize_t lo, Py_ssize_t hi, double k, double tc, double yc,
                            ChunkSums* c) noexcept nogil:
    """Sums of a chunk assumed all usable (SIMD kernels; PLAIN and TCOMP only)."""
    cdef double out[5]
    if mode == PLAIN:
        leakrig_chunk_sums_plain(t, p, lo, hi, tc, yc, out)
    else:
        leakrig_chunk_sums_tcomp(t, p, temp, k, lo, hi, tc, yc, out)
    c.n = <double>(hi - lo)
    c.st = out[0]
    c.sy = out[1]
    c.stt = out[2]
    c.sty = out[3]
    c.syy = out[4]


cdef Py_ssize_t _fit(const double* t, const double* p, const double* temp, Py_ssize_t n, int mode, double k,
                     Moments* m, double* origin) noexcept nogil:
    """Fold every chunk into ``m``; ``origin`` receives (t0, y0). Returns the samples skipped."""
    cdef Py_ssize_t i = 0, j, end, skipped = 0
    cdef bint have_origin = False
    cdef double tc, yc = 0.0
    cdef ChunkSums c
    moments_reset(m)
    origin[0] = 0.0
    origin[1] = 0.0
    while i < n:
        end = i + CHUNK if i + CHUNK < n else n
        chunk_reset(&c)
        # Anchor the chunk on its first usable sample.
        j = i
        while j < end:
            yc = sample_y(mode, p, temp, j, k)
            if usable(t[j], yc):
                break
            skipped += 1
            j += 1
        if j == end:
            i = end
            continue
        tc = t[j]
        if not have_origin:
            origin[0] = tc
            origin[1] = yc
            have_origin = True
        c.at = tc - origin[0]
        c.ay = yc - origin[1]
        # The fast path assumes every sample is usable; a non-finite sum says otherwise,
        # and the chunk is redone sample by sample. The log transform has no SIMD kernel
        # (and no speed target): it is always done with care.
        if mode == LOGDIFF:
            skipped += _careful_sums(mode, t, p, temp, j, end, k, tc, yc, &c)
        else:
            _fast_sums(mode, t, p, temp, j, end, k, tc, yc, &c)
            if not usable(c.st + c.stt + c.sty, c.sy + c.syy):
                skipped += _careful_sums(mode, t, p, temp, j, end, k, tc, yc, &c)
        moments_merge_chunk(m, &c)
        i = end
    return skipped


cdef inline const double* _data(const double[::1] values) noexcept:
    return &values[0] if values.shape[0] > 0 else NULL


cdef tuple _moments_of(const double[::1] t, const double[::1] p, const double[::1] temp, int mode, double k):
    cdef Moments m
    cdef double origin[2]
    cdef Py_ssize_t skipped
    cdef const double* tp = _data(t)
    cdef const double* pp = _data(p)
    cdef const double* kp = _data(temp)
    with nogil:
        skipped = _fit(tp, pp, kp, t.shape[0], mode, k, &m, origin)
    return (int(m.n), int(skipped), origin[0], origin[1], m.mt, m.my, m.stt, m.sty, m.syy)


cdef Py_ssize_t _check(const double[::1] t, const double[::1] p) except -1:
    if t.shape[0] != p.shape[0]:
        raise ValueError(f"length mismatch: {t.shape[0]} times, {p.shape[0]} values")
    return t.shape[0]


def line_moments(const double[::1] t, const double[::1] y):
    """Centred moments of (t, y) in one pass.

    Returns ``(n, skipped, t0, y0, mean_t, mean_y, s_tt, s_ty, s_yy)`` where
    ``t0, y0`` is the first usable sample, the means are relative to it, and the
    ``s_**`` are centred sums of squares and products. Slope = s_ty / s_tt.
    """
    _check(t, y)
    return _moments_of(t, y, y, PLAIN, 0.0)


def line_moments_compensated(const double[::1] t, const double[::1] p,
                             const double[::1] temperature, double t_ref):
    """As :func:`line_moments` on y = p * t_ref / T, computed on the fly (no temporaries)."""
    _check(t, p)
    _check(t, temperature)
    return _moments_of(t, p, temperature, TCOMP, t_ref)


def line_moments_log(const double[::1] t, const double[::1] p, double p_ext):
    """As :func:`line_moments` on y = ln(p - p_ext); samples with p <= p_ext are skipped."""
    _check(t, p)
    return _moments_of(t, p, p, LOGDIFF, p_ext)


cdef inline double _residual(int mode, const double* t, const double* p, const double* temp, double k,
                             Py_ssize_t i, double t0, double y0, double a, double b) noexcept nogil:
    """Residual of sample i (NaN when the sample is unusable)."""
    cdef double y = sample_y(mode, p, temp, i, k)
    if not usable(t[i], y):
        return NAN
    return (y - y0) - (a + b * (t[i] - t0))


cdef struct ResidualSums:
    double valid
    double sse
    double lag1
    double dsq
    double pairs


cdef void _residuals(const double* t, const double* p, const double* temp, Py_ssize_t n, int mode, double k,
                     double t0, double y0, double a, double b, ResidualSums* rs) noexcept nogil:
    cdef Py_ssize_t i, lo = 0, hi
    cdef double r, prev = 0.0
    cdef double out[3]
    cdef bint have_prev = False, fast
    rs.valid = 0.0
    rs.sse = 0.0
    rs.lag1 = 0.0
    rs.dsq = 0.0
    rs.pairs = 0.0
    while lo < n:
        hi = lo + CHUNK if lo + CHUNK < n else n
        # SIMD sums for a chunk whose samples are all usable (a non-finite sum says
        # otherwise), sample by sample for the rest.
        fast = mode != LOGDIFF
        if fast:
            if mode == PLAIN:
                leakrig_residual_sums_plain(t, p, lo, hi, t0, y0, a, b, out)
            else:
                leakrig_residual_sums_tcomp(t, p, temp, k, lo, hi, t0, y0, a, b, out)
            fast = usable(out[0] + out[1], out[2])
        if fast:
            r = _residual(mode, t, p, temp, k, lo, t0, y0, a, b)
            if have_prev:
                rs.lag1 += r * prev
                rs.dsq += (r - prev) * (r - prev)
                rs.pairs += 1.0
            rs.sse += out[0]
            rs.lag1 += out[1]
            rs.dsq += out[2]
            rs.pairs += <double>(hi - lo - 1)
            rs.valid += <double>(hi - lo)
            prev = _residual(mode, t, p, temp, k, hi - 1, t0, y0, a, b)
            have_prev = True
        else:
            for i in range(lo, hi):
                r = _residual(mode, t, p, temp, k, i, t0, y0, a, b)
                if r != r:
                    continue
                rs.sse += r * r
                rs.valid += 1.0
                if have_prev:
                    rs.lag1 += r * prev
                    rs.dsq += (r - prev) * (r - prev)
                    rs.pairs += 1.0
                prev = r
                have_prev = True
        lo = hi


cdef tuple _residuals_of(const double[::1] t, const double[::1] p, const double[::1] temp, int mode,
                         double k, double t0, double y0, double a, double b):
    cdef ResidualSums rs
    cdef const double* tp = _data(t)
    cdef const double* pp = _data(p)
    cdef const double* kp = _data(temp)
    with nogil:
        _residuals(tp, pp, kp, t.shape[0], mode, k, t0, y0, a, b, &rs)
    return (int(rs.valid), rs.sse, rs.lag1, rs.dsq, int(rs.pairs))


def residual_stats(const double[::1] t, const double[::1] y, double t0, double y0, double a, double b):
    """Second pass over residuals r = (y - y0) - (a + b (t - t0)) of usable samples.

    Returns ``(n, sse, sum r_i r_(i-1), sum (r_i - r_(i-1))^2, pairs)``; pairs join
    consecutive usable samples, so a dropout does not break the lag-1 chain.
    """
    _check(t, y)
    return _residuals_of(t, y, y, PLAIN, 0.0, t0, y0, a, b)


def residual_stats_compensated(const double[::1] t, const double[::1] p, const double[::1] temperature,
                               double t_ref, double t0, double y0, double a, double b):
    """:func:`residual_stats` on y = p * t_ref / T."""
    _check(t, p)
    _check(t, temperature)
    return _residuals_of(t, p, temperature, TCOMP, t_ref, t0, y0, a, b)


def residual_stats_log(const double[::1] t, const double[::1] p, double p_ext,
                       double t0, double y0, double a, double b):
    """:func:`residual_stats` on y = ln(p - p_ext)."""
    _check(t, p)
    return _residuals_of(t, p, p, LOGDIFF, p_ext, t0, y0, a, b)
