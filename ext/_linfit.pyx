# cython: language_level=3
"""Straight-line fits in one pass over typed memoryviews, finished into a :class:`LineFit`.

Every function skips samples whose time or ordinate is not finite (NaN marks a gauge dropout)
and counts them; nothing non-finite ever reaches the sums. One pass gives the slope, its plain
OLS error and the residuals' lag-1 autocorrelation (``_moments.pxd`` says how); the statistics
that turn them into an honest standard error (``rig.analysis.linefit`` explains them) are done
here too, so that a small fit costs its arithmetic and one result object.
"""

cimport cython
from cpython.buffer cimport PyBUF_C_CONTIGUOUS, PyBUF_FORMAT, PyBuffer_Release, PyObject_GetBuffer
from libc.math cimport sqrt
from _moments cimport (CHUNK, LOOK, PLAIN, TCOMP, LOGDIFF, ChunkSums, LagState, sample_y, state_merge,
                       state_rebase, state_reset, state_shift, usable)

import sys

import numpy as np
from scipy import special

from rig.errors import InsufficientDataError

# The fewest usable samples a line is fitted from (two give no residual).
MIN_SAMPLES = 3
# Keeps the AR(1) inflation finite (at most sqrt(199) ~ 14x) when residuals are a smooth curve.
RHO_CAP = 0.99
# The most negative ρ the inflation deflates for (rig.analysis.linefit says why).
RHO_FLOOR = -0.5

cdef bint _LITTLE_ENDIAN = sys.byteorder == "little"
cdef double _RHO_CAP = RHO_CAP
cdef double _RHO_FLOOR = RHO_FLOOR
cdef Py_ssize_t _MIN_SAMPLES = MIN_SAMPLES


@cython.dataclasses.dataclass(frozen=True)
cdef class LineFit:
    """Least-squares line y = y0 + a + b (t - t0) with its uncertainty.

    ``t0, y0`` is the first usable sample; ``slope`` is b. ``slope_stderr`` is the
    autocorrelation-aware standard error, ``ols_slope_stderr`` the plain one.
    """

    n: cython.Py_ssize_t
    n_skipped: cython.Py_ssize_t
    t0: cython.double
    y0: cython.double
    intercept_rel: cython.double
    slope: cython.double
    ols_slope_stderr: cython.double
    slope_stderr: cython.double
    residual_std: cython.double
    rho1: cython.double
    n_eff: cython.double
    dof: cython.double
    duration: cython.double

    def t_quantile(self, double probability):
        """Student-t quantile at ``probability`` for this fit's degrees of freedom."""
        return float(special.stdtrit(self.dof, probability))

    def predict(self, t):
        """The fitted line at times ``t``."""
        tt = np.asarray(t, dtype=np.float64)
        return self.y0 + self.intercept_rel + self.slope * (tt - self.t0)


cpdef double debiased_rho(double raw, Py_ssize_t n):
    """The lag-1 autocorrelation behind residuals whose lag-1 estimate is ``raw``, capped.

    The lag-1 estimate of the residuals of a fitted line is biased low by about (2 + 4ρ)/n
    (measured for AR(1) noise, n = 10 to 1000) in terms of the true ρ, so ρ = (ρ̂_raw + 2/n)
    / (1 − 4/n) (solving ρ̂_raw = ρ − (2 + 4ρ)/n). Below eight samples, where the bias was
    not measured, the division would amplify the estimate's scatter without bound: it is
    held at the factor 2 it has at eight.
    """
    cdef double nn = <double>n
    cdef double rho = (raw + 2.0 / nn) / max(1.0 - 4.0 / nn, 0.5)
    return min(max(rho, _RHO_FLOOR), _RHO_CAP)


cpdef double lag1_variance_factor(Py_ssize_t n):
    """The exact variance of the lag-1 estimate of white noise's OLS-line residuals, times n.

    For residuals e = Mε of a straight line through n samples of Gaussian white noise, the lag-1
    estimate r = e'Ae/e'e (A: ½ on the first off-diagonals) is independent of e'e, so its first
    two moments are exact ratios of traces (m = n − 2): E r = tr(MA)/m = −2/n and
    Var r = 2·(tr((MA)²) − 4m/n²)/(m(m + 2)), with tr((MA)²) = (n⁵ − 5n⁴ + 7n³ + 13n² − 20n − 20)/
    (2n²(n² − 1)) (fitted on the matrices for n = 4 to 21, checked at 50 and 600). n·Var r is
    0.65 at n = 10, 0.84 at 20, 0.94 at 50 and tends to 1 (Bartlett's 1/n). Used as the
    small-sample factor on Bartlett's (1 − ρ²)/n in :func:`interval_dof`.
    """
    cdef double nn = <double>n, m, tr2, var
    if n < 4:
        return 0.0  # one residual degree of freedom: the estimate does not scatter
    m = nn - 2.0
    tr2 = (((((nn - 5.0) * nn + 7.0) * nn + 13.0) * nn - 20.0) * nn - 20.0) / (2.0 * nn * nn * (nn * nn - 1.0))
    var = 2.0 * (tr2 - 4.0 * m / (nn * nn)) / (m * (m + 2.0))
    return min(max(nn * var, 0.0), 1.0)


cpdef double interval_dof(double rho, Py_ssize_t n):
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
    cdef double nn = <double>n, inflation, residual, nu_sse, dlog, var_log, dof
    rho = min(max(rho, _RHO_FLOOR), _RHO_CAP)
    inflation = (1.0 + rho) / (1.0 - rho)
    residual = max(nn - 2.0 * inflation, 1.0)
    nu_sse = max(residual * (1.0 - rho * rho) / (1.0 + rho * rho), 1.0)
    dlog = 2.0 / (1.0 - rho * rho) + 4.0 / ((1.0 - rho) * (1.0 - rho) * residual)
    var_log = dlog * dlog * (1.0 - rho * rho) / nn * lag1_variance_factor(n)
    dof = 1.0 / (1.0 / nu_sse + var_log / 2.0)
    return min(max(dof, 1.0), max(nn - 2.0, 1.0))


cdef extern from "_chunk_kernels.h" nogil:
    enum: LEAKRIG_CHUNK_SUMS
    void leakrig_chunk_sums_plain(const double* t, const double* y, Py_ssize_t lo, Py_ssize_t hi,
                                  double tc, double yc, double beta, double* out)
    void leakrig_chunk_sums_tcomp(const double* t, const double* p, const double* temp, double k,
                                  Py_ssize_t lo, Py_ssize_t hi, double tc, double yc, double beta, double* out)


cdef Py_ssize_t _careful_sums(int mode, const double* t, const double* p, const double* temp, double k,
                              Py_ssize_t lo, Py_ssize_t hi, double tc, double yc, double beta,
                              ChunkSums* c) noexcept nogil:
    """A chunk's sums over its usable samples only (lo is usable: the anchor); returns the skipped."""
    cdef Py_ssize_t j, skipped = 0
    cdef double tj, yj, a, b, pa = 0.0, pb = 0.0
    c.n = 0.0
    c.sa = c.sb = c.saa = c.sab = c.sbb = 0.0
    c.raa = c.rx = c.rbb = 0.0
    for j in range(lo, hi):
        tj = t[j]
        yj = sample_y(mode, p, temp, j, k)
        if not usable(tj, yj):
            skipped += 1
            continue
        a = tj - tc
        b = (yj - yc) - beta * a
        c.n += 1.0
        c.sa += a
        c.sb += b
        c.saa += a * a
        c.sab += a * b
        c.sbb += b * b
        # Pairs join consecutive usable samples; the anchor's predecessor counts as (0, 0).
        c.raa += pa * a
        c.rx += pa * b + pb * a
        c.rbb += pb * b
        pa = a
        pb = b
    c.la = pa
    c.lb = pb
    return skipped


cdef Py_ssize_t _chunk_sums(int mode, const double* t, const double* p, const double* temp, double k,
                            Py_ssize_t lo, Py_ssize_t hi, double tc, double yc, double beta,
                            ChunkSums* c) noexcept nogil:
    """A chunk's sums: the vector kernel, redone sample by sample if a sum is not finite."""
    cdef double out[LEAKRIG_CHUNK_SUMS]
    cdef double ts, ys
    if mode == LOGDIFF:  # no vector kernel (and no speed target) for the log transform
        return _careful_sums(mode, t, p, temp, k, lo, hi, tc, yc, beta, c)
    if mode == PLAIN:
        leakrig_chunk_sums_plain(t, p, lo, hi, tc, yc, beta, out)
    else:
        leakrig_chunk_sums_tcomp(t, p, temp, k, lo, hi, tc, yc, beta, out)
    ts = out[0] + out[2] + out[3] + out[5] + out[6]
    ys = out[1] + out[4] + out[7]
    if not usable(ts, ys):
        return _careful_sums(mode, t, p, temp, k, lo, hi, tc, yc, beta, c)
    c.n = <double>(hi - lo)
    c.sa = out[0]
    c.sb = out[1]
    c.saa = out[2]
    c.sab = out[3]
    c.sbb = out[4]
    c.raa = out[5]
    c.rx = out[6]
    c.rbb = out[7]
    c.la = out[8]
    c.lb = out[9]
    return 0


cdef Py_ssize_t _fit(const double* t, const double* p, const double* temp, Py_ssize_t n, int mode, double k,
                     LagState* s, double* origin) noexcept nogil:
    """Fold every chunk into ``s``; ``origin`` receives (t0, y0). Returns the samples skipped."""
    cdef Py_ssize_t i = 0, j, end, look, skipped = 0
    cdef bint have_origin = False
    cdef double tc, yc = 0.0, stt, last_t = 0.0, last_y = 0.0
    cdef ChunkSums c
    state_reset(s, 0.0)
    origin[0] = 0.0
    origin[1] = 0.0
    while i < n:
        end = i + CHUNK if i + CHUNK < n else n
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
        if s.n < LOOK:
            # The state's slope may be none yet (a first chunk, or one with a single usable sample)
            # or a poor one: a first look at the chunk's first samples (in cache) gives one, so that
            # the chunk's sums too are at the noise's scale.
            look = j + LOOK if j + LOOK < end else end
            _chunk_sums(mode, t, p, temp, k, j, look, tc, yc, s.beta, &c)
            if c.n < LOOK // 2 and look < end:  # dropouts: a few samples close together are no slope
                _chunk_sums(mode, t, p, temp, k, j, end, tc, yc, s.beta, &c)
            stt = c.saa - c.sa * c.sa / c.n if c.n > 1.0 else 0.0
            if stt > 0.0:
                state_shift(s, (c.sab - c.sa * c.sb / c.n) / stt)
        c.at = tc - origin[0]
        # The anchor's z from the state's last sample, a neighbour: (yc - y0) - beta (tc - t0) would
        # round at the scale of the whole trend (beta times the series' length), every chunk.
        if s.n > 0.0:
            c.az = s.last_z + ((yc - last_y) - s.beta * (tc - last_t))
        else:
            c.az = (yc - origin[1]) - s.beta * c.at
        skipped += _chunk_sums(mode, t, p, temp, k, j, end, tc, yc, s.beta, &c)
        state_merge(s, &c)
        state_rebase(s)
        # The chunk's last usable sample, raw, for the next anchor (no dropout: the last sample).
        j = end - 1
        while True:
            last_y = sample_y(mode, p, temp, j, k)
            if usable(t[j], last_y):
                break
            j -= 1
        last_t = t[j]
        i = end
    return skipped


cdef double _span(const double* t, Py_ssize_t n) noexcept nogil:
    """Time from the first to the last finite time stamp (0 when there is none)."""
    cdef Py_ssize_t i = 0, j = n - 1
    while i < n and not (t[i] - t[i]) == 0.0:
        i += 1
    if i == n:
        return 0.0
    while not (t[j] - t[j]) == 0.0:
        j -= 1
    return t[j] - t[i]


cdef struct Arrays:
    # The arrays of one call, held through the buffer protocol: a typed memoryview would allocate an
    # object per array and call, and a small fit should allocate nothing it does not return.
    Py_buffer views[3]
    int held
    Py_ssize_t n


cdef inline bint _is_double(const char* fmt) noexcept:
    if fmt == NULL:
        return False
    if fmt[0] == b"@" or fmt[0] == b"=" or (fmt[0] == b"<" and _LITTLE_ENDIAN):
        fmt += 1
    return fmt[0] == b"d" and fmt[1] == 0


cdef int _hold(Arrays* a, object values) except -1:
    """Hold ``values`` (a contiguous 1-D float64 buffer) as the next array of the call."""
    cdef Py_buffer* view = &a.views[a.held]
    PyObject_GetBuffer(values, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT)
    a.held += 1
    if view.ndim != 1 or view.itemsize != 8 or not _is_double(view.format):
        raise ValueError("expected a one-dimensional, contiguous float64 array")
    if a.held == 1:
        a.n = view.shape[0]
    elif view.shape[0] != a.n:
        raise ValueError(f"length mismatch: {a.n} times, {view.shape[0]} values")
    return 0


cdef inline const double* _at(Arrays* a, int i) noexcept nogil:
    return <const double*>a.views[i].buf


cdef void _release(Arrays* a) noexcept:
    while a.held > 0:
        a.held -= 1
        PyBuffer_Release(&a.views[a.held])


cdef LineFit _line(const double* tp, const double* pp, const double* kp, Py_ssize_t size, int mode, double k,
                   bint autocorrelation):
    cdef LagState s
    cdef double origin[2]
    cdef Py_ssize_t skipped, n
    cdef double span, slope, bz, sse, lag1, rho, dof, inflation, n_eff
    cdef LineFit fit
    with nogil:
        skipped = _fit(tp, pp, kp, size, mode, k, &s, origin)
        span = _span(tp, size) if size > 0 else 0.0
    n = <Py_ssize_t>s.n
    if n < _MIN_SAMPLES:
        raise InsufficientDataError(f"need at least {MIN_SAMPLES} usable samples, got {n}")
    if not s.stt > 0.0:
        raise InsufficientDataError("all usable samples share one time stamp")
    # The state sits at its own slope (rebased after the last chunk): bz is rounding-sized.
    bz = s.stz / s.stt
    slope = s.beta + bz
    sse = max(s.szz - s.stz * bz, 0.0)
    fit = LineFit.__new__(LineFit)
    fit.n = n
    fit.n_skipped = skipped
    fit.t0 = origin[0]
    fit.y0 = origin[1]
    fit.intercept_rel = s.mz - bz * s.mt
    fit.slope = slope
    fit.residual_std = sqrt(sse / (n - 2))
    fit.ols_slope_stderr = sqrt(sse / (n - 2) / s.stt)
    rho = 0.0
    dof = <double>(n - 2)
    if autocorrelation and sse > 0.0 and s.pairs > 0.0:
        lag1 = s.lzz - bz * s.lx + bz * bz * s.ltt
        rho = debiased_rho(lag1 / sse, n)
        dof = interval_dof(rho, n)
    # The AR(1) inflation of either sign, and the two effective samples the line took
    # (rig.analysis.linefit's docstring): var(slope) = SSE/((n_eff − 2)·S_tt).
    inflation = (1.0 + rho) / (1.0 - rho)
    n_eff = n / inflation
    fit.slope_stderr = sqrt(sse / (max(n_eff - 2.0, 1.0) * s.stt))
    fit.rho1 = rho
    fit.n_eff = n_eff
    fit.dof = dof
    fit.duration = span
    return fit


def fit_line(t, y):
    """Fit y(t) in one pass: slope, autocorrelation-aware error (NaN samples skipped and counted).

    ``t`` and ``y`` are contiguous one-dimensional float64 arrays of one length.
    """
    cdef Arrays a
    a.held = 0
    try:
        _hold(&a, t)
        _hold(&a, y)
        return _line(_at(&a, 0), _at(&a, 1), _at(&a, 1), a.n, PLAIN, 0.0, True)
    finally:
        _release(&a)


def fit_line_compensated(t, p, temperature, double t_ref):
    """:func:`fit_line` of y = p * t_ref / T, computed on the fly (no temporaries)."""
    cdef Arrays a
    a.held = 0
    try:
        _hold(&a, t)
        _hold(&a, p)
        _hold(&a, temperature)
        return _line(_at(&a, 0), _at(&a, 1), _at(&a, 2), a.n, TCOMP, t_ref, True)
    finally:
        _release(&a)


def fit_line_log(t, p, double p_ext):
    """:func:`fit_line` of y = ln(p - p_ext); samples with p <= p_ext are skipped."""
    cdef Arrays a
    a.held = 0
    try:
        _hold(&a, t)
        _hold(&a, p)
        return _line(_at(&a, 0), _at(&a, 1), _at(&a, 1), a.n, LOGDIFF, p_ext, True)
    finally:
        _release(&a)


def fit_line_plain_error(t, y, temperature=None, double t_ref=293.15):
    """:func:`fit_line` (or its compensated form) with the plain OLS error: no autocorrelation."""
    cdef Arrays a
    a.held = 0
    try:
        _hold(&a, t)
        _hold(&a, y)
        if temperature is None:
            return _line(_at(&a, 0), _at(&a, 1), _at(&a, 1), a.n, PLAIN, 0.0, False)
        _hold(&a, temperature)
        return _line(_at(&a, 0), _at(&a, 1), _at(&a, 2), a.n, TCOMP, t_ref, False)
    finally:
        _release(&a)


cdef tuple _moments_of(object t, object p, object temp, int mode, double k):
    cdef LagState s
    cdef double origin[2]
    cdef Py_ssize_t skipped
    cdef Arrays a
    a.held = 0
    try:
        _hold(&a, t)
        _hold(&a, p)
        if temp is not None:
            _hold(&a, temp)
        with nogil:
            skipped = _fit(_at(&a, 0), _at(&a, 1), _at(&a, a.held - 1), a.n, mode, k, &s, origin)
    finally:
        _release(&a)
    # From the provisional frame z = (y - y0) - beta (t - t0) back to y.
    return (int(s.n), int(skipped), origin[0], origin[1], s.mt, s.mz + s.beta * s.mt, s.stt,
            s.stz + s.beta * s.stt, s.szz + 2.0 * s.beta * s.stz + s.beta * s.beta * s.stt)


def line_moments(t, y):
    """Centred moments of (t, y) in one pass.

    Returns ``(n, skipped, t0, y0, mean_t, mean_y, s_tt, s_ty, s_yy)`` where
    ``t0, y0`` is the first usable sample, the means are relative to it, and the
    ``s_**`` are centred sums of squares and products. Slope = s_ty / s_tt.
    """
    return _moments_of(t, y, None, PLAIN, 0.0)


def line_moments_compensated(t, p, temperature, double t_ref):
    """As :func:`line_moments` on y = p * t_ref / T, computed on the fly (no temporaries)."""
    return _moments_of(t, p, temperature, TCOMP, t_ref)


def line_moments_log(t, p, double p_ext):
    """As :func:`line_moments` on y = ln(p - p_ext); samples with p <= p_ext are skipped."""
    return _moments_of(t, p, None, LOGDIFF, p_ext)
