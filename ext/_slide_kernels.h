/*
 * Fast path of the sliding-window slopes (see ext/_sliding.pyx): advance the window sums
 * (dt, dy, dt^2, dt*dy relative to the anchor tc, yc; the count stays `cnt` because every
 * sample is usable here) from position `pos` for `count` positions, writing the slope of
 * window [q, q + w) to out[q].
 *
 * Four neighbouring positions per step: their entering and leaving samples are
 * neighbours in memory (plain vector loads, one vector store), and their four running
 * sums come from an in-register prefix of the four changes, so one add and one
 * broadcast per sum sit on the loop-carried path for every four positions.
 *
 * Assumes every sample entering or leaving is usable and every window has distinct
 * times. If not, a sum turns non-finite (NaN or inf never cancels out again) or a
 * window's spread is not positive: the function returns 0 and the caller redoes the
 * stretch sample by sample from its saved sums. sums: dt, dy, dt^2, dt*dy.
 */
#ifndef LEAKRIG_SLIDE_KERNELS_H
#define LEAKRIG_SLIDE_KERNELS_H

#include <math.h>
#include <stddef.h>
#include <string.h>

static inline double leakrig_slope5(double cnt, double st, double sy, double stt, double sty) {
    double sxx = cnt * stt - st * st;
    double num = cnt * sty - st * sy;
    return (cnt >= 2.0 && sxx > 0.0) ? num / sxx : NAN;
}

/* On x86-64 with GCC and glibc (ifunc) also build an AVX2 clone, chosen at load time where the CPU has it:
 * the four-wide vectors then fill one register. Elsewhere they are split as needed. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__GLIBC__)
#define LEAKRIG_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define LEAKRIG_CLONES
#endif

#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
#define LEAKRIG_SLIDE_SIMD 1
typedef double leakrig_sv4 __attribute__((vector_size(32)));
typedef long long leakrig_sm4 __attribute__((vector_size(32)));
#define LEAKRIG_LOAD4(dst, src) memcpy(&(dst), (src), sizeof(leakrig_sv4))
/* Inclusive prefix sum of the four lanes. */
#define LEAKRIG_SCAN4(x)                                                   \
    do {                                                                   \
        (x) += __builtin_shufflevector(zero, (x), 0, 4, 5, 6);             \
        (x) += __builtin_shufflevector(zero, (x), 0, 1, 4, 5);             \
    } while (0)
#endif

LEAKRIG_CLONES
static int leakrig_slide_fast(const double *t, const double *p, const double *temp, double k, int tcomp,
                              ptrdiff_t w, ptrdiff_t pos, ptrdiff_t count, double cnt, double tc, double yc,
                              double *sums, double *out) {
    double st = sums[0], sy = sums[1], stt = sums[2], sty = sums[3];
    const ptrdiff_t end = pos + count;
    ptrdiff_t q = pos;
    int ok = 1;
#ifdef LEAKRIG_SLIDE_SIMD
    {
        const leakrig_sv4 zero = {0.0, 0.0, 0.0, 0.0}, vk = {k, k, k, k}, vcnt = {cnt, cnt, cnt, cnt};
        const leakrig_sv4 vtc = {tc, tc, tc, tc}, vyc = {yc, yc, yc, yc};
        leakrig_sv4 vst = {st, st, st, st}, vsy = {sy, sy, sy, sy};
        leakrig_sv4 vstt = {stt, stt, stt, stt}, vsty = {sty, sty, sty, sty};
        leakrig_sm4 bad = {0, 0, 0, 0};
        for (; q + 4 <= end; q += 4) {
            leakrig_sv4 ti, to, yi, yo, ai, ao, bi, bo, d_t, d_y, d_tt, d_ty, sxx, res;
            LEAKRIG_LOAD4(ti, t + q + w - 1);
            LEAKRIG_LOAD4(to, t + q - 1);
            LEAKRIG_LOAD4(yi, p + q + w - 1);
            LEAKRIG_LOAD4(yo, p + q - 1);
            if (tcomp) {
                leakrig_sv4 ki, ko;
                LEAKRIG_LOAD4(ki, temp + q + w - 1);
                LEAKRIG_LOAD4(ko, temp + q - 1);
                yi = yi * vk / ki;
                yo = yo * vk / ko;
            }
            ai = ti - vtc;
            ao = to - vtc;
            bi = yi - vyc;
            bo = yo - vyc;
            d_t = ai - ao;
            d_y = bi - bo;
            d_tt = ai * ai - ao * ao;
            d_ty = ai * bi - ao * bo;
            LEAKRIG_SCAN4(d_t);
            LEAKRIG_SCAN4(d_y);
            LEAKRIG_SCAN4(d_tt);
            LEAKRIG_SCAN4(d_ty);
            d_t += vst;
            d_y += vsy;
            d_tt += vstt;
            d_ty += vsty;
            vst = __builtin_shufflevector(d_t, d_t, 3, 3, 3, 3);
            vsy = __builtin_shufflevector(d_y, d_y, 3, 3, 3, 3);
            vstt = __builtin_shufflevector(d_tt, d_tt, 3, 3, 3, 3);
            vsty = __builtin_shufflevector(d_ty, d_ty, 3, 3, 3, 3);
            sxx = vcnt * d_tt - d_t * d_t;
            bad |= (leakrig_sm4)(sxx <= zero);
            res = (vcnt * d_ty - d_t * d_y) / sxx;
            memcpy(out + q, &res, sizeof res);
        }
        st = vst[0];
        sy = vsy[0];
        stt = vstt[0];
        sty = vsty[0];
        ok = !(bad[0] | bad[1] | bad[2] | bad[3]);
    }
#endif
    for (; q < end; ++q) {
        const ptrdiff_t in = q + w - 1, old = q - 1;
        double yi = tcomp ? p[in] * k / temp[in] : p[in];
        double yo = tcomp ? p[old] * k / temp[old] : p[old];
        double ai = t[in] - tc, ao = t[old] - tc, bi = yi - yc, bo = yo - yc, sxx;
        st += ai - ao;
        sy += bi - bo;
        stt += ai * ai - ao * ao;
        sty += ai * bi - ao * bo;
        sxx = cnt * stt - st * st;
        ok &= sxx > 0.0;
        out[q] = (cnt * sty - st * sy) / sxx;
    }
    sums[0] = st;
    sums[1] = sy;
    sums[2] = stt;
    sums[3] = sty;
    return ok && (st - st) == 0.0 && (sy - sy) == 0.0 && (stt - stt) == 0.0 && (sty - sty) == 0.0;
}

#endif
