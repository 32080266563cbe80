"""1x1, stride-1, unpadded, ungrouped convolution computed in NCHW directly.
Each image is a matrix: y[n] (O x HW) = W (O x C) @ x[n] (C x HW), so NCHW
callers skip the layout conversions, which cost more than this GEMM-light
layer. Tiles are (image, run of pixels); entry points validate nothing."""
from cython cimport floating
from cython.parallel cimport parallel, prange, threadid
from _kernel_row cimport cck_row, active_row
from _gemm cimport packb_size, abuf_size, pack_b, gemm_packed
from _tiling cimport part_first_tile, partial_sum_count

import numpy as np

cdef enum:
    PIXELS_PER_TILE = 256

# The kernel table's row, fetched once (src/_kernel_row.pxd).
cdef const cck_row* ROW = active_row()


cdef inline Py_ssize_t n_pixel_tiles(Py_ssize_t HW) noexcept nogil:
    return (HW + PIXELS_PER_TILE - 1) // PIXELS_PER_TILE


def forward(const floating[:, :, ::1] x,      # IN  (N, C, HW)
            const floating[:, ::1] w,         # IN  (O, C)
            const floating[::1] bias,         # IN  (O,) or None
            floating[:, :, ::1] y,            # OUT (N, O, HW)
            int n_threads):
    """y[n, :, tile] = W @ x[n, :, tile] (+ bias per row)."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], HW = x.shape[2], O = w.shape[0]
    cdef Py_ssize_t tiles = n_pixel_tiles(HW), jobs = N * tiles
    if jobs == 0 or O == 0:
        return
    cdef const cck_row* k = ROW
    cdef floating* tag = NULL
    cdef Py_ssize_t bsize = packb_size(k, tag, C, PIXELS_PER_TILE), asize = abuf_size(k, tag, C)
    n_threads = <int>min(n_threads, jobs)
    work_array = np.empty((n_threads, bsize + asize), dtype=np.float32 if floating is float else np.float64)
    cdef floating[:, ::1] work = work_array
    cdef const floating* xp = &x[0, 0, 0] if x.size else NULL
    cdef const floating* wp = &w[0, 0] if w.size else NULL
    cdef const floating* bp = &bias[0] if bias is not None else NULL
    cdef floating* yp = &y[0, 0, 0]
    cdef Py_ssize_t job, n, p0, cnt, o, p
    cdef floating* bpack
    cdef floating* abuf
    with nogil, parallel(num_threads=n_threads):
        bpack = &work[threadid(), 0]
        abuf = bpack + bsize
        for job in prange(jobs, schedule='dynamic'):
            n = job // tiles
            p0 = (job % tiles) * PIXELS_PER_TILE
            cnt = min(<Py_ssize_t>PIXELS_PER_TILE, HW - p0)
            pack_b(k, C, cnt, xp + n * C * HW + p0, HW, 1, bpack)
            gemm_packed(k, O, cnt, C, wp, C, 1, bpack, yp + n * O * HW + p0, HW, False, NULL, abuf)
            if bp != NULL:
                for o in range(O):
                    for p in range(cnt):
                        yp[(n * O + o) * HW + p0 + p] += bp[o]


def grad_input(const floating[:, :, ::1] dy,   # IN  (N, O, HW)
               const floating[:, ::1] w,       # IN  (O, C)
               floating[:, :, ::1] dx,         # OUT (N, C, HW)
               int n_threads):
    """dx[n, :, tile] = W^T @ dy[n, :, tile]."""
    cdef Py_ssize_t N = dy.shape[0], O = dy.shape[1], HW = dy.shape[2], C = w.shape[1]
    cdef Py_ssize_t tiles = n_pixel_tiles(HW), jobs = N * tiles
    if jobs == 0 or C == 0:
        return
    cdef const cck_row* k = ROW
    cdef floating* tag = NULL
    cdef Py_ssize_t bsize = packb_size(k, tag, O, PIXELS_PER_TILE), asize = abuf_size(k, tag, O)
    n_threads = <int>min(n_threads, jobs)
    work_array = np.empty((n_threads, bsize + asize), dtype=np.float32 if floating is float else np.float64)
    cdef floating[:, ::1] work = work_array
    cdef const floating* dyp = &dy[0, 0, 0] if dy.size else NULL
    cdef const floating* wp = &w[0, 0] if w.size else NULL
    cdef floating* dxp = &dx[0, 0, 0]
    cdef Py_ssize_t job, n, p0, cnt
    cdef floating* bpack
    cdef floating* abuf
    with nogil, parallel(num_threads=n_threads):
        bpack = &work[threadid(), 0]
        abuf = bpack + bsize
        for job in prange(jobs, schedule='dynamic'):
            n = job // tiles
            p0 = (job % tiles) * PIXELS_PER_TILE
            cnt = min(<Py_ssize_t>PIXELS_PER_TILE, HW - p0)
            pack_b(k, O, cnt, dyp + n * O * HW + p0, HW, 1, bpack)
            # a(c, o) = W[o, c]: W^T read with row stride 1, column stride C.
            gemm_packed(k, C, cnt, O, wp, 1, C, bpack, dxp + n * C * HW + p0, HW, False, NULL, abuf)


def grad_weight(const floating[:, :, ::1] x,    # IN  (N, C, HW)
                const floating[:, :, ::1] dy,   # IN  (N, O, HW)
                floating[:, ::1] dw,            # OUT (O, C)
                floating[::1] db,               # OUT (O,) or None
                int n_threads):
    """dW = sum over tiles of dy[n, :, tile] @ x[n, :, tile]^T, as partial sums
    over fixed runs of tiles (more runs than threads, handed out dynamically),
    added in order (the same result on every call)."""
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], HW = x.shape[2], O = dy.shape[1]
    cdef Py_ssize_t tiles = n_pixel_tiles(HW), jobs = N * tiles
    dtype = np.float32 if floating is float else np.float64
    dw[...] = 0
    if db is not None:
        db[...] = 0
    if jobs == 0 or O == 0:
        return
    if db is not None:
        np.sum(np.asarray(dy), axis=(0, 2), out=np.asarray(db))
    if C == 0:
        return
    cdef const cck_row* k = ROW
    cdef floating* tag = NULL
    cdef Py_ssize_t bsize = packb_size(k, tag, PIXELS_PER_TILE, C), asize = abuf_size(k, tag, PIXELS_PER_TILE)
    n_threads = <int>min(n_threads, jobs)
    work_array = np.empty((n_threads, bsize + asize), dtype=dtype)
    cdef Py_ssize_t n_parts = partial_sum_count(jobs, n_threads, O * C * sizeof(floating))
    parts_array = np.zeros((n_parts, O * C), dtype=dtype)
    cdef floating[:, ::1] work = work_array
    cdef floating[:, ::1] parts = parts_array
    cdef const floating* xp = &x[0, 0, 0]
    cdef const floating* dyp = &dy[0, 0, 0]
    cdef Py_ssize_t job, n, p0, cnt
    cdef floating* bpack
    cdef floating* abuf
    cdef floating* part
    cdef Py_ssize_t q
    # One partial sum per fixed run of jobs, not per OpenMP thread, so the
    # result does not depend on how many threads the runtime really starts.
    with nogil, parallel(num_threads=n_threads):
        bpack = &work[threadid(), 0]
        abuf = bpack + bsize
        for q in prange(n_parts, schedule='dynamic'):
          part = &parts[q, 0]
          for job in range(part_first_tile(q, jobs, n_parts), part_first_tile(q + 1, jobs, n_parts)):
            n = job // tiles
            p0 = (job % tiles) * PIXELS_PER_TILE
            cnt = min(<Py_ssize_t>PIXELS_PER_TILE, HW - p0)
            # b(p, c) = x[n, c, p0 + p]: x^T of the tile.
            pack_b(k, cnt, C, xp + n * C * HW + p0, 1, HW, bpack)
            gemm_packed(k, O, C, cnt, dyp + n * O * HW + p0, HW, 1, bpack, part, C, True, NULL, abuf)
    np.sum(parts_array, axis=0, out=np.asarray(dw).reshape(O * C))
