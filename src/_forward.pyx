"""Forward convolution kernels (NHWC input, HWIO weight, NHWC output).

Entry points validate nothing: cconv.conv checks every argument first.
"""
from cython cimport floating
from cython.parallel cimport parallel, prange, threadid
from _geometry cimport Geom, geom_from_tuple
from _patches cimport fill_cols
from _gemm cimport packb_size, abuf_size, pack_b, gemm_packed
from _tiling cimport tile_rows, is_pointwise
from _depthwise cimport ccdw_geom, depthwise_geom, dw_forward_row

import numpy as np


def conv2d_gemm(const floating[:, :, :, ::1] x,    # IN  (N, H, W, C)
                const floating[:, :, :, ::1] w,    # IN  (KH, KW, C//groups, O)
                const floating[::1] bias,          # IN  (O,) or None
                floating[:, :, :, ::1] y,          # OUT (N, Ho, Wo, O)
                tuple geom, int n_threads):
    """im2col + GEMM forward. The weight is packed once for all threads; each
    thread builds the im2col rows of one tile of output pixels in its own
    buffer, multiplies them by the packed weight and writes its output rows
    (bias fused into the store)."""
    cdef Geom g = geom_from_tuple(geom)
    cdef Py_ssize_t P = g.N * g.Ho * g.Wo
    if P == 0 or g.O == 0:
        return
    cdef floating* tag = NULL
    cdef bint pointwise = is_pointwise(&g)
    cdef Py_ssize_t T = tile_rows(g.K, sizeof(floating), P, n_threads)
    cdef Py_ssize_t n_tiles = (P + T - 1) // T
    cdef Py_ssize_t bsize = packb_size(tag, g.K, g.Og)
    cdef Py_ssize_t colsize = 0 if pointwise else T * g.K
    cdef Py_ssize_t asize = abuf_size(tag, g.K)
    n_threads = <int>min(n_threads, n_tiles)
    dtype = np.float32 if floating is float else np.float64
    packed_array = np.empty(max(g.groups * bsize, 1), dtype=dtype)
    work_array = np.empty((n_threads, colsize + asize), dtype=dtype)
    cdef floating[::1] packed = packed_array
    cdef floating[:, ::1] work = work_array
    cdef const floating* xp = &x[0, 0, 0, 0] if x.size else NULL
    cdef const floating* wp = &w[0, 0, 0, 0] if w.size else NULL
    cdef const floating* bp = &bias[0] if bias is not None else NULL
    cdef floating* yp = &y[0, 0, 0, 0]
    cdef floating* Bp = &packed[0]
    cdef Py_ssize_t t, p0, cnt, grp
    cdef floating* cols
    cdef floating* abuf
    cdef Geom* gp = &g
    with nogil:
        for grp in range(g.groups):
            pack_b(g.K, g.Og, wp + grp * g.Og, g.O, 1, Bp + grp * bsize)
        with parallel(num_threads=n_threads):
            cols = &work[threadid(), 0]
            abuf = cols + colsize
            for t in prange(n_tiles, schedule='static'):
                p0 = t * T
                cnt = min(T, P - p0)
                if pointwise:
                    # A 1x1 stride-1 convolution: the input rows are the cols.
                    gemm_packed(cnt, g.O, g.C, xp + p0 * g.C, g.C, 1, Bp,
                                yp + p0 * g.O, g.O, False, bp, abuf)
                else:
                    for grp in range(g.groups):
                        fill_cols(xp, gp, p0, cnt, grp, cols, g.K)
                        gemm_packed(cnt, g.Og, g.K, cols, g.K, 1, Bp + grp * bsize,
                                    yp + p0 * g.O + grp * g.Og, g.O, False,
                                    bp + grp * g.Og if bp != NULL else NULL, abuf)


def conv2d_depthwise(const floating[:, :, :, ::1] x,    # IN  (N, H, W, C)
                     const floating[:, :, :, ::1] w,    # IN  (KH, KW, 1, C*mult)
                     const floating[::1] bias,          # IN  (O,) or None
                     floating[:, :, :, ::1] y,          # OUT (N, Ho, Wo, O)
                     tuple geom, int n_threads):
    """Direct forward for groups == C (one input channel per group): a
    GEMM per channel would be 1-wide, so accumulate taps over the contiguous
    channel axis instead. Parallel over output rows."""
    cdef Geom g = geom_from_tuple(geom)
    cdef Py_ssize_t rows = g.N * g.Ho
    if rows == 0 or g.O == 0:
        return
    n_threads = <int>min(n_threads, rows)
    cdef const floating* xp = &x[0, 0, 0, 0] if x.size else NULL
    cdef const floating* wp = &w[0, 0, 0, 0] if w.size else NULL
    cdef const floating* bp = &bias[0] if bias is not None else NULL
    cdef floating* yp = &y[0, 0, 0, 0]
    cdef Py_ssize_t row
    cdef Geom* gp = &g
    cdef ccdw_geom dg = depthwise_geom(gp)
    cdef bint unit_multiplier = g.Og == 1
    with nogil:
        for row in prange(rows, schedule='static', num_threads=n_threads):
            if unit_multiplier:
                dw_forward_row(xp, wp, bp, yp, &dg, row)
            else:
                depthwise_row(xp, wp, bp, yp, gp, row)


cdef void depthwise_row(const floating* x, const floating* w, const floating* bias,
                        floating* y, const Geom* g, Py_ssize_t row) noexcept nogil:
    """One output row (n, ho) of a depthwise convolution with a channel
    multiplier M > 1 (M == 1 goes to the vectorised C kernel)."""
    cdef Py_ssize_t n = row // g.Ho, ho = row % g.Ho
    cdef Py_ssize_t O = g.O, C = g.C, M = g.Og   # M: outputs per input channel
    cdef Py_ssize_t wo, kh, kw, hi, wi, c, m, o
    cdef floating* out
    cdef const floating* xpix
    cdef const floating* wtap
    for wo in range(g.Wo):
        out = y + (row * g.Wo + wo) * O
        if bias != NULL:
            for o in range(O):
                out[o] = bias[o]
        else:
            for o in range(O):
                out[o] = 0
        for kh in range(g.KH):
            hi = ho * g.sh - g.pt + kh * g.dh
            if hi < 0 or hi >= g.H:
                continue
            for kw in range(g.KW):
                wi = wo * g.sw - g.pl + kw * g.dw
                if wi < 0 or wi >= g.W:
                    continue
                xpix = x + ((n * g.H + hi) * g.W + wi) * C
                wtap = w + (kh * g.KW + kw) * O
                if M == 1:
                    for c in range(C):
                        out[c] += xpix[c] * wtap[c]
                else:
                    for c in range(C):
                        for m in range(M):
                            out[c * M + m] += xpix[c] * wtap[c * M + m]
