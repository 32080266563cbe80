/*
 * single_channel/nhwc.h -- direct convolution for one input channel
 * (C == 1, groups == 1, stride 1), NHWC: the forward pass, grad_weight and
 * grad_input, for float and double, written once
 * and built per ISA with vectors of CCK_VBYTES bytes (src/kernels/isa_*.c).
 *
 * With C = 1 (LeNet's first layer, grayscale stems) im2col copies KW-element
 * runs per kernel row and pixel, and the GEMM's reduction is only KH*KW deep:
 * the copies cost more than the multiplications. Here the multiplications read
 * the input directly. L consecutive output pixels of a row form one vector
 * (their inputs under a tap are consecutive when C = 1 and the stride is 1),
 * and eight output channels are accumulated at once, each tap's weight
 * broadcast. Pixels whose taps leave the image (padding) and the ragged end of
 * a row take a scalar loop with bounds checks.
 *
 * The weight and bias are passed padded to a multiple of CCSC_OB output
 * channels (zeros), so the vector loop needs no channel tail.
 */
#ifndef CCK_SINGLE_CHANNEL_NHWC_H
#define CCK_SINGLE_CHANNEL_NHWC_H

#include <stddef.h>

#include "../geometry.h"

#define CCSC_OB 8   /* output channels per register block (the row's sc_ob) */

/* Vector width: at most 32 bytes. A vector holds consecutive output pixels
 * of one row, and rows are short (LeNet's 24 pixels): with 16 floats a
 * vector, a third of such a row fell to the scalar tail, and the AVX-512
 * build measured 5.6x slower than the AVX2 one (lenet-conv1 forward). */
#define CCSC_VBYTES (CCK_VBYTES > 32 ? 32 : CCK_VBYTES)

/* y[j*ldy + o] = t[o*L + j] for the block's L pixels j and its ob <= 8
 * channels o: the accumulators' transpose. With 8 floats a vector (the AVX2
 * build, which the AVX-512 row uses too) it is an in-register 8 x 8
 * transpose and eight row stores (in pieces when ob < 8); the scalar loop it replaces was
 * about a third of the forward's instructions (LeNet's first layer). */
#define CCSC_DEFINE_STORE_BLOCK(T, S)                                           \
__attribute__((unused)) static inline void ccsc_##S##_store_block_scalar(       \
        const T *t, int L, T *y, ptrdiff_t ldy, ptrdiff_t ob)                   \
{                                                                               \
    for (int j = 0; j < L; j++)                                                 \
        for (ptrdiff_t o = 0; o < ob; o++)                                      \
            y[j * ldy + o] = t[o * L + j];                                      \
}
CCSC_DEFINE_STORE_BLOCK(float, s)
CCSC_DEFINE_STORE_BLOCK(double, d)

#if CCSC_VBYTES == 32 && defined(CCK_TARGET) && (defined(__x86_64__) || defined(__i386__))
static inline void ccsc_s_store_block(const float *t, int L, float *y, ptrdiff_t ldy,
                                      ptrdiff_t ob)
{
    (void)L;                                                 /* L == 8 */
    const __m256 r0 = _mm256_loadu_ps(t), r1 = _mm256_loadu_ps(t + 8);
    const __m256 r2 = _mm256_loadu_ps(t + 16), r3 = _mm256_loadu_ps(t + 24);
    const __m256 r4 = _mm256_loadu_ps(t + 32), r5 = _mm256_loadu_ps(t + 40);
    const __m256 r6 = _mm256_loadu_ps(t + 48), r7 = _mm256_loadu_ps(t + 56);
    const __m256 u0 = _mm256_unpacklo_ps(r0, r1), u1 = _mm256_unpackhi_ps(r0, r1);
    const __m256 u2 = _mm256_unpacklo_ps(r2, r3), u3 = _mm256_unpackhi_ps(r2, r3);
    const __m256 u4 = _mm256_unpacklo_ps(r4, r5), u5 = _mm256_unpackhi_ps(r4, r5);
    const __m256 u6 = _mm256_unpacklo_ps(r6, r7), u7 = _mm256_unpackhi_ps(r6, r7);
    const __m256 v0 = _mm256_shuffle_ps(u0, u2, 0x44), v1 = _mm256_shuffle_ps(u0, u2, 0xEE);
    const __m256 v2 = _mm256_shuffle_ps(u1, u3, 0x44), v3 = _mm256_shuffle_ps(u1, u3, 0xEE);
    const __m256 v4 = _mm256_shuffle_ps(u4, u6, 0x44), v5 = _mm256_shuffle_ps(u4, u6, 0xEE);
    const __m256 v6 = _mm256_shuffle_ps(u5, u7, 0x44), v7 = _mm256_shuffle_ps(u5, u7, 0xEE);
    __m256 p[8];                                             /* p[j]: pixel j's 8 channels */
    p[0] = _mm256_permute2f128_ps(v0, v4, 0x20); p[4] = _mm256_permute2f128_ps(v0, v4, 0x31);
    p[1] = _mm256_permute2f128_ps(v1, v5, 0x20); p[5] = _mm256_permute2f128_ps(v1, v5, 0x31);
    p[2] = _mm256_permute2f128_ps(v2, v6, 0x20); p[6] = _mm256_permute2f128_ps(v2, v6, 0x31);
    p[3] = _mm256_permute2f128_ps(v3, v7, 0x20); p[7] = _mm256_permute2f128_ps(v3, v7, 0x31);
    if (ob == 8) {
        for (int j = 0; j < 8; j++) _mm256_storeu_ps(y + j * ldy, p[j]);
    } else {
        /* ob < 8 channels (LeNet's O = 6) as pieces of 4, 2 and 1: vmaskmovps's
         * store is microcoded on AMD cores, and was 36% of this kernel's
         * samples on a Zen 4 with O = 6. */
        for (int j = 0; j < 8; j++) {
            float *d = y + j * ldy;
            __m128 v = _mm256_castps256_ps128(p[j]);
            if (ob & 4) { _mm_storeu_ps(d, v); v = _mm256_extractf128_ps(p[j], 1); d += 4; }
            if (ob & 2) { _mm_storel_pi((__m64 *)d, v); v = _mm_movehl_ps(v, v); d += 2; }
            if (ob & 1) _mm_store_ss(d, v);
        }
    }
}
#else
#define ccsc_s_store_block ccsc_s_store_block_scalar
#endif
#define ccsc_d_store_block ccsc_d_store_block_scalar

/*
 * DEFINE(T, S) instantiates ccsc_S_forward_row(x, wpad, bpad, y, g, row):
 * output row (n, ho) = row of y (N, Ho, Wo, O). wpad is (KH, KW, Opad) and
 * bpad is (Opad,), both zero padded past O.
 */
#define CCSC_DEFINE(T, S)                                                       \
__attribute__((unused)) static void ccsc_##S##_forward_row(const T *restrict x,                    \
        const T *restrict wpad, const T *restrict bpad, T *restrict y,          \
        const ccsc_geom *g, ptrdiff_t row)                                      \
{                                                                               \
    typedef T vec __attribute__((vector_size(CCSC_VBYTES), aligned(sizeof(T)))); \
    enum { L = CCSC_VBYTES / sizeof(T) };                                        \
    const ptrdiff_t W = g->W, O = g->O, Opad = g->Opad, Wo = g->Wo;             \
    const ptrdiff_t n = row / g->Ho, ho = row % g->Ho;                          \
    ptrdiff_t kh0 = 0, kh1 = g->KH;                                             \
    while (kh0 < kh1 && ho - g->pt + kh0 * g->dh < 0) kh0++;                    \
    while (kh1 > kh0 && ho - g->pt + (kh1 - 1) * g->dh >= g->H) kh1--;          \
    /* Input offset of tap (kh, 0) for output column 0 (may be negative). */   \
    const ptrdiff_t xrow = (n * g->H + ho - g->pt) * W - g->pl;                 \
    /* Columns whose every kw tap is inside the image. */                     \
    ptrdiff_t wlo = g->pl, whi = W - (g->KW - 1) * g->dw + g->pl;               \
    if (wlo > Wo) wlo = Wo;                                                     \
    if (whi > Wo) whi = Wo;                                                     \
    if (whi < wlo) whi = wlo;                                                   \
    T *yrow = y + row * Wo * O;                                                 \
    for (ptrdiff_t o0 = 0; o0 < O; o0 += CCSC_OB) {                             \
        const ptrdiff_t ob = O - o0 < CCSC_OB ? O - o0 : CCSC_OB;              \
        ptrdiff_t wo = wlo;                                                     \
        for (; wo + L <= whi; wo += L) {                                        \
            const T *b = bpad + o0;                                             \
            vec a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0},                         \
                a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};                         \
            a0 += b[0]; a1 += b[1]; a2 += b[2]; a3 += b[3];                     \
            a4 += b[4]; a5 += b[5]; a6 += b[6]; a7 += b[7];                     \
            for (ptrdiff_t kh = kh0; kh < kh1; kh++) {                          \
                const T *xr = x + xrow + kh * g->dh * W + wo;                   \
                const T *wr = wpad + kh * g->KW * Opad + o0;                    \
                for (ptrdiff_t kw = 0; kw < g->KW; kw++) {                      \
                    const vec xv = *(const vec *)(xr + kw * g->dw);             \
                    const T *wk = wr + kw * Opad;                               \
                    a0 += xv * wk[0]; a1 += xv * wk[1];                         \
                    a2 += xv * wk[2]; a3 += xv * wk[3];                         \
                    a4 += xv * wk[4]; a5 += xv * wk[5];                         \
                    a6 += xv * wk[6]; a7 += xv * wk[7];                         \
                }                                                               \
            }                                                                   \
            /* Pixel-major store: y[wo + j, o0 + o] = a_o[j]. */                \
            T t[CCSC_OB][L];                                                    \
            *(vec *)t[0] = a0; *(vec *)t[1] = a1; *(vec *)t[2] = a2;            \
            *(vec *)t[3] = a3; *(vec *)t[4] = a4; *(vec *)t[5] = a5;            \
            *(vec *)t[6] = a6; *(vec *)t[7] = a7;                               \
            ccsc_##S##_store_block(&t[0][0], L, yrow + wo * O + o0, O, ob);     \
        }                                                                       \
        /* The rest of the row, one pixel at a time, with bounds checks. */    \
        for (ptrdiff_t wc = 0; wc < Wo; wc++) {                                 \
            if (wc >= wlo && wc < wo) { wc = wo - 1; continue; }                \
            for (ptrdiff_t o = 0; o < ob; o++) {                                \
                T acc = bpad[o0 + o];                                           \
                for (ptrdiff_t kh = kh0; kh < kh1; kh++)                        \
                    for (ptrdiff_t kw = 0; kw < g->KW; kw++) {                  \
                        const ptrdiff_t wi = wc - g->pl + kw * g->dw;           \
                        if (wi < 0 || wi >= W) continue;                        \
                        acc += x[xrow + kh * g->dh * W + wc + kw * g->dw]       \
                             * wpad[(kh * g->KW + kw) * Opad + o0 + o];         \
                    }                                                           \
                yrow[wc * O + o0 + o] = acc;                                    \
            }                                                                   \
        }                                                                       \
    }                                                                           \
}

/*
 * DEFINE_GW(T, S) instantiates ccsc_S_grad_weight_row(x, dy, dwv, db, dyt, g,
 * row): adds output row (n, ho) = row's contribution to dwv and, if db is not
 * NULL, to db (O,). dwv holds KH*KW*O vectors of L partial sums (L = 32 bytes
 * of T, the row's lanes); grad_weight[tap, o] is the sum of vector (tap, o)'s lanes, taken by
 * the caller at the end. dyt is scratch for Wo * O elements: the row of dy
 * transposed to channel-major, so that under each tap the input row and every
 * channel's gradient row are contiguous runs over wo. The order of every sum
 * is fixed.
 */
#define CCSC_DEFINE_GW(T, S)                                                    \
__attribute__((unused)) static void ccsc_##S##_grad_weight_row(const T *restrict x,                 \
        const T *restrict dy, T *restrict dwv, T *restrict db, T *restrict dyt, \
        const ccsc_geom *g, ptrdiff_t row)                                      \
{                                                                               \
    typedef T vec __attribute__((vector_size(CCSC_VBYTES), aligned(sizeof(T)))); \
    enum { L = CCSC_VBYTES / sizeof(T) };                                        \
    const ptrdiff_t W = g->W, O = g->O, Wo = g->Wo;                             \
    const ptrdiff_t n = row / g->Ho, ho = row % g->Ho;                          \
    const T *dyrow = dy + row * Wo * O;                                         \
    for (ptrdiff_t wo = 0; wo < Wo; wo++)                                       \
        for (ptrdiff_t o = 0; o < O; o++)                                       \
            dyt[o * Wo + wo] = dyrow[wo * O + o];                               \
    if (db)                                                                     \
        for (ptrdiff_t o = 0; o < O; o++) {                                     \
            T sum = 0;                                                          \
            for (ptrdiff_t wo = 0; wo < Wo; wo++) sum += dyt[o * Wo + wo];      \
            db[o] += sum;                                                       \
        }                                                                       \
    for (ptrdiff_t kh = 0; kh < g->KH; kh++) {                                  \
        const ptrdiff_t hi = ho - g->pt + kh * g->dh;                           \
        if (hi < 0 || hi >= g->H) continue;                                     \
        const T *xr = x + (n * g->H + hi) * W;                                  \
        for (ptrdiff_t kw = 0; kw < g->KW; kw++) {                              \
            /* wi = wo + off must lie in [0, W): wo in [a, b). */              \
            const ptrdiff_t off = kw * g->dw - g->pl;                           \
            ptrdiff_t a = off < 0 ? -off : 0, b = W - off;                      \
            if (b > Wo) b = Wo;                                                 \
            if (b <= a) continue;                                               \
            T *acc = dwv + (kh * g->KW + kw) * O * L;                           \
            for (ptrdiff_t o0 = 0; o0 < O; o0 += 4) {                           \
                const ptrdiff_t ob = O - o0 < 4 ? O - o0 : 4;                   \
                vec s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};                     \
                T t0 = 0, t1 = 0, t2 = 0, t3 = 0;                               \
                const T *d0 = dyt + o0 * Wo;                                    \
                const T *d1 = ob > 1 ? d0 + Wo : d0;                            \
                const T *d2 = ob > 2 ? d0 + 2 * Wo : d0;                        \
                const T *d3 = ob > 3 ? d0 + 3 * Wo : d0;                        \
                ptrdiff_t i = a;                                                \
                for (; i + L <= b; i += L) {                                    \
                    const vec xv = *(const vec *)(xr + i + off);                \
                    s0 += xv * *(const vec *)(d0 + i);                          \
                    s1 += xv * *(const vec *)(d1 + i);                          \
                    s2 += xv * *(const vec *)(d2 + i);                          \
                    s3 += xv * *(const vec *)(d3 + i);                          \
                }                                                               \
                for (; i < b; i++) {                                            \
                    const T xs = xr[i + off];                                   \
                    t0 += xs * d0[i]; t1 += xs * d1[i];                         \
                    t2 += xs * d2[i]; t3 += xs * d3[i];                         \
                }                                                               \
                s0[0] += t0; s1[0] += t1; s2[0] += t2; s3[0] += t3;             \
                /* Channels past ob computed duplicates of channel o0: dropped. */ \
                *(vec *)(acc + (o0 + 0) * L) += s0;                             \
                if (ob > 1) *(vec *)(acc + (o0 + 1) * L) += s1;                 \
                if (ob > 2) *(vec *)(acc + (o0 + 2) * L) += s2;                 \
                if (ob > 3) *(vec *)(acc + (o0 + 3) * L) += s3;                 \
            }                                                                   \
        }                                                                       \
    }                                                                           \
}

/*
 * DEFINE_GI(T, S) instantiates ccsc_S_grad_input_row(dy, wflip, dx, g, row):
 * input row (n, h) = row of dx (N, H, W, 1), written (not accumulated).
 * wflip is the weight (KH, KW, O) with the kw axis reversed, each kernel
 * row's KW*O values followed by zeros up to g->Opad (the row stride, a
 * multiple of the vector length). An input pixel
 * gathers, per kernel row, the gradient pixels x = w + pl - kw*dw its taps
 * reached; in NHWC those pixels' O channels sit side by side, so with
 * dilation 1 the whole kernel row is one contiguous dot product of
 * (taps in the image) * O values against the reversed weight row (LeNet: 30
 * values, not 5 dot products of 6). With dilation, one dot product per tap.
 * Vector partial sums over all kernel rows, one horizontal sum per pixel; the
 * order of every sum is fixed. No im2col, no scatter: each pixel is written
 * once, by the thread that owns its row.
 */
#define CCSC_DEFINE_GI(T, S)                                                    \
static inline __attribute__((always_inline)) void                               \
ccsc_##S##_dot_run(const T *restrict a, const T *restrict b, ptrdiff_t len,     \
                   ccsc_##S##_gv *vacc, T *sacc)                                \
{                                                                               \
    enum { L = CCSC_VBYTES / sizeof(T) };                                       \
    ptrdiff_t i = 0;                                                            \
    for (; i + L <= len; i += L)                                                \
        *vacc += *(const ccsc_##S##_gv *)(a + i) * *(const ccsc_##S##_gv *)(b + i); \
    for (; i < len; i++) *sacc += a[i] * b[i];                                  \
}                                                                               \
/* Four adjacent pixels at once (a + q*step for q < 4), sharing each load of  \
 * b: four independent chains instead of one latency-bound one. A ragged end  \
 * (len not a multiple of L) is one more vector whose lanes past len are      \
 * cleared by `keep` before the multiply (so an Inf or NaN read past the run  \
 * cannot leak in), against b's zero padding; the caller passes keep only    \
 * when those extra reads stay inside the array (else NULL: scalar tail).     */ \
static inline __attribute__((always_inline)) void                               \
ccsc_##S##_dot_run4(const T *restrict a, ptrdiff_t step, const T *restrict b,   \
                    ptrdiff_t len, const ccsc_##S##_gm *keep,                   \
                    ccsc_##S##_gv *v, T *s)                                     \
{                                                                               \
    typedef ccsc_##S##_gv vec;                                                  \
    typedef ccsc_##S##_gm msk;                                                  \
    enum { L = CCSC_VBYTES / sizeof(T) };                                       \
    const T *a1 = a + step, *a2 = a + 2 * step, *a3 = a + 3 * step;             \
    ptrdiff_t i = 0;                                                            \
    for (; i + L <= len; i += L) {                                              \
        const vec bv = *(const vec *)(b + i);                                   \
        v[0] += *(const vec *)(a + i) * bv;                                     \
        v[1] += *(const vec *)(a1 + i) * bv;                                    \
        v[2] += *(const vec *)(a2 + i) * bv;                                    \
        v[3] += *(const vec *)(a3 + i) * bv;                                    \
    }                                                                           \
    if (i < len && keep) {                                                      \
        const vec bv = *(const vec *)(b + i);                                   \
        const msk k = *keep;                                                    \
        v[0] += (vec)(*(const msk *)(a + i) & k) * bv;                          \
        v[1] += (vec)(*(const msk *)(a1 + i) & k) * bv;                         \
        v[2] += (vec)(*(const msk *)(a2 + i) & k) * bv;                         \
        v[3] += (vec)(*(const msk *)(a3 + i) & k) * bv;                         \
        return;                                                                 \
    }                                                                           \
    for (; i < len; i++) {                                                      \
        s[0] += a[i] * b[i]; s[1] += a1[i] * b[i];                              \
        s[2] += a2[i] * b[i]; s[3] += a3[i] * b[i];                             \
    }                                                                           \
}                                                                               \
__attribute__((unused)) static void ccsc_##S##_grad_input_row(                  \
        const T *restrict dy, const T *restrict wflip, T *restrict dx,          \
        const ccsc_geom *g, ptrdiff_t row)                                      \
{                                                                               \
    enum { L = CCSC_VBYTES / sizeof(T) };                                       \
    const ptrdiff_t W = g->W, O = g->O, Wo = g->Wo, KW = g->KW, dwl = g->dw;   \
    const ptrdiff_t n = row / g->H, h = row % g->H;                             \
    T *dxrow = dx + row * W;                                                    \
    /* Columns every one of whose taps lands inside [0, Wo). */                \
    ptrdiff_t jlo = (KW - 1) * dwl - g->pl, jhi = Wo - g->pl;                   \
    if (jlo < 0) jlo = 0;                                                       \
    if (jhi > W) jhi = W;                                                       \
    if (jhi < jlo) jhi = jlo;                                                   \
    /* The ragged end of a whole kernel row's run (dilation 1), as a mask. */  \
    const ptrdiff_t run = KW * O, rem = run % L;                                \
    ccsc_##S##_gm keep;                                                         \
    for (int l = 0; l < L; l++) keep[l] = l < rem ? -1 : 0;                     \
    const T *dy_end = dy + g->N * g->Ho * Wo * O;                               \
    ptrdiff_t w = 0;                                                            \
    while (w < W) {                                                             \
        const ptrdiff_t xs = w + g->pl - (KW - 1) * dwl;                        \
        if (w >= jlo && w + 4 <= jhi) {                                         \
            ccsc_##S##_gv v[4] = {{0}, {0}, {0}, {0}};                          \
            T sc[4] = {0, 0, 0, 0};                                             \
            for (ptrdiff_t kh = 0; kh < g->KH; kh++) {                          \
                const ptrdiff_t y = h + g->pt - kh * g->dh;                     \
                if (y < 0 || y >= g->Ho) continue;                              \
                const T *dyr = dy + ((n * g->Ho + y) * Wo + xs) * O;            \
                const T *wk = wflip + kh * g->Opad;                             \
                if (dwl == 1)                                                   \
                    ccsc_##S##_dot_run4(dyr, O, wk, run,                        \
                                        dyr + 3 * O + run - rem + L <= dy_end   \
                                            ? &keep : NULL, v, sc);             \
                else                                                            \
                    for (ptrdiff_t kk = 0; kk < KW; kk++)                       \
                        ccsc_##S##_dot_run4(dyr + kk * dwl * O, O, wk + kk * O, \
                                            O, NULL, v, sc);                    \
            }                                                                   \
            for (int q = 0; q < 4; q++) {                                       \
                T sum = 0;                                                      \
                for (int l = 0; l < L; l++) sum += v[q][l];                     \
                dxrow[w + q] = sum + sc[q];                                     \
            }                                                                   \
            w += 4;                                                             \
            continue;                                                           \
        }                                                                       \
        /* One pixel, its taps clipped to [0, Wo): reversed taps k0 .. k1-1. */\
        ptrdiff_t k0 = xs >= 0 ? 0 : (-xs + dwl - 1) / dwl;                     \
        ptrdiff_t k1 = xs > Wo - 1 ? 0 : (Wo - 1 - xs) / dwl + 1;               \
        if (k1 > KW) k1 = KW;                                                   \
        ccsc_##S##_gv vacc = {0};                                               \
        T sacc = 0;                                                             \
        for (ptrdiff_t kh = 0; k0 < k1 && kh < g->KH; kh++) {                   \
            const ptrdiff_t y = h + g->pt - kh * g->dh;                         \
            if (y < 0 || y >= g->Ho) continue;                                  \
            const T *dyr = dy + ((n * g->Ho + y) * Wo + xs) * O;                \
            const T *wk = wflip + kh * g->Opad;                                 \
            if (dwl == 1)                                                       \
                ccsc_##S##_dot_run(dyr + k0 * O, wk + k0 * O, (k1 - k0) * O,    \
                                   &vacc, &sacc);                               \
            else                                                                \
                for (ptrdiff_t kk = k0; kk < k1; kk++)                          \
                    ccsc_##S##_dot_run(dyr + kk * dwl * O, wk + kk * O, O,      \
                                       &vacc, &sacc);                           \
        }                                                                       \
        T sum = 0;                                                              \
        for (int l = 0; l < L; l++) sum += vacc[l];                             \
        dxrow[w] = sum + sacc;                                                  \
        w++;                                                                    \
    }                                                                           \
}

typedef float ccsc_s_gv __attribute__((vector_size(CCSC_VBYTES), aligned(sizeof(float))));
typedef double ccsc_d_gv __attribute__((vector_size(CCSC_VBYTES), aligned(sizeof(double))));
typedef int ccsc_s_gm __attribute__((vector_size(CCSC_VBYTES), aligned(sizeof(int))));
typedef long long ccsc_d_gm __attribute__((vector_size(CCSC_VBYTES), aligned(sizeof(long long))));

CCSC_DEFINE(float, s)
CCSC_DEFINE(double, d)
CCSC_DEFINE_GW(float, s)
CCSC_DEFINE_GW(double, d)
CCSC_DEFINE_GI(float, s)
CCSC_DEFINE_GI(double, d)

#endif
