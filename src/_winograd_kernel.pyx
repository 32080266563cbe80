"""Winograd F(m x m, 3 x 3) forward convolution, NHWC input, HWIO weight,
stride 1, dilation 1, any padding and groups (m = 2 or 4).

The weight is transformed once (U = G g G^T, in double), each of the
alpha^2 transform positions (alpha = m + 2) written straight into the packed
B-operand layout of cconv's GEMM, shared by all threads. Each thread then takes blocks of
output tiles: it transforms the input patches of the block (V = B^T d B,
src/kernels/winograd/transforms.h), multiplies V_xi @ U_xi for every position xi and
group, and transforms the products back into output pixels (A^T M A, bias
fused, clipped at the image edge). Validation lives in cconv._winograd.
"""
from cython cimport floating
from cython.parallel cimport parallel, prange, threadid
from _kernel_row cimport cck_row, active_row, ccwg_geom, ccwg_pack
from _gemm cimport packb_size, abuf_size, panel_width, gemm_packed

import numpy as np


# The kernel table's row, fetched once (src/_kernel_row.pxd).
cdef const cck_row* ROW = active_row()


cdef inline void weight_panel(const cck_row* k, int m, const floating* w, const ccwg_pack* pk,
                              Py_ssize_t grp, Py_ssize_t jr, floating* Bp) noexcept nogil:
    if floating is float:
        k.s.wg_weight_panel(m, w, pk, grp, jr, Bp)
    else:
        k.d.wg_weight_panel(m, w, pk, grp, jr, Bp)


cdef inline void input_tiles(const cck_row* k, int m, const floating* x, const ccwg_geom* g,
                             const floating* zeros, Py_ssize_t t0, Py_ssize_t cnt, floating* V,
                             Py_ssize_t vs) noexcept nogil:
    if floating is float:
        k.s.wg_input(m, x, g, zeros, t0, cnt, V, vs)
    else:
        k.d.wg_input(m, x, g, zeros, t0, cnt, V, vs)


cdef inline void output_tiles(const cck_row* k, int m, const floating* M, Py_ssize_t ms,
                              const floating* bias, floating* y, const ccwg_geom* g,
                              Py_ssize_t t0, Py_ssize_t cnt) noexcept nogil:
    if floating is float:
        k.s.wg_output(m, M, ms, bias, y, g, t0, cnt)
    else:
        k.d.wg_output(m, M, ms, bias, y, g, t0, cnt)


def winograd_forward(const floating[:, :, :, ::1] x,    # IN  (N, H, W, C)
                     const floating[:, :, :, ::1] w,    # IN  (3, 3, C//groups, O)
                     const floating[::1] bias,          # IN  (O,) or None
                     floating[:, :, :, ::1] y,          # OUT (N, Ho, Wo, O)
                     int m, Py_ssize_t pt, Py_ssize_t pl,
                     Py_ssize_t tiles_per_block, int n_threads):
    """y = conv(x, w) + bias by F(m x m, 3 x 3); ``pt``/``pl`` are the top and
    left padding (negative crops); y's shape gives the output size.
    ``tiles_per_block`` output tiles share one pass of the GEMMs."""
    cdef ccwg_geom g
    g.N = x.shape[0]; g.H = x.shape[1]; g.W = x.shape[2]; g.C = x.shape[3]
    g.O = y.shape[3]; g.Ho = y.shape[1]; g.Wo = y.shape[2]
    g.pt = pt; g.pl = pl
    g.tiles_h = (g.Ho + m - 1) // m
    g.tiles_w = (g.Wo + m - 1) // m
    cdef Py_ssize_t Cg = w.shape[2]
    cdef Py_ssize_t groups = g.C // Cg if Cg > 0 else 1
    cdef Py_ssize_t Og = g.O // groups
    cdef Py_ssize_t alpha = m + 2
    cdef Py_ssize_t A2 = alpha * alpha
    cdef Py_ssize_t n_tiles = g.N * g.tiles_h * g.tiles_w
    if n_tiles == 0 or g.O == 0:
        return
    cdef const cck_row* k = ROW
    cdef floating* tag = NULL
    cdef Py_ssize_t T = max(1, min(tiles_per_block, n_tiles))
    cdef Py_ssize_t n_blocks = (n_tiles + T - 1) // T
    cdef Py_ssize_t bsize = packb_size(k, tag, Cg, Og)
    cdef Py_ssize_t asize = abuf_size(k, tag, Cg)
    cdef Py_ssize_t vsize = A2 * T * g.C
    cdef Py_ssize_t msize = A2 * T * g.O
    dtype = np.float32 if floating is float else np.float64
    cdef ccwg_pack pk
    pk.Cg = Cg; pk.O = g.O; pk.Og = Og; pk.groups = groups; pk.bsize = bsize
    cdef Py_ssize_t nr = panel_width(k, tag)      # the GEMM's NR, from the same row
    cdef Py_ssize_t panels = (Og + nr - 1) // nr
    packed_array = np.empty(max(A2 * groups * bsize, 1), dtype=dtype)
    zeros_array = np.zeros(max(g.C, 1), dtype=dtype)
    cdef int work_threads = <int>min(n_threads, n_blocks)
    work_array = np.empty((work_threads, vsize + msize + asize), dtype=dtype)
    cdef floating[::1] packed = packed_array
    cdef floating[::1] zeros = zeros_array
    cdef floating[:, ::1] work = work_array
    cdef const floating* xp = &x[0, 0, 0, 0] if x.size else &zeros[0]
    cdef const floating* wp = &w[0, 0, 0, 0] if w.size else NULL
    cdef const floating* bp = &bias[0] if bias is not None else NULL
    cdef floating* yp = &y[0, 0, 0, 0]
    cdef floating* Bp = &packed[0]
    cdef const floating* zp = &zeros[0]
    cdef Py_ssize_t q, xi, grp, blk, t0, cnt
    cdef floating* V
    cdef floating* Mb
    cdef floating* abuf
    cdef ccwg_geom* gp = &g
    with nogil:
        if Cg > 0:
            # As many threads as panels: a thread with nothing to do would still
            # have to be scheduled to pass the region's barrier.
            for q in prange(groups * panels, schedule='dynamic',
                            num_threads=<int>min(n_threads, groups * panels)):
                weight_panel(k, m, wp, &pk, q // panels, q % panels, Bp)
        with parallel(num_threads=work_threads):
            V = &work[threadid(), 0]
            Mb = V + vsize
            abuf = Mb + msize
            for blk in prange(n_blocks, schedule='dynamic'):
                t0 = blk * T
                cnt = min(T, n_tiles - t0)
                input_tiles(k, m, xp, gp, zp, t0, cnt, V, T * g.C)
                for q in range(A2 * groups):
                    xi = q // groups
                    grp = q % groups
                    gemm_packed(k, cnt, Og, Cg, V + xi * T * g.C + grp * Cg, g.C, 1,
                                Bp + q * bsize, Mb + xi * T * g.O + grp * Og, g.O,
                                False, NULL, abuf)
                output_tiles(k, m, Mb, T * g.O, bp, yp, gp, t0, cnt)
