/*
 * _winograd_kernels.h -- the transforms of Winograd minimal filtering
 * F(m x m, 3 x 3) (Lavin & Gray 2015) for NHWC float/double, m = 2 or 4.
 *
 *   y_tile = A^T [ (G g G^T)  (.)  (B^T d B) ] A         alpha = m + 2
 *
 * Three stages, each in its own function; the element-wise product over all
 * input channels is alpha^2 GEMMs done by the caller (src/_winograd.pyx)
 * through cconv's packed GEMM:
 *
 *   weight:  U[xi][c][o]    = (G g[c][o] G^T)[xi]        (computed in double,
 *            written straight into the GEMM's packed B layout)
 *   input:   V[xi][t][c]    = (B^T d[t][c] B)[xi]        one alpha x alpha
 *            input patch d per tile t, starting at (th*m - pt, tw*m - pl);
 *            pixels outside the image read as zero (any padding, even < 0)
 *   GEMM:    M[xi][t][o]    = sum_c V[xi][t][c] U[xi][c][o]   (per group)
 *   output:  y[tile pixel]  = (A^T M[t][o] A) + bias[o], clipped at Ho, Wo.
 *
 * Interpolation points 0, 1, -1 (m = 2) and 0, 1, -1, 2, -2 (m = 4), plus
 * infinity. The input and output transforms work on vectors of channels
 * (the contiguous NHWC axis) with GCC vector extensions; every function is
 * built twice, for AVX2+FMA (8 floats / 4 doubles a vector) and for the
 * baseline ISA (16-byte vectors), and the entry points choose at run time.
 * Each output element is computed by one call with a fixed operation order,
 * so results do not depend on how tiles are shared between threads.
 */
#ifndef CCONV_WINOGRAD_KERNELS_H
#define CCONV_WINOGRAD_KERNELS_H

#include <stddef.h>
#include <string.h>

#include "_cpu_features.h"
#include "_gemm_kernel.h"

typedef struct {
    ptrdiff_t N, H, W, C, O;   /* input (N, H, W, C); output channels O */
    ptrdiff_t pt, pl;          /* top / left padding (may be negative)   */
    ptrdiff_t Ho, Wo;          /* output size                            */
    ptrdiff_t tiles_h, tiles_w;/* ceil(Ho / m), ceil(Wo / m)             */
} ccwg_geom;

/* Where the weight transform writes: the alpha^2 x groups B operands of
 * cconv's GEMM (src/_gemm_kernel.h), already packed. Operand k = xi*groups
 * + group is a Cg x Og matrix at Bp + k*bsize, in ccg_pack_b's layout:
 * K blocks of kb rows (ccg_kc_for), each of NR-column micro-panels stored
 * k-major, columns Og..NP-1 zero (the caller zero-fills Bp then).          */
typedef struct {
    ptrdiff_t Cg, O, Og, groups, bsize;
    int nr;                     /* NR of the GEMM for this element type */
} ccwg_pack;

/* Offset of element (c, n) inside one packed Cg x Og operand. */
static inline ptrdiff_t ccwg_packed_at(const ccwg_pack *p, ptrdiff_t c, ptrdiff_t n)
{
    const ptrdiff_t kb = ccg_kc_for((int)p->Cg);
    const ptrdiff_t pc = c / kb * kb;
    const ptrdiff_t kc = p->Cg - pc < kb ? p->Cg - pc : kb;
    const ptrdiff_t np = (p->Og + p->nr - 1) / p->nr * p->nr;
    return pc * np + n / p->nr * p->nr * kc + (c - pc) * p->nr + n % p->nr;
}

/* ---- 1-D transforms on vectors (or scalars) ------------------------------ */

/* B^T for m = 2: r = B^T d, d = 4 points. */
#define CCWG_BT4(d0, d1, d2, d3, r0, r1, r2, r3) do {                            \
        r0 = (d0) - (d2); r1 = (d1) + (d2); r2 = (d2) - (d1); r3 = (d1) - (d3);  \
    } while (0)

/* A^T for m = 2: 4 points -> 2 outputs. */
#define CCWG_AT4(s0, s1, s2, s3, y0, y1) do {                                    \
        y0 = (s0) + (s1) + (s2); y1 = (s1) - (s2) - (s3);                        \
    } while (0)

/* B^T for m = 4 (points 0, 1, -1, 2, -2, inf):
 *   [4  0 -5  0  1  0]
 *   [0 -4 -4  1  1  0]
 *   [0  4 -4 -1  1  0]
 *   [0 -2 -1  2  1  0]
 *   [0  2 -1 -2  1  0]
 *   [0  4  0 -5  0  1]                                                        */
#define CCWG_BT6(d0, d1, d2, d3, d4, d5, r0, r1, r2, r3, r4, r5) do {            \
        __typeof__(d0) a_ = (d4) - 4 * (d2), b_ = (d3) - 4 * (d1);               \
        __typeof__(d0) c_ = (d4) - (d2), e_ = 2 * ((d3) - (d1));                 \
        r0 = 4 * (d0) - 5 * (d2) + (d4);                                         \
        r1 = a_ + b_; r2 = a_ - b_; r3 = c_ + e_; r4 = c_ - e_;                  \
        r5 = 4 * (d1) - 5 * (d3) + (d5);                                         \
    } while (0)

/* A^T for m = 4:
 *   [1 1  1 1  1 0]
 *   [0 1 -1 2 -2 0]
 *   [0 1  1 4  4 0]
 *   [0 1 -1 8 -8 1]                                                           */
#define CCWG_AT6(s0, s1, s2, s3, s4, s5, y0, y1, y2, y3) do {                    \
        __typeof__(s0) p_ = (s1) + (s2), q_ = (s1) - (s2);                       \
        __typeof__(s0) u_ = (s3) + (s4), v_ = (s3) - (s4);                       \
        y0 = (s0) + p_ + u_; y1 = q_ + 2 * v_; y2 = p_ + 4 * u_;                 \
        y3 = q_ + 8 * v_ + (s5);                                                 \
    } while (0)

/* ---- weight transform: 1-D G applied to columns then rows, in double ---- */

/* G for m = 2 (rows: 1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1). */
#define CCWG_G4(g0, g1, g2, u0, u1, u2, u3) do {                                 \
        __typeof__(g0) s_ = 0.5 * ((g0) + (g2)), h_ = 0.5 * (g1);                \
        u0 = (g0); u1 = s_ + h_; u2 = s_ - h_; u3 = (g2);                        \
    } while (0)

/* G for m = 4: rows 1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6;
 * 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1.                                      */
#define CCWG_G6(g0, g1, g2, u0, u1, u2, u3, u4, u5) do {                         \
        __typeof__(g0) s_ = (-1.0 / 6) * ((g0) + (g2)), h_ = (1.0 / 6) * (g1);   \
        __typeof__(g0) p_ = (1.0 / 24) * (g0) + (1.0 / 6) * (g2);                \
        __typeof__(g0) q_ = (1.0 / 12) * (g1);                                   \
        u0 = 0.25 * (g0); u1 = s_ - h_; u2 = s_ + h_;                            \
        u3 = p_ + q_; u4 = p_ - q_; u5 = (g2);                                   \
    } while (0)

#define CCWG_OB 16  /* lanes of the weight transform: >= the GEMM's NR */

/* ---- input and output transforms, one instance per ISA ------------------ */

/* Tile index t -> image n and tile row/column. */
#define CCWG_TILE_COORDS(g, t, n, ti, tj) do {                                  \
        const ptrdiff_t per_ = (g)->tiles_h * (g)->tiles_w;                     \
        n = (t) / per_;                                                         \
        ti = ((t) % per_) / (g)->tiles_w;                                       \
        tj = ((t) % per_) % (g)->tiles_w;                                       \
    } while (0)

/* Load / store nc (<= VL) elements; a partial load zero-fills. */
#define CCWG_LOAD(vt, dst, src, nc, full) do {                                  \
        if (full) memcpy(&(dst), (src), sizeof(vt));                            \
        else { dst = (vt){0}; memcpy(&(dst), (src), (size_t)(nc) * sizeof((src)[0])); } \
    } while (0)
#define CCWG_STORE(vt, dst, src, nc, full) do {                                 \
        if (full) memcpy((dst), &(src), sizeof(vt));                            \
        else memcpy((dst), &(src), (size_t)(nc) * sizeof((dst)[0]));            \
    } while (0)

/*
 * DEFINE(T, S, ISA, VBYTES, ATTR) instantiates for element type T:
 *   ccwg_S_input_ISA(m, x, g, zeros, t0, cnt, V, vs):
 *       V[xi*vs + t*C + c] for tiles t0 .. t0+cnt-1 (t counted from t0);
 *       zeros holds >= C zeros (stands in for out-of-image pixels).
 *   ccwg_S_output_ISA(m, M, ms, bias, y, g, t0, cnt):
 *       reads M[xi*ms + t*O + o], writes y (N, Ho, Wo, O) for those tiles.
 */
#define CCWG_DEFINE(T, S, ISA, VBYTES, ATTR)                                    \
typedef T ccwg_##S##_##ISA##_v __attribute__((vector_size(VBYTES)));            \
                                                                                \
static inline __attribute__((always_inline)) ATTR void                          \
ccwg_##S##_weight_body_##ISA(const int m, const T *w, const ccwg_pack *pk,     \
                             ptrdiff_t grp, ptrdiff_t jr, T *Bp)                \
{                                                                               \
    const int alpha = m + 2, nr = pk->nr;                                       \
    const ptrdiff_t Cg = pk->Cg, O = pk->O, n0 = jr * nr;                       \
    const int nb = pk->Og - n0 < nr ? (int)(pk->Og - n0) : nr;                 \
    const T *wcol = w + grp * pk->Og + n0;                                      \
    T *base = Bp + grp * pk->bsize;                                             \
    for (ptrdiff_t c = 0; c < Cg; c++) {                                        \
        double gk[9][CCWG_OB], t[18][CCWG_OB], u[36][CCWG_OB];                  \
        for (int k = 0; k < 9; k++) {                                           \
            const T *src = wcol + (k * Cg + c) * O;                             \
            if (nb == CCWG_OB)                                                  \
                for (int l = 0; l < CCWG_OB; l++) gk[k][l] = (double)src[l];    \
            else                                                                \
                for (int l = 0; l < CCWG_OB; l++)                               \
                    gk[k][l] = l < nb ? (double)src[l] : 0.0;                   \
        }                                                                       \
        for (int j = 0; j < 3; j++)            /* columns: G g */               \
            for (int l = 0; l < CCWG_OB; l++) {                                 \
                if (m == 2)                                                     \
                    CCWG_G4(gk[j][l], gk[3 + j][l], gk[6 + j][l], t[j][l],      \
                            t[3 + j][l], t[6 + j][l], t[9 + j][l]);             \
                else                                                            \
                    CCWG_G6(gk[j][l], gk[3 + j][l], gk[6 + j][l], t[j][l],      \
                            t[3 + j][l], t[6 + j][l], t[9 + j][l],              \
                            t[12 + j][l], t[15 + j][l]);                        \
            }                                                                   \
        for (int a = 0; a < alpha; a++)        /* rows: (G g) G^T */            \
            for (int l = 0; l < CCWG_OB; l++) {                                 \
                double *r = &t[3 * a][0];                                       \
                if (m == 2)                                                     \
                    CCWG_G4(r[l], r[CCWG_OB + l], r[2 * CCWG_OB + l],           \
                            u[4 * a][l], u[4 * a + 1][l], u[4 * a + 2][l],      \
                            u[4 * a + 3][l]);                                   \
                else                                                            \
                    CCWG_G6(r[l], r[CCWG_OB + l], r[2 * CCWG_OB + l],           \
                            u[6 * a][l], u[6 * a + 1][l], u[6 * a + 2][l],      \
                            u[6 * a + 3][l], u[6 * a + 4][l], u[6 * a + 5][l]); \
            }                                                                   \
        /* row c of panel jr in every operand: nr values, zeros past Og */     \
        const ptrdiff_t at = ccwg_packed_at(pk, c, n0);                         \
        for (int k = 0; k < alpha * alpha; k++) {                               \
            T *dst = base + k * pk->groups * pk->bsize + at;                    \
            if (nr == CCWG_OB && nb == CCWG_OB)                                 \
                for (int l = 0; l < CCWG_OB; l++) dst[l] = (T)u[k][l];          \
            else                                                                \
                for (int l = 0; l < nr; l++) dst[l] = l < nb ? (T)u[k][l] : 0;  \
        }                                                                       \
    }                                                                           \
}                                                                               \
                                                                                \
static inline __attribute__((always_inline)) ATTR void                          \
ccwg_##S##_input_body_##ISA(const int m, const T *x, const ccwg_geom *g,         \
        const T *zeros, ptrdiff_t t0, ptrdiff_t cnt, T *V, ptrdiff_t vs)        \
{                                                                               \
    typedef ccwg_##S##_##ISA##_v vt;                                            \
    enum { VL = (VBYTES) / sizeof(T) };                                         \
    const int alpha = m + 2;                                                    \
    const ptrdiff_t C = g->C;                                                   \
    for (ptrdiff_t t = 0; t < cnt; t++) {                                       \
        ptrdiff_t n, ti, tj;                                                    \
        CCWG_TILE_COORDS(g, t0 + t, n, ti, tj);                                 \
        const ptrdiff_t h0 = ti * m - g->pt, w0 = tj * m - g->pl;               \
        const T *p[36];                                                         \
        for (int i = 0; i < alpha; i++)                                         \
            for (int j = 0; j < alpha; j++) {                                   \
                const ptrdiff_t hi = h0 + i, wi = w0 + j;                       \
                p[i * alpha + j] = (hi >= 0 && hi < g->H && wi >= 0 && wi < g->W) \
                    ? x + ((n * g->H + hi) * g->W + wi) * C : zeros;            \
            }                                                                   \
        T *out = V + t * C;                                                     \
        for (ptrdiff_t c0 = 0; c0 < C; c0 += VL) {                              \
            const ptrdiff_t nc = C - c0 < VL ? C - c0 : VL;                     \
            const int full = nc == VL;                                          \
            vt d[36], r[36];                                                    \
            for (int k = 0; k < alpha * alpha; k++)                             \
                CCWG_LOAD(vt, d[k], p[k] + c0, nc, full);                       \
            if (m == 2) {                                                       \
                for (int j = 0; j < 4; j++)        /* columns: B^T d */         \
                    CCWG_BT4(d[j], d[4 + j], d[8 + j], d[12 + j],               \
                             r[j], r[4 + j], r[8 + j], r[12 + j]);              \
                for (int i = 0; i < 4; i++) {      /* rows: (B^T d) B */        \
                    vt *q = r + 4 * i, o0, o1, o2, o3;                          \
                    CCWG_BT4(q[0], q[1], q[2], q[3], o0, o1, o2, o3);           \
                    T *dst = out + (ptrdiff_t)(4 * i) * vs + c0;                \
                    CCWG_STORE(vt, dst, o0, nc, full);                          \
                    CCWG_STORE(vt, dst + vs, o1, nc, full);                     \
                    CCWG_STORE(vt, dst + 2 * vs, o2, nc, full);                 \
                    CCWG_STORE(vt, dst + 3 * vs, o3, nc, full);                 \
                }                                                               \
            } else {                                                            \
                for (int j = 0; j < 6; j++)                                     \
                    CCWG_BT6(d[j], d[6 + j], d[12 + j], d[18 + j], d[24 + j],   \
                             d[30 + j], r[j], r[6 + j], r[12 + j], r[18 + j],   \
                             r[24 + j], r[30 + j]);                             \
                for (int i = 0; i < 6; i++) {                                   \
                    vt *q = r + 6 * i, o0, o1, o2, o3, o4, o5;                  \
                    CCWG_BT6(q[0], q[1], q[2], q[3], q[4], q[5],                \
                             o0, o1, o2, o3, o4, o5);                           \
                    T *dst = out + (ptrdiff_t)(6 * i) * vs + c0;                \
                    CCWG_STORE(vt, dst, o0, nc, full);                          \
                    CCWG_STORE(vt, dst + vs, o1, nc, full);                     \
                    CCWG_STORE(vt, dst + 2 * vs, o2, nc, full);                 \
                    CCWG_STORE(vt, dst + 3 * vs, o3, nc, full);                 \
                    CCWG_STORE(vt, dst + 4 * vs, o4, nc, full);                 \
                    CCWG_STORE(vt, dst + 5 * vs, o5, nc, full);                 \
                }                                                               \
            }                                                                   \
        }                                                                       \
    }                                                                           \
}                                                                               \
                                                                                \
static inline __attribute__((always_inline)) ATTR void                          \
ccwg_##S##_output_body_##ISA(const int m, const T *M, ptrdiff_t ms,              \
        const T *bias, T *y, const ccwg_geom *g, ptrdiff_t t0, ptrdiff_t cnt)   \
{                                                                               \
    typedef ccwg_##S##_##ISA##_v vt;                                            \
    enum { VL = (VBYTES) / sizeof(T) };                                         \
    const int alpha = m + 2;                                                    \
    const ptrdiff_t O = g->O;                                                   \
    for (ptrdiff_t t = 0; t < cnt; t++) {                                       \
        ptrdiff_t n, ti, tj;                                                    \
        CCWG_TILE_COORDS(g, t0 + t, n, ti, tj);                                 \
        const ptrdiff_t ho0 = ti * m, wo0 = tj * m;                             \
        const int rows = g->Ho - ho0 < m ? (int)(g->Ho - ho0) : m;              \
        const int cols = g->Wo - wo0 < m ? (int)(g->Wo - wo0) : m;              \
        const T *src = M + t * O;                                               \
        T *ybase = y + ((n * g->Ho + ho0) * g->Wo + wo0) * O;                   \
        for (ptrdiff_t o0 = 0; o0 < O; o0 += VL) {                              \
            const ptrdiff_t nc = O - o0 < VL ? O - o0 : VL;                     \
            const int full = nc == VL;                                          \
            vt s[36], r[24], res[16], b = (vt){0};                              \
            for (int k = 0; k < alpha * alpha; k++)                             \
                CCWG_LOAD(vt, s[k], src + k * ms + o0, nc, full);               \
            if (bias) CCWG_LOAD(vt, b, bias + o0, nc, full);                    \
            if (m == 2) {                                                       \
                for (int j = 0; j < 4; j++)        /* columns: A^T s */         \
                    CCWG_AT4(s[j], s[4 + j], s[8 + j], s[12 + j],               \
                             r[j], r[4 + j]);                                   \
                for (int a = 0; a < 2; a++) {      /* rows: (A^T s) A */        \
                    vt *q = r + 4 * a;                                          \
                    CCWG_AT4(q[0], q[1], q[2], q[3], res[2 * a], res[2 * a + 1]); \
                }                                                               \
            } else {                                                            \
                for (int j = 0; j < 6; j++)                                     \
                    CCWG_AT6(s[j], s[6 + j], s[12 + j], s[18 + j], s[24 + j],   \
                             s[30 + j], r[j], r[6 + j], r[12 + j], r[18 + j]);  \
                for (int a = 0; a < 4; a++) {                                   \
                    vt *q = r + 6 * a;                                          \
                    CCWG_AT6(q[0], q[1], q[2], q[3], q[4], q[5], res[4 * a],    \
                             res[4 * a + 1], res[4 * a + 2], res[4 * a + 3]);   \
                }                                                               \
            }                                                                   \
            for (int a = 0; a < rows; a++)                                      \
                for (int bb = 0; bb < cols; bb++) {                             \
                    vt v = res[a * m + bb] + b;                                 \
                    T *dst = ybase + ((ptrdiff_t)a * g->Wo + bb) * O + o0;      \
                    CCWG_STORE(vt, dst, v, nc, full);                           \
                }                                                               \
        }                                                                       \
    }                                                                           \
} \
                                                                               \
/* m is a compile-time constant inside each branch, so loops fully unroll. */ \
static ATTR void ccwg_##S##_weight_panel_##ISA(int m, const T *w,               \
        const ccwg_pack *pk, ptrdiff_t grp, ptrdiff_t jr, T *Bp)                \
{                                                                               \
    if (m == 2) ccwg_##S##_weight_body_##ISA(2, w, pk, grp, jr, Bp);            \
    else        ccwg_##S##_weight_body_##ISA(4, w, pk, grp, jr, Bp);            \
}                                                                               \
static ATTR void ccwg_##S##_input_##ISA(int m, const T *x, const ccwg_geom *g,  \
        const T *zeros, ptrdiff_t t0, ptrdiff_t cnt, T *V, ptrdiff_t vs)        \
{                                                                               \
    if (m == 2) ccwg_##S##_input_body_##ISA(2, x, g, zeros, t0, cnt, V, vs);    \
    else        ccwg_##S##_input_body_##ISA(4, x, g, zeros, t0, cnt, V, vs);    \
}                                                                               \
static ATTR void ccwg_##S##_output_##ISA(int m, const T *M, ptrdiff_t ms,       \
        const T *bias, T *y, const ccwg_geom *g, ptrdiff_t t0, ptrdiff_t cnt)   \
{                                                                               \
    if (m == 2) ccwg_##S##_output_body_##ISA(2, M, ms, bias, y, g, t0, cnt);    \
    else        ccwg_##S##_output_body_##ISA(4, M, ms, bias, y, g, t0, cnt);    \
}

CCWG_DEFINE(float, s, base, 16, )
CCWG_DEFINE(double, d, base, 16, )
#if CCONV_X86
CCWG_DEFINE(float, s, avx2, 32, CCONV_AVX2)
CCWG_DEFINE(double, d, avx2, 32, CCONV_AVX2)
#define CCWG_PICK(S, f) (cconv_use_avx2() ? ccwg_##S##_##f##_avx2 : ccwg_##S##_##f##_base)
#else
#define CCWG_PICK(S, f) ccwg_##S##_##f##_base
#endif

/* ---- entry points -------------------------------------------------------- */

/* (G g G^T)[xi] (in double) of an HWIO weight w (3, 3, Cg, O) for the
 * output channels of micro-panel jr of group grp, every input channel:
 * panel jr of every packed operand of that group (each written line once,
 * in order, so the stores stream). */
static inline void ccwg_s_weight_panel(int m, const float *w, const ccwg_pack *pk,
                                       ptrdiff_t grp, ptrdiff_t jr, float *Bp)
{ CCWG_PICK(s, weight_panel)(m, w, pk, grp, jr, Bp); }
static inline void ccwg_d_weight_panel(int m, const double *w, const ccwg_pack *pk,
                                       ptrdiff_t grp, ptrdiff_t jr, double *Bp)
{ CCWG_PICK(d, weight_panel)(m, w, pk, grp, jr, Bp); }

static inline void ccwg_s_input(int m, const float *x, const ccwg_geom *g, const float *zeros,
                                ptrdiff_t t0, ptrdiff_t cnt, float *V, ptrdiff_t vs)
{ CCWG_PICK(s, input)(m, x, g, zeros, t0, cnt, V, vs); }
static inline void ccwg_d_input(int m, const double *x, const ccwg_geom *g, const double *zeros,
                                ptrdiff_t t0, ptrdiff_t cnt, double *V, ptrdiff_t vs)
{ CCWG_PICK(d, input)(m, x, g, zeros, t0, cnt, V, vs); }
static inline void ccwg_s_output(int m, const float *M, ptrdiff_t ms, const float *bias,
                                 float *y, const ccwg_geom *g, ptrdiff_t t0, ptrdiff_t cnt)
{ CCWG_PICK(s, output)(m, M, ms, bias, y, g, t0, cnt); }
static inline void ccwg_d_output(int m, const double *M, ptrdiff_t ms, const double *bias,
                                 double *y, const ccwg_geom *g, ptrdiff_t t0, ptrdiff_t cnt)
{ CCWG_PICK(d, output)(m, M, ms, bias, y, g, t0, cnt); }

#endif
