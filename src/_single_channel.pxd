# Direct kernels for one input channel, one group, stride 1
# (src/kernels/single_channel/nhwc.h), through the kernel table's row.
from cython cimport floating
from _geometry cimport Geom
from _kernel_row cimport cck_row, ccsc_geom


cdef inline ccsc_geom single_channel_geom(const Geom* g, Py_ssize_t Opad) noexcept nogil:
    """The kernel's view of a validated geometry; Opad is O rounded up to the row's sc_ob."""
    cdef ccsc_geom s
    s.N, s.H, s.W, s.O, s.Opad = g.N, g.H, g.W, g.O, Opad
    s.KH, s.KW, s.dh, s.dw, s.pt, s.pl, s.Ho, s.Wo = g.KH, g.KW, g.dh, g.dw, g.pt, g.pl, g.Ho, g.Wo
    return s


cdef inline int sc_out_block(const cck_row* k, floating* tag) noexcept nogil:
    """Output channels per register block: the weight is padded to a multiple."""
    if floating is float:
        return k.s.sc_ob
    else:
        return k.d.sc_ob


cdef inline int vector_lanes(const cck_row* k, floating* tag) noexcept nogil:
    """Pixels per vector of the single-channel kernels: the partial sums
    grad_weight keeps per weight."""
    if floating is float:
        return k.s.sc_lanes
    else:
        return k.d.sc_lanes


cdef inline void sc_forward_row(const cck_row* k, const floating* x, const floating* wpad,
                                const floating* bpad, floating* y, const ccsc_geom* g,
                                Py_ssize_t row) noexcept nogil:
    if floating is float:
        k.s.sc_forward_row(x, wpad, bpad, y, g, row)
    else:
        k.d.sc_forward_row(x, wpad, bpad, y, g, row)


cdef inline void sc_grad_weight_row(const cck_row* k, const floating* x, const floating* dy,
                                    floating* dwv, floating* db, floating* dyt,
                                    const ccsc_geom* g, Py_ssize_t row) noexcept nogil:
    if floating is float:
        k.s.sc_grad_weight_row(x, dy, dwv, db, dyt, g, row)
    else:
        k.d.sc_grad_weight_row(x, dy, dwv, db, dyt, g, row)


cdef inline void sc_grad_input_row(const cck_row* k, const floating* dy, const floating* wflip,
                                   floating* dx, const ccsc_geom* g, Py_ssize_t row) noexcept nogil:
    if floating is float:
        k.s.sc_grad_input_row(dy, wflip, dx, g, row)
    else:
        k.d.sc_grad_input_row(dy, wflip, dx, g, row)
