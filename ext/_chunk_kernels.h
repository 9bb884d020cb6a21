/*
 * Inner loop of the one-pass straight-line fit (see ext/_linfit.pyx): the sums of one chunk,
 * lag-1 products included, written with GCC/Clang vector extensions in four lanes. The summation
 * order is fixed here (no -ffast-math). The baseline x86-64 build runs the four lanes as two SSE2
 * pairs; an x86-64-v3 clone (AVX2 and FMA), picked at load time where the CPU has them as the
 * sliding kernel's AVX2 clone is, runs them in one register and fuses each product into its sum
 * (GCC contracts a * b + c where FMA is available), which takes the kernel from about 2 to 1.4
 * cycles per sample. The two clones differ in the last bits of a sum (one rounding fewer per
 * product), never in the order of summation; one machine always runs the same clone.
 *
 * With that much arithmetic per sample the loads alone no longer hide the memory's latency: the
 * loop prefetches LEAKRIG_AHEAD samples ahead (measured on 1e7 samples: 1.59 -> 1.03 x np.dot;
 * a prefetch past the end of an array is a hint, never a fault).
 *
 * Per sample j of [lo, hi): a = t[j] - tc and b = (y[j] - yc) - beta * a, where (tc, yc) is the
 * chunk's anchor (its first usable sample, so a = b = 0 there) and beta a provisional slope that
 * keeps b at the scale of the noise whatever the trend. Sums:
 *   out[0] sum a        out[1] sum b          out[2] sum a^2          out[3] sum a b     out[4] sum b^2
 *   out[5] sum a_j a_(j+1)   out[6] sum a_j b_(j+1) + b_j a_(j+1)   out[7] sum b_j b_(j+1)
 *   out[8] a and out[9] b of the last sample (hi - 1).
 * (The fit needs the two cross lags only as their sum: one accumulator, one register fewer.)
 * The lag sums run over the pairs inside [lo, hi).
 *
 * The caller guarantees that every sample in [lo, hi) is finite; if one is not, the sums come out
 * non-finite and the caller redoes the chunk sample by sample.
 *
 * The ordinate is p[j] (tcomp == 0) or p[j] * k / temp[j] (tcomp != 0); each public function passes
 * tcomp as a constant so that its inlined copy has no test in the loop.
 */
#ifndef LEAKRIG_CHUNK_KERNELS_H
#define LEAKRIG_CHUNK_KERNELS_H

#include <stddef.h>
#include <string.h>

#define LEAKRIG_CHUNK_SUMS 10
#ifndef LEAKRIG_AHEAD
#define LEAKRIG_AHEAD 256
#endif

/* On x86-64 with GCC and glibc (ifunc) also build an x86-64-v3 clone, chosen at load time. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__GLIBC__)
#define LEAKRIG_FIT_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define LEAKRIG_FIT_CLONES
#endif

#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
#define LEAKRIG_CHUNK_SIMD 1
typedef double leakrig_v4 __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) leakrig_v4 leakrig_load4(const double *p) {
    leakrig_v4 r;
    memcpy(&r, p, sizeof r); /* unaligned load without aliasing trouble */
    return r;
}

/* (x_(j-1), x_j, x_(j+1), x_(j+2)) from the previous vector and this one. */
#define LEAKRIG_LAGGED(prev, cur) __builtin_shufflevector((prev), (cur), 3, 4, 5, 6)
#endif

/* Inlined into each clone, so that each is compiled for its own target. */
#if defined(__GNUC__) || defined(__clang__)
#define LEAKRIG_INLINE static inline __attribute__((always_inline))
#else
#define LEAKRIG_INLINE static inline
#endif

LEAKRIG_INLINE void leakrig_chunk_sums(const double *t, const double *p, const double *temp, double k,
                                      int tcomp, ptrdiff_t lo, ptrdiff_t hi, double tc, double yc,
                                      double beta, double *out) {
    ptrdiff_t j = lo;
    double sa = 0.0, sb = 0.0, saa = 0.0, sab = 0.0, sbb = 0.0;
    double laa = 0.0, lx = 0.0, lbb = 0.0;
    /* The sample before lo is taken as (0, 0): its products with the first add nothing. */
    double pa = 0.0, pb = 0.0, a, b;
#ifdef LEAKRIG_CHUNK_SIMD
    if (hi - lo >= 4) {
        const leakrig_v4 z = {0.0, 0.0, 0.0, 0.0};
        const leakrig_v4 vtc = {tc, tc, tc, tc}, vyc = {yc, yc, yc, yc};
        const leakrig_v4 vbeta = {beta, beta, beta, beta}, vk = {k, k, k, k};
        leakrig_v4 va = z, vb = z, vaa = z, vab = z, vbb = z, vlaa = z, vlx = z, vlbb = z;
        leakrig_v4 prev_a = z, prev_b = z;
        for (; j + 4 <= hi; j += 4) {
            __builtin_prefetch(t + j + LEAKRIG_AHEAD);
            __builtin_prefetch(p + j + LEAKRIG_AHEAD);
            if (tcomp) __builtin_prefetch(temp + j + LEAKRIG_AHEAD);
            const leakrig_v4 ca = leakrig_load4(t + j) - vtc;
            const leakrig_v4 cy = tcomp ? leakrig_load4(p + j) * vk / leakrig_load4(temp + j) : leakrig_load4(p + j);
            const leakrig_v4 cb = (cy - vyc) - vbeta * ca;
            const leakrig_v4 qa = LEAKRIG_LAGGED(prev_a, ca), qb = LEAKRIG_LAGGED(prev_b, cb);
            va += ca;
            vb += cb;
            vaa += ca * ca;
            vab += ca * cb;
            vbb += cb * cb;
            vlaa += qa * ca;
            vlx += qa * cb + qb * ca;
            vlbb += qb * cb;
            prev_a = ca;
            prev_b = cb;
        }
        sa = (va[0] + va[1]) + (va[2] + va[3]);
        sb = (vb[0] + vb[1]) + (vb[2] + vb[3]);
        saa = (vaa[0] + vaa[1]) + (vaa[2] + vaa[3]);
        sab = (vab[0] + vab[1]) + (vab[2] + vab[3]);
        sbb = (vbb[0] + vbb[1]) + (vbb[2] + vbb[3]);
        laa = (vlaa[0] + vlaa[1]) + (vlaa[2] + vlaa[3]);
        lx = (vlx[0] + vlx[1]) + (vlx[2] + vlx[3]);
        lbb = (vlbb[0] + vlbb[1]) + (vlbb[2] + vlbb[3]);
        pa = prev_a[3];
        pb = prev_b[3];
    }
#endif
    for (; j < hi; ++j) {
        a = t[j] - tc;
        b = ((tcomp ? p[j] * k / temp[j] : p[j]) - yc) - beta * a;
        sa += a;
        sb += b;
        saa += a * a;
        sab += a * b;
        sbb += b * b;
        laa += pa * a;
        lx += pa * b + pb * a;
        lbb += pb * b;
        pa = a;
        pb = b;
    }
    out[0] = sa;
    out[1] = sb;
    out[2] = saa;
    out[3] = sab;
    out[4] = sbb;
    out[5] = laa;
    out[6] = lx;
    out[7] = lbb;
    out[8] = pa;
    out[9] = pb;
}

LEAKRIG_FIT_CLONES
static void leakrig_chunk_sums_plain(const double *t, const double *y, ptrdiff_t lo, ptrdiff_t hi, double tc,
                                     double yc, double beta, double *out) {
    leakrig_chunk_sums(t, y, y, 0.0, 0, lo, hi, tc, yc, beta, out);
}

LEAKRIG_FIT_CLONES
static void leakrig_chunk_sums_tcomp(const double *t, const double *p, const double *temp, double k,
                                     ptrdiff_t lo, ptrdiff_t hi, double tc, double yc, double beta, double *out) {
    leakrig_chunk_sums(t, p, temp, k, 1, lo, hi, tc, yc, beta, out);
}

#endif
