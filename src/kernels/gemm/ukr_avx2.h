/*
 * ukr_avx2.h -- the AVX2 + FMA GEMM micro-kernels (the contract is in
 * driver.h): MR x NR = 6 x 16 (float) / 6 x 8 (double), 12 ymm
 * accumulators (ukr_6x2v.h on 256-bit vectors). Included by isa_avx2.c
 * only, which compiles it for AVX2 + FMA.
 */
#ifndef CCK_GEMM_UKR_H
#define CCK_GEMM_UKR_H

#include <immintrin.h>

#include "ukr_6x2v.h"

#define CCK_S_MR 6
#define CCK_S_NR 16
#define CCK_D_MR 6
#define CCK_D_NR 8

CCK_DEFINE_UKR_6X2V(float,  s, __m256,  8, _mm256_broadcast_ss, _mm256_loadu_ps,
                    _mm256_storeu_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_setzero_ps)
CCK_DEFINE_UKR_6X2V(double, d, __m256d, 4, _mm256_broadcast_sd, _mm256_loadu_pd,
                    _mm256_storeu_pd, _mm256_fmadd_pd, _mm256_add_pd, _mm256_setzero_pd)

#endif
