/*
 * depthwise/nchw.h -- direct depthwise convolution on NCHW planes
 * (groups == C == O): every channel is an independent 2-D image, so the
 * kernels run on one (n, c) plane at a time, vectorised along W by the
 * compiler for the ISA of the file that includes it (src/kernels/isa_*.c).
 */
#ifndef CCK_DEPTHWISE_NCHW_H
#define CCK_DEPTHWISE_NCHW_H

#include <stddef.h>

#include "../geometry.h"

/* Output columns wo with 0 <= wo*sw + off < W: [*lo, *hi). */
static inline void ccdp_wo_range(const ccdp_geom *g, ptrdiff_t off,
                                 ptrdiff_t *lo, ptrdiff_t *hi)
{
    ptrdiff_t a = off >= 0 ? 0 : (-off + g->sw - 1) / g->sw;
    ptrdiff_t b = g->W - 1 - off < 0 ? 0 : (g->W - 1 - off) / g->sw + 1;
    if (b > g->Wo) b = g->Wo;
    *lo = a;
    *hi = b < a ? a : b;
}

/*
 * DEFINE(T, S):
 *   ccdp_S_forward(x, w, b, y, g): one plane; x (H, W), w (KH*KW), y (Ho, Wo).
 *   ccdp_S_grad_input(dy, w, dx, g): one plane; dx (H, W) is overwritten.
 *   ccdp_S_grad_weight(x, dy, dw, g): one plane; dw (KH*KW) is accumulated.
 */
#define CCDP_DEFINE(T, S)                                                       \
static void ccdp_##S##_forward(const T *restrict x, const T *restrict w, T b,   \
                               T *restrict y, const ccdp_geom *g)               \
{                                                                               \
    for (ptrdiff_t ho = 0; ho < g->Ho; ho++) {                                  \
        T *restrict yr = y + ho * g->Wo;                                        \
        for (ptrdiff_t wo = 0; wo < g->Wo; wo++) yr[wo] = b;                    \
        for (ptrdiff_t kh = 0; kh < g->KH; kh++) {                              \
            const ptrdiff_t hi = ho * g->sh - g->pt + kh * g->dh;               \
            if (hi < 0 || hi >= g->H) continue;                                 \
            const T *xr = x + hi * g->W;                                        \
            for (ptrdiff_t kw = 0; kw < g->KW; kw++) {                          \
                const T wv = w[kh * g->KW + kw];                                \
                const ptrdiff_t off = kw * g->dw - g->pl;                       \
                ptrdiff_t lo, hi_w;                                             \
                ccdp_wo_range(g, off, &lo, &hi_w);                              \
                if (g->sw == 1) {                                               \
                    const T *xs = xr + off;                                     \
                    for (ptrdiff_t wo = lo; wo < hi_w; wo++) yr[wo] += wv * xs[wo]; \
                } else {                                                        \
                    for (ptrdiff_t wo = lo; wo < hi_w; wo++)                    \
                        yr[wo] += wv * xr[wo * g->sw + off];                    \
                }                                                               \
            }                                                                   \
        }                                                                       \
    }                                                                           \
}                                                                               \
                                                                                \
static void ccdp_##S##_grad_input(const T *restrict dy, const T *restrict w,    \
                                  T *restrict dx, const ccdp_geom *g)           \
{                                                                               \
    for (ptrdiff_t i = 0; i < g->H * g->W; i++) dx[i] = 0;                      \
    for (ptrdiff_t ho = 0; ho < g->Ho; ho++) {                                  \
        const T *dr = dy + ho * g->Wo;                                          \
        for (ptrdiff_t kh = 0; kh < g->KH; kh++) {                              \
            const ptrdiff_t hi = ho * g->sh - g->pt + kh * g->dh;               \
            if (hi < 0 || hi >= g->H) continue;                                 \
            T *restrict xr = dx + hi * g->W;                                    \
            for (ptrdiff_t kw = 0; kw < g->KW; kw++) {                          \
                const T wv = w[kh * g->KW + kw];                                \
                const ptrdiff_t off = kw * g->dw - g->pl;                       \
                ptrdiff_t lo, hi_w;                                             \
                ccdp_wo_range(g, off, &lo, &hi_w);                              \
                if (g->sw == 1) {                                               \
                    T *restrict xs = xr + off;                                  \
                    for (ptrdiff_t wo = lo; wo < hi_w; wo++) xs[wo] += wv * dr[wo]; \
                } else {                                                        \
                    for (ptrdiff_t wo = lo; wo < hi_w; wo++)                    \
                        xr[wo * g->sw + off] += wv * dr[wo];                    \
                }                                                               \
            }                                                                   \
        }                                                                       \
    }                                                                           \
}                                                                               \
                                                                                \
static void ccdp_##S##_grad_weight(const T *restrict x, const T *restrict dy,   \
                                   T *restrict dw, const ccdp_geom *g)          \
{                                                                               \
    for (ptrdiff_t kh = 0; kh < g->KH; kh++) {                                  \
        for (ptrdiff_t kw = 0; kw < g->KW; kw++) {                              \
            const ptrdiff_t off = kw * g->dw - g->pl;                           \
            ptrdiff_t lo, hi_w;                                                 \
            ccdp_wo_range(g, off, &lo, &hi_w);                                  \
            /* part[] only takes constant indices, so it stays in registers;  \
             * the ragged end of each row goes to rest[], one slot a column. */ \
            T acc = 0, part[16] = {0}, rest[16] = {0};                          \
            for (ptrdiff_t ho = 0; ho < g->Ho; ho++) {                          \
                const ptrdiff_t hi = ho * g->sh - g->pt + kh * g->dh;           \
                if (hi < 0 || hi >= g->H) continue;                             \
                const T *xr = x + hi * g->W;                                    \
                const T *dr = dy + ho * g->Wo;                                  \
                if (g->sw == 1) {                                               \
                    const T *xs = xr + off;                                     \
                    ptrdiff_t wo = lo;                                          \
                    for (; wo + 16 <= hi_w; wo += 16)                           \
                        for (int j = 0; j < 16; j++) part[j] += xs[wo + j] * dr[wo + j]; \
                    for (int j = 0; wo < hi_w; wo++, j++) rest[j] += xs[wo] * dr[wo]; \
                } else {                                                        \
                    for (ptrdiff_t wo = lo; wo < hi_w; wo++)                    \
                        acc += xr[wo * g->sw + off] * dr[wo];                   \
                }                                                               \
            }                                                                   \
            for (int j = 0; j < 16; j++) acc += part[j] + rest[j];              \
            dw[kh * g->KW + kw] += acc;                                         \
        }                                                                       \
    }                                                                           \
}

CCDP_DEFINE(float, s)
CCDP_DEFINE(double, d)

#endif
