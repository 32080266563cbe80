# The sizes of one convolution as a C struct, so nogil kernels can read them.
# Built from cconv._params.ConvGeometry by ``geom_from_tuple`` (order matters:
# see ConvGeometry.kernel_tuple()).

cdef struct Geom:
    Py_ssize_t N, H, W, C, O, KH, KW, groups
    Py_ssize_t sh, sw, dh, dw, pt, pl, Ho, Wo
    Py_ssize_t Cg, Og, K          # per-group channels; K = KH*KW*Cg (cols width)


cdef inline Geom geom_from_tuple(tuple t):
    cdef Geom g
    (g.N, g.H, g.W, g.C, g.O, g.KH, g.KW, g.groups,
     g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.Ho, g.Wo) = t
    g.Cg = g.C // g.groups
    g.Og = g.O // g.groups
    g.K = g.KH * g.KW * g.Cg
    return g
