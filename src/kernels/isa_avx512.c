/*
 * isa_avx512.c -- the kernel table's AVX-512 row: the kernel bodies with
 * 64-byte vectors and the hand-written AVX-512 micro-kernels, compiled for
 * AVX-512 F/BW/DQ/VL (with AVX2 + FMA). Only x86 builds have it.
 */
#include "table.h"

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>

#define CCK_VBYTES 64
#define CCK_TARGET "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"
#include "target_begin.h"
#include "gemm/ukr_avx512.h"
#include "kernel_bodies.h"
#include "target_end.h"

/* The single-channel kernels come from the AVX2 file: their vectors hold
 * pixels of short rows and are 32 bytes at every level, and the AVX-512
 * build of that body measured about 20% slower than the AVX2 build
 * (lenet-conv1 forward, 0.38-0.49 ms against 0.35-0.39, this Xeon). */
#define CCK_SC_FORWARD(S) cck_avx2_##S##_sc_forward_row
#define CCK_SC_GRAD_WEIGHT(S) cck_avx2_##S##_sc_grad_weight_row
#define CCK_SC_GRAD_INPUT(S) cck_avx2_##S##_sc_grad_input_row
#include "kernel_row.h"

CCK_ROW(CCK_AVX512, "avx512", CCK_TARGET, cck_row_avx512)
#else
const cck_row *cck_row_avx512(void) { return 0; }
#endif
