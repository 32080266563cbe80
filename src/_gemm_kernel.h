/*
 * _gemm_kernel.h -- small single-threaded GEMM for cconv's im2col convolution.
 *
 *   C[M x N] (row-major, leading dim ldc)  =  A[M x K] @ B[K x N]
 *                                          (+ C     if beta != 0)
 *                                          (+ bias  broadcast over rows, if bias != NULL)
 *
 * Design (GotoBLAS/BLIS style, tuned for conv tiles: M ~ 100-400 output
 * pixels, N = 64..256 channels (or the conv K for grad-input), K = 27..4608):
 *
 *   - B is packed ONCE by pack_b: K is cut into equal blocks of <= CCG_KC
 *     rows; each block holds NR-column micro-panels stored k-major (NR
 *     contiguous values per k), zero padded to a multiple of NR.  Element
 *     (k, n) of the block starting at pc lives at
 *         Bp[pc*NP + (n/NR)*NR*kc + (k-pc)*NR + n%NR],   NP = roundup(N, NR).
 *     Strides (rsb, csb) let the same routine pack W (K x O, forward),
 *     W^T (grad-input) or dY (grad-weight).
 *   - A: when it is row-major (csa == 1) the micro-kernel reads it in place
 *     through 6 row pointers (broadcast loads) -- measured ~6% faster than
 *     packing on these shapes because packing A is not amortised when N is
 *     small.  Otherwise (e.g. cols^T for grad-weight) A is packed per MC x kc
 *     block into MR-row micro-panels (MR values contiguous per k).  The
 *     ragged last micro-panel (M % MR rows) is always packed, zero padded.
 *   - Micro-kernel MR x NR = 6 x 16 (float) / 6 x 8 (double): 12 ymm
 *     accumulators, per k: 2 B loads + 6 broadcasts + 12 FMAs.  It is
 *     compiled with __attribute__((target("avx2,fma"))) and chosen at run time
 *     (__builtin_cpu_supports), so the object still runs on any x86-64; the
 *     fallback is a plain-C kernel that gcc -O3 vectorises for the baseline
 *     ISA.  On non-x86 targets only the plain-C kernel is built.
 *   - Edge tiles (m < MR or n < NR) are computed on zero-padded operands into
 *     a temp tile and copied out; full tiles get beta/bias fused in the store.
 *   - beta/bias are applied with the first K block; later blocks accumulate.
 *
 * Everything is static; include into one translation unit.  Functions are
 * re-entrant (only a cached CPU flag is global), so each OpenMP thread may
 * call ccg_*_gemm concurrently with its own abuf; Bp is read-only and can
 * be shared.  Grouped conv: pass C + g*Og, bias + g*Og, N = Og, ldc = O.
 *
 * API (S = s for float, d for double; T = float / double):
 *   size_t ccg_S_packb_size(int K, int N);               elements of Bp
 *   void   ccg_S_pack_b(int K, int N, const T *B, ptrdiff_t rsb,
 *                       ptrdiff_t csb, T *Bp);            b(k,n) = B[k*rsb + n*csb]
 *   size_t ccg_S_abuf_size(int K);                       elements of abuf
 *   void   ccg_S_gemm(int M, int N, int K, const T *A, ptrdiff_t rsa,
 *                     ptrdiff_t csa, const T *Bp, T *C, ptrdiff_t ldc,
 *                     int beta, const T *bias, T *abuf);  a(m,k) = A[m*rsa + k*csa]
 * No alignment is required (unaligned loads/stores); 64-byte aligned Bp and
 * abuf are recommended.
 */
#ifndef CCG_GEMM_KERNEL_H
#define CCG_GEMM_KERNEL_H

#include <stddef.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define CCG_X86 1
#include <immintrin.h>
#else
#define CCG_X86 0
#endif

/* Blocking.  KC: max K-block depth.  Measured on Zen 3: no K blocking at all
 * (B micro-panel K x NR streamed from L2) was ~3% faster than KC = 256..512,
 * so KC only bounds abuf / the packed-A working set.  MC: rows of A per
 * block (multiple of MR); insensitive in the 72..396 range.                 */
#ifndef CCG_KC
#define CCG_KC 1152
#endif
#ifndef CCG_MC
#define CCG_MC 144
#endif
#ifndef CCG_DIRECT_A          /* 1: read row-major A in place (no packing) */
#define CCG_DIRECT_A 1
#endif

#define CCG_MR 6
#define CCG_UNUSED __attribute__((unused))

/* Set to 1 to force the portable kernel (testing / benchmarking). */
static int ccg_force_generic CCG_UNUSED = 0;

static inline int ccg_min(int a, int b) { return a < b ? a : b; }

/* K-block depth actually used: K is split into equal blocks of <= CCG_KC
 * (K = 2304, KC = 1152 -> 2 x 1152; K = 1200 -> 2 x 600).  pack_b and gemm
 * must agree, so both call this.                                            */
static inline int ccg_kc_for(int K)
{
    const int nb = (K + CCG_KC - 1) / CCG_KC;
    return nb > 1 ? (K + nb - 1) / nb : K;
}

#if CCG_X86
static inline int ccg_use_avx2(void)
{
    static int cached = -1;            /* benign race: all threads agree */
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached && !ccg_force_generic;
}
#endif

/* ------------------------------------------------------------------------
 * AVX2/FMA micro-kernels (x86 only).
 *   T type, S suffix, V ymm type, VL lanes per ymm (NR = 2*VL),
 *   BCAST broadcast-from-memory, LOADU/STOREU/FMA/ADD/ZERO intrinsics.
 * ukr_body computes the 6 x NR tile of a(i,k) = a[i*rsa + k*csa] times the
 * packed B micro-panel b; it is force-inlined into two instances with
 * constant strides: ukr_packed (packed A: rsa=1, csa=MR) and ukr_rows
 * (row-major A in place: rsa=lda, csa=1).
 * ---------------------------------------------------------------------- */
#if CCG_X86
#define CCG_AVX2 __attribute__((target("avx2,fma")))

#define CCG_DEFINE_AVX2(T, S, V, VL, BCAST, LOADU, STOREU, FMA, ADD, ZERO)     \
static void ccg_##S##_store_tile(const T *, T *, ptrdiff_t, int, int, int,    \
                                 const T *);                                   \
static inline __attribute__((always_inline)) CCG_AVX2 void                    \
ccg_##S##_ukr_body(int kc, const T *a, ptrdiff_t rsa, ptrdiff_t csa,          \
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
    if (m == CCG_MR && n == NR) {          /* full tile: fused store */       \
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
        T tt[CCG_MR * NR];                                                     \
        STOREU(tt + 0 * NR, c00); STOREU(tt + 0 * NR + (VL), c01);             \
        STOREU(tt + 1 * NR, c10); STOREU(tt + 1 * NR + (VL), c11);             \
        STOREU(tt + 2 * NR, c20); STOREU(tt + 2 * NR + (VL), c21);             \
        STOREU(tt + 3 * NR, c30); STOREU(tt + 3 * NR + (VL), c31);             \
        STOREU(tt + 4 * NR, c40); STOREU(tt + 4 * NR + (VL), c41);             \
        STOREU(tt + 5 * NR, c50); STOREU(tt + 5 * NR + (VL), c51);             \
        ccg_##S##_store_tile(tt, c, ldc, m, n, beta, bias);                    \
    }                                                                          \
}                                                                              \
static CCG_AVX2 void ccg_##S##_ukr_packed(int kc, const T *a, ptrdiff_t rsa,  \
        ptrdiff_t csa, const T *b, T *c, ptrdiff_t ldc, int m, int n,          \
        int beta, const T *bias)                                               \
{                                                                              \
    (void)rsa; (void)csa;                                                      \
    ccg_##S##_ukr_body(kc, a, 1, CCG_MR, b, c, ldc, m, n, beta, bias);         \
}                                                                              \
static CCG_AVX2 void ccg_##S##_ukr_rows(int kc, const T *a, ptrdiff_t rsa,    \
        ptrdiff_t csa, const T *b, T *c, ptrdiff_t ldc, int m, int n,          \
        int beta, const T *bias)                                               \
{                                                                              \
    (void)csa;                                                                 \
    ccg_##S##_ukr_body(kc, a, rsa, 1, b, c, ldc, m, n, beta, bias);            \
}

#define CCG_PICK(S, avx, gen) (ccg_use_avx2() ? ccg_##S##_##avx : ccg_##S##_##gen)
#else
#define CCG_DEFINE_AVX2(...)
#define CCG_PICK(S, avx, gen) ccg_##S##_##gen
#endif

/* ------------------------------------------------------------------------
 * Portable part: store helper, plain-C kernel, packing, blocked driver.
 * ---------------------------------------------------------------------- */
#define CCG_DEFINE(T, S, VL)                                                   \
                                                                               \
/* Copy an MR x NR temp tile (row stride NR) into C with bias / beta. */      \
static void ccg_##S##_store_tile(const T *t, T *c, ptrdiff_t ldc,             \
                                 int m, int n, int beta, const T *bias)        \
{                                                                              \
    for (int i = 0; i < m; i++)                                                \
        for (int j = 0; j < n; j++) {                                          \
            T v = t[i * 2 * (VL) + j];                                         \
            if (bias) v += bias[j];                                            \
            if (beta) v += c[i * ldc + j];                                     \
            c[i * ldc + j] = v;                                                \
        }                                                                      \
}                                                                              \
                                                                               \
/* Portable micro-kernel, same contract as the AVX2 ones.  Uses GCC/Clang  \
 * 16-byte generic vectors (SSE2 on baseline x86-64, NEON on arm64); two    \
 * rows at a time so 8 accumulators + 4 B vectors fit in 16 registers.  */  \
typedef T ccg_##S##_v16 __attribute__((vector_size(16)));                     \
static void ccg_##S##_ukr_generic(int kc, const T *a, ptrdiff_t rsa,          \
        ptrdiff_t csa, const T *restrict b, T *c, ptrdiff_t ldc,               \
        int m, int n, int beta, const T *bias)                                 \
{                                                                              \
    enum { NR = 2 * (VL), W = 16 / sizeof(T) };   /* NR == 4 * W */           \
    T acc[CCG_MR][NR];                                                         \
    for (int i = 0; i < CCG_MR; i += 2) {                                      \
        ccg_##S##_v16 r0[4] = { { 0 } }, r1[4] = { { 0 } }, bv[4];             \
        const T *p0 = a + i * rsa, *p1 = p0 + rsa;                             \
        for (int k = 0; k < kc; k++) {                                         \
            const T x0 = p0[k * csa], x1 = p1[k * csa];                        \
            memcpy(bv, b + (ptrdiff_t)k * NR, sizeof bv);                      \
            for (int v = 0; v < 4; v++) {                                      \
                r0[v] += x0 * bv[v];                                           \
                r1[v] += x1 * bv[v];                                           \
            }                                                                  \
        }                                                                      \
        memcpy(acc[i], r0, sizeof r0);                                         \
        memcpy(acc[i + 1], r1, sizeof r1);                                     \
    }                                                                          \
    (void)W;                                                                   \
    ccg_##S##_store_tile(&acc[0][0], c, ldc, m, n, beta, bias);                \
}                                                                              \
                                                                               \
typedef void (*ccg_##S##_ukr_t)(int, const T *, ptrdiff_t, ptrdiff_t,         \
                                const T *, T *, ptrdiff_t, int, int, int,      \
                                const T *);                                    \
                                                                               \
static inline size_t ccg_##S##_packb_size(int K, int N)                       \
{                                                                              \
    const int NR = 2 * (VL);                                                   \
    return (size_t)K * (size_t)((N + NR - 1) / NR * NR);                       \
}                                                                              \
static inline size_t ccg_##S##_abuf_size(int K)                               \
{                                                                              \
    return (size_t)CCG_MC * (size_t)(K > 0 ? ccg_kc_for(K) : 1);               \
}                                                                              \
                                                                               \
/* Pack B (b(k,n) = B[k*rsb + n*csb]) into K-blocked NR-column panels. */     \
static inline void ccg_##S##_pack_b(int K, int N, const T *B, ptrdiff_t rsb,  \
                                    ptrdiff_t csb, T *Bp)                      \
{                                                                              \
    const int NR = 2 * (VL), NP = (N + NR - 1) / NR * NR;                      \
    const int KB = ccg_kc_for(K);                                              \
    for (int pc = 0; pc < K; pc += KB) {                                       \
        const int kc = ccg_min(KB, K - pc);                                    \
        T *blk = Bp + (size_t)pc * NP;                                         \
        for (int jr = 0; jr < N; jr += NR) {                                   \
            const int nr = ccg_min(NR, N - jr);                                \
            T *p = blk + (size_t)jr * kc;                                      \
            for (int k = 0; k < kc; k++, p += NR) {                            \
                const T *s = B + (pc + k) * rsb + jr * csb;                    \
                int j = 0;                                                     \
                if (csb == 1) for (; j < nr; j++) p[j] = s[j];                 \
                else          for (; j < nr; j++) p[j] = s[j * csb];           \
                for (; j < NR; j++) p[j] = 0;                                  \
            }                                                                  \
        }                                                                      \
    }                                                                          \
}                                                                              \
                                                                               \
/* Pack mc x kc of A into MR-row micro-panels (zero padded rows). */          \
static void ccg_##S##_pack_a(int mc, int kc, const T *A, ptrdiff_t rsa,       \
                             ptrdiff_t csa, T *p)                              \
{                                                                              \
    for (int ir = 0; ir < mc; ir += CCG_MR) {                                  \
        const int mr = ccg_min(CCG_MR, mc - ir);                               \
        const T *s = A + ir * rsa;                                             \
        if (mr == CCG_MR && rsa == 1) {    /* A = X^T: 6 contiguous values */ \
            for (int k = 0; k < kc; k++, p += CCG_MR)                          \
                for (int i = 0; i < CCG_MR; i++) p[i] = s[k * csa + i];        \
        } else {                                                               \
            for (int k = 0; k < kc; k++, p += CCG_MR) {                        \
                int i = 0;                                                     \
                for (; i < mr; i++) p[i] = s[i * rsa + k * csa];               \
                for (; i < CCG_MR; i++) p[i] = 0;                              \
            }                                                                  \
        }                                                                      \
    }                                                                          \
}                                                                              \
                                                                               \
/* C = A @ B (+C if beta) (+bias).  Bp from pack_b(K, N, ...); abuf has      \
 * abuf_size(K) elements of per-thread scratch.  Loops: pc (K blocks) >      \
 * ic (MC rows of A) > jr (B micro-panel, reused over ir) > ir (6 rows).  */  \
static inline void ccg_##S##_gemm(int M, int N, int K, const T *A,            \
        ptrdiff_t rsa, ptrdiff_t csa, const T *Bp, T *C, ptrdiff_t ldc,        \
        int beta, const T *bias, T *abuf)                                      \
{                                                                              \
    const int NR = 2 * (VL), NP = (N + NR - 1) / NR * NR;                      \
    const ccg_##S##_ukr_t kpack = CCG_PICK(S, ukr_packed, ukr_generic);        \
    const ccg_##S##_ukr_t krows = CCG_PICK(S, ukr_rows, ukr_generic);          \
    const int direct = CCG_DIRECT_A && csa == 1;                               \
    if (K <= 0) {                          /* degenerate: C = beta*C + bias */\
        for (int i = 0; i < M; i++)                                            \
            for (int j = 0; j < N; j++)                                        \
                C[i * ldc + j] = (beta ? C[i * ldc + j] : 0)                   \
                               + (bias ? bias[j] : 0);                         \
        return;                                                                \
    }                                                                          \
    const int KB = ccg_kc_for(K);                                              \
    for (int pc = 0; pc < K; pc += KB) {                                       \
        const int kc = ccg_min(KB, K - pc);                                    \
        const int bt = pc ? 1 : beta;                                          \
        const T *bs = pc ? NULL : bias;                                        \
        const T *Bblk = Bp + (size_t)pc * NP;                                  \
        for (int ic = 0; ic < M; ic += CCG_MC) {                               \
            const int mc = ccg_min(CCG_MC, M - ic);                            \
            const int mfull = mc / CCG_MR * CCG_MR;                            \
            const T *Ablk = A + ic * rsa + pc * csa;                           \
            if (!direct)                                                       \
                ccg_##S##_pack_a(mc, kc, Ablk, rsa, csa, abuf);                \
            else if (mfull < mc)           /* only the ragged panel */        \
                ccg_##S##_pack_a(mc - mfull, kc, Ablk + mfull * rsa, rsa,      \
                                 csa, abuf + (size_t)mfull * kc);              \
            for (int jr = 0; jr < N; jr += NR) {                               \
                const int nr = ccg_min(NR, N - jr);                            \
                const T *bp = Bblk + (size_t)jr * kc;                          \
                const T *bj = bs ? bs + jr : NULL;                             \
                for (int ir = 0; ir < mc; ir += CCG_MR) {                      \
                    const int mr = ccg_min(CCG_MR, mc - ir);                   \
                    T *cp = C + (ptrdiff_t)(ic + ir) * ldc + jr;               \
                    if (direct && mr == CCG_MR)                                \
                        krows(kc, Ablk + ir * rsa, rsa, 1, bp, cp, ldc,        \
                              mr, nr, bt, bj);                                 \
                    else                                                       \
                        kpack(kc, abuf + (size_t)ir * kc, 1, CCG_MR, bp, cp,   \
                              ldc, mr, nr, bt, bj);                            \
                }                                                              \
            }                                                                  \
        }                                                                      \
    }                                                                          \
}

CCG_DEFINE_AVX2(float,  s, __m256,  8, _mm256_broadcast_ss, _mm256_loadu_ps,
                _mm256_storeu_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_setzero_ps)
CCG_DEFINE_AVX2(double, d, __m256d, 4, _mm256_broadcast_sd, _mm256_loadu_pd,
                _mm256_storeu_pd, _mm256_fmadd_pd, _mm256_add_pd, _mm256_setzero_pd)
CCG_DEFINE(float,  s, 8)
CCG_DEFINE(double, d, 4)

#endif /* CCG_GEMM_KERNEL_H */
