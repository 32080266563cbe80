# im2col rows and their adjoint (col2im scatter) for a run of output pixels,
# on C-contiguous NHWC input. Shared by the forward, backward and im2col kernels.
# A row of cols holds one output pixel's receptive field for one group:
# column (kh*KW + kw)*Cg + c; padded taps are zero.
from cython cimport floating
from libc.string cimport memcpy, memset
from _geometry cimport Geom


cdef inline void fill_cols(const floating* x, const Geom* g, Py_ssize_t p0,
                           Py_ssize_t count, Py_ssize_t grp, floating* cols,
                           Py_ssize_t ldcols) noexcept nogil:
    """Write the im2col rows of output pixels p0 .. p0+count-1 (group grp)."""
    cdef Py_ssize_t HoWo = g.Ho * g.Wo
    cdef Py_ssize_t n = p0 // HoWo
    cdef Py_ssize_t ho = (p0 % HoWo) // g.Wo
    cdef Py_ssize_t wo = p0 % g.Wo
    cdef Py_ssize_t Cg = g.Cg, C = g.C, KW = g.KW
    cdef bint span_copy = (g.dw == 1 and Cg == C)
    cdef Py_ssize_t r, kh, kw, hi, wi, hbase, wbase, lo, hi_kw
    cdef floating* row
    cdef floating* dst
    cdef const floating* xrow
    cdef size_t item = sizeof(floating)
    for r in range(count):
        row = cols + r * ldcols
        hbase = ho * g.sh - g.pt
        wbase = wo * g.sw - g.pl
        for kh in range(g.KH):
            hi = hbase + kh * g.dh
            dst = row + kh * KW * Cg
            if hi < 0 or hi >= g.H:
                memset(dst, 0, KW * Cg * item)
                continue
            xrow = x + ((n * g.H + hi) * g.W) * C + grp * Cg
            if span_copy:
                # Stride-1 taps of all channels are one contiguous run in NHWC.
                lo = 0 if wbase >= 0 else min(-wbase, KW)
                hi_kw = min(KW, g.W - wbase) if g.W - wbase > 0 else 0
                if hi_kw < lo:
                    hi_kw = lo
                if lo > 0:
                    memset(dst, 0, lo * C * item)
                if hi_kw > lo:
                    memcpy(dst + lo * C, xrow + (wbase + lo) * C, (hi_kw - lo) * C * item)
                if hi_kw < KW:
                    memset(dst + hi_kw * C, 0, (KW - hi_kw) * C * item)
            else:
                for kw in range(KW):
                    wi = wbase + kw * g.dw
                    if 0 <= wi < g.W:
                        memcpy(dst + kw * Cg, xrow + wi * C, Cg * item)
                    else:
                        memset(dst + kw * Cg, 0, Cg * item)
        wo += 1
        if wo == g.Wo:
            wo = 0
            ho += 1
            if ho == g.Ho:
                ho = 0
                n += 1


cdef inline void scatter_cols(const floating* cols, Py_ssize_t ldcols,
                              const Geom* g, Py_ssize_t p0, Py_ssize_t count,
                              Py_ssize_t grp, floating* dx) noexcept nogil:
    """Add the rows of cols for output pixels p0 .. p0+count-1 into dx (NHWC).

    The caller guarantees no other thread writes the input rows these pixels
    touch at the same time.
    """
    cdef Py_ssize_t HoWo = g.Ho * g.Wo
    cdef Py_ssize_t n = p0 // HoWo
    cdef Py_ssize_t ho = (p0 % HoWo) // g.Wo
    cdef Py_ssize_t wo = p0 % g.Wo
    cdef Py_ssize_t Cg = g.Cg, C = g.C, KW = g.KW
    cdef Py_ssize_t r, kh, kw, hi, wi, hbase, wbase, c
    cdef const floating* src
    cdef floating* drow
    for r in range(count):
        hbase = ho * g.sh - g.pt
        wbase = wo * g.sw - g.pl
        for kh in range(g.KH):
            hi = hbase + kh * g.dh
            if hi < 0 or hi >= g.H:
                continue
            for kw in range(KW):
                wi = wbase + kw * g.dw
                if wi < 0 or wi >= g.W:
                    continue
                src = cols + r * ldcols + (kh * KW + kw) * Cg
                drow = dx + ((n * g.H + hi) * g.W + wi) * C + grp * Cg
                for c in range(Cg):
                    drow[c] += src[c]
        wo += 1
        if wo == g.Wo:
            wo = 0
            ho += 1
            if ho == g.Ho:
                ho = 0
                n += 1
