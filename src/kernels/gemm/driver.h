/*
 * driver.h -- cconv's single-threaded packed GEMM, written once for every
 * ISA: the loops around a micro-kernel (BLIS's "frame"), with packing.
 *
 *   C[M x N] (row-major, leading dim ldc)  =  A[M x K] @ B[K x N]
 *                                          (+ C     if beta != 0)
 *                                          (+ bias  broadcast over rows, if bias != NULL)
 *
 * Included once per ISA by src/kernels/isa_*.c, after that ISA's micro-kernel
 * header (gemm/ukr_*.h), which defines CCK_S_MR/NR, CCK_D_MR/NR and, for
 * each type S in {s, d}:
 *
 *   void cck_S_ukr_packed(kc, a, rsa, csa, b, c, ldc, m, n, beta, bias)
 *   void cck_S_ukr_rows  (same)
 *   void cck_S_ukr_cols  (same)
 *
 * Contract of a micro-kernel: acc[i][j] = sum_{k<kc} a(i,k) * b[k*NR + j]
 * over an MR x NR tile, a(i,k) = a[i*rsa + k*csa] (ukr_packed: A packed in
 * MR-row micro-panels, rsa = 1, csa = MR; ukr_rows: row-major A in place,
 * csa = 1, only with m == MR; ukr_cols: A^T in place, rsa = 1, only with
 * m == MR); then the m x n corner of C (row stride ldc)
 * becomes acc + bias[j] (if bias) + C (if beta). Nothing outside that corner
 * is read or written; no pointer needs alignment.
 *
 * Layout (GotoBLAS/BLIS style, tuned for conv tiles: M ~ 100-400 output
 * pixels, N = 16..512 channels, K = 27..4608):
 *   - B is packed once by pack_b: K is cut into equal blocks of <= KC rows;
 *     each block holds NR-column micro-panels stored k-major (NR values per
 *     k), zero padded to a multiple of NR. Element (k, n) of the block that
 *     starts at pc lives at Bp[pc*NP + (n/NR)*NR*kc + (k-pc)*NR + n%NR],
 *     NP = roundup(N, NR). Strides (rsb, csb) let one routine pack W, W^T or dY.
 *   - A row-major (csa == 1) is read in place through MR row pointers
 *     (measured ~6% faster than packing on these shapes, where packing A is
 *     not amortised). A transposed (rsa == 1: the weight gradients'
 *     cols^T and Winograd V^T) is read in place too, MR consecutive values
 *     per k, when B has at most CCK_COLS_MAX_N columns (packing is then
 *     reused by few B panels; on a Sapphire Rapids class Xeon reading in
 *     place was as fast or faster up to N = 256 and saved the packing
 *     entirely at N <= NR). Otherwise A is packed per MC x kc block into
 *     MR-row micro-panels. The ragged last micro-panel is always packed,
 *     zero padded.
 *   - beta/bias are applied with the first K block; later blocks accumulate.
 *
 * Everything is static and re-entrant: each OpenMP thread may call gemm at
 * once with its own abuf; Bp is read-only and can be shared.
 */
#ifndef CCK_GEMM_DRIVER_H
#define CCK_GEMM_DRIVER_H

#include <stddef.h>
#include <string.h>

/* Blocking. KC bounds the K-block depth: measured on Zen 3, no K blocking
 * at all (the B micro-panel streamed from L2) was ~3% faster than KC =
 * 256..512, so KC only bounds abuf / the packed-A working set. MC: rows of A
 * per block, rounded up to a multiple of MR; insensitive in the 72..396
 * range. An ISA file may set its own before including this file. */
#ifndef CCK_KC
#define CCK_KC 1152
#endif
#ifndef CCK_MC
#define CCK_MC 144
#endif
#ifndef CCK_COLS_MAX_N
#define CCK_COLS_MAX_N 256
#endif

static inline int cck_min(int a, int b) { return a < b ? a : b; }

/* K-block depth actually used: K is split into equal blocks of <= KC
 * (K = 2304, KC = 1152 -> 2 x 1152; K = 1200 -> 2 x 600). pack_b, gemm and
 * the Winograd weight packer must agree, so all call this. */
static int cck_kc_for(int K)
{
    const int nb = (K + CCK_KC - 1) / CCK_KC;
    return nb > 1 ? (K + nb - 1) / nb : K;
}

#define CCK_DEFINE_GEMM(T, S, MR, NR)                                           \
enum { cck_##S##_mc = (CCK_MC + (MR) - 1) / (MR) * (MR) };                      \
                                                                                \
static size_t cck_##S##_packb_size(int K, int N)                                \
{                                                                               \
    return (size_t)K * (size_t)((N + (NR) - 1) / (NR) * (NR));                  \
}                                                                               \
static size_t cck_##S##_abuf_size(int K)                                        \
{                                                                               \
    return (size_t)cck_##S##_mc * (size_t)(K > 0 ? cck_kc_for(K) : 1);          \
}                                                                               \
                                                                                \
/* Pack B (b(k,n) = B[k*rsb + n*csb]) into K-blocked NR-column panels. */      \
static void cck_##S##_pack_b(int K, int N, const T *B, ptrdiff_t rsb,           \
                             ptrdiff_t csb, T *Bp)                              \
{                                                                               \
    const int NP = (N + (NR) - 1) / (NR) * (NR);                                \
    const int KB = cck_kc_for(K);                                               \
    for (int pc = 0; pc < K; pc += KB) {                                        \
        const int kc = cck_min(KB, K - pc);                                     \
        T *blk = Bp + (size_t)pc * NP;                                          \
        for (int jr = 0; jr < N; jr += (NR)) {                                  \
            const int nr = cck_min((NR), N - jr);                               \
            T *p = blk + (size_t)jr * kc;                                       \
            for (int k = 0; k < kc; k++, p += (NR)) {                           \
                const T *s = B + (pc + k) * rsb + jr * csb;                     \
                int j = 0;                                                      \
                if (csb == 1) for (; j < nr; j++) p[j] = s[j];                  \
                else          for (; j < nr; j++) p[j] = s[j * csb];            \
                for (; j < (NR); j++) p[j] = 0;                                 \
            }                                                                   \
        }                                                                       \
    }                                                                           \
}                                                                               \
                                                                                \
/* Pack mc x kc of A into MR-row micro-panels (zero padded rows). */           \
static void cck_##S##_pack_a(int mc, int kc, const T *A, ptrdiff_t rsa,         \
                             ptrdiff_t csa, T *p)                               \
{                                                                               \
    for (int ir = 0; ir < mc; ir += (MR)) {                                     \
        const int mr = cck_min((MR), mc - ir);                                  \
        const T *s = A + ir * rsa;                                              \
        if (mr == (MR) && rsa == 1) {      /* A = X^T: MR contiguous values */ \
            for (int k = 0; k < kc; k++, p += (MR))                             \
                for (int i = 0; i < (MR); i++) p[i] = s[k * csa + i];           \
        } else {                                                                \
            for (int k = 0; k < kc; k++, p += (MR)) {                           \
                int i = 0;                                                      \
                for (; i < mr; i++) p[i] = s[i * rsa + k * csa];                \
                for (; i < (MR); i++) p[i] = 0;                                 \
            }                                                                   \
        }                                                                       \
    }                                                                           \
}                                                                               \
                                                                                \
/* C = A @ B (+C if beta) (+bias). Bp from pack_b(K, N, ...); abuf has         \
 * abuf_size(K) elements of per-thread scratch. Loops: pc (K blocks) >         \
 * ic (MC rows of A) > jr (B micro-panel, reused over ir) > ir (MR rows). */   \
static void cck_##S##_gemm(int M, int N, int K, const T *A, ptrdiff_t rsa,      \
        ptrdiff_t csa, const T *Bp, T *C, ptrdiff_t ldc, int beta,              \
        const T *bias, T *abuf)                                                 \
{                                                                               \
    const int NP = (N + (NR) - 1) / (NR) * (NR), MC = cck_##S##_mc;             \
    const int direct = csa == 1;                                                \
    const int cols = !direct && rsa == 1 && N <= CCK_COLS_MAX_N;                \
    if (K <= 0) {                          /* degenerate: C = beta*C + bias */ \
        for (int i = 0; i < M; i++)                                             \
            for (int j = 0; j < N; j++)                                         \
                C[i * ldc + j] = (beta ? C[i * ldc + j] : 0)                    \
                               + (bias ? bias[j] : 0);                          \
        return;                                                                 \
    }                                                                           \
    const int KB = cck_kc_for(K);                                               \
    for (int pc = 0; pc < K; pc += KB) {                                        \
        const int kc = cck_min(KB, K - pc);                                     \
        const int bt = pc ? 1 : beta;                                           \
        const T *bs = pc ? NULL : bias;                                         \
        const T *Bblk = Bp + (size_t)pc * NP;                                   \
        for (int ic = 0; ic < M; ic += MC) {                                    \
            const int mc = cck_min(MC, M - ic);                                 \
            const int mfull = mc / (MR) * (MR);                                 \
            const T *Ablk = A + ic * rsa + pc * csa;                            \
            if (!direct && !cols)                                               \
                cck_##S##_pack_a(mc, kc, Ablk, rsa, csa, abuf);                 \
            else if (mfull < mc)           /* only the ragged panel */         \
                cck_##S##_pack_a(mc - mfull, kc, Ablk + mfull * rsa, rsa,       \
                                 csa, abuf + (size_t)mfull * kc);               \
            for (int jr = 0; jr < N; jr += (NR)) {                              \
                const int nr = cck_min((NR), N - jr);                           \
                const T *bp = Bblk + (size_t)jr * kc;                           \
                const T *bj = bs ? bs + jr : NULL;                              \
                for (int ir = 0; ir < mc; ir += (MR)) {                         \
                    const int mr = cck_min((MR), mc - ir);                      \
                    T *cp = C + (ptrdiff_t)(ic + ir) * ldc + jr;                \
                    if (direct && mr == (MR))                                   \
                        cck_##S##_ukr_rows(kc, Ablk + ir * rsa, rsa, 1, bp, cp, \
                                           ldc, mr, nr, bt, bj);                \
                    else if (cols && mr == (MR))                                \
                        cck_##S##_ukr_cols(kc, Ablk + ir, 1, csa, bp, cp, ldc,  \
                                           mr, nr, bt, bj);                     \
                    else                                                        \
                        cck_##S##_ukr_packed(kc, abuf + (size_t)ir * kc, 1,     \
                                             (MR), bp, cp, ldc, mr, nr, bt, bj);\
                }                                                               \
            }                                                                   \
        }                                                                       \
    }                                                                           \
}

CCK_DEFINE_GEMM(float, s, CCK_S_MR, CCK_S_NR)
CCK_DEFINE_GEMM(double, d, CCK_D_MR, CCK_D_NR)

/* ---- Implicit GEMM: A read through a table of pointers (XNNPACK's
 * "indirection buffer"), so a convolution needs no im2col copy.
 *
 *   C[M x N] = A @ B (+ bias),   a(i, s*seglen + k) = ptrs[i*nseg + s][k]
 *
 * Row i of A is nseg runs of seglen contiguous values (one run per kernel
 * row of a stride-1-in-W layer, or per tap); run s of row i starts at
 * ptrs[i*nseg + s]. The table has roundup(M, MR) rows: rows >= M must point
 * at readable runs too (the caller repeats a real row); their results are
 * not stored. K = nseg*seglen must be at most CCK_KC, so B (from pack_b) is
 * one K block; abuf has abuf_size(K) elements.
 *
 * An ISA whose micro-kernel header defines CCK_HAS_UKR_INDIRECT reads A in
 * place (cck_S_ukr_indirect: the ukr contract with A through the table, beta
 * 0); the others pack each MC-row block of A from the table into MR-row
 * micro-panels (as the driver packs A^T) and run their packed kernel. */
#define CCK_DEFINE_GEMM_INDIRECT(T, S, MR, NR)                                  \
static inline void cck_##S##_pack_a_indirect(int mc, int nseg, int seglen,            \
                                      const T *const *ptrs, T *p)              \
{                                                                               \
    for (int ir = 0; ir < mc; ir += (MR)) {                                     \
        const T *const *pr = ptrs + (size_t)ir * nseg;                          \
        for (int s = 0; s < nseg; s++)                                          \
            for (int k = 0; k < seglen; k++, p += (MR))                         \
                for (int i = 0; i < (MR); i++) p[i] = pr[i * nseg + s][k];      \
    }                                                                           \
}                                                                               \
static void cck_##S##_gemm_indirect(int M, int N, int nseg, int seglen,         \
        const T *const *ptrs, const T *Bp, T *C, ptrdiff_t ldc, const T *bias,  \
        T *abuf)                                                                \
{                                                                               \
    const int K = nseg * seglen, MC = cck_##S##_mc;                             \
    if (K <= 0) {                                                               \
        for (int i = 0; i < M; i++)                                             \
            for (int j = 0; j < N; j++) C[i * ldc + j] = bias ? bias[j] : 0;    \
        return;                                                                 \
    }                                                                           \
    (void)abuf;                                                                 \
    for (int ic = 0; ic < M; ic += MC) {                                        \
        const int mc = cck_min(MC, M - ic);                                     \
        const T *const *pt = ptrs + (size_t)ic * nseg;                          \
        CCK_INDIRECT_PACK(S, mc, nseg, seglen, pt, abuf)                        \
        for (int jr = 0; jr < N; jr += (NR)) {                                  \
            const int nr = cck_min((NR), N - jr);                               \
            const T *bp = Bp + (size_t)jr * K;                                  \
            const T *bj = bias ? bias + jr : NULL;                              \
            for (int ir = 0; ir < mc; ir += (MR)) {                             \
                const int mr = cck_min((MR), mc - ir);                          \
                T *cp = C + (ptrdiff_t)(ic + ir) * ldc + jr;                    \
                CCK_INDIRECT_2TILE(S)                                           \
                CCK_INDIRECT_UKR(S, pt + (size_t)ir * nseg, abuf + (size_t)ir * K) \
            }                                                                   \
        }                                                                       \
    }                                                                           \
}

#ifdef CCK_HAS_UKR_INDIRECT
#define CCK_INDIRECT_PACK(S, mc, nseg, seglen, pt, abuf)
#define CCK_INDIRECT_UKR(S, rows, panel)                                        \
    cck_##S##_ukr_indirect(nseg, seglen, rows, bp, cp, ldc, mr, nr, bj);
#else
#define CCK_INDIRECT_PACK(S, mc, nseg, seglen, pt, abuf)                        \
    cck_##S##_pack_a_indirect(mc, nseg, seglen, pt, abuf);
#define CCK_INDIRECT_UKR(S, rows, panel)                                        \
    cck_##S##_ukr_packed(K, panel, 1, CCK_##S##_MR_, bp, cp, ldc, mr, nr, 0, bj);
#endif
/* A narrow panel's two full tiles at once, where the ISA has such a kernel
 * (ukr_avx512.h): it then skips the second tile of the pair. */
#ifdef CCK_HAS_UKR_INDIRECT_2TILE
#define CCK_INDIRECT_2TILE(S)                                                   \
    if (nr <= CCK_##S##_2TILE_N && ir + 2 * CCK_##S##_MR_ <= mc) {              \
        cck_##S##_ukr_indirect_2tile(nseg, seglen, pt + (size_t)ir * nseg, bp,  \
                                     cp, ldc, nr, bj);                          \
        ir += CCK_##S##_MR_;                                                    \
        continue;                                                               \
    }
#else
#define CCK_INDIRECT_2TILE(S)
#endif
#define CCK_s_MR_ CCK_S_MR
#define CCK_d_MR_ CCK_D_MR

CCK_DEFINE_GEMM_INDIRECT(float, s, CCK_S_MR, CCK_S_NR)
CCK_DEFINE_GEMM_INDIRECT(double, d, CCK_D_MR, CCK_D_NR)

#endif
