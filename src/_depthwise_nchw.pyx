"""Depthwise convolution (groups == C == O) computed in NCHW directly: one
(n, c) plane per task, so NCHW callers skip the layout conversions that
dominate this memory-bound layer. Entry points validate nothing."""
from cython cimport floating
from cython.parallel cimport prange
from _geometry cimport Geom, geom_from_tuple
from _kernel_row cimport cck_row, active_row, ccdp_geom

# The kernel table's row, fetched once (src/_kernel_row.pxd).
cdef const cck_row* ROW = active_row()


cdef inline ccdp_geom plane_geom(const Geom* g) noexcept nogil:
    cdef ccdp_geom p
    p.H = g.H; p.W = g.W; p.KH = g.KH; p.KW = g.KW; p.sh = g.sh; p.sw = g.sw
    p.dh = g.dh; p.dw = g.dw; p.pt = g.pt; p.pl = g.pl; p.Ho = g.Ho; p.Wo = g.Wo
    return p


def forward(const floating[:, :, :, ::1] x,     # IN  (N, C, H, W)
            const floating[:, ::1] w,           # IN  (C, KH*KW)
            const floating[::1] bias,           # IN  (C,) or None
            floating[:, :, :, ::1] y,           # OUT (N, C, Ho, Wo)
            tuple geom, int n_threads):
    """Depthwise forward, one plane per iteration."""
    cdef Geom g = geom_from_tuple(geom)
    cdef ccdp_geom p = plane_geom(&g)
    cdef Py_ssize_t planes = g.N * g.C, q, c
    cdef Py_ssize_t xs = g.H * g.W, ys = g.Ho * g.Wo, taps = g.KH * g.KW
    if planes == 0 or ys == 0:
        return
    cdef const floating* xp = &x[0, 0, 0, 0] if x.size else NULL
    cdef const floating* wp = &w[0, 0]
    cdef const floating* bp = &bias[0] if bias is not None else NULL
    cdef floating* yp = &y[0, 0, 0, 0]
    with nogil:
        for q in prange(planes, schedule='dynamic', num_threads=<int>min(n_threads, planes)):
            c = q % g.C
            if floating is float:
                ROW.s.dp_forward(xp + q * xs, wp + c * taps, bp[c] if bp != NULL else 0,
                               yp + q * ys, &p)
            else:
                ROW.d.dp_forward(xp + q * xs, wp + c * taps, bp[c] if bp != NULL else 0,
                               yp + q * ys, &p)


def grad_input(const floating[:, :, :, ::1] dy,   # IN  (N, C, Ho, Wo)
               const floating[:, ::1] w,          # IN  (C, KH*KW)
               floating[:, :, :, ::1] dx,         # OUT (N, C, H, W)
               tuple geom, int n_threads):
    """Depthwise grad_input: each plane scatters only into its own plane."""
    cdef Geom g = geom_from_tuple(geom)
    cdef ccdp_geom p = plane_geom(&g)
    cdef Py_ssize_t planes = g.N * g.C, q, c
    cdef Py_ssize_t xs = g.H * g.W, ys = g.Ho * g.Wo, taps = g.KH * g.KW
    if planes == 0 or xs == 0:
        return
    cdef const floating* dyp = &dy[0, 0, 0, 0] if dy.size else NULL
    cdef const floating* wp = &w[0, 0]
    cdef floating* dxp = &dx[0, 0, 0, 0]
    with nogil:
        for q in prange(planes, schedule='dynamic', num_threads=<int>min(n_threads, planes)):
            c = q % g.C
            if floating is float:
                ROW.s.dp_grad_input(dyp + q * ys, wp + c * taps, dxp + q * xs, &p)
            else:
                ROW.d.dp_grad_input(dyp + q * ys, wp + c * taps, dxp + q * xs, &p)


def grad_weight(const floating[:, :, :, ::1] x,    # IN  (N, C, H, W)
                const floating[:, :, :, ::1] dy,   # IN  (N, C, Ho, Wo)
                floating[:, ::1] dw,               # OUT (C, KH*KW), zeroed
                floating[::1] db,                  # OUT (C,) or None, zeroed
                tuple geom, int n_threads):
    """Depthwise grad_weight/grad_bias: each thread owns whole channels and
    sums over the batch in order, so no partial sums and the same result on
    every call and thread count."""
    cdef Geom g = geom_from_tuple(geom)
    cdef ccdp_geom p = plane_geom(&g)
    cdef Py_ssize_t xs = g.H * g.W, ys = g.Ho * g.Wo, taps = g.KH * g.KW
    cdef Py_ssize_t c, n, i
    cdef floating s
    if g.C == 0 or g.N == 0 or ys == 0:
        return
    cdef const floating* xp = &x[0, 0, 0, 0] if x.size else NULL
    cdef const floating* dyp = &dy[0, 0, 0, 0]
    cdef floating* dwp = &dw[0, 0]
    cdef floating* dbp = &db[0] if db is not None else NULL
    with nogil:
        for c in prange(g.C, schedule='dynamic', num_threads=<int>min(n_threads, g.C)):
            for n in range(g.N):
                if xs:
                    if floating is float:
                        ROW.s.dp_grad_weight(xp + (n * g.C + c) * xs, dyp + (n * g.C + c) * ys,
                                           dwp + c * taps, &p)
                    else:
                        ROW.d.dp_grad_weight(xp + (n * g.C + c) * xs, dyp + (n * g.C + c) * ys,
                                           dwp + c * taps, &p)
                if dbp != NULL:
                    s = 0
                    for i in range(ys):
                        s = s + dyp[(n * g.C + c) * ys + i]
                    dbp[c] += s
