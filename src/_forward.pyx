"""Forward convolution kernels (NHWC input, HWIO weight, NHWC output).

Entry points validate nothing: cconv._conv checks every argument first.
"""
from cython cimport floating
from cython.parallel cimport parallel, prange, threadid
from _geometry cimport Geom, Border, geom_from_tuple, attach_border, out_pixels
from _patches cimport Pixel, pixel_at, next_pixel, input_row, fill_cols, add_run
from _kernel_row cimport cck_row, active_row, ccdw_geom, ccsc_geom
from _gemm cimport packb_size, abuf_size, pack_b, gemm_packed, gemm_indirect
from _tiling cimport tile_rows, row_chunk, whole_tiles
from _depthwise cimport depthwise_geom, dw_forward_row, output_row_geom, set_channel_phase
from _single_channel cimport single_channel_geom, sc_out_block, sc_forward_row

import numpy as np

# The kernel table's row, fetched once (src/_kernel_row.pxd).
cdef const cck_row* ROW = active_row()


def conv2d_gemm(const floating[:, :, :, ::1] x,    # IN  (N, H, W, C)
                const floating[:, :, :, ::1] w,    # IN  (KH, KW, C//groups, O)
                const floating[::1] bias,          # IN  (O,) or None
                floating[:, :, :, ::1] y,          # OUT (N, Ho, Wo, O)
                tuple geom, int n_threads, bint pointwise=False, tuple border=None):
    """im2col + GEMM forward. The weight is packed once for all threads; each
    thread builds the im2col rows of one tile of output pixels in its own
    buffer, multiplies them by the packed weight and writes its output rows
    (bias fused into the store). ``pointwise`` (the "gemm-pointwise" route: 1x1,
    stride 1, unpadded, one group) reads the input rows as the im2col rows.
    Tiles are handed out dynamically, so a thread whose core is taken by
    another process does not hold up the call. ``border``: the border maps
    of a padding_mode other than zeros (ConvGeometry.border_maps), which
    the im2col rows read the padded taps through."""
    cdef Geom g = geom_from_tuple(geom)
    cdef Border bd
    attach_border(&g, &bd, border)
    cdef Py_ssize_t P = out_pixels(&g)
    if P == 0 or g.O == 0:
        return
    cdef const cck_row* k = ROW
    cdef floating* tag = NULL
    cdef int mr = k.s.mr if floating is float else k.d.mr
    cdef Py_ssize_t T = whole_tiles(tile_rows(g.K, sizeof(floating), P, n_threads), mr)
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


def conv2d_implicit(const floating[:, :, :, ::1] x,    # IN  (N, H, W, C)
                    const floating[:, :, :, ::1] w,    # IN  (KH, KW, C//groups, O)
                    const floating[::1] bias,          # IN  (O,) or None
                    floating[:, :, :, ::1] y,          # OUT (N, Ho, Wo, O)
                    tuple geom, int n_threads, tuple border=None):
    """Implicit-GEMM forward (the "gemm-implicit" route): the GEMM reads each
    output pixel's receptive field where it lies in x, through a table of
    run pointers, so no im2col copy is made.

    In NHWC a pixel's taps in one kernel row are one contiguous run of KW*C
    values when the layer has one group and kw dilation 1 (otherwise each
    tap's Cg channels are a run): the table holds one pointer per run and
    output pixel (XNNPACK's indirection buffer). A pixel whose receptive field
    reaches the padding has its im2col row written to the thread's edge
    buffer, and its pointers point there. Tiles of output pixels are handed
    out dynamically; the caller (cconv/_routes.py) guarantees K <= the row's kc.
    ``border`` as for conv2d_gemm: the edge rows read the padding through it.
    """
    cdef Geom g = geom_from_tuple(geom)
    cdef Border bd
    attach_border(&g, &bd, border)
    cdef Py_ssize_t P = out_pixels(&g)
    if P == 0 or g.O == 0:
        return
    cdef const cck_row* k = ROW
    cdef floating* tag = NULL
    cdef int mr = k.s.mr if floating is float else k.d.mr
    cdef bint span = g.dw == 1 and g.Cg == g.C
    cdef Py_ssize_t nseg = g.KD * g.KH if span else g.KD * g.KH * g.KW
    cdef Py_ssize_t seglen = g.KW * g.C if span else g.Cg
    # Whole pairs of micro-tiles, since a narrow panel runs two at once (driver.h).
    cdef Py_ssize_t T = whole_tiles(tile_rows(g.K, sizeof(floating), P, n_threads), 2 * mr)
    cdef Py_ssize_t Tpad = (T + mr - 1) // mr * mr
    cdef Py_ssize_t n_tiles = (P + T - 1) // T
    cdef Py_ssize_t bsize = packb_size(k, tag, g.K, g.Og)
    cdef Py_ssize_t asize = abuf_size(k, tag, g.K)
    n_threads = <int>min(n_threads, n_tiles)
    dtype = np.float32 if floating is float else np.float64
    packed_array = np.empty(max(g.groups * bsize, 1), dtype=dtype)
    # Per thread: the edge rows (written only for pixels at the border) and abuf.
    work_array = np.empty((n_threads, T * g.K + asize), dtype=dtype)
    table_array = np.empty((n_threads, Tpad * nseg), dtype=np.intp)
    cdef floating[::1] packed = packed_array
    cdef floating[:, ::1] work = work_array
    cdef Py_ssize_t[:, ::1] table = table_array
    cdef const floating* xp = &x[0, 0, 0, 0]
    cdef const floating* wp = &w[0, 0, 0, 0]
    cdef const floating* bp = &bias[0] if bias is not None else NULL
    cdef floating* yp = &y[0, 0, 0, 0]
    cdef floating* Bp = &packed[0]
    cdef Py_ssize_t t, p0, cnt, grp
    cdef floating* edge
    cdef const floating** ptrs
    cdef Geom* gp = &g
    with nogil:
        for grp in range(g.groups):
            pack_b(k, g.K, g.Og, wp + grp * g.Og, g.O, 1, Bp + grp * bsize)
        with parallel(num_threads=n_threads):
            edge = &work[threadid(), 0]
            ptrs = <const floating**>&table[threadid(), 0]
            for t in prange(n_tiles, schedule='dynamic'):
                p0 = t * T
                cnt = min(T, P - p0)
                for grp in range(g.groups):
                    fill_run_table(xp, gp, p0, cnt, grp, span, mr, edge, ptrs)
                    gemm_indirect(k, cnt, g.Og, nseg, seglen, ptrs, Bp + grp * bsize,
                                  yp + p0 * g.O + grp * g.Og, g.O,
                                  bp + grp * g.Og if bp != NULL else NULL, edge + T * g.K)


cdef inline void fill_run_table(const floating* x, const Geom* g, Py_ssize_t p0,
                                Py_ssize_t count, Py_ssize_t grp, bint span, int mr,
                                floating* edge, const floating** ptrs) noexcept nogil:
    """The implicit GEMM's table for output pixels p0 .. p0+count-1 (group grp):
    nseg run pointers per pixel into x, or into the pixel's im2col row in
    ``edge`` when its receptive field reaches the padding; then the rows up to
    the next multiple of mr repeat the last pixel's pointers."""
    cdef Pixel px = pixel_at(g, p0)
    cdef Py_ssize_t C = g.C, KW = g.KW, K = g.K
    cdef Py_ssize_t nseg = g.KD * g.KH if span else g.KD * g.KH * g.KW
    cdef Py_ssize_t seglen = K // nseg
    cdef Py_ssize_t r, s, kd, kh, kw, dbase, hbase, wbase, seg
    cdef const floating** row
    cdef const floating* xrow
    for r in range(count):
        row = ptrs + r * nseg
        dbase = px.d * g.sd - g.pf
        hbase = px.h * g.sh - g.pt
        wbase = px.w * g.sw - g.pl
        if (dbase >= 0 and dbase + (g.KD - 1) * g.dd < g.D
                and hbase >= 0 and hbase + (g.KH - 1) * g.dh < g.H
                and wbase >= 0 and wbase + (KW - 1) * g.dw < g.W):
            for kd in range(g.KD):
                for kh in range(g.KH):
                    xrow = (x + (input_row(g, &px, dbase + kd * g.dd, hbase + kh * g.dh) * g.W + wbase) * C
                            + grp * g.Cg)
                    seg = kd * g.KH + kh
                    if span:
                        row[seg] = xrow
                    else:
                        for kw in range(KW):
                            row[seg * KW + kw] = xrow + kw * g.dw * C
        else:
            fill_cols(x, g, p0 + r, 1, grp, edge + r * K, K)
            for s in range(nseg):
                row[s] = edge + r * K + s * seglen
        next_pixel(g, &px)
    r = count
    while r % mr:
        for s in range(nseg):
            ptrs[r * nseg + s] = ptrs[(count - 1) * nseg + s]
        r += 1


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
    cdef Py_ssize_t chunk = row_chunk(rows, n_threads)
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
    phase_copies = set_channel_phase(&dg, k, xp, w, bias)
    with nogil:
        for row in prange(rows, schedule='dynamic', chunksize=chunk, num_threads=n_threads):
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
    cdef Py_ssize_t chunk = row_chunk(rows, n_threads)
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
        for row in prange(rows, schedule='dynamic', chunksize=chunk, num_threads=<int>min(n_threads, rows)):
            sc_forward_row(k, xp, wp, bp, yp, &sg, row)


def conv3d_depthwise(const floating[:, :, :, ::1] x,    # IN  (N, D*H, W, C)
                     const floating[:, :, :, ::1] w,    # IN  (KD*KH, KW, 1, C)
                     const floating[::1] bias,          # IN  (C,) or None
                     floating[:, :, :, ::1] y,          # OUT (N, Do*Ho, Wo, C)
                     tuple geom, int n_threads):
    """Direct forward for a 3-D layer with groups == C == O: output row
    (n, do, ho) is one call of the depthwise row kernel
    (src/kernels/depthwise/nhwc.h) whose planes of taps are the kernel's depth
    taps inside the volume, input planes do*sd - front + kd*dd, each with its
    (KH, KW) slice of the weight. All 27 taps of a 3x3x3 kernel accumulate in
    registers and the row is written once, bias fused. Parallel over output
    rows, handed out dynamically."""
    cdef Geom g = geom_from_tuple(geom)
    cdef Py_ssize_t rows = g.N * g.Do * g.Ho
    cdef Py_ssize_t chunk = row_chunk(rows, n_threads)
    if rows == 0 or g.O == 0 or g.Wo == 0:
        return
    n_threads = <int>min(n_threads, rows)
    cdef const floating* xp = &x[0, 0, 0, 0] if x.size else NULL
    cdef const floating* wp = &w[0, 0, 0, 0]
    cdef const floating* bp = &bias[0] if bias is not None else NULL
    cdef floating* yp = &y[0, 0, 0, 0]
    cdef ccdw_geom plane = depthwise_geom(&g)
    cdef ccdw_geom rg
    cdef const cck_row* k = ROW
    cdef Py_ssize_t row, n, do, ho, base, kd0, kd1, plane_size = g.H * g.W * g.C
    phase_copies = set_channel_phase(&plane, k, xp, w, bias)
    cdef const floating* wrot = <const floating*>plane.wrot
    with nogil, parallel(num_threads=n_threads):
        for row in prange(rows, schedule='dynamic', chunksize=chunk):
            n = row // (g.Do * g.Ho)
            do = (row // g.Ho) % g.Do
            ho = row % g.Ho
            rg = output_row_geom(&plane, ho, g.sh)
            base = do * g.sd - g.pf                 # the input plane of depth tap 0
            kd0 = 0
            while kd0 < g.KD and base + kd0 * g.dd < 0:
                kd0 = kd0 + 1
            kd1 = g.KD
            while kd1 > kd0 and base + (kd1 - 1) * g.dd >= g.D:
                kd1 = kd1 - 1
            rg.PD = kd1 - kd0                       # 0: every depth tap in the padding, the row is the bias
            rg.xpd = g.dd * plane_size
            rg.wpd = g.KH * g.KW * g.C
            if wrot != NULL:
                rg.wrot = wrot + kd0 * rg.wpd
            dw_forward_row(k, xp + (n * g.D + base + kd0 * g.dd) * plane_size if rg.PD else xp,
                           wp + kd0 * rg.wpd, bp, yp + row * g.Wo * g.C, &rg, 0)
