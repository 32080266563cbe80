# Direct depthwise rows (src/kernels/depthwise/nhwc.h) for groups == C == O,
# through the kernel table's row.
from cython cimport floating
from _geometry cimport Geom
from _kernel_row cimport cck_row, ccdw_geom


cdef inline ccdw_geom depthwise_geom(const Geom* g) noexcept nogil:
    cdef ccdw_geom d
    d.N = g.N; d.H = g.H; d.W = g.W; d.C = g.C; d.KH = g.KH; d.KW = g.KW
    d.sh = g.sh; d.sw = g.sw; d.dh = g.dh; d.dw = g.dw; d.pt = g.pt; d.pl = g.pl
    d.Ho = g.Ho; d.Wo = g.Wo
    d.PD = 1; d.xpd = 0; d.wpd = 0      # one plane of taps; 3-D forward rows set their depth taps
    return d


cdef inline ccdw_geom output_row_geom(const ccdw_geom* plane, Py_ssize_t ho, Py_ssize_t sh) noexcept nogil:
    """The 2-D depthwise geometry of output row ho of one plane as a one-row
    image: N = Ho = 1 and the top padding shifted by ho*sh, so the row kernels
    read the same input rows and write their row 0. (3-D depthwise sets the
    depth taps, PD/xpd/wpd, on it.)"""
    cdef ccdw_geom r = plane[0]
    r.N = 1
    r.Ho = 1
    r.pt = plane.pt - ho * sh
    return r


cdef inline ccdw_geom input_row_geom(const ccdw_geom* plane, Py_ssize_t hi) noexcept nogil:
    """The 2-D depthwise geometry of input row hi of one plane as a one-row
    image (N = H = 1, the top padding shifted by hi): the gather row kernel then
    reads the same output rows of the plane and writes its row 0."""
    cdef ccdw_geom r = plane[0]
    r.N = 1
    r.H = 1
    r.pt = plane.pt + hi
    return r


cdef inline void dw_forward_row(const cck_row* k, const floating* x, const floating* w,
                                const floating* bias, floating* y, const ccdw_geom* g,
                                Py_ssize_t row) noexcept nogil:
    if floating is float:
        k.s.dw_forward_row(x, w, bias, y, g, row)
    else:
        k.d.dw_forward_row(x, w, bias, y, g, row)


cdef inline void dw_grad_input_row(const cck_row* k, const floating* dy, const floating* w,
                                   floating* dx, const ccdw_geom* g, Py_ssize_t row) noexcept nogil:
    if floating is float:
        k.s.dw_grad_input_row(dy, w, dx, g, row)
    else:
        k.d.dw_grad_input_row(dy, w, dx, g, row)


cdef inline void dw_grad_weight_row(const cck_row* k, const floating* x, const floating* dy,
                                    floating* dw, floating* db, const ccdw_geom* g,
                                    Py_ssize_t row) noexcept nogil:
    if floating is float:
        k.s.dw_grad_weight_row(x, dy, dw, db, g, row)
    else:
        k.d.dw_grad_weight_row(x, dy, dw, db, g, row)
