/*
 * depthwise/nhwc.h -- direct depthwise convolution rows (groups == C, one
 * output channel per input channel), NHWC, for float and double.
 *
 * The channel axis is contiguous in NHWC, so every tap is a fused
 * multiply-add over a run of channels. The forward keeps four interior
 * output pixels by four, two, then one vector of CCK_VBYTES bytes (four only
 * at 64-byte vectors) in registers across their taps, with its loads of x
 * aligned to the vector where the input allows it (ccdw_geom's ah); edge
 * pixels and the last channels take four vectors of one pixel, then one,
 * then scalars. grad_input gathers CCDW_CB channels per pixel (with
 * stride 1 the caller runs it as the forward of dy with the kernel rotated
 * instead); a 3x3 grad_weight keeps the nine sums of a vector of channels in
 * registers across the interior of a row. Written once: src/kernels/isa_*.c
 * include it once per ISA with CCK_VBYTES set to that ISA's vector width.
 */
#ifndef CCK_DEPTHWISE_NHWC_H
#define CCK_DEPTHWISE_NHWC_H

#include <stddef.h>

#include "../geometry.h"

/* Channels per register block of the gradients: four vectors of float. */
#define CCDW_CB (4 * CCK_VBYTES / 4)

/* The output pixels whose taps read input pixel (n, hi, wi): runs BODY with
 * dp (grad_out) and wp (weight) pointing at channel c0. */
#define CCDW_GATHER_TAPS(BODY)                                                  \
    for (ptrdiff_t kh = 0; kh < g->KH; kh++) {                                  \
        const ptrdiff_t th = hi + g->pt - kh * g->dh;                           \
        if (th < 0 || th % g->sh) continue;                                     \
        const ptrdiff_t ho = th / g->sh;                                        \
        if (ho >= g->Ho) continue;                                              \
        for (ptrdiff_t kw = 0; kw < g->KW; kw++) {                              \
            const ptrdiff_t tw = wi + g->pl - kw * g->dw;                       \
            if (tw < 0 || tw % g->sw) continue;                                 \
            const ptrdiff_t wo = tw / g->sw;                                    \
            if (wo >= g->Wo) continue;                                          \
            __typeof__(dy) dp = dy + ((n * g->Ho + ho) * g->Wo + wo) * C + c0;        \
            __typeof__(w) wp = w + (kh * g->KW + kw) * C + c0;                     \
            BODY                                                                \
        }                                                                       \
    }

/* The interior blocks' sums start at the bias of their channels (bk, in the
 * blocks' channel numbering) or at zero. */
#define CCDW_BIAS(c) (bk ? *(const vec *)(bk + (c)) : (vec){0})

/* NP interior output pixels by NV vectors of channels, NP*NV sums in
 * registers across all taps, for every whole run of NV vectors of the
 * block's channels [cstart, cend): each weight load feeds NP FMAs. The
 * weight (wk) and bias (bk) are indexed by c - ah (see ccdw_geom's ah). Four
 * pixels by four vectors only at 64-byte vectors, where there are 32 vector
 * registers (measured on Zen 5 against two vectors alone, in one process:
 * 0.93-0.96 of the time of a 3x3x3 layer of 64 channels). Refers to the
 * locals of ccdw_S_forward_row's block. */
#define CCDW_FWD_BLOCK(T, NP, NV)                                               \
    for (; cstart + (NV) * L <= cend; cstart += (NV) * L) {                     \
        vec a[NP][NV];                                                          \
        for (int v = 0; v < (NV); v++) {                                        \
            const vec b = CCDW_BIAS(cstart - ah + v * L);                       \
            for (int q = 0; q < (NP); q++) a[q][v] = b;                         \
        }                                                                       \
        const T *xb = x + xrow + (wb * g->sw - g->pl) * C + cstart;             \
        for (ptrdiff_t kd = 0; kd < g->PD; kd++)                                \
        for (ptrdiff_t kh = kh0; kh < kh1; kh++) {                              \
            const T *xr = xb + kd * g->xpd + kh * g->dh * W * C;                \
            const T *wr = wk + kd * g->wpd + kh * g->KW * C + cstart - ah;      \
            /* The next group's new input pixels, a group ahead. */            \
            for (int v = 0; v < (NV); v++)                                      \
                __builtin_prefetch(xr + ((NP) + g->KW - 1) * sC + v * L);       \
            for (ptrdiff_t kw = 0; kw < g->KW; kw++) {                          \
                const T *xp = xr + kw * g->dw * C;                              \
                for (int v = 0; v < (NV); v++) {                                \
                    const vec wv = *(const vec *)(wr + kw * C + v * L);         \
                    for (int q = 0; q < (NP); q++)                              \
                        a[q][v] += *(const vec *)(xp + q * sC + v * L) * wv;    \
                }                                                               \
            }                                                                   \
        }                                                                       \
        for (int q = 0; q < (NP); q++)                                          \
            for (int v = 0; v < (NV); v++)                                      \
                *(vec *)(ob + q * C + cstart + v * L) = a[q][v];                \
    }

/*
 * DEFINE(T, S) instantiates, for element type T:
 *   ccdw_S_forward_row(x, w, bias, y, g, row): output row (n, ho) = row;
 *       w is (KH, KW, C) (HWIO with I = 1, O = C); bias may be NULL. The
 *       sums run over g->PD planes of taps (x + p*xpd, w + p*wpd), all in
 *       registers, so a 3-D row writes its output once; PD = 0 writes the
 *       bias (or zeros).
 *   ccdw_S_grad_input_row(dy, w, dx, g, row): input row (n, hi) = row of dx,
 *       gathering every tap that read it (no other row is written).
 *   ccdw_S_grad_weight_row(x, dy, dw, db, g, row): adds output row (n, ho)'s
 *       contribution to dw (KH*KW*C) and db (C, may be NULL).
 */
#define CCDW_DEFINE(T, S)                                                       \
static void ccdw_##S##_forward_row(const T *restrict x, const T *restrict w,    \
        const T *restrict bias, T *restrict y, const ccdw_geom *g,            \
        ptrdiff_t row)                                                          \
{                                                                               \
    /* One vector of T, loadable from any T-aligned address. */               \
    typedef T vec __attribute__((vector_size(CCK_VBYTES), aligned(sizeof(T)))); \
    enum { L = CCK_VBYTES / sizeof(T) };                                        \
    const ptrdiff_t C = g->C, W = g->W, n = row / g->Ho, ho = row % g->Ho;      \
    /* The taps inside the image: kh in [kh0, kh1), per pixel kw in [kw0, kw1). */ \
    ptrdiff_t kh0 = 0, kh1 = g->KH;                                             \
    while (kh0 < kh1 && ho * g->sh - g->pt + kh0 * g->dh < 0) kh0++;            \
    while (kh1 > kh0 && ho * g->sh - g->pt + (kh1 - 1) * g->dh >= g->H) kh1--;  \
    /* Offsets may be negative before a valid tap is added: keep them integers. */ \
    const ptrdiff_t xrow = (n * g->H + ho * g->sh - g->pt) * W * C;            \
    /* Output columns all of whose kw taps are inside the row: [wlo, whi). */  \
    const ptrdiff_t wlo = (g->pl + g->sw - 1) / g->sw;                          \
    const ptrdiff_t wlast = W - 1 + g->pl - (g->KW - 1) * g->dw;                \
    ptrdiff_t whi = wlast < 0 ? 0 : wlast / g->sw + 1;                          \
    if (whi > g->Wo) whi = g->Wo;                                               \
    for (ptrdiff_t wb = 0, head_done = -1; wb < g->Wo; ) {                      \
      /* Four interior pixels at once (the one-pixel loop below loads a        \
       * weight per FMA, and the loads were its limit). Pixels at the edges,   \
       * and channels past the blocks' last whole vector, take the one-pixel   \
       * loop. With a channel phase (ah > 0) the blocks also write the first   \
       * ah channels of pixel wb + 4, which must then be interior too. */      \
      const ptrdiff_t ah = g->ah;                                               \
      ptrdiff_t cstart = 0, count = 1;                                          \
      if (wb >= wlo && wb + 4 + (ah > 0) <= whi) {                              \
        T *restrict ob = y + (row * g->Wo + wb) * C;                            \
        const ptrdiff_t sC = g->sw * C, cend = C + ah;                          \
        const T *wk = ah ? (const T *)g->wrot : w;                              \
        const T *bk = ah ? (const T *)g->brot : bias;                           \
        if (ah && head_done != wb) {                                            \
            /* Pixel wb's first ah channels, which no block before wrote: its  \
             * first vector (C >= L), unaligned, once per run of blocks. */    \
            const ptrdiff_t xw = xrow + (wb * g->sw - g->pl) * C;               \
            vec a = bias ? *(const vec *)bias : (vec){0};                       \
            for (ptrdiff_t kd = 0; kd < g->PD; kd++)                            \
            for (ptrdiff_t kh = kh0; kh < kh1; kh++)                            \
                for (ptrdiff_t kw = 0; kw < g->KW; kw++)                        \
                    a += *(const vec *)(x + xw + kd * g->xpd + (kh * g->dh * W + kw * g->dw) * C) \
                       * *(const vec *)(w + kd * g->wpd + (kh * g->KW + kw) * C); \
            *(vec *)ob = a;                                                     \
        }                                                                       \
        cstart = ah;                                                            \
        if (CCK_VBYTES == 64) CCDW_FWD_BLOCK(T, 4, 4)                           \
        CCDW_FWD_BLOCK(T, 4, 2)                                                 \
        CCDW_FWD_BLOCK(T, 4, 1)                                                 \
        head_done = wb + 4;                                                     \
        count = 4;                                                              \
      }                                                                         \
      for (ptrdiff_t wo = wb; wo < wb + count; wo++) {                          \
        T *restrict out = y + (row * g->Wo + wo) * C;                           \
        const ptrdiff_t w0 = wo * g->sw - g->pl;                                \
        ptrdiff_t kw0 = 0, kw1 = g->KW;                                         \
        while (kw0 < kw1 && w0 + kw0 * g->dw < 0) kw0++;                        \
        while (kw1 > kw0 && w0 + (kw1 - 1) * g->dw >= W) kw1--;                 \
        ptrdiff_t c0 = cstart;                                                  \
        /* Four vectors of channels in registers across all taps. */           \
        for (; c0 + 4 * L <= C; c0 += 4 * L) {                                  \
            vec a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};                         \
            if (bias) {                                                         \
                const vec *b = (const vec *)(bias + c0);                        \
                a0 = b[0]; a1 = b[1]; a2 = b[2]; a3 = b[3];                     \
            }                                                                   \
            for (ptrdiff_t kd = 0; kd < g->PD; kd++)                            \
            for (ptrdiff_t kh = kh0; kh < kh1; kh++) {                          \
                const ptrdiff_t xr = xrow + kd * g->xpd + (kh * g->dh * W + w0) * C + c0; \
                const T *wr = w + kd * g->wpd + kh * g->KW * C + c0;            \
                for (ptrdiff_t kw = kw0; kw < kw1; kw++) {                      \
                    const vec *xp = (const vec *)(x + xr + kw * g->dw * C);     \
                    const vec *wp = (const vec *)(wr + kw * C);                 \
                    a0 += xp[0] * wp[0]; a1 += xp[1] * wp[1];                   \
                    a2 += xp[2] * wp[2]; a3 += xp[3] * wp[3];                   \
                }                                                               \
            }                                                                   \
            vec *o = (vec *)(out + c0);                                         \
            o[0] = a0; o[1] = a1; o[2] = a2; o[3] = a3;                         \
        }                                                                       \
        for (; c0 + L <= C; c0 += L) {                                          \
            vec a = {0};                                                        \
            if (bias) a = *(const vec *)(bias + c0);                            \
            for (ptrdiff_t kd = 0; kd < g->PD; kd++)                            \
            for (ptrdiff_t kh = kh0; kh < kh1; kh++)                            \
                for (ptrdiff_t kw = kw0; kw < kw1; kw++)                        \
                    a += *(const vec *)(x + xrow + kd * g->xpd + (kh * g->dh * W + w0 + kw * g->dw) * C + c0) \
                       * *(const vec *)(w + kd * g->wpd + (kh * g->KW + kw) * C + c0); \
            *(vec *)(out + c0) = a;                                             \
        }                                                                       \
        for (; c0 < C; c0++) {              /* the last channels, one by one */ \
            T a = bias ? bias[c0] : 0;                                          \
            for (ptrdiff_t kd = 0; kd < g->PD; kd++)                            \
            for (ptrdiff_t kh = kh0; kh < kh1; kh++)                            \
                for (ptrdiff_t kw = kw0; kw < kw1; kw++)                        \
                    a += x[xrow + kd * g->xpd + (kh * g->dh * W + w0 + kw * g->dw) * C + c0] \
                       * w[kd * g->wpd + (kh * g->KW + kw) * C + c0];           \
            out[c0] = a;                                                        \
        }                                                                       \
      }                                                                         \
      wb += count;                                                              \
    }                                                                           \
}                                                                               \
                                                                                \
static void ccdw_##S##_grad_input_row(const T *restrict dy, const T *restrict w,\
        T *restrict dx, const ccdw_geom *g, ptrdiff_t row)                     \
{                                                                               \
    const ptrdiff_t C = g->C, n = row / g->H, hi = row % g->H;                  \
    for (ptrdiff_t wi = 0; wi < g->W; wi++) {                                   \
        T *restrict out = dx + (row * g->W + wi) * C;                           \
        ptrdiff_t c0 = 0;                                                       \
        for (; c0 + CCDW_CB <= C; c0 += CCDW_CB) {                              \
            T acc[CCDW_CB];                                                     \
            for (int c = 0; c < CCDW_CB; c++) acc[c] = 0;                       \
            CCDW_GATHER_TAPS(for (int c = 0; c < CCDW_CB; c++)                  \
                             acc[c] += dp[c] * wp[c];)                          \
            for (int c = 0; c < CCDW_CB; c++) out[c0 + c] = acc[c];             \
        }                                                                       \
        if (c0 < C) {                                                           \
            const ptrdiff_t cb = C - c0;                                        \
            for (ptrdiff_t c = 0; c < cb; c++) out[c0 + c] = 0;                 \
            CCDW_GATHER_TAPS(for (ptrdiff_t c = 0; c < cb; c++)                 \
                             out[c0 + c] += dp[c] * wp[c];)                     \
        }                                                                       \
    }                                                                           \
}                                                                               \
                                                                                \
static void ccdw_##S##_grad_weight_row(const T *restrict x,                     \
        const T *restrict dy, T *restrict dw, T *restrict db,                   \
        const ccdw_geom *g, ptrdiff_t row)                                      \
{                                                                               \
    typedef T vec __attribute__((vector_size(CCK_VBYTES), aligned(sizeof(T)))); \
    enum { L = CCK_VBYTES / sizeof(T) };                                        \
    const ptrdiff_t C = g->C, n = row / g->Ho, ho = row % g->Ho;                \
    /* 3x3: the interior columns [wlo, whi) of whole vectors of channels keep  \
     * their nine weight sums (and the bias sum) in registers across the row,  \
     * one load of dy feeding nine FMAs; the rest goes pixel by pixel below,   \
     * through dw in memory. */                                                 \
    ptrdiff_t wlo = 0, whi = 0, cfull = 0;                                      \
    if (g->KH == 3 && g->KW == 3) {                                             \
        wlo = (g->pl + g->sw - 1) / g->sw;                                      \
        const ptrdiff_t wlast = g->W - 1 + g->pl - 2 * g->dw;                   \
        whi = wlast < 0 ? 0 : wlast / g->sw + 1;                                \
        if (whi > g->Wo) whi = g->Wo;                                           \
        if (whi < wlo) whi = wlo;                                               \
        cfull = C / L * L;                                                      \
        const T *xr[3] = {x, x, x};                                             \
        int ok[3];                                                              \
        for (int kh = 0; kh < 3; kh++) {                                        \
            const ptrdiff_t hi = ho * g->sh - g->pt + kh * g->dh;               \
            ok[kh] = hi >= 0 && hi < g->H;                                      \
            if (ok[kh]) xr[kh] = x + (n * g->H + hi) * g->W * C;                \
        }                                                                       \
        const ptrdiff_t s1 = g->dw * C, s2 = 2 * g->dw * C;                     \
        for (ptrdiff_t c0 = 0; whi > wlo && c0 < cfull; c0 += L) {              \
            vec a00 = {0}, a01 = {0}, a02 = {0}, a10 = {0}, a11 = {0};          \
            vec a12 = {0}, a20 = {0}, a21 = {0}, a22 = {0}, bs = {0};           \
            for (ptrdiff_t wo = wlo; wo < whi; wo++) {                          \
                const vec d = *(const vec *)(dy + (row * g->Wo + wo) * C + c0); \
                const ptrdiff_t off = (wo * g->sw - g->pl) * C + c0;            \
                bs += d;                                                        \
                if (ok[0]) {                                                    \
                    const T *p = xr[0] + off;                                   \
                    a00 += *(const vec *)p * d; a01 += *(const vec *)(p + s1) * d; \
                    a02 += *(const vec *)(p + s2) * d;                          \
                }                                                               \
                if (ok[1]) {                                                    \
                    const T *p = xr[1] + off;                                   \
                    a10 += *(const vec *)p * d; a11 += *(const vec *)(p + s1) * d; \
                    a12 += *(const vec *)(p + s2) * d;                          \
                }                                                               \
                if (ok[2]) {                                                    \
                    const T *p = xr[2] + off;                                   \
                    a20 += *(const vec *)p * d; a21 += *(const vec *)(p + s1) * d; \
                    a22 += *(const vec *)(p + s2) * d;                          \
                }                                                               \
            }                                                                   \
            *(vec *)(dw + 0 * C + c0) += a00; *(vec *)(dw + 1 * C + c0) += a01; \
            *(vec *)(dw + 2 * C + c0) += a02; *(vec *)(dw + 3 * C + c0) += a10; \
            *(vec *)(dw + 4 * C + c0) += a11; *(vec *)(dw + 5 * C + c0) += a12; \
            *(vec *)(dw + 6 * C + c0) += a20; *(vec *)(dw + 7 * C + c0) += a21; \
            *(vec *)(dw + 8 * C + c0) += a22;                                   \
            if (db) *(vec *)(db + c0) += bs;                                    \
        }                                                                       \
    }                                                                           \
    for (ptrdiff_t wo = 0; wo < g->Wo; wo++) {                                  \
        const ptrdiff_t cs = (wo >= wlo && wo < whi) ? cfull : 0;               \
        if (cs == C) continue;                                                  \
        const T *d = dy + (row * g->Wo + wo) * C;                               \
        if (db)                                                                 \
            for (ptrdiff_t c = cs; c < C; c++) db[c] += d[c];                   \
        for (ptrdiff_t kh = 0; kh < g->KH; kh++) {                              \
            const ptrdiff_t hi = ho * g->sh - g->pt + kh * g->dh;               \
            if (hi < 0 || hi >= g->H) continue;                                 \
            for (ptrdiff_t kw = 0; kw < g->KW; kw++) {                          \
                const ptrdiff_t wi = wo * g->sw - g->pl + kw * g->dw;           \
                if (wi < 0 || wi >= g->W) continue;                             \
                __typeof__(x) xp = x + ((n * g->H + hi) * g->W + wi) * C;       \
                T *wt = dw + (kh * g->KW + kw) * C;                             \
                for (ptrdiff_t c = cs; c < C; c++) wt[c] += xp[c] * d[c];       \
            }                                                                   \
        }                                                                       \
    }                                                                           \
}

CCDW_DEFINE(float, s)
CCDW_DEFINE(double, d)

#endif
