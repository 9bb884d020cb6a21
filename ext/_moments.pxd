# Shared, header-only pieces of the compiled core: the sample transforms and the
# chunked co-moment accumulator used by every straight-line fit.
#
# Why chunks: naive sums of t², t·y on epoch timestamps (~1.7e9 s) and pressures
# (~1e5 Pa) cancel catastrophically, and Welford's per-sample update needs a
# division on the loop-carried path. Instead each chunk of CHUNK samples is summed
# relative to its own first valid sample (an exact subtraction by Sterbenz's lemma
# for nearby doubles), so the chunk sums are small and well conditioned; chunks are
# then merged into centred moments with Chan's pairwise formula. All means are held
# relative to the first valid sample of the whole series (the origin).

from libc.math cimport log, NAN

cdef enum:
    CHUNK = 256

cdef enum Transform:
    PLAIN = 0   # y = p
    TCOMP = 1   # y = p * t_ref / T   (temperature-compensated pressure)
    LOGDIFF = 2 # y = ln(p - p_ext)   (exponential decay towards p_ext)


cdef inline double sample_y(int mode, const double* p, const double* temp,
                            Py_ssize_t i, double k) noexcept nogil:
    """The fitted ordinate of sample i (NaN for a sample to skip)."""
    cdef double d
    if mode == PLAIN:
        return p[i]
    elif mode == TCOMP:
        return p[i] * k / temp[i]
    d = p[i] - k
    if d > 0.0:
        return log(d)
    return NAN


cdef inline bint usable(double t, double y) noexcept nogil:
    """True when both values are finite: x - x is NaN for NaN and for +-inf."""
    return (t - t) == 0.0 and (y - y) == 0.0


cdef struct Moments:
    double n     # valid samples
    double mt    # mean of t, relative to the origin t0
    double my    # mean of y, relative to the origin y0
    double stt   # sum of (t - mean t)^2
    double sty   # sum of (t - mean t)(y - mean y)
    double syy   # sum of (y - mean y)^2


cdef struct ChunkSums:
    double n
    double at    # chunk anchor relative to the origin
    double ay
    double st    # raw sums of (t - anchor), (y - anchor) ...
    double sy
    double stt
    double sty
    double syy


cdef inline void chunk_reset(ChunkSums* c) noexcept nogil:
    c.n = 0.0
    c.at = 0.0
    c.ay = 0.0
    c.st = 0.0
    c.sy = 0.0
    c.stt = 0.0
    c.sty = 0.0
    c.syy = 0.0


cdef inline void moments_reset(Moments* m) noexcept nogil:
    m.n = 0.0
    m.mt = 0.0
    m.my = 0.0
    m.stt = 0.0
    m.sty = 0.0
    m.syy = 0.0


cdef inline void moments_merge_chunk(Moments* m, const ChunkSums* c) noexcept nogil:
    """Fold one chunk's raw sums into the running centred moments (Chan et al.)."""
    cdef double cmt, cmy, ctt, cty, cyy, mean_t, mean_y, n, dt, dy, f
    if c.n == 0.0:
        return
    cmt = c.st / c.n
    cmy = c.sy / c.n
    ctt = c.stt - c.st * cmt
    cty = c.sty - c.st * cmy
    cyy = c.syy - c.sy * cmy
    mean_t = c.at + cmt
    mean_y = c.ay + cmy
    if m.n == 0.0:
        m.n = c.n
        m.mt = mean_t
        m.my = mean_y
        m.stt = ctt
        m.sty = cty
        m.syy = cyy
        return
    n = m.n + c.n
    dt = mean_t - m.mt
    dy = mean_y - m.my
    f = m.n * c.n / n
    m.stt += ctt + dt * dt * f
    m.sty += cty + dt * dy * f
    m.syy += cyy + dy * dy * f
    m.mt += dt * (c.n / n)
    m.my += dy * (c.n / n)
    m.n = n
