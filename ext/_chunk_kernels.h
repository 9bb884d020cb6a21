/*
 * Inner loops of the chunked straight-line fit (see ext/_linfit.pyx), written with
 * GCC/Clang vector extensions so that they run two samples per instruction on any target
 * (SSE2 on x86-64, NEON on aarch64) without -ffast-math: the summation order is fixed
 * here, in four lanes, instead of being left to a reassociating optimiser.
 *
 * The caller guarantees that every sample in [lo, hi) is finite; if one is not, the sums
 * come out non-finite and the caller redoes the chunk sample by sample.
 *
 * The ordinate is y[i] (tcomp == 0) or p[i] * k / temp[i] (tcomp != 0); the public
 * functions pass tcomp as a constant so that each inlined copy has no test in its loop.
 */
#ifndef LEAKRIG_CHUNK_KERNELS_H
#define LEAKRIG_CHUNK_KERNELS_H

#include <stddef.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define LEAKRIG_CHUNK_SIMD 1
typedef double leakrig_v2 __attribute__((vector_size(16)));

static inline leakrig_v2 leakrig_load2(const double *p) {
    leakrig_v2 r;
    memcpy(&r, p, sizeof r); /* unaligned load without aliasing trouble */
    return r;
}
#endif

#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
/* (r_(j-1), r_j) from the previous vector and this one, so each ordinate is computed once. */
#define LEAKRIG_LAGGED(prev, cur) __builtin_shufflevector((prev), (cur), 1, 2)
#else
#define LEAKRIG_LAGGED(prev, cur) ((leakrig_v2){(prev)[1], (cur)[0]})
#endif

static inline double leakrig_ordinate(const double *p, const double *temp, double k, int tcomp,
                                      ptrdiff_t i) {
    return tcomp ? p[i] * k / temp[i] : p[i];
}

#ifdef LEAKRIG_CHUNK_SIMD
static inline leakrig_v2 leakrig_ordinate2(const double *p, const double *temp, leakrig_v2 vk, int tcomp,
                                           ptrdiff_t i) {
    return tcomp ? leakrig_load2(p + i) * vk / leakrig_load2(temp + i) : leakrig_load2(p + i);
}
#endif

/* out[0..4] = sum dt, sum dy, sum dt^2, sum dt*dy, sum dy^2 with dt = t - tc, dy = y - yc. */
static inline void leakrig_chunk_sums(const double *t, const double *p, const double *temp, double k,
                                      int tcomp, ptrdiff_t lo, ptrdiff_t hi, double tc, double yc,
                                      double *out) {
    ptrdiff_t j = lo;
    double a, b;
    out[0] = out[1] = out[2] = out[3] = out[4] = 0.0;
#ifdef LEAKRIG_CHUNK_SIMD
    {
        const leakrig_v2 z = {0.0, 0.0}, vtc = {tc, tc}, vyc = {yc, yc}, vk = {k, k};
        leakrig_v2 st0 = z, st1 = z, sy0 = z, sy1 = z, tt0 = z, tt1 = z;
        leakrig_v2 ty0 = z, ty1 = z, yy0 = z, yy1 = z, st, sy, tt, ty, yy;
        for (; j + 4 <= hi; j += 4) {
            leakrig_v2 a0 = leakrig_load2(t + j) - vtc;
            leakrig_v2 a1 = leakrig_load2(t + j + 2) - vtc;
            leakrig_v2 b0 = leakrig_ordinate2(p, temp, vk, tcomp, j) - vyc;
            leakrig_v2 b1 = leakrig_ordinate2(p, temp, vk, tcomp, j + 2) - vyc;
            st0 += a0; st1 += a1; sy0 += b0; sy1 += b1;
            tt0 += a0 * a0; tt1 += a1 * a1;
            ty0 += a0 * b0; ty1 += a1 * b1;
            yy0 += b0 * b0; yy1 += b1 * b1;
        }
        st = st0 + st1; sy = sy0 + sy1; tt = tt0 + tt1; ty = ty0 + ty1; yy = yy0 + yy1;
        out[0] = st[0] + st[1];
        out[1] = sy[0] + sy[1];
        out[2] = tt[0] + tt[1];
        out[3] = ty[0] + ty[1];
        out[4] = yy[0] + yy[1];
    }
#endif
    for (; j < hi; ++j) {
        a = t[j] - tc;
        b = leakrig_ordinate(p, temp, k, tcomp, j) - yc;
        out[0] += a; out[1] += b; out[2] += a * a; out[3] += a * b; out[4] += b * b;
    }
}

/*
 * Residual sums of a chunk: r = (y - y0) - (a + b (t - t0)); out[0] = sum r^2 over
 * [lo, hi), out[1] = sum r_j r_(j-1) and out[2] = sum (r_j - r_(j-1))^2 over the pairs
 * inside the chunk.
 */
static inline void leakrig_residual_sums(const double *t, const double *p, const double *temp, double k,
                                         int tcomp, ptrdiff_t lo, ptrdiff_t hi, double t0, double y0,
                                         double a, double b, double *out) {
    ptrdiff_t j = lo + 1;
    double r, rp = (leakrig_ordinate(p, temp, k, tcomp, lo) - y0) - (a + b * (t[lo] - t0));
    out[0] = rp * rp;
    out[1] = out[2] = 0.0;
#ifdef LEAKRIG_CHUNK_SIMD
    {
        const leakrig_v2 z = {0.0, 0.0}, vt0 = {t0, t0}, vy0 = {y0, y0}, va = {a, a}, vb = {b, b};
        const leakrig_v2 vk = {k, k};
        leakrig_v2 sse = z, lag = z, dsq = z, prev = {0.0, rp};
        for (; j + 2 <= hi; j += 2) {
            leakrig_v2 rj = (leakrig_ordinate2(p, temp, vk, tcomp, j) - vy0)
                            - (va + vb * (leakrig_load2(t + j) - vt0));
            leakrig_v2 rq = LEAKRIG_LAGGED(prev, rj);
            leakrig_v2 d = rj - rq;
            sse += rj * rj;
            lag += rj * rq;
            dsq += d * d;
            prev = rj;
        }
        out[0] += sse[0] + sse[1];
        out[1] += lag[0] + lag[1];
        out[2] += dsq[0] + dsq[1];
        rp = prev[1];
    }
#endif
    for (; j < hi; ++j) {
        r = (leakrig_ordinate(p, temp, k, tcomp, j) - y0) - (a + b * (t[j] - t0));
        out[0] += r * r;
        out[1] += r * rp;
        out[2] += (r - rp) * (r - rp);
        rp = r;
    }
}

static inline void leakrig_chunk_sums_plain(const double *t, const double *y, ptrdiff_t lo, ptrdiff_t hi,
                                            double tc, double yc, double *out) {
    leakrig_chunk_sums(t, y, y, 0.0, 0, lo, hi, tc, yc, out);
}

static inline void leakrig_chunk_sums_tcomp(const double *t, const double *p, const double *temp, double k,
                                            ptrdiff_t lo, ptrdiff_t hi, double tc, double yc, double *out) {
    leakrig_chunk_sums(t, p, temp, k, 1, lo, hi, tc, yc, out);
}

static inline void leakrig_residual_sums_plain(const double *t, const double *y, ptrdiff_t lo, ptrdiff_t hi,
                                               double t0, double y0, double a, double b, double *out) {
    leakrig_residual_sums(t, y, y, 0.0, 0, lo, hi, t0, y0, a, b, out);
}

static inline void leakrig_residual_sums_tcomp(const double *t, const double *p, const double *temp,
                                               double k, ptrdiff_t lo, ptrdiff_t hi, double t0, double y0,
                                               double a, double b, double *out) {
    leakrig_residual_sums(t, p, temp, k, 1, lo, hi, t0, y0, a, b, out);
}

#endif
