/*
 * Inner loops of the chunked straight-line fit, written with GCC/Clang vector
 * extensions so that they run two samples per instruction on any target (SSE2 on
 * x86-64, NEON on aarch64) without -ffast-math: summation order is fixed here, in
 * four lanes, instead of being left to a reassociating optimiser.
 *
 * The caller guarantees that every sample in [lo, hi) is finite; if one is not, the
 * sums come out non-finite and the caller redoes the chunk sample by sample.
 * out[0..4] receive sum dt, sum dy, sum dt^2, sum dt*dy, sum dy^2 with
 * dt = t - tc and dy = y - yc.
 */
#ifndef LEAKRIG_CHUNK_KERNELS_H
#define LEAKRIG_CHUNK_KERNELS_H

#include <stddef.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
typedef double leakrig_v2 __attribute__((vector_size(16)));

static inline leakrig_v2 leakrig_load2(const double *p) {
    leakrig_v2 r;
    memcpy(&r, p, sizeof r); /* unaligned load without aliasing trouble */
    return r;
}

#define LEAKRIG_CHUNK_BODY(LOAD_Y)                                                   \
    const leakrig_v2 z = {0.0, 0.0};                                                 \
    const leakrig_v2 vtc = {tc, tc}, vyc = {yc, yc};                                 \
    leakrig_v2 st0 = z, st1 = z, sy0 = z, sy1 = z, tt0 = z, tt1 = z;                 \
    leakrig_v2 ty0 = z, ty1 = z, yy0 = z, yy1 = z;                                   \
    leakrig_v2 st, sy, tt, ty, yy;                                                   \
    double a, b;                                                                     \
    ptrdiff_t j = lo;                                                                \
    for (; j + 4 <= hi; j += 4) {                                                    \
        leakrig_v2 a0 = leakrig_load2(t + j) - vtc;                                  \
        leakrig_v2 a1 = leakrig_load2(t + j + 2) - vtc;                              \
        leakrig_v2 b0 = LOAD_Y(j) - vyc;                                             \
        leakrig_v2 b1 = LOAD_Y(j + 2) - vyc;                                         \
        st0 += a0; st1 += a1; sy0 += b0; sy1 += b1;                                  \
        tt0 += a0 * a0; tt1 += a1 * a1;                                              \
        ty0 += a0 * b0; ty1 += a1 * b1;                                              \
        yy0 += b0 * b0; yy1 += b1 * b1;                                              \
    }                                                                                \
    st = st0 + st1; sy = sy0 + sy1; tt = tt0 + tt1; ty = ty0 + ty1; yy = yy0 + yy1; \
    out[0] = st[0] + st[1];                                                          \
    out[1] = sy[0] + sy[1];                                                          \
    out[2] = tt[0] + tt[1];                                                          \
    out[3] = ty[0] + ty[1];                                                          \
    out[4] = yy[0] + yy[1];

#define LEAKRIG_PLAIN_Y(i) leakrig_load2(y + (i))
#define LEAKRIG_TCOMP_Y(i) (leakrig_load2(p + (i)) * vk / leakrig_load2(temp + (i)))

static inline void leakrig_chunk_sums_plain(const double *t, const double *y, ptrdiff_t lo,
                                            ptrdiff_t hi, double tc, double yc, double *out) {
    LEAKRIG_CHUNK_BODY(LEAKRIG_PLAIN_Y)
    for (; j < hi; ++j) {
        a = t[j] - tc;
        b = y[j] - yc;
        out[0] += a; out[1] += b; out[2] += a * a; out[3] += a * b; out[4] += b * b;
    }
}

static inline void leakrig_chunk_sums_tcomp(const double *t, const double *p, const double *temp,
                                            double k, ptrdiff_t lo, ptrdiff_t hi, double tc,
                                            double yc, double *out) {
    const leakrig_v2 vk = {k, k};
    LEAKRIG_CHUNK_BODY(LEAKRIG_TCOMP_Y)
    for (; j < hi; ++j) {
        a = t[j] - tc;
        b = p[j] * k / temp[j] - yc;
        out[0] += a; out[1] += b; out[2] += a * a; out[3] += a * b; out[4] += b * b;
    }
}

#else /* a compiler without vector extensions: the same sums, one sample at a time */

static inline void leakrig_chunk_sums_plain(const double *t, const double *y, ptrdiff_t lo,
                                            ptrdiff_t hi, double tc, double yc, double *out) {
    ptrdiff_t j;
    double a, b;
    out[0] = out[1] = out[2] = out[3] = out[4] = 0.0;
    for (j = lo; j < hi; ++j) {
        a = t[j] - tc;
        b = y[j] - yc;
        out[0] += a; out[1] += b; out[2] += a * a; out[3] += a * b; out[4] += b * b;
    }
}

static inline void leakrig_chunk_sums_tcomp(const double *t, const double *p, const double *temp,
                                            double k, ptrdiff_t lo, ptrdiff_t hi, double tc,
                                            double yc, double *out) {
    ptrdiff_t j;
    double a, b;
    out[0] = out[1] = out[2] = out[3] = out[4] = 0.0;
    for (j = lo; j < hi; ++j) {
        a = t[j] - tc;
        b = p[j] * k / temp[j] - yc;
        out[0] += a; out[1] += b; out[2] += a * a; out[3] += a * b; out[4] += b * b;
    }
}
#endif

#endif
