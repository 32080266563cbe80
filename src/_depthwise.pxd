# Direct depthwise rows (src/kernels/depthwise/nhwc.h) for groups == C == O,
# through the kernel table's row.
from cython cimport floating
import numpy as np
from _geometry cimport Geom
from _kernel_row cimport cck_row, ccdw_geom


cdef inline ccdw_geom depthwise_geom(const Geom* g) noexcept nogil:
    cdef ccdw_geom d
    d.N = g.N; d.H = g.H; d.W = g.W; d.C = g.C; d.KH = g.KH; d.KW = g.KW
    d.sh = g.sh; d.sw = g.sw; d.dh = g.dh; d.dw = g.dw; d.pt = g.pt; d.pl = g.pl
    d.Ho = g.Ho; d.Wo = g.Wo
    d.PD = 1; d.xpd = 0; d.wpd = 0      # one plane of taps; 3-D forward rows set their depth taps
    d.ah = 0; d.wrot = NULL; d.brot = NULL
    return d


cdef inline object set_channel_phase(ccdw_geom* d, const cck_row* k, const void* x,
                                     object w, object bias):
    """Give the forward rows of d, on input x (every pixel of it, so also
    x plus whole planes), the channel phase of ccdw_geom's ah where it has
    one: x's channels not starting on a vector boundary while every pixel
    has the same phase (stride 1 along W, C a multiple of the row's vector).
    numpy places large arrays 16 bytes into a 64-byte line, so without it
    every 64-byte load of x splits across two lines (measured on Zen 5: a
    3x3x3 layer of 64 channels took 0.87 ms on an aligned copy of its input
    against 1.31 ms; with the phase, 0.80 of the time on an Intel Xeon).
    w (taps..., C) and bias ((C,) or None) are the forward's; returns the
    rotated, aligned copies, which must outlive the rows' calls."""
    cdef Py_ssize_t C = d.C, item = np.asarray(w).itemsize, vb = k.vector_bytes
    cdef Py_ssize_t lanes = vb // item, off = <Py_ssize_t>(<size_t>x % <size_t>vb), ah
    if d.sw != 1 or lanes <= 1 or C % lanes or off == 0 or off % item:
        return None
    ah = (vb - off) // item
    wrot = _rotated_aligned(np.asarray(w).reshape(-1, C), ah, vb)
    d.ah = ah
    d.wrot = <const void*><size_t>wrot.ctypes.data
    brot = None
    if bias is not None:
        brot = _rotated_aligned(np.asarray(bias).reshape(1, C), ah, vb)
        d.brot = <const void*><size_t>brot.ctypes.data
    return wrot, brot


cdef inline object _rotated_aligned(object a, Py_ssize_t ah, Py_ssize_t vb):
    """a (rows, C) with each row's channels rotated by ah, out[:, j] =
    a[:, (j + ah) % C], in a new vb-aligned array."""
    cdef Py_ssize_t extra = vb // a.itemsize
    buf = np.empty(a.size + extra, dtype=a.dtype)
    cdef Py_ssize_t start = (-buf.ctypes.data % vb) // a.itemsize
    out = buf[start:start + a.size].reshape(a.shape)
    out[:, :a.shape[1] - ah] = a[:, ah:]
    out[:, a.shape[1] - ah:] = a[:, :ah]
    return out


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
