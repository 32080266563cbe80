"""Forward convolution kernels (NHWC input, HWIO weight, NHWC output).

Entry points validate nothing: cconv._conv checks every argument first.
"""
from cython cimport floating
from cython.parallel cimport parallel, prange, threadid
from _geometry cimport Geom, geom_from_tuple
from _patches cimport fill_cols, copy_run, zero_run
from _kernel_row cimport cck_row, active_row, ccdw_geom, ccsc_geom
from _gemm cimport packb_size, abuf_size, pack_b, gemm_packed
from _tiling cimport tile_rows
from _depthwise cimport depthwise_geom, dw_forward_row
from _single_channel cimport single_channel_geom, sc_out_block, sc_forward_row

import numpy as np

# The kernel table's row, fetched once (src/_kernel_row.pxd).
cdef const cck_row* ROW = active_row()


def conv2d_gemm(const floating[:, :, :, ::1] x,    # IN  (N, H, W, C)
                const floating[:, :, :, ::1] w,    # IN  (KH, KW, C//groups, O)
                const floating[::1] bias,          # IN  (O,) or None
                floating[:, :, :, ::1] y,          # OUT (N, Ho, Wo, O)
                tuple geom, int n_threads, bint pointwise=False):
    """im2col + GEMM forward. The weight is packed once for all threads; each
    thread builds the im2col rows of one tile of output pixels in its own
    buffer, multiplies them by the packed weight and writes its output rows
    (bias fused into the store). ``pointwise`` (the "gemm-pointwise" route: 1x1,
    stride 1, unpadded, one group) reads the input rows as the im2col rows.
    Tiles are handed out dynamically, so a thread whose core is taken by
    another process does not hold up the call."""
    cdef Geom g = geom_from_tuple(geom)
    cdef Py_ssize_t P = g.N * g.Ho * g.Wo
    if P == 0 or g.O == 0:
        return
    cdef const cck_row* k = ROW
    cdef floating* tag = NULL
    cdef Py_ssize_t T = tile_rows(g.K, sizeof(floating), P, n_threads)
    cdef Py_ssize_t n_tiles = (P + T - 1) // T
    cdef Py_ssize_t bsize = packb_size(k, tag, g.K, g.Og)
    cdef Py_ssize_t colsize = 0 if pointwise else T * g.K
    cdef Py_ssize_t asize = abuf_size(k, tag, g.K)
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
            pack_b(k, g.K, g.Og, wp + grp * g.Og, g.O, 1, Bp + grp * bsize)
        with parallel(num_threads=n_threads):
            cols = &work[threadid(), 0]
            abuf = cols + colsize
            for t in prange(n_tiles, schedule='dynamic'):
                p0 = t * T
                cnt = min(T, P - p0)
                if pointwise:
                    # A 1x1 stride-1 convolution: the input rows are the cols.
                    gemm_packed(k, cnt, g.O, g.C, xp + p0 * g.C, g.C, 1, Bp,
                                yp + p0 * g.O, g.O, False, bp, abuf)
                else:
                    for grp in range(g.groups):
                        fill_cols(xp, gp, p0, cnt, grp, cols, g.K)
                        gemm_packed(k, cnt, g.Og, g.K, cols, g.K, 1, Bp + grp * bsize,
                                    yp + p0 * g.O + grp * g.Og, g.O, False,
                                    bp + grp * g.Og if bp != NULL else NULL, abuf)


def conv2d_band(const floating[:, :, :, ::1] x,    # IN  (N, H, W, C)
                const floating[:, :, :, ::1] w,    # IN  (KH, KW, C, O), one group
                const floating[::1] bias,          # IN  (O,) or None
                floating[:, :, :, ::1] y,          # OUT (N, Ho, Wo, O)
                tuple geom, int n_threads):
    """Forward by one GEMM per output row with no im2col (the "gemm-band"
    route: one group, kw dilation 1, few channels).

    Per output row (n, ho), the KH input rows it reads are copied into a band
    laid out column by column: band[wp][kh][c] for the Wp = (Wo-1)*sw + KW
    padded columns (zeros outside the image). An output pixel wo's receptive
    field is then band[wo*sw : wo*sw + KW] -- one contiguous run of
    KW*KH*C values -- so the band is the GEMM's A in place, row wo starting
    sw*KH*C further on (rows overlap), against the weight packed in
    (kw, kh, c) order. The band holds KH input rows once (im2col would copy
    each value up to KH*KW times). Output rows are handed out dynamically.
    """
    cdef Geom g = geom_from_tuple(geom)
    cdef Py_ssize_t rows = g.N * g.Ho
    if rows == 0 or g.O == 0 or g.Wo == 0:
        return
    cdef const cck_row* k = ROW
    cdef floating* tag = NULL
    cdef Py_ssize_t Wp = (g.Wo - 1) * g.sw + g.KW
    cdef Py_ssize_t col = g.KH * g.C             # one band column: KH rows of C channels
    cdef Py_ssize_t bandsize = Wp * col
    cdef Py_ssize_t bsize = packb_size(k, tag, g.K, g.O)
    cdef Py_ssize_t asize = abuf_size(k, tag, g.K)
    n_threads = <int>min(n_threads, rows)
    dtype = np.float32 if floating is float else np.float64
    # The weight in (kw, kh, c) x O order: the order of a band run.
    w_kw_major = np.ascontiguousarray(np.asarray(w).transpose(1, 0, 2, 3)).reshape(g.K, g.O)
    cdef const floating[:, ::1] wk = w_kw_major
    packed_array = np.empty(max(bsize, 1), dtype=dtype)
    work_array = np.empty((n_threads, bandsize + asize), dtype=dtype)
    cdef floating[::1] packed = packed_array
    cdef floating[:, ::1] work = work_array
    cdef const floating* xp = &x[0, 0, 0, 0] if x.size else NULL
    cdef const floating* bp = &bias[0] if bias is not None else NULL
    cdef floating* yp = &y[0, 0, 0, 0]
    cdef floating* Bp = &packed[0]
    cdef Py_ssize_t row, n, ho, kh, hi, c0, c1, wcol
    cdef floating* band
    cdef floating* abuf
    with nogil:
        if g.K:
            pack_b(k, g.K, g.O, &wk[0, 0], g.O, 1, Bp)
        with parallel(num_threads=n_threads):
            band = &work[threadid(), 0]
            abuf = band + bandsize
            for row in prange(rows, schedule='dynamic'):
                n = row // g.Ho
                ho = row % g.Ho
                # Padded columns [c0, c1) are inside the image.
                c0 = min(max(g.pl, 0), Wp)
                c1 = min(max(g.pl + g.W, c0), Wp)
                for kh in range(g.KH):
                    hi = ho * g.sh - g.pt + kh * g.dh
                    if hi < 0 or hi >= g.H:
                        for wcol in range(Wp):
                            zero_run(band + wcol * col + kh * g.C, g.C)
                        continue
                    for wcol in range(c0):
                        zero_run(band + wcol * col + kh * g.C, g.C)
                    for wcol in range(c0, c1):
                        copy_run(band + wcol * col + kh * g.C,
                                 xp + ((n * g.H + hi) * g.W + wcol - g.pl) * g.C, g.C)
                    for wcol in range(c1, Wp):
                        zero_run(band + wcol * col + kh * g.C, g.C)
                gemm_packed(k, g.Wo, g.O, g.K, band, g.sw * col, 1, Bp,
                            yp + row * g.Wo * g.O, g.O, False, bp, abuf)


def conv2d_depthwise(const floating[:, :, :, ::1] x,    # IN  (N, H, W, C)
                     const floating[:, :, :, ::1] w,    # IN  (KH, KW, 1, C)
                     const floating[::1] bias,          # IN  (O,) or None
                     floating[:, :, :, ::1] y,          # OUT (N, Ho, Wo, O)
                     tuple geom, int n_threads):
    """Direct forward for groups == C == O: a GEMM per channel would be
    1-wide, so accumulate taps over the contiguous channel axis instead
    (src/kernels/depthwise/nhwc.h). Parallel over output rows, handed out
    dynamically."""
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
    cdef const cck_row* k = ROW
    with nogil:
        for row in prange(rows, schedule='dynamic', num_threads=n_threads):
            dw_forward_row(k, xp, wp, bp, yp, &dg, row)


def conv2d_single_channel(const floating[:, :, :, ::1] x,    # IN  (N, H, W, 1)
                          const floating[:, :, :, ::1] w,    # IN  (KH, KW, 1, O)
                          const floating[::1] bias,          # IN  (O,) or None
                          floating[:, :, :, ::1] y,          # OUT (N, Ho, Wo, O)
                          tuple geom, int n_threads):
    """Direct forward for one input channel, one group and stride 1
    (src/kernels/single_channel/nhwc.h): no im2col, a vector of output pixels
    by the row's sc_ob output channels per register block. Parallel over
    output rows, handed out dynamically."""
    cdef Geom g = geom_from_tuple(geom)
    cdef Py_ssize_t rows = g.N * g.Ho
    if rows == 0 or g.O == 0 or g.Wo == 0:
        return
    dtype = np.float32 if floating is float else np.float64
    cdef const cck_row* k = ROW
    cdef floating* tag = NULL
    cdef Py_ssize_t ob = sc_out_block(k, tag)
    cdef Py_ssize_t Opad = (g.O + ob - 1) // ob * ob
    wpad_array = np.zeros((g.KH * g.KW, Opad), dtype=dtype)
    wpad_array[:, :g.O] = np.asarray(w).reshape(g.KH * g.KW, g.O)
    bpad_array = np.zeros(Opad, dtype=dtype)
    if bias is not None:
        bpad_array[:g.O] = np.asarray(bias)
    cdef const floating[:, ::1] wpad = wpad_array
    cdef const floating[::1] bpad = bpad_array
    cdef ccsc_geom sg = single_channel_geom(&g, Opad)
    cdef const floating* xp = &x[0, 0, 0, 0]
    cdef const floating* wp = &wpad[0, 0]
    cdef const floating* bp = &bpad[0]
    cdef floating* yp = &y[0, 0, 0, 0]
    cdef Py_ssize_t row
    with nogil:
        for row in prange(rows, schedule='dynamic', num_threads=<int>min(n_threads, rows)):
            sc_forward_row(k, xp, wp, bp, yp, &sg, row)
