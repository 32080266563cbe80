# Direct kernels for one input channel, one group, stride 1 (src/_single_channel.h).
from _geometry cimport Geom

cdef extern from "_single_channel.h" nogil:
    enum: CCSC_OB
    ctypedef struct ccsc_geom:
        Py_ssize_t N, H, W, O, Opad, KH, KW, dh, dw, pt, pl, Ho, Wo
    void ccsc_s_forward_row(const float* x, const float* wpad, const float* bpad, float* y,
                            const ccsc_geom* g, Py_ssize_t row)
    void ccsc_d_forward_row(const double* x, const double* wpad, const double* bpad, double* y,
                            const ccsc_geom* g, Py_ssize_t row)
    void ccsc_s_grad_weight_row(const float* x, const float* dy, float* dw, float* db, float* dyt,
                                const ccsc_geom* g, Py_ssize_t row)
    void ccsc_d_grad_weight_row(const double* x, const double* dy, double* dw, double* db, double* dyt,
                                const ccsc_geom* g, Py_ssize_t row)


cdef inline ccsc_geom single_channel_geom(const Geom* g, Py_ssize_t Opad) noexcept nogil:
    """The kernel's view of a validated geometry; Opad is O rounded up to CCSC_OB."""
    cdef ccsc_geom s
    s.N, s.H, s.W, s.O, s.Opad = g.N, g.H, g.W, g.O, Opad
    s.KH, s.KW, s.dh, s.dw, s.pt, s.pl, s.Ho, s.Wo = g.KH, g.KW, g.dh, g.dw, g.pt, g.pl, g.Ho, g.Wo
    return s
