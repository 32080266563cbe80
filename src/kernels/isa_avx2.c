/*
 * isa_avx2.c -- the kernel table's AVX2 + FMA row: the kernel bodies with
 * 32-byte vectors and the 6x16 / 6x8 hand-written micro-kernels, compiled
 * for AVX2 + FMA. Only x86 builds have it.
 */
#include "table.h"

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>

#define CCK_VBYTES 32
#define CCK_TARGET "avx2,fma"
#include "target_begin.h"
#include "gemm/ukr_avx2.h"
#include "kernel_bodies.h"
#include "target_end.h"
#include "kernel_row.h"

CCK_ROW(CCK_AVX2, "avx2", CCK_TARGET, cck_row_avx2)
#else
const cck_row *cck_row_avx2(void) { return 0; }
#endif
