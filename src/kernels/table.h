/*
 * table.h -- the kernel table: one row per instruction-set level, holding
 * every kernel whose code depends on the ISA, with the sizes that go with
 * it (BLIS's per-architecture context, XNNPACK's kernel configs).
 *
 * Each row is built by one translation unit, src/kernels/isa_<level>.c,
 * which compiles the same kernel bodies for its target; only the GEMM
 * micro-kernels are written by hand per ISA (src/kernels/gemm/ukr_*.h).
 * A caller fetches the row once (cck_row_for) and reads everything from
 * it: buffer sizes come from the row's mr/nr/lanes, never from constants.
 */
#ifndef CCK_TABLE_H
#define CCK_TABLE_H

#include <stddef.h>

#include "kernels/geometry.h"   /* from src/: Cython copies this header alone */

/* ISA levels, lowest first. A higher level may only be used when the CPU
 * (and the OS) support it: see cpu.h. */
enum {
    CCK_BASELINE = 0,   /* the compiler's default target (SSE2 on x86-64)        */
    CCK_AVX2 = 1,       /* AVX2 + FMA                                            */
    CCK_AVX512 = 2,     /* AVX-512 F + BW + DQ + VL (with AVX2 + FMA)            */
    CCK_N_LEVELS = 3
};

/* The kernels of one element type T (suffix S) at one ISA level. */
#define CCK_DECLARE_KERNELS(T, S)                                                           \
typedef struct {                                                                            \
    /* GEMM: C[M,N] = A @ B (+C if beta) (+bias); B packed by pack_b. */                     \
    int mr, nr;            /* micro-tile rows / columns (B panels are nr wide)          */  \
    int kc, mc;            /* K-block depth bound; rows of A per block                  */  \
    int lanes;             /* elements of T per vector register                         */  \
    int sc_ob;             /* single-channel output channels per register block         */  \
    int sc_lanes;          /* single-channel pixels per vector (grad_weight partial sums) */\
    size_t (*packb_size)(int K, int N);                                                     \
    size_t (*abuf_size)(int K);                                                             \
    int (*kc_for)(int K);                                                                   \
    void (*pack_b)(int K, int N, const T *B, ptrdiff_t rsb, ptrdiff_t csb, T *Bp);          \
    void (*gemm)(int M, int N, int K, const T *A, ptrdiff_t rsa, ptrdiff_t csa,             \
                 const T *Bp, T *C, ptrdiff_t ldc, int beta, const T *bias, T *abuf);       \
    /* Implicit GEMM: C[M,N] = A @ B (+bias), row i of A is nseg runs of seglen      */  \
    /* values at ptrs[i*nseg + s] (gemm/driver.h); K = nseg*seglen <= kc.            */  \
    void (*gemm_indirect)(int M, int N, int nseg, int seglen, const T *const *ptrs,         \
                          const T *Bp, T *C, ptrdiff_t ldc, const T *bias, T *abuf);        \
    /* Depthwise, NHWC rows. */                                                             \
    void (*dw_forward_row)(const T *x, const T *w, const T *bias, T *y,                     \
                           const ccdw_geom *g, ptrdiff_t row);                              \
    void (*dw_grad_input_row)(const T *dy, const T *w, T *dx, const ccdw_geom *g,           \
                              ptrdiff_t row);                                               \
    void (*dw_grad_weight_row)(const T *x, const T *dy, T *dw, T *db,                       \
                               const ccdw_geom *g, ptrdiff_t row);                          \
    /* Depthwise, NCHW planes. */                                                           \
    void (*dp_forward)(const T *x, const T *w, T b, T *y, const ccdp_geom *g);              \
    void (*dp_grad_input)(const T *dy, const T *w, T *dx, const ccdp_geom *g);              \
    void (*dp_grad_weight)(const T *x, const T *dy, T *dw, const ccdp_geom *g);             \
    /* One input channel, stride 1 (grad_weight partial sums: sc_lanes per weight). */      \
    void (*sc_forward_row)(const T *x, const T *wpad, const T *bpad, T *y,                  \
                           const ccsc_geom *g, ptrdiff_t row);                              \
    void (*sc_grad_weight_row)(const T *x, const T *dy, T *dwv, T *db, T *dyt,              \
                               const ccsc_geom *g, ptrdiff_t row);                          \
    void (*sc_grad_input_row)(const T *dy, const T *wflip, T *dx, const ccsc_geom *g,       \
                              ptrdiff_t row);                                               \
    /* Winograd F(m x m, 3 x 3) transforms, writing/reading this row's GEMM layout. */      \
    void (*wg_weight_panel)(int m, const T *w, const ccwg_pack *pk, ptrdiff_t grp,          \
                            ptrdiff_t jr, T *Bp);                                           \
    void (*wg_input)(int m, int half, const T *x, const ccwg_geom *g, const T *zeros,       \
                     ptrdiff_t t0, ptrdiff_t cnt, T *V, ptrdiff_t vs);                      \
    void (*wg_output)(int m, const T *M, ptrdiff_t ms, const T *bias, T *y,                 \
                      const ccwg_geom *g, ptrdiff_t t0, ptrdiff_t cnt);                     \
    void (*wg_grad_output)(int m, int half, const T *dy, const ccwg_geom *g, const T *zeros, \
                           ptrdiff_t t0, ptrdiff_t cnt, T *E, ptrdiff_t es);                \
} cck_##S##_kernels;

CCK_DECLARE_KERNELS(float, s)
CCK_DECLARE_KERNELS(double, d)

typedef struct {
    int level;                 /* CCK_BASELINE .. CCK_AVX512 */
    const char *isa;           /* "baseline", "avx2", "avx512" */
    const char *target;        /* the compiler target the row was built for */
    int vector_bytes;          /* width of the vectors in the generic kernel bodies */
    /* A register-only multiply-add loop at this level's width: runs `iters`
     * rounds and returns the floating-point operations done, for timing the
     * core's peak (peak.h). */
    double (*peak_loop)(int is_double, long long iters);
    cck_s_kernels s;
    cck_d_kernels d;
} cck_row;

/* The row of a level, or NULL when this build has none (a non-x86 build has
 * only the baseline). The caller checks the CPU first (cpu.h). */
const cck_row *cck_row_for(int level);

/* The AVX2 file's single-channel kernels, which the AVX-512 row uses too
 * (isa_avx512.c says why). */
#define CCK_DECLARE_SHARED(T, S)                                                \
void cck_avx2_##S##_sc_forward_row(const T *x, const T *wpad, const T *bpad,    \
                                   T *y, const ccsc_geom *g, ptrdiff_t row);    \
void cck_avx2_##S##_sc_grad_weight_row(const T *x, const T *dy, T *dwv, T *db,  \
                                       T *dyt, const ccsc_geom *g, ptrdiff_t row); \
void cck_avx2_##S##_sc_grad_input_row(const T *dy, const T *wflip, T *dx,       \
                                      const ccsc_geom *g, ptrdiff_t row);
CCK_DECLARE_SHARED(float, s)
CCK_DECLARE_SHARED(double, d)

/* One builder per translation unit (src/kernels/isa_*.c). */
const cck_row *cck_row_baseline(void);
const cck_row *cck_row_avx2(void);
const cck_row *cck_row_avx512(void);

#endif
