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

/* The single-channel kernels, lent to the AVX-512 row (table.h). */
#define CCK_DEFINE_SHARED(T, S)                                                 \
void cck_avx2_##S##_sc_forward_row(const T *x, const T *wpad, const T *bpad,    \
                                   T *y, const ccsc_geom *g, ptrdiff_t row)     \
{ ccsc_##S##_forward_row(x, wpad, bpad, y, g, row); }                           \
void cck_avx2_##S##_sc_grad_weight_row(const T *x, const T *dy, T *dwv, T *db,  \
                                       T *dyt, const ccsc_geom *g, ptrdiff_t row) \
{ ccsc_##S##_grad_weight_row(x, dy, dwv, db, dyt, g, row); }                   \
void cck_avx2_##S##_sc_grad_input_row(const T *dy, const T *wflip, T *dx,       \
                                      const ccsc_geom *g, ptrdiff_t row)        \
{ ccsc_##S##_grad_input_row(dy, wflip, dx, g, row); }
CCK_DEFINE_SHARED(float, s)
CCK_DEFINE_SHARED(double, d)

#include "target_end.h"
#include "kernel_row.h"

CCK_ROW(CCK_AVX2, "avx2", CCK_TARGET, cck_row_avx2)
#else
const cck_row *cck_row_avx2(void) { return 0; }
#endif
