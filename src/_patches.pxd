# im2col rows and their adjoint (col2im scatter) for a run of output pixels,
# on C-contiguous NHWC (or, 3-D, NDHWC) input. Shared by the forward, backward
# and im2col kernels. A row of cols holds one output pixel's receptive field
# for one group: column ((kd*KH + kh)*KW + kw)*Cg + c (kd = 0 in 2-D); padded
# taps are zero.
from cython cimport floating
from _geometry cimport Geom, Border

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


cdef struct Pixel:
    Py_ssize_t n, d, h, w         # an output pixel: image, depth plane (0 in 2-D), row, column


cdef inline Pixel pixel_at(const Geom* g, Py_ssize_t p) noexcept nogil:
    """Output pixel number p, in (n, d, h, w) order."""
    cdef Pixel px
    px.w = p % g.Wo
    p = p // g.Wo
    px.h = p % g.Ho
    p = p // g.Ho
    px.d = p % g.Do
    px.n = p // g.Do
    return px


cdef inline void next_pixel(const Geom* g, Pixel* px) noexcept nogil:
    """Step px to the next output pixel in (n, d, h, w) order."""
    px.w += 1
    if px.w == g.Wo:
        px.w = 0
        px.h += 1
        if px.h == g.Ho:
            px.h = 0
            px.d += 1
            if px.d == g.Do:
                px.d = 0
                px.n += 1


cdef inline Py_ssize_t input_row(const Geom* g, const Pixel* px, Py_ssize_t di,
                                 Py_ssize_t hi) noexcept nogil:
    """The index of input row (image px.n, plane di, row hi) in (N*D*H) rows of W pixels."""
    return (px.n * g.D + di) * g.H + hi


cdef inline void fill_cols(const floating* x, const Geom* g, Py_ssize_t p0,
                           Py_ssize_t count, Py_ssize_t grp, floating* cols,
                           Py_ssize_t ldcols) noexcept nogil:
    """Write the im2col rows of output pixels p0 .. p0+count-1 (group grp).

    Padded taps are zero, or with g.border the input pixels its maps name."""
    cdef Pixel px = pixel_at(g, p0)
    cdef Py_ssize_t Cg = g.Cg, C = g.C, KW = g.KW
    cdef bint span_copy = (g.dw == 1 and Cg == C)
    cdef const Border* bd = g.border
    cdef Py_ssize_t r, kd, kh, kw, di, hi, wi, dbase, hbase, wbase, lo, hi_kw
    cdef floating* row
    cdef floating* dst
    cdef const floating* xrow
    for r in range(count):
        row = cols + r * ldcols
        dbase = px.d * g.sd - g.pf
        hbase = px.h * g.sh - g.pt
        wbase = px.w * g.sw - g.pl
        for kd in range(g.KD):
          di = dbase + kd * g.dd
          if di < 0 or di >= g.D:
              if bd == NULL:
                  zero_run(row + kd * g.KH * KW * Cg, g.KH * KW * Cg)
                  continue
              di = bd.dmap[di + g.pf]
          for kh in range(g.KH):
            hi = hbase + kh * g.dh
            dst = row + (kd * g.KH + kh) * KW * Cg
            if hi < 0 or hi >= g.H:
                if bd == NULL:
                    zero_run(dst, KW * Cg)
                    continue
                hi = bd.hmap[hi + g.pt]
            xrow = x + input_row(g, &px, di, hi) * g.W * C + grp * Cg
            if span_copy and (bd == NULL or (wbase >= 0 and wbase + KW <= g.W)):
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
                    elif bd != NULL:
                        copy_run(dst + kw * Cg, xrow + bd.wmap[wi + g.pl] * C, Cg)
                    else:
                        zero_run(dst + kw * Cg, Cg)
        next_pixel(g, &px)


cdef inline Py_ssize_t frame_size(const Geom* g) noexcept nogil:
    """Values in the border gradient of a bordered layer (g.border not NULL).
    Per image: the padded planes in front and behind (pf+pbk planes of the
    padded H x W; none in 2-D), then in each input plane the padded rows above
    and below (pt+pb rows of the padded width), then the padded columns
    beside the input's rows (H rows of pl+pr), C channels each, in three
    parts over the whole batch. Its size follows the surface, not the volume."""
    cdef Py_ssize_t Hp = g.pt + g.H + g.border.pb, Wp = g.pl + g.W + g.border.pr
    return g.N * g.C * ((g.pf + g.border.pbk) * Hp * Wp + g.D * (g.pt + g.border.pb) * Wp
                        + g.D * g.H * (g.pl + g.border.pr))


cdef inline floating* frame_plane_cell(floating* frame, const Geom* g, Py_ssize_t n, Py_ssize_t di,
                                       Py_ssize_t hi, Py_ssize_t wi) noexcept nogil:
    """The border gradient of padded plane di (outside [0, D)), padded row hi, column wi, channel 0."""
    cdef Py_ssize_t Hp = g.pt + g.H + g.border.pb, Wp = g.pl + g.W + g.border.pr
    cdef Py_ssize_t fp = di + g.pf if di < 0 else g.pf + di - g.D
    return frame + (((n * (g.pf + g.border.pbk) + fp) * Hp + hi + g.pt) * Wp + wi + g.pl) * g.C


cdef inline floating* frame_row_cell(floating* frame, const Geom* g, Py_ssize_t n, Py_ssize_t di,
                                     Py_ssize_t hi, Py_ssize_t wi) noexcept nogil:
    """The border gradient of input plane di, padded row hi (outside [0, H)), column wi, channel 0."""
    cdef Py_ssize_t Hp = g.pt + g.H + g.border.pb, Wp = g.pl + g.W + g.border.pr
    cdef Py_ssize_t fr = hi + g.pt if hi < 0 else g.pt + hi - g.H
    cdef Py_ssize_t planes = g.N * (g.pf + g.border.pbk) * Hp * Wp * g.C
    return frame + planes + (((n * g.D + di) * (g.pt + g.border.pb) + fr) * Wp + wi + g.pl) * g.C


cdef inline floating* frame_col_cell(floating* frame, const Geom* g, Py_ssize_t n, Py_ssize_t di,
                                     Py_ssize_t hi, Py_ssize_t wi) noexcept nogil:
    """The border gradient of input plane di, row hi, padded column wi (outside [0, W)), channel 0."""
    cdef Py_ssize_t Hp = g.pt + g.H + g.border.pb, Wp = g.pl + g.W + g.border.pr
    cdef Py_ssize_t side = g.pl + g.border.pr
    cdef Py_ssize_t fc = wi + g.pl if wi < 0 else g.pl + wi - g.W
    cdef Py_ssize_t planes = g.N * (g.pf + g.border.pbk) * Hp * Wp * g.C
    cdef Py_ssize_t rows = g.N * g.D * (g.pt + g.border.pb) * Wp * g.C
    return frame + planes + rows + (((n * g.D + di) * g.H + hi) * side + fc) * g.C


cdef inline void fold_frame(floating* frame, floating* dx, const Geom* g,
                            Py_ssize_t n) noexcept nogil:
    """Add image n's border gradient onto the input samples the border maps
    name (only image n's samples are written)."""
    cdef const Border* bd = g.border
    cdef Py_ssize_t C = g.C, Hp = g.pt + g.H + bd.pb, Wp = g.pl + g.W + bd.pr
    cdef Py_ssize_t f, i, j, h, d, dp, hp, wp, src
    for f in range(g.pf + bd.pbk):
        dp = f - g.pf if f < g.pf else g.D + f - g.pf      # a padded plane
        for i in range(Hp):
            for j in range(Wp):
                src = ((n * g.D + bd.dmap[dp + g.pf]) * g.H + bd.hmap[i]) * g.W + bd.wmap[j]
                add_run(dx + src * C, frame_plane_cell(frame, g, n, dp, i - g.pt, j - g.pl), C)
    for d in range(g.D):
        for i in range(g.pt + bd.pb):
            hp = i - g.pt if i < g.pt else g.H + i - g.pt  # a padded row
            for j in range(Wp):
                src = ((n * g.D + d) * g.H + bd.hmap[hp + g.pt]) * g.W + bd.wmap[j]
                add_run(dx + src * C, frame_row_cell(frame, g, n, d, hp, j - g.pl), C)
        for h in range(g.H):
            for j in range(g.pl + bd.pr):
                wp = j - g.pl if j < g.pl else g.W + j - g.pl  # a padded column
                src = ((n * g.D + d) * g.H + h) * g.W + bd.wmap[wp + g.pl]
                add_run(dx + src * C, frame_col_cell(frame, g, n, d, h, wp), C)


cdef inline void scatter_cols(const floating* cols, Py_ssize_t ldcols,
                              const Geom* g, Py_ssize_t p0, Py_ssize_t count,
                              Py_ssize_t grp, floating* dx, floating* frame) noexcept nogil:
    """Add the rows of cols for output pixels p0 .. p0+count-1 into dx (NHWC).

    Padded taps are dropped, or with a ``frame`` (a bordered layer, see
    frame_size) added to its cells, which fold_frame later adds onto the
    pixels the border maps name. The caller guarantees no other thread
    writes the input rows (or padded rows) these pixels touch at the same time.
    """
    cdef Pixel px = pixel_at(g, p0)
    cdef Py_ssize_t Cg = g.Cg, C = g.C, KW = g.KW
    cdef bint span_add = (g.dw == 1 and Cg == C)
    cdef Py_ssize_t r, kd, kh, kw, di, hi, wi, dbase, hbase, wbase, lo, hi_kw
    cdef const floating* src
    cdef floating* drow
    for r in range(count):
        dbase = px.d * g.sd - g.pf
        hbase = px.h * g.sh - g.pt
        wbase = px.w * g.sw - g.pl
        for kd in range(g.KD):
          di = dbase + kd * g.dd
          if di < 0 or di >= g.D:
              if frame == NULL:
                  continue
              for kh in range(g.KH):
                  src = cols + r * ldcols + (kd * g.KH + kh) * KW * Cg
                  drow = frame_plane_cell(frame, g, px.n, di, hbase + kh * g.dh, wbase) + grp * Cg
                  if span_add:
                      add_run(drow, src, KW * C)
                  else:
                      for kw in range(KW):
                          add_run(drow + kw * g.dw * C, src + kw * Cg, Cg)
              continue
          for kh in range(g.KH):
            hi = hbase + kh * g.dh
            src = cols + r * ldcols + (kd * g.KH + kh) * KW * Cg
            if hi < 0 or hi >= g.H:
                if frame == NULL:
                    continue
                drow = frame_row_cell(frame, g, px.n, di, hi, wbase) + grp * Cg
                if span_add:
                    add_run(drow, src, KW * C)
                else:
                    for kw in range(KW):
                        add_run(drow + kw * g.dw * C, src + kw * Cg, Cg)
                continue
            if span_add and (frame == NULL or (wbase >= 0 and wbase + KW <= g.W)):
                # As in fill_cols: a kernel row's taps of all channels are one run.
                lo = 0 if wbase >= 0 else min(-wbase, KW)
                hi_kw = min(KW, g.W - wbase) if g.W - wbase > 0 else 0
                if hi_kw > lo:
                    add_run(dx + (input_row(g, &px, di, hi) * g.W + wbase + lo) * C, src + lo * C,
                            (hi_kw - lo) * C)
                continue
            for kw in range(KW):
                wi = wbase + kw * g.dw
                if 0 <= wi < g.W:
                    drow = dx + (input_row(g, &px, di, hi) * g.W + wi) * C + grp * Cg
                elif frame != NULL:
                    drow = frame_col_cell(frame, g, px.n, di, hi, wi) + grp * Cg
                else:
                    continue
                add_run(drow, src + kw * Cg, Cg)
        next_pixel(g, &px)
