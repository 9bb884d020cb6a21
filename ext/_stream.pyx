# cython: language_level=3
"""A streaming straight-line fit with O(1) updates, for a live leak-rate estimate."""

from libc.math cimport sqrt, NAN


cdef class StreamingFit:
    """Running least-squares line through (t, y) samples, updated one sample at a time.

    Welford-style updates of centred moments, with every value taken relative to the
    first valid sample so that epoch times and 1e5 Pa offsets cost no precision.
    NaN samples are skipped and counted.
    """

    cdef public Py_ssize_t n
    cdef public Py_ssize_t skipped
    cdef double t0, y0, mt, my, stt, sty, syy

    def __init__(self):
        self.reset()

    def reset(self):
        """Forget every sample."""
        self.n = 0
        self.skipped = 0
        self.t0 = 0.0
        self.y0 = 0.0
        self.mt = 0.0
        self.my = 0.0
        self.stt = 0.0
        self.sty = 0.0
        self.syy = 0.0

    cdef inline void _add(self, double t, double y) noexcept nogil:
        cdef double dt, dy, inv
        if t != t or y != y:
            self.skipped += 1
            return
        if self.n == 0:
            self.t0 = t
            self.y0 = y
        t -= self.t0
        y -= self.y0
        self.n += 1
        inv = 1.0 / self.n
        dt = t - self.mt
        dy = y - self.my
        self.mt += dt * inv
        self.my += dy * inv
        self.stt += dt * (t - self.mt)
        self.sty += dt * (y - self.my)
        self.syy += dy * (y - self.my)

    def add(self, double t, double y):
        """Add one sample (t in s, y in the ordinate's unit)."""
        self._add(t, y)

    def extend(self, const double[::1] t, const double[::1] y):
        """Add many samples in order."""
        cdef Py_ssize_t i
        if t.shape[0] != y.shape[0]:
            raise ValueError(f"length mismatch: {t.shape[0]} times, {y.shape[0]} values")
        with nogil:
            for i in range(t.shape[0]):
                self._add(t[i], y[i])

    @property
    def slope(self):
        """Least-squares slope so far (NaN before two distinct times)."""
        if self.n < 2 or not self.stt > 0.0:
            return NAN
        return self.sty / self.stt

    @property
    def slope_stderr(self):
        """Plain OLS standard error of the slope (NaN before three samples)."""
        cdef double sse
        if self.n < 3 or not self.stt > 0.0:
            return NAN
        sse = self.syy - self.sty * self.sty / self.stt
        if sse < 0.0:
            sse = 0.0
        return sqrt(sse / (self.n - 2) / self.stt)

    def moments(self):
        """``(n, skipped, t0, y0, mean_t, mean_y, s_tt, s_ty, s_yy)`` as the batch fits return."""
        return (self.n, self.skipped, self.t0, self.y0, self.mt, self.my, self.stt, self.sty, self.syy)
