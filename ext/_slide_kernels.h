/*
 * Fast path of the sliding-window slopes (see ext/_sliding.pyx). Four lanes, each a run of
 * neighbouring window positions far apart in the series, advance their window sums
 * (dt, dy, dt^2, dt*dy relative to the lane's anchor; the count stays cnt[lane] because
 * every sample is usable here) one position per step: lane l from position pos[l].
 * Each vector instruction serves all four lanes and each lane's sums carry one add per
 * step on the loop-carried path. Four steps at a time, every lane's next four entering
 * and leaving samples are read as one vector and transposed in registers (and the four
 * results transposed back), so memory is only touched with plain vector loads and stores.
 *
 * Assumes every sample entering or leaving is usable and every window has distinct
 * times. If not, a sum turns non-finite (NaN or inf never cancels out again) or a
 * window's spread is not positive; the function then returns 0 and the caller redoes
 * the stretch sample by sample from its saved sums.
 *
 * sums[4 * lane + i]: i = 0 dt, 1 dy, 2 dt^2, 3 dt*dy. out[q] receives the slope of window
 * [q, q + w). The ordinate is p[i] (tcomp == 0) or p[i] * k / temp[i].
 */
#ifndef LEAKRIG_SLIDE_KERNELS_H
#define LEAKRIG_SLIDE_KERNELS_H

#include <math.h>
#include <stddef.h>
#include <string.h>

#define LEAKRIG_LANES 4

static inline double leakrig_slope5(double cnt, double st, double sy, double stt, double sty) {
    double sxx = cnt * stt - st * st;
    double num = cnt * sty - st * sy;
    return (cnt >= 2.0 && sxx > 0.0) ? num / sxx : NAN;
}

/* On x86-64 with GCC and glibc (ifunc) also build an AVX2 clone, chosen at load time where
 * the CPU has it: the four-lane vectors then fill one register. Elsewhere they are split. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__GLIBC__)
#define LEAKRIG_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define LEAKRIG_CLONES
#endif

#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
typedef double leakrig_sv4 __attribute__((vector_size(32)));
typedef long long leakrig_sm4 __attribute__((vector_size(32)));

/* Row l is a[at[l] + off .. at[l] + off + 3]; out[s] = (row0[s], row1[s], row2[s], row3[s]). */
static inline void leakrig_load_transposed(const double *a, const ptrdiff_t *at, ptrdiff_t off, leakrig_sv4 *out) {
    leakrig_sv4 r0, r1, r2, r3, t0, t1, t2, t3;
    memcpy(&r0, a + at[0] + off, 32);
    memcpy(&r1, a + at[1] + off, 32);
    memcpy(&r2, a + at[2] + off, 32);
    memcpy(&r3, a + at[3] + off, 32);
    t0 = __builtin_shufflevector(r0, r1, 0, 4, 2, 6);
    t1 = __builtin_shufflevector(r0, r1, 1, 5, 3, 7);
    t2 = __builtin_shufflevector(r2, r3, 0, 4, 2, 6);
    t3 = __builtin_shufflevector(r2, r3, 1, 5, 3, 7);
    out[0] = __builtin_shufflevector(t0, t2, 0, 1, 4, 5);
    out[1] = __builtin_shufflevector(t1, t3, 0, 1, 4, 5);
    out[2] = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
    out[3] = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
}

/* The inverse: in[s] holds step s of every lane; lane l's four steps go to a[at[l] + off ..]. */
static inline void leakrig_store_transposed(double *a, const ptrdiff_t *at, ptrdiff_t off, const leakrig_sv4 *in) {
    leakrig_sv4 t0, t1, t2, t3, r0, r1, r2, r3;
    t0 = __builtin_shufflevector(in[0], in[1], 0, 4, 2, 6);
    t1 = __builtin_shufflevector(in[0], in[1], 1, 5, 3, 7);
    t2 = __builtin_shufflevector(in[2], in[3], 0, 4, 2, 6);
    t3 = __builtin_shufflevector(in[2], in[3], 1, 5, 3, 7);
    r0 = __builtin_shufflevector(t0, t2, 0, 1, 4, 5);
    r1 = __builtin_shufflevector(t1, t3, 0, 1, 4, 5);
    r2 = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
    r3 = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
    memcpy(a + at[0] + off, &r0, 32);
    memcpy(a + at[1] + off, &r1, 32);
    memcpy(a + at[2] + off, &r2, 32);
    memcpy(a + at[3] + off, &r3, 32);
}

LEAKRIG_CLONES
static int leakrig_slide_lanes(const double *t, const double *p, const double *temp, double k, int tcomp,
                               ptrdiff_t w, const ptrdiff_t *pos, ptrdiff_t count, const double *cnt,
                               const double *tc, const double *yc, double *sums, double *out) {
    const leakrig_sv4 vcnt = {cnt[0], cnt[1], cnt[2], cnt[3]};
    const leakrig_sv4 vtc = {tc[0], tc[1], tc[2], tc[3]}, vyc = {yc[0], yc[1], yc[2], yc[3]};
    const leakrig_sv4 zero = {0.0, 0.0, 0.0, 0.0}, vk = {k, k, k, k};
    leakrig_sv4 st = {sums[0], sums[4], sums[8], sums[12]}, sy = {sums[1], sums[5], sums[9], sums[13]};
    leakrig_sv4 stt = {sums[2], sums[6], sums[10], sums[14]}, sty = {sums[3], sums[7], sums[11], sums[15]};
    leakrig_sm4 bad = {0, 0, 0, 0};
    ptrdiff_t i = 0;
    int lane, s;
    for (; i + 4 <= count; i += 4) {
        leakrig_sv4 ti[4], to[4], yi[4], yo[4], res[4];
        leakrig_load_transposed(t, pos, i + w - 1, ti);
        leakrig_load_transposed(t, pos, i - 1, to);
        leakrig_load_transposed(p, pos, i + w - 1, yi);
        leakrig_load_transposed(p, pos, i - 1, yo);
        if (tcomp) {
            leakrig_sv4 ki[4], ko[4];
            leakrig_load_transposed(temp, pos, i + w - 1, ki);
            leakrig_load_transposed(temp, pos, i - 1, ko);
            for (s = 0; s < 4; ++s) {
                yi[s] = yi[s] * vk / ki[s];
                yo[s] = yo[s] * vk / ko[s];
            }
        }
        for (s = 0; s < 4; ++s) {
            leakrig_sv4 ai = ti[s] - vtc, ao = to[s] - vtc, bi = yi[s] - vyc, bo = yo[s] - vyc, sxx;
            st += ai - ao;
            sy += bi - bo;
            stt += ai * ai - ao * ao;
            sty += ai * bi - ao * bo;
            sxx = vcnt * stt - st * st;
            bad |= (leakrig_sm4)(sxx <= zero);
            res[s] = (vcnt * sty - st * sy) / sxx;
        }
        leakrig_store_transposed(out, pos, i, res);
    }
    for (; i < count; ++i) {
        for (lane = 0; lane < 4; ++lane) {
            const ptrdiff_t in = pos[lane] + i + w - 1, o = pos[lane] + i - 1;
            double yin = tcomp ? p[in] * k / temp[in] : p[in];
            double yout = tcomp ? p[o] * k / temp[o] : p[o];
            double ai = t[in] - tc[lane], ao = t[o] - tc[lane], bi = yin - yc[lane], bo = yout - yc[lane], sxx;
            st[lane] += ai - ao;
            sy[lane] += bi - bo;
            stt[lane] += ai * ai - ao * ao;
            sty[lane] += ai * bi - ao * bo;
            sxx = cnt[lane] * stt[lane] - st[lane] * st[lane];
            bad[lane] |= !(sxx > 0.0);
            out[pos[lane] + i] = (cnt[lane] * sty[lane] - st[lane] * sy[lane]) / sxx;
        }
    }
    for (lane = 0; lane < 4; ++lane) {
        sums[4 * lane] = st[lane];
        sums[4 * lane + 1] = sy[lane];
        sums[4 * lane + 2] = stt[lane];
        sums[4 * lane + 3] = sty[lane];
        if (bad[lane]) {
            return 0;
        }
    }
    for (i = 0; i < 16; ++i) {
        if (!((sums[i] - sums[i]) == 0.0)) {
            return 0;
        }
    }
    return 1;
}

#else /* no vector extensions: the same arithmetic, lane by lane */

static int leakrig_slide_lanes(const double *t, const double *p, const double *temp, double k, int tcomp,
                               ptrdiff_t w, const ptrdiff_t *pos, ptrdiff_t count, const double *cnt,
                               const double *tc, const double *yc, double *sums, double *out) {
    int lane, ok = 1;
    ptrdiff_t i;
    for (lane = 0; lane < LEAKRIG_LANES; ++lane) {
        double *s = sums + 4 * lane;
        for (i = 0; i < count; ++i) {
            const ptrdiff_t in = pos[lane] + i + w - 1, o = pos[lane] + i - 1;
            double yin = tcomp ? p[in] * k / temp[in] : p[in];
            double yout = tcomp ? p[o] * k / temp[o] : p[o];
            double ai = t[in] - tc[lane], ao = t[o] - tc[lane], bi = yin - yc[lane], bo = yout - yc[lane];
            double sxx;
            s[0] += ai - ao;
            s[1] += bi - bo;
            s[2] += ai * ai - ao * ao;
            s[3] += ai * bi - ao * bo;
            sxx = cnt[lane] * s[2] - s[0] * s[0];
            ok &= sxx > 0.0;
            out[pos[lane] + i] = (cnt[lane] * s[3] - s[0] * s[1]) / sxx;
        }
        for (i = 0; i < 4; ++i) {
            ok &= (s[i] - s[i]) == 0.0;
        }
    }
    return ok;
}
#endif

#endif
