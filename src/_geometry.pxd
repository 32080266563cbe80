# The sizes of one convolution as a C struct, so nogil kernels can read them.
# Built from cconv._params.ConvGeometry by ``geom_from_tuple`` (order matters:
# see ConvGeometry.kernel_tuple()).

cdef struct Border:
    # A padding_mode other than zeros (cconv/_padding_mode.py): the input plane
    # (row, column) whose value each padded plane (row, column) holds, indexed
    # by the padded coordinate plus pf (pt, pl); pbk, pb and pr size the
    # padding's far sides. In 2-D the depth map is [0] and pbk is 0.
    const Py_ssize_t* dmap
    const Py_ssize_t* hmap
    const Py_ssize_t* wmap
    Py_ssize_t pbk, pb, pr


cdef struct Geom:
    Py_ssize_t N, H, W, C, O, KH, KW, groups
    Py_ssize_t sh, sw, dh, dw, pt, pl, Ho, Wo
    # The depth axis of a 3-D convolution (1, 1, 1, 1, 0, 1 in 2-D): the input
    # is (N, D, H, W, C), the kernel (KD, KH, KW, C//groups, O), the output
    # (N, Do, Ho, Wo, O); pf is the padding in front.
    Py_ssize_t D, KD, sd, dd, pf, Do
    Py_ssize_t Cg, Og, K          # per-group channels; K = KD*KH*KW*Cg (cols width)
    const Border* border          # NULL: the padding is zeros


cdef inline Geom geom_from_tuple(tuple t):
    cdef Geom g
    (g.N, g.H, g.W, g.C, g.O, g.KH, g.KW, g.groups,
     g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.Ho, g.Wo,
     g.D, g.KD, g.sd, g.dd, g.pf, g.Do) = t
    g.Cg = g.C // g.groups
    g.Og = g.O // g.groups
    g.K = g.KD * g.KH * g.KW * g.Cg
    g.border = NULL
    return g


cdef inline Py_ssize_t out_pixels(const Geom* g) noexcept nogil:
    """Output pixels over the batch: N*Do*Ho*Wo (the GEMM's M)."""
    return g.N * g.Do * g.Ho * g.Wo


cdef inline void attach_border(Geom* g, Border* b, tuple maps):
    """Point g at the border maps ``(hmap, wmap, pb, pr, dmap, pbk)`` of
    ConvGeometry.border_maps() (None: zeros). The caller keeps ``maps``
    alive for as long as g is used."""
    if maps is None:
        g.border = NULL
        return
    cdef const Py_ssize_t[::1] hmap = maps[0]
    cdef const Py_ssize_t[::1] wmap = maps[1]
    cdef const Py_ssize_t[::1] dmap = maps[4]
    b.hmap = &hmap[0]
    b.wmap = &wmap[0]
    b.dmap = &dmap[0]
    b.pb = maps[2]
    b.pr = maps[3]
    b.pbk = maps[5]
    g.border = b
