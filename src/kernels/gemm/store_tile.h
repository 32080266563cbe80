/*
 * store_tile.h -- write the m x n corner of a micro-tile computed into a
 * temporary (row stride nr) to C, adding bias and, with beta, C itself.
 * The edge-tile path of the micro-kernels that have no masked stores.
 */
#ifndef CCK_GEMM_STORE_TILE_H
#define CCK_GEMM_STORE_TILE_H

#include <stddef.h>

#define CCK_DEFINE_STORE_TILE(T, S)                                             \
static void cck_##S##_store_tile(const T *t, int nr, T *c, ptrdiff_t ldc,       \
                                 int m, int n, int beta, const T *bias)         \
{                                                                               \
    for (int i = 0; i < m; i++)                                                 \
        for (int j = 0; j < n; j++) {                                           \
            T v = t[i * nr + j];                                                \
            if (bias) v += bias[j];                                             \
            if (beta) v += c[i * ldc + j];                                      \
            c[i * ldc + j] = v;                                                 \
        }                                                                       \
}

CCK_DEFINE_STORE_TILE(float, s)
CCK_DEFINE_STORE_TILE(double, d)

#endif
