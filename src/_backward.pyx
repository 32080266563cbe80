"""Backward convolution kernels (NHWC, HWIO): the weight/bias gradient and the
input gradient. Entry points validate nothing: cconv._conv checks first."""
from cython cimport floating
from cython.parallel cimport parallel, prange, threadid
from _geometry cimport Geom, Border, geom_from_tuple, attach_border, out_pixels
from _patches cimport fill_cols, scatter_cols, frame_size, fold_frame, add_run
from _kernel_row cimport cck_row, active_row, ccdw_geom, ccsc_geom
from _gemm cimport packb_size, abuf_size, pack_b, gemm_packed
from _tiling cimport (tile_rows, weight_tile_rows, row_chunk, block_out_rows, block_first_pixel, phase_blocks,
                     part_first_tile, partial_sum_count)
from _depthwise cimport (depthwise_geom, dw_forward_row, dw_grad_input_row, dw_grad_weight_row,
                         output_row_geom, input_row_geom, set_channel_phase)
from _single_channel cimport single_channel_geom, vector_lanes, sc_grad_weight_row, sc_grad_input_row

import numpy as np

# The kernel table's row, fetched once (src/_kernel_row.pxd).
cdef const cck_row* ROW = active_row()


def conv2d_grad_weight(const floating[:, :, :, ::1] x,     # IN  (N, H, W, C)
                       const floating[:, :, :, ::1] dy,    # IN  (N, Ho, Wo, O)
                       floating[:, :, :, ::1] dw,          # OUT (KH, KW, C//groups, O)
                       floating[::1] db,                   # OUT (O,) or None
                       tuple geom, int n_threads, bint pointwise=False, tuple border=None):
    """grad_weight = cols^T @ dY and grad_bias = sum of dY, as partial sums
    over fixed runs of tiles of output pixels, added in order so that the
    result is the same on every call. There are more runs than threads
    (_tiling.partial_sum_count), handed out dynamically, so a thread whose
    core is taken does not hold up the call. ``pointwise``: the
    "gemm-pointwise" route, whose input rows are the im2col rows.
    ``border``: the border maps of a padding_mode other than zeros
    (ConvGeometry.border_maps), which the im2col rows read through."""
    cdef Geom g = geom_from_tuple(geom)
    cdef Border bd
    attach_border(&g, &bd, border)
    cdef Py_ssize_t P = out_pixels(&g)
    cdef Py_ssize_t KO = g.K * g.O
    dtype = np.float32 if floating is float else np.float64
    if P == 0 or g.O == 0 or g.K == 0:
        dw[...] = 0
        if db is not None:
            db[...] = 0
            if P and g.O:
                np.sum(np.asarray(dy).reshape(P, g.O), axis=0, out=np.asarray(db))
        return
    cdef const cck_row* k = ROW
    cdef floating* tag = NULL
    cdef Py_ssize_t T = weight_tile_rows(g.K, sizeof(floating), P, n_threads)
    cdef Py_ssize_t n_tiles = (P + T - 1) // T
    # Per thread: the im2col tile, the packed dY tile (the GEMM's B) and A's buffer.
    cdef Py_ssize_t colsize = 0 if pointwise else T * g.K
    cdef Py_ssize_t bsize = packb_size(k, tag, T, g.Og)
    cdef Py_ssize_t asize = abuf_size(k, tag, T)
    n_threads = <int>min(n_threads, n_tiles)
    cdef Py_ssize_t n_parts = partial_sum_count(n_tiles, n_threads, KO * sizeof(floating))
    work_array = np.empty((n_threads, colsize + bsize + asize), dtype=dtype)
    dw_parts_array = np.zeros((n_parts, KO), dtype=dtype)
    db_parts_array = np.zeros((n_parts, g.O), dtype=dtype)
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
    # really starts (it may start fewer, e.g. when Python threads call at once)
    # and whichever thread takes a run.
    with nogil, parallel(num_threads=n_threads):
        cols = &work[threadid(), 0]
        bpack = cols + colsize
        abuf = bpack + bsize
        for part in prange(n_parts, schedule='dynamic'):
          dwt = &dw_parts[part, 0]
          dbt = &db_parts[part, 0]
          for t in range(part_first_tile(part, n_tiles, n_parts),
                         part_first_tile(part + 1, n_tiles, n_parts)):
            p0 = t * T
            cnt = min(T, P - p0)
            for grp in range(g.groups):
                # dW_g[K, Og] += cols_g^T[K, cnt] @ dY_g[cnt, Og]
                pack_b(k, cnt, g.Og, dyp + p0 * g.O + grp * g.Og, g.O, 1, bpack)
                if pointwise:
                    gemm_packed(k, g.C, g.O, cnt, xp + p0 * g.C, 1, g.C, bpack,
                                dwt, g.O, True, NULL, abuf)
                else:
                    fill_cols(xp, gp, p0, cnt, grp, cols, g.K)
                    gemm_packed(k, g.K, g.Og, cnt, cols, 1, g.K, bpack,
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
                      tuple geom, int n_threads, bint pointwise=False, tuple border=None):
    """grad_input: per tile dcols = dY @ W^T (W^T packed once), scattered
    (col2im) into dx. ``pointwise`` (the "gemm-pointwise" route): dx rows are
    dY rows times W^T, with no scatter. Tiles and blocks are handed out
    dynamically.

    Tiles are row blocks of one image. Blocks two apart never touch the same
    input row (see _tiling.block_out_rows), so the even blocks run in parallel,
    then the odd ones: every write is owned by one thread, with no atomics.

    ``border`` (the border maps of a padding_mode other than zeros): padded
    taps are scattered into a border gradient the size of the padding's
    frame (by the same blocks, so as race-free), which is then added onto
    the pixels the maps name, one image per thread.
    """
    cdef Geom g = geom_from_tuple(geom)
    cdef Border bd
    attach_border(&g, &bd, border)
    cdef Py_ssize_t P = out_pixels(&g)
    if P == 0 or g.K == 0 or g.O == 0:
        return
    cdef const cck_row* k = ROW
    cdef floating* tag = NULL
    cdef Py_ssize_t T = tile_rows(g.K, sizeof(floating), P, n_threads)
    # Blocks are runs of output rows of one image, or in 3-D runs of output
    # depth planes (rows of different planes can read the same input row).
    cdef bint by_planes = g.D > 1 or g.KD > 1 or g.Do > 1
    cdef Py_ssize_t outer = g.Do if by_planes else g.Ho
    cdef Py_ssize_t inner = g.Ho * g.Wo if by_planes else g.Wo
    cdef Py_ssize_t R = (block_out_rows(g.KD, g.dd, g.sd, inner, T) if by_planes
                         else block_out_rows(g.KH, g.dh, g.sh, g.Wo, T))
    cdef Py_ssize_t n_blocks = (outer + R - 1) // R
    cdef Py_ssize_t bsize = packb_size(k, tag, g.Og, g.K)
    cdef Py_ssize_t colsize = 0 if pointwise else T * g.K
    cdef Py_ssize_t asize = abuf_size(k, tag, g.Og)
    dtype = np.float32 if floating is float else np.float64
    packed_array = np.empty(g.groups * bsize, dtype=dtype)
    work_array = np.empty((n_threads, colsize + asize), dtype=dtype)
    cdef floating[::1] packed = packed_array
    cdef floating[:, ::1] work = work_array
    cdef const floating* dyp = &dy[0, 0, 0, 0]
    cdef const floating* wp = &w[0, 0, 0, 0]
    cdef floating* dxp = &dx[0, 0, 0, 0] if dx.size else NULL
    cdef floating* Bp = &packed[0]
    frame_array = np.zeros(frame_size(&g) if g.border != NULL else 1, dtype=dtype)
    cdef floating[::1] frame_view = frame_array
    cdef floating* frame = &frame_view[0] if g.border != NULL else NULL
    cdef Py_ssize_t t, n_tiles, phase, nb, j, ps, pe, p0, cnt, grp, n
    cdef int threads
    cdef floating* dcols
    cdef floating* abuf
    cdef Geom* gp = &g
    with nogil:
        for grp in range(g.groups):
            # b(o, k) = W_g^T[o, k] = w[k*O + grp*Og + o]
            pack_b(k, g.Og, g.K, wp + grp * g.Og, 1, g.O, Bp + grp * bsize)
    if pointwise:
        # dx rows are dY rows times W^T: disjoint per tile, no scatter.
        n_tiles = (P + T - 1) // T
        threads = <int>min(n_threads, n_tiles)
        with nogil, parallel(num_threads=threads):
            abuf = &work[threadid(), 0]
            for t in prange(n_tiles, schedule='dynamic'):
                p0 = t * T
                cnt = min(T, P - p0)
                gemm_packed(k, cnt, g.C, g.O, dyp + p0 * g.O, g.O, 1, Bp,
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
                for j in prange(nb, schedule='dynamic'):
                    ps = block_first_pixel(phase, j, n_blocks, R, outer, inner, False)
                    pe = block_first_pixel(phase, j, n_blocks, R, outer, inner, True)
                    p0 = ps
                    while p0 < pe:
                        cnt = min(T, pe - p0)
                        for grp in range(g.groups):
                            gemm_packed(k, cnt, g.K, g.Og, dyp + p0 * g.O + grp * g.Og, g.O, 1,
                                        Bp + grp * bsize, dcols, g.K, False, NULL, abuf)
                            scatter_cols(dcols, g.K, gp, p0, cnt, grp, dxp, frame)
                        p0 = p0 + cnt
        if frame != NULL:
            for n in prange(g.N, schedule='dynamic', num_threads=<int>min(n_threads, g.N)):
                fold_frame(frame, dxp, gp, n)


def depthwise_grad_input(const floating[:, :, :, ::1] dy,    # IN  (N, Ho, Wo, O)
                         const floating[:, :, :, ::1] w,     # IN  (KH, KW, 1, C)
                         floating[:, :, :, ::1] dx,          # OUT (N, H, W, C)
                         tuple geom, int n_threads):
    """grad_input for groups == C == O, gathered per input row: each input
    pixel sums the taps that read it, so every thread writes only its own rows.

    With stride 1 (and padding no larger than the kernel's reach) that gather
    is itself a depthwise forward convolution of dy with the kernel rotated
    180 degrees, padded ((KH-1)*dh - top, (KW-1)*dw - left), so it runs on the
    forward's register-blocked rows instead of the general gather."""
    cdef Geom g = geom_from_tuple(geom)
    cdef Py_ssize_t rows = g.N * g.H
    cdef Py_ssize_t chunk = row_chunk(rows, n_threads)
    if rows == 0 or g.O == 0 or g.Ho * g.Wo == 0:
        return
    cdef const floating* dyp = &dy[0, 0, 0, 0]
    cdef const floating* wp = &w[0, 0, 0, 0]
    cdef floating* dxp = &dx[0, 0, 0, 0]
    cdef Py_ssize_t row
    cdef Geom* gp = &g
    cdef ccdw_geom dg = depthwise_geom(gp)
    cdef const cck_row* k = ROW
    cdef Py_ssize_t pt_rot = (g.KH - 1) * g.dh - g.pt
    cdef Py_ssize_t pl_rot = (g.KW - 1) * g.dw - g.pl
    cdef const floating[:, :, ::1] w_rot
    if g.sh == 1 and g.sw == 1 and pt_rot >= 0 and pl_rot >= 0:
        w_rot = np.ascontiguousarray(np.asarray(w)[::-1, ::-1, 0, :])
        # The forward's view: input dy (Ho x Wo), output dx (H x W).
        dg.H = g.Ho; dg.W = g.Wo; dg.Ho = g.H; dg.Wo = g.W
        dg.pt = pt_rot; dg.pl = pl_rot
        wp = &w_rot[0, 0, 0]
        phase_copies = set_channel_phase(&dg, k, dyp, w_rot, None)
        with nogil:
            for row in prange(rows, schedule='dynamic', chunksize=chunk, num_threads=<int>min(n_threads, rows)):
                dw_forward_row(k, dyp, wp, NULL, dxp, &dg, row)
        return
    with nogil:
        for row in prange(rows, schedule='dynamic', chunksize=chunk, num_threads=<int>min(n_threads, rows)):
            dw_grad_input_row(k, dyp, wp, dxp, &dg, row)


def depthwise_grad_weight(const floating[:, :, :, ::1] x,     # IN  (N, H, W, C)
                          const floating[:, :, :, ::1] dy,    # IN  (N, Ho, Wo, O)
                          floating[:, :, :, ::1] dw,          # OUT (KH, KW, 1, C)
                          floating[::1] db,                   # OUT (O,) or None
                          tuple geom, int n_threads):
    """grad_weight (and grad_bias) for groups == C == O: partial sums over
    fixed runs of output rows (more runs than threads, handed out
    dynamically), added in order for a deterministic result."""
    cdef Geom g = geom_from_tuple(geom)
    cdef Py_ssize_t rows = g.N * g.Ho
    cdef Py_ssize_t KO = g.KH * g.KW * g.O
    dtype = np.float32 if floating is float else np.float64
    n_threads = <int>max(1, min(n_threads, rows))
    cdef Py_ssize_t n_parts = partial_sum_count(max(rows, 1), n_threads, (KO + g.O) * sizeof(floating))
    dw_parts_array = np.zeros((n_parts, KO), dtype=dtype)
    db_parts_array = np.zeros((n_parts, g.O), dtype=dtype)
    cdef floating[:, ::1] dw_parts = dw_parts_array
    cdef floating[:, ::1] db_parts = db_parts_array
    cdef const floating* xp = &x[0, 0, 0, 0] if x.size else NULL
    cdef const floating* dyp = &dy[0, 0, 0, 0] if dy.size else NULL
    cdef bint want_bias = db is not None
    cdef Py_ssize_t row, part
    cdef Geom* gp = &g
    cdef ccdw_geom dg = depthwise_geom(gp)
    cdef const cck_row* k = ROW
    if rows and g.Wo and g.O:
        with nogil:
            # One partial sum per fixed run of rows (see conv2d_grad_weight).
            for part in prange(n_parts, schedule='dynamic', num_threads=n_threads):
                for row in range(part_first_tile(part, rows, n_parts),
                                 part_first_tile(part + 1, rows, n_parts)):
                    dw_grad_weight_row(k, xp, dyp, &dw_parts[part, 0],
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
    (src/kernels/single_channel/nhwc.h): per output row, each (tap, channel)
    term is a dot product of an input row and the channel's gradient row, with
    no im2col. Partial sums per fixed run of rows (more runs than threads,
    handed out dynamically), added in order: the result does not depend on
    how many threads run."""
    cdef Geom g = geom_from_tuple(geom)
    cdef Py_ssize_t rows = g.N * g.Ho
    cdef Py_ssize_t KO = g.KH * g.KW * g.O
    cdef const cck_row* k = ROW
    cdef floating* tag = NULL
    # Each weight element gets a vector of partial sums (the row's lanes).
    cdef Py_ssize_t lanes = vector_lanes(k, tag)
    dtype = np.float32 if floating is float else np.float64
    n_threads = <int>max(1, min(n_threads, rows))
    cdef Py_ssize_t n_parts = partial_sum_count(max(rows, 1), n_threads,
                                                (KO * lanes + g.O) * sizeof(floating))
    dw_parts_array = np.zeros((n_parts, KO * lanes), dtype=dtype)
    db_parts_array = np.zeros((n_parts, max(g.O, 1)), dtype=dtype)
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
            for part in prange(n_parts, schedule='dynamic'):
                for row in range(part_first_tile(part, rows, n_parts),
                                 part_first_tile(part + 1, rows, n_parts)):
                    sc_grad_weight_row(k, xp, dyp, &dw_parts[part, 0],
                                       &db_parts[part, 0] if want_bias else NULL,
                                       &work[threadid(), 0], &sg, row)
    np.sum(dw_parts_array.reshape(n_parts, KO, lanes), axis=(0, 2), out=np.asarray(dw).reshape(KO))
    if want_bias:
        np.sum(db_parts_array[:, :g.O], axis=0, out=np.asarray(db))


def grad_input_single_channel(const floating[:, :, :, ::1] dy,    # IN  (N, Ho, Wo, O)
                              const floating[:, :, :, ::1] w,     # IN  (KH, KW, 1, O)
                              floating[:, :, :, ::1] dx,          # OUT (N, H, W, 1)
                              tuple geom, int n_threads):
    """grad_input for one input channel, one group, stride 1
    (src/kernels/single_channel/nhwc.h): each input pixel gathers its taps'
    gradient pixels as contiguous dot products over (tap, channel), with no
    GEMM and no scatter. Parallel over input rows, handed out dynamically;
    every pixel is written by one thread."""
    cdef Geom g = geom_from_tuple(geom)
    cdef Py_ssize_t rows = g.N * g.H
    cdef Py_ssize_t chunk = row_chunk(rows, n_threads)
    if rows == 0 or g.W == 0:
        return
    if g.O == 0 or g.Ho * g.Wo == 0:
        dx[...] = 0
        return
    # The weight with its kw axis reversed, one kernel row of KW*O values per
    # row, zero padded to a multiple of the vectors (the kernel's row stride):
    # the order in which a pixel's taps meet the gradient row.
    cdef Py_ssize_t run = g.KW * g.O
    cdef Py_ssize_t stride = (run + 7) // 8 * 8
    wflip_array = np.zeros((g.KH, stride), dtype=np.asarray(w).dtype)
    wflip_array[:, :run] = np.asarray(w)[:, ::-1, 0, :].reshape(g.KH, run)
    cdef const floating[:, ::1] wflip = wflip_array
    cdef const floating* dyp = &dy[0, 0, 0, 0]
    cdef const floating* wp = &wflip[0, 0]
    cdef floating* dxp = &dx[0, 0, 0, 0]
    cdef ccsc_geom sg = single_channel_geom(&g, stride)
    cdef const cck_row* k = ROW
    cdef Py_ssize_t row
    with nogil:
        for row in prange(rows, schedule='dynamic', chunksize=chunk, num_threads=<int>max(1, min(n_threads, rows))):
            sc_grad_input_row(k, dyp, wp, dxp, &sg, row)


def depthwise3d_grad_input(const floating[:, :, :, ::1] dy,    # IN  (N, Do*Ho, Wo, C)
                           const floating[:, :, :, ::1] w,     # IN  (KD*KH, KW, 1, C)
                           floating[:, :, :, ::1] dx,          # OUT (N, D*H, W, C)
                           tuple geom, int n_threads):
    """grad_input of a 3-D layer with groups == C == O, gathered per input row
    (n, di, hi): the sum over the depth taps kd whose output plane
    do = (di + front - kd*dd) / sd exists of the 2-D gather row kernel on that
    plane of dy with the tap's weight slice. Each thread writes its own rows."""
    cdef Geom g = geom_from_tuple(geom)
    cdef Py_ssize_t rows = g.N * g.D * g.H
    cdef Py_ssize_t chunk = row_chunk(rows, n_threads)
    cdef Py_ssize_t RW = g.W * g.C
    if rows == 0 or g.C == 0 or g.W == 0:
        return
    n_threads = <int>min(n_threads, rows)
    dtype = np.float32 if floating is float else np.float64
    work_array = np.empty((n_threads, RW), dtype=dtype)
    cdef floating[:, ::1] work = work_array
    cdef const floating* dyp = &dy[0, 0, 0, 0] if dy.size else NULL
    cdef const floating* wp = &w[0, 0, 0, 0]
    cdef floating* dxp = &dx[0, 0, 0, 0]
    cdef ccdw_geom plane = depthwise_geom(&g)
    cdef ccdw_geom rg
    cdef const cck_row* k = ROW
    cdef Py_ssize_t row, n, di, hi, kd, t, do, c, taps = g.KH * g.KW * g.C
    cdef floating* xrow
    cdef floating* tmp
    cdef bint first
    with nogil, parallel(num_threads=n_threads):
        tmp = &work[threadid(), 0]
        for row in prange(rows, schedule='dynamic', chunksize=chunk):
            n = row // (g.D * g.H)
            di = (row // g.H) % g.D
            hi = row % g.H
            rg = input_row_geom(&plane, hi)
            xrow = dxp + row * RW
            first = True
            for kd in range(g.KD):
                t = di + g.pf - kd * g.dd
                if t < 0 or t % g.sd:
                    continue
                do = t // g.sd
                if do >= g.Do or dyp == NULL:
                    continue
                if first:
                    dw_grad_input_row(k, dyp + (n * g.Do + do) * g.Ho * g.Wo * g.C, wp + kd * taps, xrow, &rg, 0)
                    first = False
                else:
                    dw_grad_input_row(k, dyp + (n * g.Do + do) * g.Ho * g.Wo * g.C, wp + kd * taps, tmp, &rg, 0)
                    add_run(xrow, tmp, RW)
            if first:   # no output plane reads this input plane
                for c in range(RW):
                    xrow[c] = 0


def depthwise3d_grad_weight(const floating[:, :, :, ::1] x,     # IN  (N, D*H, W, C)
                            const floating[:, :, :, ::1] dy,    # IN  (N, Do*Ho, Wo, C)
                            floating[:, :, :, ::1] dw,          # OUT (KD*KH, KW, 1, C)
                            floating[::1] db,                   # OUT (C,) or None
                            tuple geom, int n_threads):
    """grad_weight (and grad_bias) of a 3-D layer with groups == C == O: per
    output row (n, do, ho) and depth tap, the 2-D row kernel's contribution to
    that tap's (KH, KW) slice, as partial sums over fixed runs of output rows
    (more runs than threads, handed out dynamically) added in order."""
    cdef Geom g = geom_from_tuple(geom)
    cdef Py_ssize_t rows = g.N * g.Do * g.Ho
    cdef Py_ssize_t taps = g.KH * g.KW * g.C
    cdef Py_ssize_t KO = g.KD * taps
    dtype = np.float32 if floating is float else np.float64
    n_threads = <int>max(1, min(n_threads, rows))
    cdef Py_ssize_t n_parts = partial_sum_count(max(rows, 1), n_threads, (KO + g.O) * sizeof(floating))
    dw_parts_array = np.zeros((n_parts, KO), dtype=dtype)
    db_parts_array = np.zeros((n_parts, g.O), dtype=dtype)
    cdef floating[:, ::1] dw_parts = dw_parts_array
    cdef floating[:, ::1] db_parts = db_parts_array
    cdef const floating* xp = &x[0, 0, 0, 0] if x.size else NULL
    cdef const floating* dyp = &dy[0, 0, 0, 0] if dy.size else NULL
    cdef bint want_bias = db is not None
    cdef ccdw_geom plane = depthwise_geom(&g)
    cdef ccdw_geom rg
    cdef const cck_row* k = ROW
    cdef Py_ssize_t row, part, n, do, ho, kd, di, c, o, RW = g.Wo * g.C
    cdef floating* dbt
    cdef const floating* dyrow
    if rows and g.Wo and g.O and xp != NULL:
        with nogil:
            for part in prange(n_parts, schedule='dynamic', num_threads=n_threads):
                for row in range(part_first_tile(part, rows, n_parts), part_first_tile(part + 1, rows, n_parts)):
                    n = row // (g.Do * g.Ho)
                    do = (row // g.Ho) % g.Do
                    ho = row % g.Ho
                    rg = output_row_geom(&plane, ho, g.sh)
                    dyrow = dyp + row * RW
                    for kd in range(g.KD):
                        di = do * g.sd - g.pf + kd * g.dd
                        if di < 0 or di >= g.D:
                            continue
                        dw_grad_weight_row(k, xp + (n * g.D + di) * g.H * g.W * g.C, dyrow,
                                           &dw_parts[part, kd * taps], NULL, &rg, 0)
                    if want_bias:
                        dbt = &db_parts[part, 0]
                        for c in range(g.Wo):
                            for o in range(g.O):
                                dbt[o] += dyrow[c * g.O + o]
    np.sum(dw_parts_array, axis=0, out=np.asarray(dw).reshape(KO))
    if want_bias:
        if rows and g.O and xp == NULL:
            np.sum(np.asarray(dy).reshape(-1, g.O), axis=0, out=np.asarray(db))
        else:
            np.sum(db_parts_array, axis=0, out=np.asarray(db))
