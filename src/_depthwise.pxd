# Direct depthwise rows (src/_depthwise_kernels.h) for groups == C == O,
# built for AVX2+FMA and for the baseline ISA, picked at load time.
from cython cimport floating
from _geometry cimport Geom

cdef extern from "_depthwise_kernels.h" nogil:
    ctypedef struct ccdw_geom:
        Py_ssize_t N, H, W, C, KH, KW, sh, sw, dh, dw, pt, pl, Ho, Wo
    void ccdw_s_forward_row(const float* x, const float* w, const float* bias, float* y,
                            const ccdw_geom* g, Py_ssize_t row)
    void ccdw_d_forward_row(const double* x, const double* w, const double* bias, double* y,
                            const ccdw_geom* g, Py_ssize_t row)
    void ccdw_s_grad_input_row(const float* dy, const float* w, float* dx,
                               const ccdw_geom* g, Py_ssize_t row)
    void ccdw_d_grad_input_row(const double* dy, const double* w, double* dx,
                               const ccdw_geom* g, Py_ssize_t row)
    void ccdw_s_grad_weight_row(const float* x, const float* dy, float* dw, float* db,
                                const ccdw_geom* g, Py_ssize_t row)
    void ccdw_d_grad_weight_row(const double* x, const double* dy, double* dw, double* db,
                                const ccdw_geom* g, Py_ssize_t row)


cdef inline ccdw_geom depthwise_geom(const Geom* g) noexcept nogil:
    cdef ccdw_geom d
    d.N = g.N; d.H = g.H; d.W = g.W; d.C = g.C; d.KH = g.KH; d.KW = g.KW
    d.sh = g.sh; d.sw = g.sw; d.dh = g.dh; d.dw = g.dw; d.pt = g.pt; d.pl = g.pl
    d.Ho = g.Ho; d.Wo = g.Wo
    return d


cdef inline void dw_forward_row(const floating* x, const floating* w, const floating* bias,
                                floating* y, const ccdw_geom* g, Py_ssize_t row) noexcept nogil:
    if floating is float:
        ccdw_s_forward_row(x, w, bias, y, g, row)
    else:
        ccdw_d_forward_row(x, w, bias, y, g, row)


cdef inline void dw_grad_input_row(const floating* dy, const floating* w, floating* dx,
                                   const ccdw_geom* g, Py_ssize_t row) noexcept nogil:
    if floating is float:
        ccdw_s_grad_input_row(dy, w, dx, g, row)
    else:
        ccdw_d_grad_input_row(dy, w, dx, g, row)


cdef inline void dw_grad_weight_row(const floating* x, const floating* dy, floating* dw,
                                    floating* db, const ccdw_geom* g, Py_ssize_t row) noexcept nogil:
    if floating is float:
        ccdw_s_grad_weight_row(x, dy, dw, db, g, row)
    else:
        ccdw_d_grad_weight_row(x, dy, dw, db, g, row)
