/*
 * winograd/transforms.h -- the transforms of Winograd minimal filtering
 * F(m x m, 3 x 3) (Lavin & Gray 2015) for NHWC float/double, m = 2 or 4.
 *
 *   y_tile = A^T [ (G g G^T)  (.)  (B^T d B) ] A         alpha = m + 2
 *
 * Three stages, each in its own function; the element-wise product over all
 * input channels is alpha^2 GEMMs done by the caller (src/_winograd_kernel.pyx)
 * through the same ISA's packed GEMM:
 *
 *   weight:  U[xi][c][o]    = (G g[c][o] G^T)[xi]        (computed in double,
 *            written straight into the GEMM's packed B layout)
 *   input:   V[xi][t][c]    = (B^T d[t][c] B)[xi]        one alpha x alpha
 *            input patch d per tile t, starting at (th*m - pt, tw*m - pl);
 *            pixels outside the image read as zero (any padding, even < 0)
 *   GEMM:    M[xi][t][o]    = sum_c V[xi][t][c] U[xi][c][o]   (per group)
 *   output:  y[tile pixel]  = (A^T M[t][o] A) + bias[o], clipped at Ho, Wo.
 *
 * The weight gradient is the transpose of the same bilinear map (the
 * derivative of y_tile with respect to g):
 *
 *   dg = G^T [ sum over tiles (B^T d B)  (.)  (A e A^T) ] G
 *
 * with e the m x m tile of the output gradient dY and d the same input patch
 * as above. So V is the forward's input transform unchanged; the output
 * gradient's transform is
 *
 *   grad output: E[xi][t][o]    = (A e[t][o] A^T)[xi]     zero past Ho, Wo
 *   GEMM:        M[xi][c][o]   += sum_t V[xi][t][c] E[xi][t][o]   (per group)
 *
 * and G^T M G, once per call, is done by the caller in double. E at
 * xi = (1, 1) is the sum of the tile's pixels (A's second row is all ones),
 * which gives the bias gradient for free.
 *
 * Interpolation points 0, 1, -1 (m = 2) and 0, 1, -1, 2, -2 (m = 4), plus
 * infinity. The input and output transforms work on vectors of channels
 * (the contiguous NHWC axis) with GCC vector extensions of CCK_VBYTES bytes;
 * the file is written once and built per ISA (src/kernels/isa_*.c), each
 * build writing and reading the packed layout of its own GEMM.
 * Each output element is computed by one call with a fixed operation order,
 * so results do not depend on how tiles are shared between threads.
 */
#ifndef CCK_WINOGRAD_TRANSFORMS_H
#define CCK_WINOGRAD_TRANSFORMS_H

#include <stddef.h>
#include <string.h>

#include "../geometry.h"
#include "../gemm/driver.h"

/* Offset of element (c, n) inside one packed Cg x Og operand. */
/* Offset of element (c, n) inside one packed Cg x Og operand whose panels
 * are nr wide: the layout of cck_S_pack_b in gemm/driver.h, with the same
 * K blocking (cck_kc_for), since both are built in the same ISA file. */
static inline ptrdiff_t ccwg_packed_at(const ccwg_pack *p, ptrdiff_t nr, ptrdiff_t c, ptrdiff_t n)
{
    const ptrdiff_t kb = cck_kc_for((int)p->Cg);
    const ptrdiff_t pc = c / kb * kb;
    const ptrdiff_t kc = p->Cg - pc < kb ? p->Cg - pc : kb;
    const ptrdiff_t np = (p->Og + nr - 1) / nr * nr;
    return pc * np + n / nr * nr * kc + (c - pc) * nr + n % nr;
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

/* A for m = 2 (the transpose of A^T): 2 tile values -> 4 points. */
#define CCWG_A4(y0, y1, s0, s1, s2, s3) do {                                     \
        s0 = (y0); s1 = (y0) + (y1); s2 = (y0) - (y1); s3 = -(y1);               \
    } while (0)

/* A for m = 4: 4 tile values -> 6 points (0, 1, -1, 2, -2, inf). */
#define CCWG_A6(y0, y1, y2, y3, s0, s1, s2, s3, s4, s5) do {                     \
        __typeof__(y0) e_ = (y0) + (y2), o_ = (y1) + (y3);                       \
        __typeof__(y0) e4_ = (y0) + 4 * (y2), o2_ = 2 * (y1) + 8 * (y3);         \
        s0 = (y0); s1 = e_ + o_; s2 = e_ - o_; s3 = e4_ + o2_; s4 = e4_ - o2_;   \
        s5 = (y3);                                                               \
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
 * DEFINE(T, S, NR) instantiates for element type T, whose GEMM panels are
 * NR wide (the weight transform works on one panel of NR output channels):
 *   ccwg_S_weight_panel(m, w, pk, grp, jr, Bp): panel jr of group grp;
 *   ccwg_S_input(m, half, x, g, zeros, t0, cnt, V, vs):
 *       V[xi*vs + t*C + c] for tiles t0 .. t0+cnt-1 (t counted from t0),
 *       the positions xi = i*alpha + j of rows i of half ``half`` (below);
 *       zeros holds >= C zeros (stands in for out-of-image pixels).
 *   ccwg_S_output(m, M, ms, bias, y, g, t0, cnt):
 *       reads M[xi*ms + t*O + o], writes y (N, Ho, Wo, O) for those tiles.
 *   ccwg_S_grad_output(m, half, dy, g, zeros, t0, cnt, E, es):
 *       E[xi*es + t*O + o] from dy (N, Ho, Wo, O) for those tiles and the
 *       rows of half ``half``; zeros holds >= O zeros (stands in for pixels
 *       past Ho, Wo).
 *
 * ``half`` (CCWG_ALL_ROWS, 0 or 1) picks rows i of the alpha x alpha
 * positions: all of them, or i < alpha/2, or i >= alpha/2. The weight
 * gradient splits its work by half between two threads, so that each
 * thread writes and then multiplies only its own half of V and E, in its own
 * core's cache. The half is a compile-time constant in each instance, so the
 * other half's share of the column pass is dead code; and a position is
 * computed by the same expressions whichever half-call produces it, so the
 * results do not depend on how the halves are shared out (the weight
 * gradient calls only halves, never CCWG_ALL_ROWS, for that reason: one
 * instance could contract a product into an FMA differently).
 */
#define CCWG_ROW_LO(alpha, half) ((half) < 0 ? 0 : (half) * ((alpha) / 2))
#define CCWG_ROW_HI(alpha, half) ((half) < 0 ? (alpha) : ((half) + 1) * ((alpha) / 2))

/* Call body(m, half, ...) with both as compile-time constants: one inlined
 * instance per (m, half) pair. */
#define CCWG_BY_M_AND_HALF(body, m, half, ...) do {                            \
        if ((m) == 2) {                                                         \
            if ((half) == 0)      body(2, 0, __VA_ARGS__);                      \
            else if ((half) == 1) body(2, 1, __VA_ARGS__);                      \
            else                  body(2, CCWG_ALL_ROWS, __VA_ARGS__);          \
        } else {                                                                \
            if ((half) == 0)      body(4, 0, __VA_ARGS__);                      \
            else if ((half) == 1) body(4, 1, __VA_ARGS__);                      \
            else                  body(4, CCWG_ALL_ROWS, __VA_ARGS__);          \
        }                                                                       \
    } while (0)

#define CCWG_DEFINE(T, S, NR)                                                   \
typedef T ccwg_##S##_v __attribute__((vector_size(CCK_VBYTES)));                \
                                                                                \
static inline __attribute__((always_inline)) void                               \
ccwg_##S##_weight_body(const int m, const T *w, const ccwg_pack *pk,     \
                             ptrdiff_t grp, ptrdiff_t jr, T *Bp)                \
{                                                                               \
    const int alpha = m + 2, nr = (NR);                                         \
    const ptrdiff_t Cg = pk->Cg, O = pk->O, n0 = jr * nr;                       \
    const int nb = pk->Og - n0 < nr ? (int)(pk->Og - n0) : nr;                 \
    const T *wcol = w + grp * pk->Og + n0;                                      \
    T *base = Bp + grp * pk->bsize;                                             \
    for (ptrdiff_t c = 0; c < Cg; c++) {                                        \
        double gk[9][NR], t[18][NR], u[36][NR];                  \
        for (int k = 0; k < 9; k++) {                                           \
            const T *src = wcol + (k * Cg + c) * O;                             \
            if (nb == NR)                                                  \
                for (int l = 0; l < NR; l++) gk[k][l] = (double)src[l];    \
            else                                                                \
                for (int l = 0; l < NR; l++)                               \
                    gk[k][l] = l < nb ? (double)src[l] : 0.0;                   \
        }                                                                       \
        for (int j = 0; j < 3; j++)            /* columns: G g */               \
            for (int l = 0; l < NR; l++) {                                 \
                if (m == 2)                                                     \
                    CCWG_G4(gk[j][l], gk[3 + j][l], gk[6 + j][l], t[j][l],      \
                            t[3 + j][l], t[6 + j][l], t[9 + j][l]);             \
                else                                                            \
                    CCWG_G6(gk[j][l], gk[3 + j][l], gk[6 + j][l], t[j][l],      \
                            t[3 + j][l], t[6 + j][l], t[9 + j][l],              \
                            t[12 + j][l], t[15 + j][l]);                        \
            }                                                                   \
        for (int a = 0; a < alpha; a++)        /* rows: (G g) G^T */            \
            for (int l = 0; l < NR; l++) {                                 \
                double *r = &t[3 * a][0];                                       \
                if (m == 2)                                                     \
                    CCWG_G4(r[l], r[NR + l], r[2 * NR + l],           \
                            u[4 * a][l], u[4 * a + 1][l], u[4 * a + 2][l],      \
                            u[4 * a + 3][l]);                                   \
                else                                                            \
                    CCWG_G6(r[l], r[NR + l], r[2 * NR + l],           \
                            u[6 * a][l], u[6 * a + 1][l], u[6 * a + 2][l],      \
                            u[6 * a + 3][l], u[6 * a + 4][l], u[6 * a + 5][l]); \
            }                                                                   \
        /* row c of panel jr in every operand: nr values, zeros past Og */     \
        const ptrdiff_t at = ccwg_packed_at(pk, NR, c, n0);                         \
        for (int k = 0; k < alpha * alpha; k++) {                               \
            T *dst = base + k * pk->groups * pk->bsize + at;                    \
            if (nr == NR && nb == NR)                                 \
                for (int l = 0; l < NR; l++) dst[l] = (T)u[k][l];          \
            else                                                                \
                for (int l = 0; l < nr; l++) dst[l] = l < nb ? (T)u[k][l] : 0;  \
        }                                                                       \
    }                                                                           \
}                                                                               \
                                                                                \
static inline __attribute__((always_inline)) void                               \
ccwg_##S##_input_body(const int m, const int half, const T *x, const ccwg_geom *g, \
        const T *zeros, ptrdiff_t t0, ptrdiff_t cnt, T *V, ptrdiff_t vs)        \
{                                                                               \
    typedef ccwg_##S####_v vt;                                            \
    enum { VL = CCK_VBYTES / sizeof(T) };                                       \
    const int alpha = m + 2;                                                    \
    const int lo = CCWG_ROW_LO(alpha, half), hi = CCWG_ROW_HI(alpha, half);     \
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
                for (int i = lo; i < hi; i++) {    /* rows: (B^T d) B */        \
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
                for (int i = lo; i < hi; i++) {                                 \
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
static inline __attribute__((always_inline)) void                               \
ccwg_##S##_output_body(const int m, const T *M, ptrdiff_t ms,              \
        const T *bias, T *y, const ccwg_geom *g, ptrdiff_t t0, ptrdiff_t cnt)   \
{                                                                               \
    typedef ccwg_##S####_v vt;                                            \
    enum { VL = CCK_VBYTES / sizeof(T) };                                       \
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
static inline __attribute__((always_inline)) void                               \
ccwg_##S##_grad_output_body(const int m, const int half, const T *dy, const ccwg_geom *g, \
        const T *zeros, ptrdiff_t t0, ptrdiff_t cnt, T *E, ptrdiff_t es)        \
{                                                                               \
    typedef ccwg_##S##_v vt;                                                    \
    enum { VL = CCK_VBYTES / sizeof(T) };                                       \
    const int lo = CCWG_ROW_LO(m + 2, half), hi = CCWG_ROW_HI(m + 2, half);     \
    const ptrdiff_t O = g->O;                                                   \
    for (ptrdiff_t t = 0; t < cnt; t++) {                                       \
        ptrdiff_t n, ti, tj;                                                    \
        CCWG_TILE_COORDS(g, t0 + t, n, ti, tj);                                 \
        const ptrdiff_t ho0 = ti * m, wo0 = tj * m;                             \
        const T *p[16];                                                         \
        for (int a = 0; a < m; a++)                                             \
            for (int b = 0; b < m; b++)                                         \
                p[a * m + b] = (ho0 + a < g->Ho && wo0 + b < g->Wo)             \
                    ? dy + ((n * g->Ho + ho0 + a) * g->Wo + wo0 + b) * O : zeros; \
        T *out = E + t * O;                                                     \
        for (ptrdiff_t o0 = 0; o0 < O; o0 += VL) {                              \
            const ptrdiff_t nc = O - o0 < VL ? O - o0 : VL;                     \
            const int full = nc == VL;                                          \
            vt e[16], r[24];                                                    \
            for (int k = 0; k < m * m; k++)                                     \
                CCWG_LOAD(vt, e[k], p[k] + o0, nc, full);                       \
            if (m == 2) {                                                       \
                for (int b = 0; b < 2; b++)        /* columns: A e */           \
                    CCWG_A4(e[b], e[2 + b], r[b], r[2 + b], r[4 + b], r[6 + b]); \
                for (int i = lo; i < hi; i++) {    /* rows: (A e) A^T */        \
                    vt s0, s1, s2, s3;                                          \
                    CCWG_A4(r[2 * i], r[2 * i + 1], s0, s1, s2, s3);            \
                    T *dst = out + (ptrdiff_t)(4 * i) * es + o0;                \
                    CCWG_STORE(vt, dst, s0, nc, full);                          \
                    CCWG_STORE(vt, dst + es, s1, nc, full);                     \
                    CCWG_STORE(vt, dst + 2 * es, s2, nc, full);                 \
                    CCWG_STORE(vt, dst + 3 * es, s3, nc, full);                 \
                }                                                               \
            } else {                                                            \
                for (int b = 0; b < 4; b++)                                     \
                    CCWG_A6(e[b], e[4 + b], e[8 + b], e[12 + b], r[b], r[4 + b], \
                            r[8 + b], r[12 + b], r[16 + b], r[20 + b]);         \
                for (int i = lo; i < hi; i++) {                                 \
                    vt *q = r + 4 * i, s0, s1, s2, s3, s4, s5;                  \
                    CCWG_A6(q[0], q[1], q[2], q[3], s0, s1, s2, s3, s4, s5);    \
                    T *dst = out + (ptrdiff_t)(6 * i) * es + o0;                \
                    CCWG_STORE(vt, dst, s0, nc, full);                          \
                    CCWG_STORE(vt, dst + es, s1, nc, full);                     \
                    CCWG_STORE(vt, dst + 2 * es, s2, nc, full);                 \
                    CCWG_STORE(vt, dst + 3 * es, s3, nc, full);                 \
                    CCWG_STORE(vt, dst + 4 * es, s4, nc, full);                 \
                    CCWG_STORE(vt, dst + 5 * es, s5, nc, full);                 \
                }                                                               \
            }                                                                   \
        }                                                                       \
    }                                                                           \
}                                                                               \
                                                                                \
/* m is a compile-time constant inside each branch, so loops fully unroll. */ \
static void ccwg_##S##_weight_panel(int m, const T *w,               \
        const ccwg_pack *pk, ptrdiff_t grp, ptrdiff_t jr, T *Bp)                \
{                                                                               \
    if (m == 2) ccwg_##S##_weight_body(2, w, pk, grp, jr, Bp);            \
    else        ccwg_##S##_weight_body(4, w, pk, grp, jr, Bp);            \
}                                                                               \
/* Each (m, half) pair is its own instance (see "half" above). */              \
static void ccwg_##S##_input(int m, int half, const T *x, const ccwg_geom *g,   \
        const T *zeros, ptrdiff_t t0, ptrdiff_t cnt, T *V, ptrdiff_t vs)        \
{                                                                               \
    CCWG_BY_M_AND_HALF(ccwg_##S##_input_body, m, half, x, g, zeros, t0, cnt, V, vs); \
}                                                                               \
static void ccwg_##S##_output(int m, const T *M, ptrdiff_t ms,       \
        const T *bias, T *y, const ccwg_geom *g, ptrdiff_t t0, ptrdiff_t cnt)   \
{                                                                               \
    if (m == 2) ccwg_##S##_output_body(2, M, ms, bias, y, g, t0, cnt);    \
    else        ccwg_##S##_output_body(4, M, ms, bias, y, g, t0, cnt);    \
}                                                                               \
static void ccwg_##S##_grad_output(int m, int half, const T *dy,               \
        const ccwg_geom *g, const T *zeros, ptrdiff_t t0, ptrdiff_t cnt, T *E,  \
        ptrdiff_t es)                                                           \
{                                                                               \
    CCWG_BY_M_AND_HALF(ccwg_##S##_grad_output_body, m, half, dy, g, zeros, t0, cnt, E, es); \
}

CCWG_DEFINE(float, s, CCK_S_NR)
CCWG_DEFINE(double, d, CCK_D_NR)

#endif
