"""Backward convolution kernels (NHWC, HWIO): the weight/bias gradient and the
input gradient. Entry points validate nothing: cconv.conv checks first."""
from cython cimport floating
from cython.parallel cimport parallel, prange, threadid
from _geometry cimport Geom, geom_from_tuple
from _patches cimport fill_cols, scatter_cols
from _gemm cimport packb_size, abuf_size, pack_b, gemm_packed
from _tiling cimport (tile_rows, block_out_rows, block_first_pixel, phase_blocks, is_pointwise,
                     part_first_tile)
from _depthwise cimport ccdw_geom, depthwise_geom, dw_grad_input_row, dw_grad_weight_row
from _single_channel cimport (ccsc_geom, single_channel_geom, ccsc_s_grad_weight_row,
                              ccsc_d_grad_weight_row)

import numpy as np


def conv2d_grad_weight(const floating[:, :, :, ::1] x,     # IN  (N, H, W, C)
                       const floating[:, :, :, ::1] dy,    # IN  (N, Ho, Wo, O)
                       floating[:, :, :, ::1] dw,          # OUT (KH, KW, C//groups, O)
                       floating[::1] db,                   # OUT (O,) or None
                       tuple geom, int n_threads):
    """grad_weight = cols^T @ dY and grad_bias = sum of dY, as per-thread
    partial sums over tiles of output pixels, added in thread order so that
    the result is the same on every call."""
    cdef Geom g = geom_from_tuple(geom)
    cdef Py_ssize_t P = g.N * g.Ho * g.Wo
    cdef Py_ssize_t KO = g.K * g.O
    dtype = np.float32 if floating is float else np.float64
    if P == 0 or g.O == 0 or g.K == 0:
        dw[...] = 0
        if db is not None:
            db[...] = 0
            if P and g.O:
                np.sum(np.asarray(dy).reshape(P, g.O), axis=0, out=np.asarray(db))
        return
    cdef floating* tag = NULL
    cdef bint pointwise = is_pointwise(&g)
    cdef Py_ssize_t T = tile_rows(g.K, sizeof(floating), P, n_threads)
    cdef Py_ssize_t n_tiles = (P + T - 1) // T
    # Per thread: the im2col tile, the packed dY tile (the GEMM's B) and A's buffer.
    cdef Py_ssize_t colsize = 0 if pointwise else T * g.K
    cdef Py_ssize_t bsize = packb_size(tag, T, g.Og)
    cdef Py_ssize_t asize = abuf_size(tag, T)
    n_threads = <int>min(n_threads, n_tiles)
    work_array = np.empty((n_threads, colsize + bsize + asize), dtype=dtype)
    dw_parts_array = np.zeros((n_threads, KO), dtype=dtype)
    db_parts_array = np.zeros((n_threads, g.O), dtype=dtype)
    cdef floating[:, ::1] work = work_array
    cdef floating[:, ::1] dw_parts = dw_parts_array
    cdef floating[:, ::1] db_parts = db_parts_array
    cdef const floating* xp = &x[0, 0, 0, 0] if x.size else NULL
    cdef const floating* dyp = &dy[0, 0, 0, 0]
    cdef bint want_bias = db is not None
    cdef Py_ssize_t t, p0, cnt, grp, r, o
    cdef floating* cols
    cdef floating* bpack
    cdef floating* abuf
    cdef floating* dwt
    cdef floating* dbt
    cdef const floating* dyrow
    cdef Geom* gp = &g
    cdef Py_ssize_t part
    # Partial sums belong to fixed runs of tiles (part_first_tile), not to
    # OpenMP threads: the result is the same however many threads the runtime
    # really starts (it may start fewer, e.g. when Python threads call at once).
    with nogil, parallel(num_threads=n_threads):
        cols = &work[threadid(), 0]
        bpack = cols + colsize
        abuf = bpack + bsize
        for part in prange(n_threads, schedule='static'):
          dwt = &dw_parts[part, 0]
          dbt = &db_parts[part, 0]
          for t in range(part_first_tile(part, n_tiles, n_threads),
                         part_first_tile(part + 1, n_tiles, n_threads)):
            p0 = t * T
            cnt = min(T, P - p0)
            for grp in range(g.groups):
                # dW_g[K, Og] += cols_g^T[K, cnt] @ dY_g[cnt, Og]
                pack_b(cnt, g.Og, dyp + p0 * g.O + grp * g.Og, g.O, 1, bpack)
                if pointwise:
                    gemm_packed(g.C, g.O, cnt, xp + p0 * g.C, 1, g.C, bpack,
                                dwt, g.O, True, NULL, abuf)
                else:
                    fill_cols(xp, gp, p0, cnt, grp, cols, g.K)
                    gemm_packed(g.K, g.Og, cnt, cols, 1, g.K, bpack,
                                dwt + grp * g.Og, g.O, True, NULL, abuf)
            if want_bias:
                for r in range(cnt):
                    dyrow = dyp + (p0 + r) * g.O
                    for o in range(g.O):
                        dbt[o] += dyrow[o]
    np.sum(dw_parts_array, axis=0, out=np.asarray(dw).reshape(KO))
    if want_bias:
        np.sum(db_parts_array, axis=0, out=np.asarray(db))


def conv2d_grad_input(const floating[:, :, :, ::1] dy,    # IN  (N, Ho, Wo, O)
                      const floating[:, :, :, ::1] w,     # IN  (KH, KW, C//groups, O)
                      floating[:, :, :, ::1] dx,          # OUT (N, H, W, C), zeroed
                      tuple geom, int n_threads):
    """grad_input: per tile dcols = dY @ W^T (W^T packed once), scattered
    (col2im) into dx.

    Tiles are row blocks of one image. Blocks two apart never touch the same
    input row (see _tiling.block_out_rows), so the even blocks run in parallel,
    then the odd ones: every write is owned by one thread, with no atomics.
    """
    cdef Geom g = geom_from_tuple(geom)
    cdef Py_ssize_t P = g.N * g.Ho * g.Wo
    if P == 0 or g.K == 0 or g.O == 0:
        return
    cdef floating* tag = NULL
    cdef bint pointwise = is_pointwise(&g)
    cdef Py_ssize_t T = tile_rows(g.K, sizeof(floating), P, n_threads)
    cdef Py_ssize_t R = block_out_rows(g.KH, g.dh, g.sh, g.Wo, T)
    cdef Py_ssize_t n_blocks = (g.Ho + R - 1) // R
    cdef Py_ssize_t bsize = packb_size(tag, g.Og, g.K)
    cdef Py_ssize_t colsize = 0 if pointwise else T * g.K
    cdef Py_ssize_t asize = abuf_size(tag, g.Og)
    dtype = np.float32 if floating is float else np.float64
    packed_array = np.empty(g.groups * bsize, dtype=dtype)
    work_array = np.empty((n_threads, colsize + asize), dtype=dtype)
    cdef floating[::1] packed = packed_array
    cdef floating[:, ::1] work = work_array
    cdef const floating* dyp = &dy[0, 0, 0, 0]
    cdef const floating* wp = &w[0, 0, 0, 0]
    cdef floating* dxp = &dx[0, 0, 0, 0] if dx.size else NULL
    cdef floating* Bp = &packed[0]
    cdef Py_ssize_t t, n_tiles, phase, nb, j, ps, pe, p0, cnt, grp
    cdef int threads
    cdef floating* dcols
    cdef floating* abuf
    cdef Geom* gp = &g
    with nogil:
        for grp in range(g.groups):
            # b(o, k) = W_g^T[o, k] = w[k*O + grp*Og + o]
            pack_b(g.Og, g.K, wp + grp * g.Og, 1, g.O, Bp + grp * bsize)
    if pointwise:
        # dx rows are dY rows times W^T: disjoint per tile, no scatter.
        n_tiles = (P + T - 1) // T
        threads = <int>min(n_threads, n_tiles)
        with nogil, parallel(num_threads=threads):
            abuf = &work[threadid(), 0]
            for t in prange(n_tiles, schedule='static'):
                p0 = t * T
                cnt = min(T, P - p0)
                gemm_packed(cnt, g.C, g.O, dyp + p0 * g.O, g.O, 1, Bp,
                            dxp + p0 * g.C, g.C, False, NULL, abuf)
        return
    with nogil:
        for phase in range(2):
            nb = phase_blocks(phase, n_blocks, g.N)
            if nb == 0:
                continue
            threads = <int>min(n_threads, nb)
            with parallel(num_threads=threads):
                dcols = &work[threadid(), 0]
                abuf = dcols + colsize
                for j in prange(nb, schedule='static'):
                    ps = block_first_pixel(phase, j, n_blocks, R, g.Ho, g.Wo, False)
                    pe = block_first_pixel(phase, j, n_blocks, R, g.Ho, g.Wo, True)
                    p0 = ps
                    while p0 < pe:
                        cnt = min(T, pe - p0)
                        for grp in range(g.groups):
                            gemm_packed(cnt, g.K, g.Og, dyp + p0 * g.O + grp * g.Og, g.O, 1,
                                        Bp + grp * bsize, dcols, g.K, False, NULL, abuf)
                            scatter_cols(dcols, g.K, gp, p0, cnt, grp, dxp)
                        p0 = p0 + cnt


def depthwise_grad_input(const floating[:, :, :, ::1] dy,    # IN  (N, Ho, Wo, O)
                         const floating[:, :, :, ::1] w,     # IN  (KH, KW, 1, C)
                         floating[:, :, :, ::1] dx,          # OUT (N, H, W, C)
                         tuple geom, int n_threads):
    """grad_input for groups == C == O, gathered per input row: each input
    pixel sums the taps that read it, so every thread writes only its own rows."""
    cdef Geom g = geom_from_tuple(geom)
    cdef Py_ssize_t rows = g.N * g.H
    if rows == 0 or g.O == 0 or g.Ho * g.Wo == 0:
        return
    cdef const floating* dyp = &dy[0, 0, 0, 0]
    cdef const floating* wp = &w[0, 0, 0, 0]
    cdef floating* dxp = &dx[0, 0, 0, 0]
    cdef Py_ssize_t row
    cdef Geom* gp = &g
    cdef ccdw_geom dg = depthwise_geom(gp)
    with nogil:
        for row in prange(rows, schedule='static', num_threads=<int>min(n_threads, rows)):
            dw_grad_input_row(dyp, wp, dxp, &dg, row)


def depthwise_grad_weight(const floating[:, :, :, ::1] x,     # IN  (N, H, W, C)
                          const floating[:, :, :, ::1] dy,    # IN  (N, Ho, Wo, O)
                          floating[:, :, :, ::1] dw,          # OUT (KH, KW, 1, C)
                          floating[::1] db,                   # OUT (O,) or None
                          tuple geom, int n_threads):
    """grad_weight (and grad_bias) for groups == C == O: per-thread partial sums
    over output rows, added in thread order for a deterministic result."""
    cdef Geom g = geom_from_tuple(geom)
    cdef Py_ssize_t rows = g.N * g.Ho
    cdef Py_ssize_t KO = g.KH * g.KW * g.O
    dtype = np.float32 if floating is float else np.float64
    n_threads = <int>max(1, min(n_threads, rows))
    dw_parts_array = np.zeros((n_threads, KO), dtype=dtype)
    db_parts_array = np.zeros((n_threads, g.O), dtype=dtype)
    cdef floating[:, ::1] dw_parts = dw_parts_array
    cdef floating[:, ::1] db_parts = db_parts_array
    cdef const floating* xp = &x[0, 0, 0, 0] if x.size else NULL
    cdef const floating* dyp = &dy[0, 0, 0, 0] if dy.size else NULL
    cdef bint want_bias = db is not None
    cdef Py_ssize_t row, part
    cdef Geom* gp = &g
    cdef ccdw_geom dg = depthwise_geom(gp)
    if rows and g.Wo and g.O:
        with nogil:
            # One partial sum per fixed run of rows (see conv2d_grad_weight).
            for part in prange(n_threads, schedule='static', num_threads=n_threads):
                for row in range(part_first_tile(part, rows, n_threads),
                                 part_first_tile(part + 1, rows, n_threads)):
                    dw_grad_weight_row(xp, dyp, &dw_parts[part, 0],
                                       &db_parts[part, 0] if want_bias else NULL, &dg, row)
    np.sum(dw_parts_array, axis=0, out=np.asarray(dw).reshape(KO))
    if want_bias:
        np.sum(db_parts_array, axis=0, out=np.asarray(db))




def grad_weight_single_channel(const floating[:, :, :, ::1] x,     # IN  (N, H, W, 1)
                               const floating[:, :, :, ::1] dy,    # IN  (N, Ho, Wo, O)
                               floating[:, :, :, ::1] dw,          # OUT (KH, KW, 1, O)
                               floating[::1] db,                   # OUT (O,) or None
                               tuple geom, int n_threads):
    """grad_weight (and grad_bias) for one input channel, one group, stride 1
    (src/_single_channel.h): per output row, each (tap, channel) term is a dot
    product of an input row and the channel's gradient row, with no im2col.
    Partial sums per fixed run of rows, added in order: the result does not
    depend on how many threads run."""
    cdef Geom g = geom_from_tuple(geom)
    cdef Py_ssize_t rows = g.N * g.Ho
    cdef Py_ssize_t KO = g.KH * g.KW * g.O
    # Each weight element gets a vector of partial sums (32 bytes of lanes).
    cdef Py_ssize_t lanes = 32 // sizeof(floating)
    dtype = np.float32 if floating is float else np.float64
    n_threads = <int>max(1, min(n_threads, rows))
    dw_parts_array = np.zeros((n_threads, KO * lanes), dtype=dtype)
    db_parts_array = np.zeros((n_threads, max(g.O, 1)), dtype=dtype)
    work_array = np.empty((n_threads, max(g.Wo * g.O, 1)), dtype=dtype)
    cdef floating[:, ::1] dw_parts = dw_parts_array
    cdef floating[:, ::1] db_parts = db_parts_array
    cdef floating[:, ::1] work = work_array
    cdef const floating* xp = &x[0, 0, 0, 0] if x.size else NULL
    cdef const floating* dyp = &dy[0, 0, 0, 0] if dy.size else NULL
    cdef bint want_bias = db is not None
    cdef Py_ssize_t row, part
    cdef ccsc_geom sg = single_channel_geom(&g, g.O)
    if rows and g.Wo and g.O:
        with nogil, parallel(num_threads=n_threads):
            for part in prange(n_threads, schedule='static'):
                for row in range(part_first_tile(part, rows, n_threads),
                                 part_first_tile(part + 1, rows, n_threads)):
                    if floating is float:
                        ccsc_s_grad_weight_row(xp, dyp, &dw_parts[part, 0],
                                               &db_parts[part, 0] if want_bias else NULL,
                                               &work[threadid(), 0], &sg, row)
                    else:
                        ccsc_d_grad_weight_row(xp, dyp, &dw_parts[part, 0],
                                               &db_parts[part, 0] if want_bias else NULL,
                                               &work[threadid(), 0], &sg, row)
    np.sum(dw_parts_array.reshape(n_threads, KO, lanes), axis=(0, 2), out=np.asarray(dw).reshape(KO))
    if want_bias:
        np.sum(db_parts_array[:, :g.O], axis=0, out=np.asarray(db))
