# im2col rows and their adjoint (col2im scatter) for a run of output pixels,
# on C-contiguous NHWC input. Shared by the forward, backward and im2col kernels.
# A row of cols holds one output pixel's receptive field for one group:
# column (kh*KW + kw)*Cg + c; padded taps are zero.
from cython cimport floating
from _geometry cimport Geom

cdef extern from "_copy_run.h" nogil:
    void cconv_copy_run(void* dst, const void* src, size_t nbytes)
    void cconv_zero_run(void* dst, size_t nbytes)
    void cconv_add_run_f(float* dst, const float* src, size_t n)
    void cconv_add_run_d(double* dst, const double* src, size_t n)


cdef inline void copy_run(floating* dst, const floating* src, Py_ssize_t n) noexcept nogil:
    """dst[:n] = src[:n]; short runs by inlined moves, long ones by memcpy."""
    cconv_copy_run(dst, src, n * sizeof(floating))


cdef inline void zero_run(floating* dst, Py_ssize_t n) noexcept nogil:
    """dst[:n] = 0; short runs by inlined moves, long ones by memset."""
    cconv_zero_run(dst, n * sizeof(floating))


cdef inline void add_run(floating* dst, const floating* src, Py_ssize_t n) noexcept nogil:
    """dst[:n] += src[:n] (vectorised)."""
    if floating is float:
        cconv_add_run_f(dst, src, n)
    else:
        cconv_add_run_d(dst, src, n)


cdef inline void next_pixel(const Geom* g, Py_ssize_t* n, Py_ssize_t* ho,
                            Py_ssize_t* wo) noexcept nogil:
    """Step (n, ho, wo) to the next output pixel in NHWC order."""
    wo[0] += 1
    if wo[0] == g.Wo:
        wo[0] = 0
        ho[0] += 1
        if ho[0] == g.Ho:
            ho[0] = 0
            n[0] += 1


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
    for r in range(count):
        row = cols + r * ldcols
        hbase = ho * g.sh - g.pt
        wbase = wo * g.sw - g.pl
        for kh in range(g.KH):
            hi = hbase + kh * g.dh
            dst = row + kh * KW * Cg
            if hi < 0 or hi >= g.H:
                zero_run(dst, KW * Cg)
                continue
            xrow = x + ((n * g.H + hi) * g.W) * C + grp * Cg
            if span_copy:
                # Stride-1 taps of all channels are one contiguous run in NHWC.
                lo = 0 if wbase >= 0 else min(-wbase, KW)
                hi_kw = min(KW, g.W - wbase) if g.W - wbase > 0 else 0
                if hi_kw < lo:
                    hi_kw = lo
                if lo > 0:
                    zero_run(dst, lo * C)
                if hi_kw > lo:
                    copy_run(dst + lo * C, xrow + (wbase + lo) * C, (hi_kw - lo) * C)
                if hi_kw < KW:
                    zero_run(dst + hi_kw * C, (KW - hi_kw) * C)
            else:
                for kw in range(KW):
                    wi = wbase + kw * g.dw
                    if 0 <= wi < g.W:
                        copy_run(dst + kw * Cg, xrow + wi * C, Cg)
                    else:
                        zero_run(dst + kw * Cg, Cg)
        next_pixel(g, &n, &ho, &wo)


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
    cdef bint span_add = (g.dw == 1 and Cg == C)
    cdef Py_ssize_t r, kh, kw, hi, wi, hbase, wbase, lo, hi_kw
    cdef const floating* src
    cdef floating* drow
    for r in range(count):
        hbase = ho * g.sh - g.pt
        wbase = wo * g.sw - g.pl
        for kh in range(g.KH):
            hi = hbase + kh * g.dh
            if hi < 0 or hi >= g.H:
                continue
            if span_add:
                # As in fill_cols: a kernel row's taps of all channels are one run.
                lo = 0 if wbase >= 0 else min(-wbase, KW)
                hi_kw = min(KW, g.W - wbase) if g.W - wbase > 0 else 0
                if hi_kw > lo:
                    add_run(dx + ((n * g.H + hi) * g.W + wbase + lo) * C,
                            cols + r * ldcols + (kh * KW + lo) * C, (hi_kw - lo) * C)
                continue
            for kw in range(KW):
                wi = wbase + kw * g.dw
                if wi < 0 or wi >= g.W:
                    continue
                src = cols + r * ldcols + (kh * KW + kw) * Cg
                drow = dx + ((n * g.H + hi) * g.W + wi) * C + grp * Cg
                add_run(drow, src, Cg)
        next_pixel(g, &n, &ho, &wo)
