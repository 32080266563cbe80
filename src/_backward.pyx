"""Backward convolution kernels (NHWC, HWIO): the weight/bias gradient and the
input gradient. Entry points validate nothing: cconv.conv checks first."""
from cython cimport floating
from cython.parallel cimport parallel, prange, threadid
from _geometry cimport Geom, geom_from_tuple
from _patches cimport fill_cols, scatter_cols
from _blas cimport gemm_rm
from _tiling cimport tile_rows, block_out_rows, block_pixels, phase_blocks

import numpy as np


cdef inline bint is_pointwise(const Geom* g) noexcept nogil:
    """1x1, stride 1, no padding, one group: the input rows are the cols."""
    return (g.KH == 1 and g.KW == 1 and g.sh == 1 and g.sw == 1 and g.pt == 0
            and g.pl == 0 and g.groups == 1 and g.Ho == g.H and g.Wo == g.W)


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
    cdef bint pointwise = is_pointwise(&g)
    cdef Py_ssize_t T = tile_rows(g.K, sizeof(floating), P, n_threads)
    cdef Py_ssize_t n_tiles = (P + T - 1) // T
    n_threads = <int>min(n_threads, n_tiles)
    work_array = np.empty((n_threads, 1 if pointwise else T * g.K), dtype=dtype)
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
    cdef floating* dwt
    cdef floating* dbt
    cdef const floating* dyrow
    cdef Geom* gp = &g
    with nogil, parallel(num_threads=n_threads):
        cols = &work[threadid(), 0]
        dwt = &dw_parts[threadid(), 0]
        dbt = &db_parts[threadid(), 0]
        for t in prange(n_tiles, schedule='static'):
            p0 = t * T
            cnt = min(T, P - p0)
            if pointwise:
                gemm_rm(True, False, <int>g.C, <int>g.O, <int>cnt, 1,
                        xp + p0 * g.C, <int>g.C, dyp + p0 * g.O, <int>g.O, 1,
                        dwt, <int>g.O)
            else:
                for grp in range(g.groups):
                    fill_cols(xp, gp, p0, cnt, grp, cols, g.K)
                    gemm_rm(True, False, <int>g.K, <int>g.Og, <int>cnt, 1,
                            cols, <int>g.K, dyp + p0 * g.O + grp * g.Og, <int>g.O, 1,
                            dwt + grp * g.Og, <int>g.O)
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
    """grad_input: per tile dcols = dY @ W^T, scattered (col2im) into dx.

    Tiles are row blocks of one image. Blocks two apart never touch the same
    input row (see _tiling.block_out_rows), so the even blocks run in parallel,
    then the odd ones: every write is owned by one thread, with no atomics.
    """
    cdef Geom g = geom_from_tuple(geom)
    cdef Py_ssize_t P = g.N * g.Ho * g.Wo
    if P == 0 or g.K == 0 or g.O == 0:
        return
    cdef bint pointwise = is_pointwise(&g)
    cdef Py_ssize_t T = tile_rows(g.K, sizeof(floating), P, n_threads)
    cdef Py_ssize_t R = block_out_rows(g.KH, g.dh, g.sh, g.Wo, T)
    cdef Py_ssize_t n_blocks = (g.Ho + R - 1) // R
    work_array = np.empty((n_threads, T * g.K),
                          dtype=np.float32 if floating is float else np.float64)
    cdef floating[:, ::1] work = work_array
    cdef const floating* dyp = &dy[0, 0, 0, 0]
    cdef const floating* wp = &w[0, 0, 0, 0]
    cdef floating* dxp = &dx[0, 0, 0, 0] if dx.size else NULL
    cdef Py_ssize_t t, n_tiles, phase, nb, j, ps, pe, p0, cnt, grp
    cdef int threads
    cdef floating* dcols
    cdef Geom* gp = &g
    if pointwise:
        # dx rows are dY rows times W^T: disjoint per tile, no scatter.
        n_tiles = (P + T - 1) // T
        threads = <int>min(n_threads, n_tiles)
        with nogil:
            for t in prange(n_tiles, schedule='static', num_threads=threads):
                p0 = t * T
                cnt = min(T, P - p0)
                gemm_rm(False, True, <int>cnt, <int>g.C, <int>g.O, 1,
                        dyp + p0 * g.O, <int>g.O, wp, <int>g.O, 0,
                        dxp + p0 * g.C, <int>g.C)
        return
    with nogil:
        for phase in range(2):
            nb = phase_blocks(phase, n_blocks, g.N)
            if nb == 0:
                continue
            threads = <int>min(n_threads, nb)
            with parallel(num_threads=threads):
                dcols = &work[threadid(), 0]
                for j in prange(nb, schedule='static'):
                    block_pixels(phase, j, n_blocks, R, g.Ho, g.Wo, &ps, &pe)
                    p0 = ps
                    while p0 < pe:
                        cnt = min(T, pe - p0)
                        for grp in range(g.groups):
                            gemm_rm(False, True, <int>cnt, <int>g.K, <int>g.Og, 1,
                                    dyp + p0 * g.O + grp * g.Og, <int>g.O,
                                    wp + grp * g.Og, <int>g.O, 0, dcols, <int>g.K)
                            scatter_cols(dcols, g.K, gp, p0, cnt, grp, dxp)
                        p0 = p0 + cnt
