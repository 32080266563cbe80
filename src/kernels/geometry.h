/*
 * geometry.h -- the sizes each kernel family reads, as plain C structs.
 * Filled by the Cython entry points from a validated geometry; shared by
 * every ISA's build of the kernels (src/kernels/isa_*.c).
 */
#ifndef CCK_GEOMETRY_H
#define CCK_GEOMETRY_H

#include <stddef.h>

/* Depthwise, NHWC rows (groups == C == O). The forward row sums PD planes of
 * taps (3-D depthwise: the depth taps inside the volume; 1 in 2-D): plane p
 * reads x + p*xpd with the weight slice w + p*wpd.
 *
 * ah, the forward's channel phase: ah > 0 says channel ah of every input
 * pixel starts a vector-aligned address (sw == 1 and C a multiple of the
 * vector, so every pixel has the same phase), and the forward's interior
 * blocks then run channels [ah, C + ah) of each pixel, whose last ah are the
 * next pixel's first ones (with sw == 1 that is the next output pixel's too).
 * Every load of x is then aligned instead of split across cache lines. wrot
 * and brot are the weight (w's shape and strides) and the bias (or NULL) with
 * each tap's channels rotated by ah, wrot[t][j] = w[t][(j + ah) % C], vector-
 * aligned, for those blocks. ah == 0: no such phase, wrot and brot unused. */
typedef struct {
    ptrdiff_t N, H, W, C, KH, KW, sh, sw, dh, dw, pt, pl, Ho, Wo;
    ptrdiff_t PD, xpd, wpd;
    ptrdiff_t ah;
    const void *wrot, *brot;
} ccdw_geom;

/* Depthwise, one NCHW plane. */
typedef struct {
    ptrdiff_t H, W, KH, KW, sh, sw, dh, dw, pt, pl, Ho, Wo;
} ccdp_geom;

/* One input channel, stride 1, NHWC; Opad = O rounded up to the row's sc_ob. */
typedef struct {
    ptrdiff_t N, H, W, O, Opad, KH, KW, dh, dw, pt, pl, Ho, Wo;
} ccsc_geom;

/* Winograd F(m x m, 3 x 3), NHWC. */
typedef struct {
    ptrdiff_t N, H, W, C, O;   /* input (N, H, W, C); output channels O */
    ptrdiff_t pt, pl;          /* top / left padding (may be negative)   */
    ptrdiff_t Ho, Wo;          /* output size                            */
    ptrdiff_t tiles_h, tiles_w;/* ceil(Ho / m), ceil(Wo / m)             */
} ccwg_geom;

/* The input and output-gradient transforms' ``half`` argument: every row of
 * the alpha x alpha transform positions, or half 0 (rows < alpha/2) or 1. */
#define CCWG_ALL_ROWS (-1)

/* Where the Winograd weight transform writes: the alpha^2 x groups B
 * operands of the row's GEMM, already packed. Operand k = xi*groups + group
 * is a Cg x Og matrix at Bp + k*bsize, in the row's pack_b layout. */
typedef struct {
    ptrdiff_t Cg, O, Og, groups, bsize;
} ccwg_pack;

#endif
