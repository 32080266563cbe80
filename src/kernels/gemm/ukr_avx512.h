/*
 * ukr_avx512.h -- the AVX-512 GEMM micro-kernels (float and double).
 * Included by isa_avx512.c only, which compiles it for AVX-512.
 *
 * Contract (the one of every micro-kernel, in gemm/driver.h):
 *
 *   acc[i][j] = sum_{k<kc} a(i,k) * b[k*NR + j]      (MR x NR tile)
 *   _packed : a(i,k) = a[k*MR + i]   (MR-row micro-panel, rows >= m zero;
 *                                     rsa / csa ignored)
 *   _rows   : a(i,k) = a[i*rsa + k]  (row-major A read in place, m == MR)
 *   _cols   : a(i,k) = a[i + k*csa]  (A^T read in place, m == MR)
 *   c[i*ldc + j] = acc[i][j] + (bias ? bias[j] : 0) + (beta ? c[i*ldc+j] : 0)
 *              for i < m, j < n only.
 * b is a packed B micro-panel (NR contiguous values per k, columns >= n are
 * zero).  Nothing outside the m x n corner of C (nor bias[j >= n]) is read or
 * written: edges use AVX-512 masked loads / stores.  No pointer needs any
 * alignment.  kc may be 0 (C = bias / beta only).
 *
 * Shape: MR x NR = 6 x 64 (float) / 6 x 32 (double): 24 zmm accumulators;
 * per k, 4 B loads + 6 broadcasts feed 24 FMAs (each broadcast feeds 4 FMAs,
 * each B load 6); 24 + 4 + temporaries <= 32 zmm.  Measured on a Sapphire
 * Rapids class Xeon in cconv's driver it was 5-10% faster than 12 x 32 for
 * N = 64, 128, 192, 256 (fewer A streams / broadcasts per FMA).
 *
 * Narrow panels: the kernel runs a loop only as wide as the panel needs,
 * nv = ceil(n / 16) zmm columns (ceil(n / 8) for double), so N = 16, 32, 48
 * or the ragged last panel (e.g. N = 96 = 64 + 32) do no work on the zero
 * columns of B: 6 x 48, 6 x 32 and 6 x 16 (the last with two accumulator
 * sets over even / odd k, to cover the FMA latency).  NR = 64 then costs
 * nothing over NR = 32 for any N.
 *
 * The C tile is prefetched CCK_Z_PFC_K iterations before the end of the k
 * loop, so it is in L1 for the read-modify-write without having been
 * evicted by the streamed B panel.  Rows of A are addressed from two bases
 * (rows 0 and 3) plus 0, rs or 2*rs, so _rows needs few registers.
 *
 * It must be compiled for AVX-512 (isa_avx512.c does, through
 * target_begin.h, which also covers Clang, where #pragma GCC target is
 * ignored). Everything is static; the helpers are static inline, so unused
 * ones do not warn.
 */
#ifndef CCK_UKR_AVX512_H
#define CCK_UKR_AVX512_H

#include <stddef.h>
#include <immintrin.h>

#define CCK_Z_MR 6            /* rows of every tile; also the packed-A stride */
#define CCK_S_MR CCK_Z_MR
#define CCK_S_NR 64
#define CCK_D_MR CCK_Z_MR
#define CCK_D_NR 32

#ifndef CCK_Z_PFC_K          /* k iterations left when C is prefetched */
#define CCK_Z_PFC_K 24
#endif

#define CCK_Z_INLINE static inline __attribute__((always_inline))

/* Hide a pointer's provenance so the compiler keeps it as a base register
 * instead of re-deriving every row's address in its own register. */
#define CCK_Z_OPAQUE(p) __asm__("" : "+r"(p))

/* ---- per-type primitives (S = s: float, 16 lanes; d: double, 8) ------- */
#define CCK_Z_VL_s 16
#define CCK_Z_VL_d 8
typedef __m512    cck_s_zv;
typedef __m512d   cck_d_zv;
typedef __mmask16 cck_s_zm;
typedef __mmask8  cck_d_zm;

CCK_Z_INLINE cck_s_zv cck_s_zzero(void) { return _mm512_setzero_ps(); }
CCK_Z_INLINE cck_d_zv cck_d_zzero(void) { return _mm512_setzero_pd(); }
CCK_Z_INLINE cck_s_zv cck_s_zbc(const float *p) { return _mm512_set1_ps(*p); }
CCK_Z_INLINE cck_d_zv cck_d_zbc(const double *p) { return _mm512_set1_pd(*p); }
CCK_Z_INLINE cck_s_zv cck_s_zld(const float *p) { return _mm512_loadu_ps(p); }
CCK_Z_INLINE cck_d_zv cck_d_zld(const double *p) { return _mm512_loadu_pd(p); }
CCK_Z_INLINE cck_s_zv cck_s_zldz(cck_s_zm k, const float *p)
{ return _mm512_maskz_loadu_ps(k, p); }
CCK_Z_INLINE cck_d_zv cck_d_zldz(cck_d_zm k, const double *p)
{ return _mm512_maskz_loadu_pd(k, p); }
CCK_Z_INLINE void cck_s_zst(float *p, cck_s_zm k, cck_s_zv v)
{ _mm512_mask_storeu_ps(p, k, v); }
CCK_Z_INLINE void cck_d_zst(double *p, cck_d_zm k, cck_d_zv v)
{ _mm512_mask_storeu_pd(p, k, v); }
CCK_Z_INLINE cck_s_zv cck_s_zfma(cck_s_zv a, cck_s_zv b, cck_s_zv c)
{ return _mm512_fmadd_ps(a, b, c); }
CCK_Z_INLINE cck_d_zv cck_d_zfma(cck_d_zv a, cck_d_zv b, cck_d_zv c)
{ return _mm512_fmadd_pd(a, b, c); }
CCK_Z_INLINE cck_s_zv cck_s_zadd(cck_s_zv a, cck_s_zv b) { return _mm512_add_ps(a, b); }
CCK_Z_INLINE cck_d_zv cck_d_zadd(cck_d_zv a, cck_d_zv b) { return _mm512_add_pd(a, b); }
/* mask of the first clamp(n, 0, VL) lanes */
CCK_Z_INLINE cck_s_zm cck_s_zmask(int n)
{ return (cck_s_zm)(n >= 16 ? 0xFFFFu : n <= 0 ? 0u : (1u << n) - 1u); }
CCK_Z_INLINE cck_d_zm cck_d_zmask(int n)
{ return (cck_d_zm)(n >= 8 ? 0xFFu : n <= 0 ? 0u : (1u << n) - 1u); }

/* ---- the 6-row tile, NV (1..4, a compile-time constant) columns -------- */
#define CCK_Z_REP6(X, S) X(S,0) X(S,1) X(S,2) X(S,3) X(S,4) X(S,5)

#define CCK_Z_AROW(i) CCK_Z_AROW_##i
#define CCK_Z_AROW_0 (ak0)
#define CCK_Z_AROW_1 (ak0 + rs)
#define CCK_Z_AROW_2 (ak0 + 2 * rs)
#define CCK_Z_AROW_3 (ak3)
#define CCK_Z_AROW_4 (ak3 + rs)
#define CCK_Z_AROW_5 (ak3 + 2 * rs)

/* The pieces below refer to the locals of cck_S_zkern: NV, ak0/ak3 (A at
 * the current k), rs, csa, b0..b3 (B vectors), c, ldc, m, beta, q0..q3
 * (bias), k0..k3 (column masks). */
#define CCK_Z_DECL(S, i)                                                       \
    cck_##S##_zv c##i##_0 = cck_##S##_zzero(), c##i##_1 = cck_##S##_zzero();   \
    cck_##S##_zv c##i##_2 = cck_##S##_zzero(), c##i##_3 = cck_##S##_zzero();

#define CCK_Z_FMA(S, i) {                                                      \
    const cck_##S##_zv t = cck_##S##_zbc(CCK_Z_AROW(i));                       \
    c##i##_0 = cck_##S##_zfma(t, b0, c##i##_0);                                \
    if (NV > 1) c##i##_1 = cck_##S##_zfma(t, b1, c##i##_1);                    \
    if (NV > 2) c##i##_2 = cck_##S##_zfma(t, b2, c##i##_2);                    \
    if (NV > 3) c##i##_3 = cck_##S##_zfma(t, b3, c##i##_3); }

/* NV == 1: k even into c_i_0, k odd into c_i_1 (12 chains, not 6). */
#define CCK_Z_FMA_PAIR(S, i) {                                                 \
    const cck_##S##_zv t = cck_##S##_zbc(CCK_Z_AROW(i));                       \
    const cck_##S##_zv u = cck_##S##_zbc(CCK_Z_AROW(i) + csa);                 \
    c##i##_0 = cck_##S##_zfma(t, b0, c##i##_0);                                \
    c##i##_1 = cck_##S##_zfma(u, b1, c##i##_1); }

#define CCK_Z_FOLD(S, i) c##i##_0 = cck_##S##_zadd(c##i##_0, c##i##_1);

/* B's row at one k step: NV vectors, the unused ones zero (which the
 * compiler drops, NV being a constant). */
#define CCK_Z_LOAD_B(S)                                                        \
    const cck_##S##_zv b0 = cck_##S##_zld(b);                                  \
    const cck_##S##_zv b1 = NV > 1 ? cck_##S##_zld(b + CCK_Z_VL_##S)           \
                                   : cck_##S##_zzero();                        \
    const cck_##S##_zv b2 = NV > 2 ? cck_##S##_zld(b + 2 * CCK_Z_VL_##S)       \
                                   : cck_##S##_zzero();                        \
    const cck_##S##_zv b3 = NV > 3 ? cck_##S##_zld(b + 3 * CCK_Z_VL_##S)       \
                                   : cck_##S##_zzero();

#define CCK_Z_STEP(S) {                                                        \
    CCK_Z_LOAD_B(S)                                                            \
    CCK_Z_REP6(CCK_Z_FMA, S)                                                   \
    ak0 += csa; ak3 += csa; b += 4 * CCK_Z_VL_##S; }

/* The implicit GEMM's B rows, CCK_Z_PFB_K steps ahead, where its B panel
 * (K x 64 floats) is larger than CCK_Z_PFB_MIN_BYTES. Measured on an Intel
 * Xeon (AVX-512), builds interleaved: 0.90 of the time of a 256-channel k=3
 * 1-D layer (B 192 KiB), 0.97 of the 3x3/2 downsample of 64 -> 128 channels
 * (144 KiB), but 1.03 of the 7x7 RGB stem (37 KiB, in L1 anyway); the
 * driver's rows and columns kernels measured 1.00-1.05 with it, so only the
 * implicit GEMM prefetches. */
#ifndef CCK_Z_PFB_K
#define CCK_Z_PFB_K 8
#endif
#ifndef CCK_Z_PFB_MIN_BYTES
#define CCK_Z_PFB_MIN_BYTES 65536
#endif
#define CCK_Z_PFB(S) {                                                         \
    const char *pf = (const char *)(b + CCK_Z_PFB_K * 4 * CCK_Z_VL_##S);       \
    _mm_prefetch(pf, _MM_HINT_T0);                                             \
    if (NV > 1) _mm_prefetch(pf + 64, _MM_HINT_T0);                            \
    if (NV > 2) _mm_prefetch(pf + 128, _MM_HINT_T0);                           \
    if (NV > 3) _mm_prefetch(pf + 192, _MM_HINT_T0); }

#define CCK_Z_STEP_PAIR(S) {                                                   \
    const cck_##S##_zv b0 = cck_##S##_zld(b);                                  \
    const cck_##S##_zv b1 = cck_##S##_zld(b + 4 * CCK_Z_VL_##S);               \
    CCK_Z_REP6(CCK_Z_FMA_PAIR, S)                                              \
    ak0 += 2 * csa; ak3 += 2 * csa; b += 8 * CCK_Z_VL_##S; }

/* Prefetch the NV vectors of row i of C (NV + 1 lines when unaligned). */
#define CCK_Z_PFC(S, i)                                                        \
    if ((i) < m) {                                                             \
        const char *r = (const char *)(c + (i) * ldc);                         \
        _mm_prefetch(r, _MM_HINT_T0);                                          \
        if (NV > 1) _mm_prefetch(r + 64, _MM_HINT_T0);                         \
        if (NV > 2) _mm_prefetch(r + 128, _MM_HINT_T0);                        \
        if (NV > 3) _mm_prefetch(r + 192, _MM_HINT_T0);                        \
        _mm_prefetch(r + 64 * NV - 1, _MM_HINT_T0);                            \
    }

#define CCK_Z_ST1(S, i, v)                                                     \
    if (NV > (v)) {                                                            \
        cck_##S##_zv x = cck_##S##_zadd(c##i##_##v, q##v);                     \
        if (beta)                                                              \
            x = cck_##S##_zadd(x, cck_##S##_zldz(k##v, r + (v) * CCK_Z_VL_##S)); \
        cck_##S##_zst(r + (v) * CCK_Z_VL_##S, k##v, x);                        \
    }
#define CCK_Z_STORE(S, i)                                                      \
    if ((i) < m) {                                                             \
        ctype_ *r = c + (i) * ldc;                                             \
        CCK_Z_ST1(S, i, 0) CCK_Z_ST1(S, i, 1)                                  \
        CCK_Z_ST1(S, i, 2) CCK_Z_ST1(S, i, 3)                                  \
    }

/* The tile's end: column masks for the n valid columns, the bias, then the
 * m x n corner of C stored (+ C itself when beta), row by row through REP. */
#define CCK_Z_EPILOGUE(S) CCK_Z_EPILOGUE_REP(S, CCK_Z_REP6)
#define CCK_Z_EPILOGUE_REP(S, REP)                                             \
    const cck_##S##_zm k0 = cck_##S##_zmask(n);                                \
    const cck_##S##_zm k1 = cck_##S##_zmask(n - CCK_Z_VL_##S);                 \
    const cck_##S##_zm k2 = cck_##S##_zmask(n - 2 * CCK_Z_VL_##S);             \
    const cck_##S##_zm k3 = cck_##S##_zmask(n - 3 * CCK_Z_VL_##S);             \
    cck_##S##_zv q0 = cck_##S##_zzero(), q1 = q0, q2 = q0, q3 = q0;            \
    if (bias) {                                                                \
        q0 = cck_##S##_zldz(k0, bias);                                         \
        if (NV > 1) q1 = cck_##S##_zldz(k1, bias + CCK_Z_VL_##S);              \
        if (NV > 2) q2 = cck_##S##_zldz(k2, bias + 2 * CCK_Z_VL_##S);          \
        if (NV > 3) q3 = cck_##S##_zldz(k3, bias + 3 * CCK_Z_VL_##S);          \
    }                                                                          \
    REP(CCK_Z_STORE, S)

/* cck_S_zkern: the whole tile for a constant NV; cck_S_zbody dispatches on
 * the panel width; cck_S_ukr_packed / _rows fix the strides of A. */
#define CCK_Z_DEFINE(S, T)                                                     \
CCK_Z_INLINE void cck_##S##_zkern(const int NV, int kc, const T *a,           \
        ptrdiff_t rs, ptrdiff_t csa, const T *restrict b, T *c,                \
        ptrdiff_t ldc, int m, int n, int beta, const T *bias)                  \
{                                                                              \
    typedef T ctype_;                                                          \
    CCK_Z_REP6(CCK_Z_DECL, S)                                                  \
    const T *ak0 = a, *ak3 = a + 3 * rs;                                       \
    CCK_Z_OPAQUE(ak3);                                                         \
    const int kpf = kc - CCK_Z_PFC_K;                                          \
    int k = 0;                                                                 \
    if (NV == 1) {                                                             \
        _Pragma("GCC unroll 2")                                                \
        for (; k + 1 < kpf; k += 2)                                            \
            CCK_Z_STEP_PAIR(S)                                                 \
        CCK_Z_REP6(CCK_Z_PFC, S)                                               \
        _Pragma("GCC unroll 2")                                                \
        for (; k + 1 < kc; k += 2)                                             \
            CCK_Z_STEP_PAIR(S)                                                 \
        CCK_Z_REP6(CCK_Z_FOLD, S)                                              \
        if (k < kc)                                                            \
            CCK_Z_STEP(S)                                                      \
    } else {                                                                   \
        _Pragma("GCC unroll 4")                                                \
        for (; k < kpf; k++)                                                   \
            CCK_Z_STEP(S)                                                      \
        CCK_Z_REP6(CCK_Z_PFC, S)                                               \
        _Pragma("GCC unroll 4")                                                \
        for (; k < kc; k++)                                                    \
            CCK_Z_STEP(S)                                                      \
    }                                                                          \
    CCK_Z_EPILOGUE(S)                                                          \
}                                                                              \
CCK_Z_INLINE void cck_##S##_zbody(int kc, const T *a, ptrdiff_t rs,           \
        ptrdiff_t csa, const T *restrict b, T *c, ptrdiff_t ldc, int m,        \
        int n, int beta, const T *bias)                                        \
{                                                                              \
    if (n > 3 * CCK_Z_VL_##S)                                                  \
        cck_##S##_zkern(4, kc, a, rs, csa, b, c, ldc, m, n, beta, bias);       \
    else if (n > 2 * CCK_Z_VL_##S)                                             \
        cck_##S##_zkern(3, kc, a, rs, csa, b, c, ldc, m, n, beta, bias);       \
    else if (n > CCK_Z_VL_##S)                                                 \
        cck_##S##_zkern(2, kc, a, rs, csa, b, c, ldc, m, n, beta, bias);       \
    else                                                                       \
        cck_##S##_zkern(1, kc, a, rs, csa, b, c, ldc, m, n, beta, bias);       \
}                                                                              \
static void cck_##S##_ukr_packed(int kc, const T *a, ptrdiff_t rsa,           \
        ptrdiff_t csa, const T *restrict b, T *c, ptrdiff_t ldc, int m,        \
        int n, int beta, const T *bias)                                        \
{                                                                              \
    (void)rsa; (void)csa;                                                      \
    cck_##S##_zbody(kc, a, 1, CCK_Z_MR, b, c, ldc, m, n, beta, bias);                 \
}                                                                              \
static void cck_##S##_ukr_rows(int kc, const T *a, ptrdiff_t rsa,             \
        ptrdiff_t csa, const T *restrict b, T *c, ptrdiff_t ldc, int m,        \
        int n, int beta, const T *bias)                                        \
{                                                                              \
    (void)csa;                                                                 \
    cck_##S##_zbody(kc, a, rsa, 1, b, c, ldc, m, n, beta, bias);               \
}                                                                              \
static void cck_##S##_ukr_cols(int kc, const T *a, ptrdiff_t rsa,             \
        ptrdiff_t csa, const T *restrict b, T *c, ptrdiff_t ldc, int m,        \
        int n, int beta, const T *bias)                                        \
{                                                                              \
    (void)rsa;                                                                 \
    cck_##S##_zbody(kc, a, 1, csa, b, c, ldc, m, n, beta, bias);               \
}

/* cck_S_ukr_indirect: the implicit GEMM's tile (driver.h): the same 6-row
 * tile and stores, A read in place through a table of run pointers, six per
 * run s (rows[i*nseg + s]), beta 0. NV == 1 splits each run into even / odd
 * k chains as the kernel above does. */
#define CCK_ZI_AROW(i) (r##i + k)
#define CCK_ZI_FMA(S, i) {                                                     \
    const cck_##S##_zv t = cck_##S##_zbc(CCK_ZI_AROW(i));                      \
    c##i##_0 = cck_##S##_zfma(t, b0, c##i##_0);                                \
    if (NV > 1) c##i##_1 = cck_##S##_zfma(t, b1, c##i##_1);                    \
    if (NV > 2) c##i##_2 = cck_##S##_zfma(t, b2, c##i##_2);                    \
    if (NV > 3) c##i##_3 = cck_##S##_zfma(t, b3, c##i##_3); }
#define CCK_ZI_FMA_PAIR(S, i) {                                                \
    c##i##_0 = cck_##S##_zfma(cck_##S##_zbc(CCK_ZI_AROW(i)), b0, c##i##_0);    \
    c##i##_1 = cck_##S##_zfma(cck_##S##_zbc(CCK_ZI_AROW(i) + 1), b1, c##i##_1); }
#define CCK_ZI_ROW(S, i) const ctype_ *r##i = rows[(i) * nseg + s];
/* One k step of an indirect tile: B's row (CCK_Z_LOAD_B), its prefetch when
 * PF, and an FMA into every row REP names (CCK_Z_REP6 or CCK_Z_REP12). */
#define CCK_ZI_STEP(S, REP, PF) {                                              \
    CCK_Z_LOAD_B(S)                                                            \
    if (PF) CCK_Z_PFB(S)                                                       \
    REP(CCK_ZI_FMA, S)                                                         \
    b += 4 * CCK_Z_VL_##S; }

#define CCK_ZI_DEFINE(S, T)                                                    \
CCK_Z_INLINE void cck_##S##_zikern(const int NV, const int PF, int nseg,     \
        int seglen, const T *const *rows, const T *restrict b, T *c,           \
        ptrdiff_t ldc, int m, int n, const T *bias)                            \
{                                                                              \
    typedef T ctype_;                                                          \
    const int beta = 0;                                                        \
    CCK_Z_REP6(CCK_Z_DECL, S)                                                  \
    for (int s = 0; s < nseg; s++) {                                           \
        CCK_Z_REP6(CCK_ZI_ROW, S)                                              \
        int k = 0;                                                             \
        if (NV == 1) {                                                         \
            for (; k + 1 < seglen; k += 2) {                                   \
                const cck_##S##_zv b0 = cck_##S##_zld(b);                      \
                const cck_##S##_zv b1 = cck_##S##_zld(b + 4 * CCK_Z_VL_##S);   \
                CCK_Z_REP6(CCK_ZI_FMA_PAIR, S)                                 \
                b += 8 * CCK_Z_VL_##S;                                         \
            }                                                                  \
        }                                                                      \
        for (; k < seglen; k++)                                                \
            CCK_ZI_STEP(S, CCK_Z_REP6, PF)                                     \
    }                                                                          \
    if (NV == 1) { CCK_Z_REP6(CCK_Z_FOLD, S) }                                 \
    CCK_Z_EPILOGUE(S)                                                          \
}                                                                              \
static void cck_##S##_ukr_indirect(int nseg, int seglen, const T *const *rows, \
        const T *restrict b, T *c, ptrdiff_t ldc, int m, int n, const T *bias) \
{                                                                              \
    const int pf = (size_t)nseg * seglen * 4 * CCK_Z_VL_##S * sizeof(T)        \
                   > CCK_Z_PFB_MIN_BYTES;                                      \
    if (n > 3 * CCK_Z_VL_##S) {                                                \
        if (pf) cck_##S##_zikern(4, 1, nseg, seglen, rows, b, c, ldc, m, n, bias); \
        else cck_##S##_zikern(4, 0, nseg, seglen, rows, b, c, ldc, m, n, bias); \
    } else if (n > 2 * CCK_Z_VL_##S) {                                         \
        if (pf) cck_##S##_zikern(3, 1, nseg, seglen, rows, b, c, ldc, m, n, bias); \
        else cck_##S##_zikern(3, 0, nseg, seglen, rows, b, c, ldc, m, n, bias); \
    } else if (n > CCK_Z_VL_##S)                                               \
        cck_##S##_zikern(2, 0, nseg, seglen, rows, b, c, ldc, m, n, bias);     \
    else                                                                       \
        cck_##S##_zikern(1, 0, nseg, seglen, rows, b, c, ldc, m, n, bias);     \
}

/* cck_S_ukr_indirect_2tile: two 6-row tiles at once (12 full rows,
 * rows[i*nseg + s] for i < 12) of a narrow panel, n <= 2 vectors. The
 * 6-row tile of such a panel has 12 (or 6) accumulators, so each B load
 * feeds only 6 FMAs while B, kc x NR wide whatever n is, streams from L2 for
 * every tile; 12 rows by 2 vectors is 24 accumulators, each B load feeds 12
 * FMAs, and B streams once per 12 rows. Measured on an Intel Xeon (AVX-512,
 * 2 FMA units) against the 6-row tile, old and new builds interleaved: 0.79
 * of the time of a 3x3x3 layer of 32 channels (K = 864, N = 32), 0.91 of its
 * grad_input, 0.84 of a 3x3 2-D layer of 32 channels. */
#define CCK_Z_REP12(X, S)                                                      \
    CCK_Z_REP6(X, S) X(S,6) X(S,7) X(S,8) X(S,9) X(S,10) X(S,11)

#define CCK_ZI2_DEFINE(S, T)                                                   \
CCK_Z_INLINE void cck_##S##_zikern12(const int NV, int nseg, int seglen,      \
        const T *const *rows, const T *restrict b, T *c, ptrdiff_t ldc,        \
        int n, const T *bias)                                                  \
{                                                                              \
    typedef T ctype_;                                                          \
    const int beta = 0, m = 12;                                                \
    CCK_Z_REP12(CCK_Z_DECL, S)                                                 \
    for (int s = 0; s < nseg; s++) {                                           \
        CCK_Z_REP12(CCK_ZI_ROW, S)                                             \
        for (int k = 0; k < seglen; k++)                                       \
            CCK_ZI_STEP(S, CCK_Z_REP12, 0)                                     \
    }                                                                          \
    CCK_Z_EPILOGUE_REP(S, CCK_Z_REP12)                                         \
}                                                                              \
static void cck_##S##_ukr_indirect_2tile(int nseg, int seglen,                \
        const T *const *rows, const T *restrict b, T *c, ptrdiff_t ldc, int n, \
        const T *bias)                                                         \
{                                                                              \
    if (n > CCK_Z_VL_##S)                                                      \
        cck_##S##_zikern12(2, nseg, seglen, rows, b, c, ldc, n, bias);         \
    else                                                                       \
        cck_##S##_zikern12(1, nseg, seglen, rows, b, c, ldc, n, bias);         \
}

CCK_Z_DEFINE(s, float)
CCK_Z_DEFINE(d, double)
CCK_ZI_DEFINE(s, float)
CCK_ZI_DEFINE(d, double)
CCK_ZI2_DEFINE(s, float)
CCK_ZI2_DEFINE(d, double)
#define CCK_HAS_UKR_INDIRECT 1
/* Panels at most this wide take cck_S_ukr_indirect_2tile (two vectors). */
#define CCK_HAS_UKR_INDIRECT_2TILE 1
#define CCK_s_2TILE_N (2 * CCK_Z_VL_s)
#define CCK_d_2TILE_N (2 * CCK_Z_VL_d)

#endif /* CCK_UKR_AVX512_H */
