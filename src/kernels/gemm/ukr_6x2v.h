/*
 * ukr_6x2v.h -- a GEMM micro-kernel of 6 rows by two vector registers,
 * written once over the vector type V of VL lanes and its intrinsics (the
 * contract is in driver.h): 12 accumulators; per k 2 B loads, 6 broadcasts
 * and 12 FMAs. The body is force-inlined into two instances with constant
 * strides: ukr_packed (packed A: rsa = 1, csa = MR), ukr_rows (row-major
 * A read in place through 6 row pointers: rsa = lda, csa = 1) and ukr_cols
 * (A^T read in place: rsa = 1, csa = lda). Edge tiles go through a temporary
 * (store_tile.h).
 */
#ifndef CCK_GEMM_UKR_6X2V_H
#define CCK_GEMM_UKR_6X2V_H

#include "store_tile.h"

/* The tile's end (locals c00..c51, c, ldc, m, n, beta, bias, NR): a full
 * tile stored fused with bias and beta, an edge tile through a temporary. */
#define CCK_6X2V_STORE(T, S, V, VL, LOADU, STOREU, ADD)                       \
    if (m == 6 && n == NR) {             /* full tile: fused store */       \
        if (bias) {                                                            \
            const V p0 = LOADU(bias), p1 = LOADU(bias + (VL));                 \
            c00 = ADD(c00, p0); c01 = ADD(c01, p1);                            \
            c10 = ADD(c10, p0); c11 = ADD(c11, p1);                            \
            c20 = ADD(c20, p0); c21 = ADD(c21, p1);                            \
            c30 = ADD(c30, p0); c31 = ADD(c31, p1);                            \
            c40 = ADD(c40, p0); c41 = ADD(c41, p1);                            \
            c50 = ADD(c50, p0); c51 = ADD(c51, p1);                            \
        }                                                                      \
        T *r0 = c, *r1 = c + ldc, *r2 = c + 2 * ldc;                           \
        T *r3 = c + 3 * ldc, *r4 = c + 4 * ldc, *r5 = c + 5 * ldc;             \
        if (beta) {                                                            \
            c00 = ADD(c00, LOADU(r0)); c01 = ADD(c01, LOADU(r0 + (VL)));       \
            c10 = ADD(c10, LOADU(r1)); c11 = ADD(c11, LOADU(r1 + (VL)));       \
            c20 = ADD(c20, LOADU(r2)); c21 = ADD(c21, LOADU(r2 + (VL)));       \
            c30 = ADD(c30, LOADU(r3)); c31 = ADD(c31, LOADU(r3 + (VL)));       \
            c40 = ADD(c40, LOADU(r4)); c41 = ADD(c41, LOADU(r4 + (VL)));       \
            c50 = ADD(c50, LOADU(r5)); c51 = ADD(c51, LOADU(r5 + (VL)));       \
        }                                                                      \
        STOREU(r0, c00); STOREU(r0 + (VL), c01);                               \
        STOREU(r1, c10); STOREU(r1 + (VL), c11);                               \
        STOREU(r2, c20); STOREU(r2 + (VL), c21);                               \
        STOREU(r3, c30); STOREU(r3 + (VL), c31);                               \
        STOREU(r4, c40); STOREU(r4 + (VL), c41);                               \
        STOREU(r5, c50); STOREU(r5 + (VL), c51);                               \
    } else {                               /* edge tile: via temp */          \
        T tt[6 * NR];                                                   \
        STOREU(tt + 0 * NR, c00); STOREU(tt + 0 * NR + (VL), c01);             \
        STOREU(tt + 1 * NR, c10); STOREU(tt + 1 * NR + (VL), c11);             \
        STOREU(tt + 2 * NR, c20); STOREU(tt + 2 * NR + (VL), c21);             \
        STOREU(tt + 3 * NR, c30); STOREU(tt + 3 * NR + (VL), c31);             \
        STOREU(tt + 4 * NR, c40); STOREU(tt + 4 * NR + (VL), c41);             \
        STOREU(tt + 5 * NR, c50); STOREU(tt + 5 * NR + (VL), c51);             \
        cck_##S##_store_tile(tt, NR, c, ldc, m, n, beta, bias);                    \
    }

#define CCK_DEFINE_UKR_6X2V(T, S, V, VL, BCAST, LOADU, STOREU, FMA, ADD, ZERO) \
static inline __attribute__((always_inline)) void                        \
cck_##S##_ukr_body(int kc, const T *a, ptrdiff_t rsa, ptrdiff_t csa,          \
                   const T *restrict b, T *c, ptrdiff_t ldc, int m, int n,     \
                   int beta, const T *bias)                                    \
{                                                                              \
    enum { NR = 2 * (VL) };                                                    \
    V c00 = ZERO(), c01 = ZERO(), c10 = ZERO(), c11 = ZERO();                  \
    V c20 = ZERO(), c21 = ZERO(), c30 = ZERO(), c31 = ZERO();                  \
    V c40 = ZERO(), c41 = ZERO(), c50 = ZERO(), c51 = ZERO();                  \
    const T *a0 = a, *a1 = a + rsa, *a2 = a + 2 * rsa;                         \
    const T *a3 = a + 3 * rsa, *a4 = a + 4 * rsa, *a5 = a + 5 * rsa;           \
    _Pragma("GCC unroll 4")                                                    \
    for (ptrdiff_t k = 0; k < kc; k++) {                                       \
        const V b0 = LOADU(b + k * NR), b1 = LOADU(b + k * NR + (VL));         \
        V t;                                                                   \
        t = BCAST(a0 + k * csa); c00 = FMA(t, b0, c00); c01 = FMA(t, b1, c01); \
        t = BCAST(a1 + k * csa); c10 = FMA(t, b0, c10); c11 = FMA(t, b1, c11); \
        t = BCAST(a2 + k * csa); c20 = FMA(t, b0, c20); c21 = FMA(t, b1, c21); \
        t = BCAST(a3 + k * csa); c30 = FMA(t, b0, c30); c31 = FMA(t, b1, c31); \
        t = BCAST(a4 + k * csa); c40 = FMA(t, b0, c40); c41 = FMA(t, b1, c41); \
        t = BCAST(a5 + k * csa); c50 = FMA(t, b0, c50); c51 = FMA(t, b1, c51); \
    }                                                                          \
    CCK_6X2V_STORE(T, S, V, VL, LOADU, STOREU, ADD)                            \
}                                                                              \
static void cck_##S##_ukr_packed(int kc, const T *a, ptrdiff_t rsa,  \
        ptrdiff_t csa, const T *b, T *c, ptrdiff_t ldc, int m, int n,          \
        int beta, const T *bias)                                               \
{                                                                              \
    (void)rsa; (void)csa;                                                      \
    cck_##S##_ukr_body(kc, a, 1, 6, b, c, ldc, m, n, beta, bias);         \
}                                                                              \
static void cck_##S##_ukr_rows(int kc, const T *a, ptrdiff_t rsa,    \
        ptrdiff_t csa, const T *b, T *c, ptrdiff_t ldc, int m, int n,          \
        int beta, const T *bias)                                               \
{                                                                              \
    (void)csa;                                                                 \
    cck_##S##_ukr_body(kc, a, rsa, 1, b, c, ldc, m, n, beta, bias);            \
}                                                                              \
/* The implicit GEMM's tile (driver.h): A through a table of run pointers,  \
 * six per run s (rows[i*nseg + s]), beta 0; edge tiles via store_tile. */    \
static void cck_##S##_ukr_indirect(int nseg, int seglen, const T *const *rows, \
        const T *b, T *c, ptrdiff_t ldc, int m, int n, const T *bias)          \
{                                                                              \
    enum { NR = 2 * (VL) };                                                    \
    V c00 = ZERO(), c01 = ZERO(), c10 = ZERO(), c11 = ZERO();                  \
    V c20 = ZERO(), c21 = ZERO(), c30 = ZERO(), c31 = ZERO();                  \
    V c40 = ZERO(), c41 = ZERO(), c50 = ZERO(), c51 = ZERO();                  \
    for (int s = 0; s < nseg; s++, b += (size_t)seglen * NR) {                 \
        const T *a0 = rows[s], *a1 = rows[nseg + s], *a2 = rows[2 * nseg + s]; \
        const T *a3 = rows[3 * nseg + s], *a4 = rows[4 * nseg + s];            \
        const T *a5 = rows[5 * nseg + s];                                      \
        _Pragma("GCC unroll 4")                                                \
        for (int k = 0; k < seglen; k++) {                                     \
            const V b0 = LOADU(b + k * NR), b1 = LOADU(b + k * NR + (VL));     \
            V t;                                                               \
            t = BCAST(a0 + k); c00 = FMA(t, b0, c00); c01 = FMA(t, b1, c01);   \
            t = BCAST(a1 + k); c10 = FMA(t, b0, c10); c11 = FMA(t, b1, c11);   \
            t = BCAST(a2 + k); c20 = FMA(t, b0, c20); c21 = FMA(t, b1, c21);   \
            t = BCAST(a3 + k); c30 = FMA(t, b0, c30); c31 = FMA(t, b1, c31);   \
            t = BCAST(a4 + k); c40 = FMA(t, b0, c40); c41 = FMA(t, b1, c41);   \
            t = BCAST(a5 + k); c50 = FMA(t, b0, c50); c51 = FMA(t, b1, c51);   \
        }                                                                      \
    }                                                                          \
    const int beta = 0;                                                        \
    CCK_6X2V_STORE(T, S, V, VL, LOADU, STOREU, ADD)                            \
}                                                                              \
static void cck_##S##_ukr_cols(int kc, const T *a, ptrdiff_t rsa,              \
        ptrdiff_t csa, const T *b, T *c, ptrdiff_t ldc, int m, int n,          \
        int beta, const T *bias)                                               \
{                                                                              \
    (void)rsa;                                                                 \
    cck_##S##_ukr_body(kc, a, 1, csa, b, c, ldc, m, n, beta, bias);            \
}

/* The template above provides the implicit GEMM's in-place tile. */
#define CCK_HAS_UKR_INDIRECT 1

#endif
