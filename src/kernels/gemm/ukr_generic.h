/*
 * ukr_generic.h -- the baseline GEMM micro-kernel (the contract is in
 * driver.h). GCC/Clang 16-byte generic vectors: SSE2 on baseline x86-64,
 * NEON on arm64. Two rows at a time, so 8 accumulators and 4 B vectors fit
 * in 16 registers. A is read through (rsa, csa), packed or in place.
 */
#ifndef CCK_GEMM_UKR_H
#define CCK_GEMM_UKR_H

#include <string.h>

#include "store_tile.h"

#define CCK_S_MR 6
#define CCK_S_NR 16
#define CCK_D_MR 6
#define CCK_D_NR 8

#define CCK_DEFINE_UKR_GENERIC(T, S, MR, NR)                                    \
typedef T cck_##S##_v16 __attribute__((vector_size(16)));                       \
static void cck_##S##_ukr_generic(int kc, const T *a, ptrdiff_t rsa,            \
        ptrdiff_t csa, const T *restrict b, T *c, ptrdiff_t ldc,                \
        int m, int n, int beta, const T *bias)                                  \
{                                                                               \
    enum { W = 16 / sizeof(T), NV = (NR) / W };   /* NR == NV * W */            \
    T acc[MR][NR];                                                              \
    for (int i = 0; i < (MR); i += 2) {                                         \
        cck_##S##_v16 r0[NV] = { { 0 } }, r1[NV] = { { 0 } }, bv[NV];           \
        const T *p0 = a + i * rsa, *p1 = p0 + rsa;                              \
        for (int k = 0; k < kc; k++) {                                          \
            const T x0 = p0[k * csa], x1 = p1[k * csa];                         \
            memcpy(bv, b + (ptrdiff_t)k * (NR), sizeof bv);                     \
            for (int v = 0; v < NV; v++) {                                      \
                r0[v] += x0 * bv[v];                                            \
                r1[v] += x1 * bv[v];                                            \
            }                                                                   \
        }                                                                       \
        memcpy(acc[i], r0, sizeof r0);                                          \
        memcpy(acc[i + 1], r1, sizeof r1);                                      \
    }                                                                           \
    cck_##S##_store_tile(&acc[0][0], NR, c, ldc, m, n, beta, bias);             \
}                                                                               \
static void cck_##S##_ukr_packed(int kc, const T *a, ptrdiff_t rsa,             \
        ptrdiff_t csa, const T *restrict b, T *c, ptrdiff_t ldc,                \
        int m, int n, int beta, const T *bias)                                  \
{ cck_##S##_ukr_generic(kc, a, rsa, csa, b, c, ldc, m, n, beta, bias); }        \
static void cck_##S##_ukr_rows(int kc, const T *a, ptrdiff_t rsa,               \
        ptrdiff_t csa, const T *restrict b, T *c, ptrdiff_t ldc,                \
        int m, int n, int beta, const T *bias)                                  \
{ cck_##S##_ukr_generic(kc, a, rsa, csa, b, c, ldc, m, n, beta, bias); }        \
static void cck_##S##_ukr_cols(int kc, const T *a, ptrdiff_t rsa,               \
        ptrdiff_t csa, const T *restrict b, T *c, ptrdiff_t ldc,                \
        int m, int n, int beta, const T *bias)                                  \
{ cck_##S##_ukr_generic(kc, a, rsa, csa, b, c, ldc, m, n, beta, bias); }

CCK_DEFINE_UKR_GENERIC(float, s, CCK_S_MR, CCK_S_NR)
CCK_DEFINE_UKR_GENERIC(double, d, CCK_D_MR, CCK_D_NR)

#endif
