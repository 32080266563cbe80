"""The public im2col and col2im kernels (NHWC, groups=1 columns)."""
from cython cimport floating
from cython.parallel cimport prange
from _geometry cimport Geom, geom_from_tuple, out_pixels
from _patches cimport fill_cols, scatter_cols
from _tiling cimport tile_rows, block_out_rows, block_first_pixel, phase_blocks


def im2col(const floating[:, :, :, ::1] x,     # IN  (N, H, W, C)
           floating[:, ::1] cols,              # OUT (N*Ho*Wo, KH*KW*C)
           tuple geom, int n_threads):
    """Fill every im2col row; tiles of rows are disjoint, one per iteration."""
    cdef Geom g = geom_from_tuple(geom)
    cdef Py_ssize_t P = out_pixels(&g)
    if P == 0 or g.K == 0:
        return
    cdef Py_ssize_t T = tile_rows(g.K, sizeof(floating), P, n_threads)
    cdef Py_ssize_t n_tiles = (P + T - 1) // T
    cdef int threads = <int>min(n_threads, n_tiles)
    cdef const floating* xp = &x[0, 0, 0, 0] if x.size else NULL
    cdef floating* cp = &cols[0, 0]
    cdef Py_ssize_t t, p0
    cdef Geom* gp = &g
    with nogil:
        for t in prange(n_tiles, schedule='dynamic', num_threads=threads):
            p0 = t * T
            fill_cols(xp, gp, p0, min(T, P - p0), 0, cp + p0 * g.K, g.K)


def col2im(const floating[:, ::1] cols,         # IN  (N*Ho*Wo, KH*KW*C)
           floating[:, :, :, ::1] dx,           # OUT (N, H, W, C), zeroed
           tuple geom, int n_threads):
    """Sum every im2col row back into its taps: even row blocks in parallel,
    then odd ones, so that no two threads write the same input row."""
    cdef Geom g = geom_from_tuple(geom)
    cdef Py_ssize_t P = out_pixels(&g)
    if P == 0 or g.K == 0:
        return
    cdef Py_ssize_t T = tile_rows(g.K, sizeof(floating), P, n_threads)
    cdef Py_ssize_t R = block_out_rows(g.KH, g.dh, g.sh, g.Wo, T)
    cdef Py_ssize_t n_blocks = (g.Ho + R - 1) // R
    cdef const floating* cp = &cols[0, 0]
    cdef floating* dxp = &dx[0, 0, 0, 0] if dx.size else NULL
    cdef Py_ssize_t phase, nb, j, ps, pe
    cdef Geom* gp = &g
    with nogil:
        for phase in range(2):
            nb = phase_blocks(phase, n_blocks, g.N)
            for j in prange(nb, schedule='dynamic',
                            num_threads=<int>min(n_threads, max(nb, 1))):
                ps = block_first_pixel(phase, j, n_blocks, R, g.Ho, g.Wo, False)
                pe = block_first_pixel(phase, j, n_blocks, R, g.Ho, g.Wo, True)
                scatter_cols(cp + ps * g.K, g.K, gp, ps, pe - ps, 0, dxp, NULL)
