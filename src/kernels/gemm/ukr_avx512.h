/*
 * ukr_avx512.h -- the AVX-512 GEMM micro-kernels (the contract is in
 * driver.h): MR x NR = 6 x 32 (float) / 6 x 16 (double), 12 zmm
 * accumulators (ukr_6x2v.h on 512-bit vectors). Included by isa_avx512.c
 * only, which compiles it for AVX-512.
 */
#ifndef CCK_GEMM_UKR_H
#define CCK_GEMM_UKR_H

#include <immintrin.h>

#include "ukr_6x2v.h"

#define CCK_S_MR 6
#define CCK_S_NR 32
#define CCK_D_MR 6
#define CCK_D_NR 16

#define CCK_BCAST512_PS(p) _mm512_set1_ps(*(p))
#define CCK_BCAST512_PD(p) _mm512_set1_pd(*(p))

CCK_DEFINE_UKR_6X2V(float,  s, __m512,  16, CCK_BCAST512_PS, _mm512_loadu_ps,
                    _mm512_storeu_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_setzero_ps)
CCK_DEFINE_UKR_6X2V(double, d, __m512d, 8, CCK_BCAST512_PD, _mm512_loadu_pd,
                    _mm512_storeu_pd, _mm512_fmadd_pd, _mm512_add_pd, _mm512_setzero_pd)

#endif
