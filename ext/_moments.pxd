# Shared, header-only pieces of the compiled core: the sample transforms and the
# chunked co-moment accumulator of the straight-line fits, lag-1 co-moments included.
#
# Why chunks: naive sums of t², t·y on epoch timestamps (~1.7e9 s) and pressures
# (~1e5 Pa) cancel catastrophically, and Welford's per-sample update needs a
# division on the loop-carried path. Instead each chunk of CHUNK samples is summed
# relative to its own first valid sample (an exact subtraction by Sterbenz's lemma
# for nearby doubles), so the chunk sums are small and well conditioned; chunks are
# then merged into centred moments with Chan's pairwise formula. All means are held
# relative to the first valid sample of the whole series (the origin).
#
# Why a provisional slope: the residuals' lag-1 sum and their sum of squares come from
# these moments in the same pass (sum r_i r_(i+1) = L_zz - b (L_tz + L_zt) + b^2 L_tt).
# On the raw ordinate that is a difference of numbers of the trend's size, which loses
# every digit of the noise when a trend dwarfs it (a perfect line, a large leak seen by a
# quiet gauge). So the ordinate is held as z = (y - y0) - beta (t - t0), beta being the
# slope of the samples folded so far: z stays at the scale of the noise, and after each
# chunk the state is moved to the new beta by an exact linear map of its moments.

from libc.math cimport log, NAN

cdef enum:
    CHUNK = 1024
    LOOK = 64    # samples of a first look at a chunk, for a provisional slope

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


cdef struct LagState:
    double n      # usable samples
    double pairs  # consecutive usable samples (a dropout does not break the chain)
    double beta   # provisional slope: z = (y - y0) - beta (t - t0)
    double mt     # means of t - t0 and of z
    double mz
    double stt    # centred sums of squares and products
    double stz
    double szz
    double ltt    # centred lag-1 sums over the pairs: sum (t_i - mt)(t_(i+1) - mt), ...
    double lx     # ... (t_i - mt)(z_(i+1) - mz) + (z_i - mz)(t_(i+1) - mt): the fit needs only the sum
    double lzz    # ... (z_i - mz)(z_(i+1) - mz)
    double last_t # the last usable sample (t - t0, z); the first is the origin, (0, 0)
    double last_z


cdef struct ChunkSums:
    # One chunk's raw sums relative to its anchor (its first usable sample, where a = b = 0):
    # a = t - tc, b = (y - yc) - beta a, with the state's beta.
    double n
    double at    # the anchor relative to the origin: tc - t0 and its z
    double az
    double sa
    double sb
    double saa
    double sab
    double sbb
    double raa   # lag-1 sums over the chunk's own pairs: sum a_i a_(i+1),
    double rx    # sum a_i b_(i+1) + b_i a_(i+1),
    double rbb   # sum b_i b_(i+1)
    double la    # a and b of the chunk's last usable sample
    double lb


cdef inline void state_reset(LagState* s, double beta) noexcept nogil:
    s.n = 0.0
    s.pairs = 0.0
    s.beta = beta
    s.mt = 0.0
    s.mz = 0.0
    s.stt = 0.0
    s.stz = 0.0
    s.szz = 0.0
    s.ltt = 0.0
    s.lx = 0.0
    s.lzz = 0.0
    s.last_t = 0.0
    s.last_z = 0.0


cdef inline double _lag_centred(double r, double mx, double my, double sx, double lx, double sy,
                                double pairs) noexcept nogil:
    """A chunk's lag sum sum x_i y_(i+1) centred at its own means.

    sum over pairs of (x_i - mx)(y_(i+1) - my) = r - my (sx - x_last) - mx (sy - y_first) + pairs mx my,
    and y_first = 0 at the anchor.
    """
    return r - my * (sx - lx) - mx * sy + pairs * mx * my


cdef inline double _lag_centred_sum(double r, double mt, double mz, double st, double lt, double sz,
                                    double lz, double pairs) noexcept nogil:
    """The chunk's sum x_i y_(i+1) + y_i x_(i+1) centred at its means (two :func:`_lag_centred`)."""
    return (r - mz * (st - lt) - mt * sz + pairs * mt * mz) - mt * (sz - lz) - mz * st + pairs * mz * mt


cdef inline void state_merge(LagState* s, const ChunkSums* c) noexcept nogil:
    """Fold a chunk into the state (same beta), centring every sum at the merged means.

    A set whose deviations from its mean sum to zero keeps, under a move of the mean by d,
    sum_pairs (x_i - m - dx)(y_(i+1) - m - dy) = L + dy (x_last - mx) + dx (y_first - my) + pairs dx dy
    (its pairs leave out the last sample as first member and the first as second); the pair
    joining the state's last sample to the chunk's first is added at the merged means.
    """
    cdef double n, cmt, cmz, ctt, ctz, czz, clt, clz, cltt, clx, clzz
    cdef double dt, dz, ua, uz, va, vz, ft, fz, n_old
    if c.n == 0.0:
        return
    # The chunk, centred at its own means (relative to its anchor).
    cmt = c.sa / c.n
    cmz = c.sb / c.n
    ctt = c.saa - c.sa * cmt
    ctz = c.sab - c.sa * cmz
    czz = c.sbb - c.sb * cmz
    cltt = _lag_centred(c.raa, cmt, cmt, c.sa, c.la, c.sa, c.n - 1.0)
    clx = _lag_centred_sum(c.rx, cmt, cmz, c.sa, c.la, c.sb, c.lb, c.n - 1.0)
    clzz = _lag_centred(c.rbb, cmz, cmz, c.sb, c.lb, c.sb, c.n - 1.0)
    clt = c.la - cmt  # the chunk's last sample, relative to its means
    clz = c.lb - cmz
    if s.n == 0.0:
        s.n = c.n
        s.pairs = c.n - 1.0
        s.mt = c.at + cmt
        s.mz = c.az + cmz
        s.stt = ctt
        s.stz = ctz
        s.szz = czz
        s.ltt = cltt
        s.lx = clx
        s.lzz = clzz
        s.last_t = c.at + c.la
        s.last_z = c.az + c.lb
        return
    n_old = s.n
    n = s.n + c.n
    dt = (c.at + cmt) - s.mt  # chunk mean minus state mean
    dz = (c.az + cmz) - s.mz
    # The state's mean moves by (ua, uz), the chunk's by (va, vz), both to the merged mean.
    ua = dt * (c.n / n)
    uz = dz * (c.n / n)
    va = -dt * (n_old / n)
    vz = -dz * (n_old / n)
    # The state's lag sums at the merged means: its last sample relative to its means is
    # (ft, fz), its first (the origin) is (-mt, -mz).
    ft = s.last_t - s.mt
    fz = s.last_z - s.mz
    s.ltt += ua * ft + ua * (-s.mt) + s.pairs * ua * ua
    s.lx += (uz * ft + ua * (-s.mz) + ua * fz + uz * (-s.mt)) + 2.0 * s.pairs * ua * uz
    s.lzz += uz * fz + uz * (-s.mz) + s.pairs * uz * uz
    # The chunk's: its last sample relative to its means is (clt, clz), its first (the anchor)
    # is (-cmt, -cmz).
    s.ltt += cltt + va * clt + va * (-cmt) + (c.n - 1.0) * va * va
    s.lx += clx + (vz * clt + va * (-cmz) + va * clz + vz * (-cmt)) + 2.0 * (c.n - 1.0) * va * vz
    s.lzz += clzz + vz * clz + vz * (-cmz) + (c.n - 1.0) * vz * vz
    # The pair across the boundary, both ends at the merged means.
    s.ltt += (ft - ua) * (-cmt - va)
    s.lx += (ft - ua) * (-cmz - vz) + (fz - uz) * (-cmt - va)
    s.lzz += (fz - uz) * (-cmz - vz)
    # Chan's merge of the plain co-moments.
    s.stt += ctt + dt * ua * n_old
    s.stz += ctz + dt * uz * n_old
    s.szz += czz + dz * uz * n_old
    s.mt += ua
    s.mz += uz
    s.n = n
    s.pairs += c.n
    s.last_t = c.at + c.la
    s.last_z = c.az + c.lb


cdef inline void state_shift(LagState* s, double d) noexcept nogil:
    """Move the state to the provisional slope beta + d: z' = z - d (t - t0), an exact linear map."""
    cdef double beta = s.beta + d
    # The moments move by the step beta actually took: the next chunk's z is taken with the rounded
    # beta, and a rounding of beta + d (an ulp of beta) times t - t0 would be a trend in z.
    d = beta - s.beta
    s.lzz += -d * s.lx + d * d * s.ltt
    s.lx -= 2.0 * d * s.ltt
    s.szz += -2.0 * d * s.stz + d * d * s.stt
    s.stz -= d * s.stt
    s.mz -= d * s.mt
    s.last_z -= d * s.last_t
    s.beta = beta


cdef inline void state_rebase(LagState* s) noexcept nogil:
    """Move the state to its own slope so far, beta + stz/stt (kept while it has none)."""
    if s.stt > 0.0:
        state_shift(s, s.stz / s.stt)
