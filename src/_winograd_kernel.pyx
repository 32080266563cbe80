"""Winograd F(m x m, 3 x 3) forward convolution, NHWC input, HWIO weight,
stride 1, dilation 1, any padding and groups (m = 2 or 4).

The weight is transformed once (U = G g G^T, in double), each of the
alpha^2 transform positions (alpha = m + 2) written straight into the packed
B-operand layout of cconv's GEMM, shared by all threads. Each thread then takes blocks of
output tiles: it transforms the input patches of the block (V = B^T d B,
src/kernels/winograd/transforms.h), multiplies V_xi @ U_xi for every position xi and
group, and transforms the products back into output pixels (A^T M A, bias
fused, clipped at the image edge). Validation lives in cconv._winograd.

The weight gradient (``winograd_grad_weight``) runs the same input transform
and the transpose of the output transform on the output gradient, and
accumulates their products per transform position (see transforms.h).
"""
from cython cimport floating
from cython.parallel cimport parallel, prange, threadid
from _kernel_row cimport cck_row, active_row, ccwg_geom, ccwg_pack, CCWG_ALL_ROWS
from _gemm cimport packb_size, abuf_size, panel_width, pack_b, gemm_packed

import numpy as np

cdef extern from "_work_queue.h" nogil:
    Py_ssize_t ccq_take(Py_ssize_t* next)


# The kernel table's row, fetched once (src/_kernel_row.pxd).
cdef const cck_row* ROW = active_row()


cdef inline void weight_panel(const cck_row* k, int m, const floating* w, const ccwg_pack* pk,
                              Py_ssize_t grp, Py_ssize_t jr, floating* Bp) noexcept nogil:
    if floating is float:
        k.s.wg_weight_panel(m, w, pk, grp, jr, Bp)
    else:
        k.d.wg_weight_panel(m, w, pk, grp, jr, Bp)


cdef inline void input_tiles(const cck_row* k, int m, int half, const floating* x, const ccwg_geom* g,
                             const floating* zeros, Py_ssize_t t0, Py_ssize_t cnt, floating* V,
                             Py_ssize_t vs) noexcept nogil:
    if floating is float:
        k.s.wg_input(m, half, x, g, zeros, t0, cnt, V, vs)
    else:
        k.d.wg_input(m, half, x, g, zeros, t0, cnt, V, vs)


cdef inline void output_tiles(const cck_row* k, int m, const floating* M, Py_ssize_t ms,
                              const floating* bias, floating* y, const ccwg_geom* g,
                              Py_ssize_t t0, Py_ssize_t cnt) noexcept nogil:
    if floating is float:
        k.s.wg_output(m, M, ms, bias, y, g, t0, cnt)
    else:
        k.d.wg_output(m, M, ms, bias, y, g, t0, cnt)


cdef inline void grad_output_tiles(const cck_row* k, int m, int half, const floating* dy,
                                   const ccwg_geom* g, const floating* zeros, Py_ssize_t t0,
                                   Py_ssize_t cnt, floating* E, Py_ssize_t es) noexcept nogil:
    if floating is float:
        k.s.wg_grad_output(m, half, dy, g, zeros, t0, cnt, E, es)
    else:
        k.d.wg_grad_output(m, half, dy, g, zeros, t0, cnt, E, es)


cdef inline Py_ssize_t take_task(Py_ssize_t* queues, Py_ssize_t home, Py_ssize_t per_half) noexcept nogil:
    """The next task for a thread whose home half is ``home``: from the queue
    of its own half (queues[home]) while there is one, then from the other
    half's; as half * per_half + index, or -1 when both are drained."""
    cdef Py_ssize_t r, h, i
    for r in range(2):
        h = home ^ r
        i = ccq_take(&queues[h])
        if i < per_half:
            return h * per_half + i
    return -1


cdef inline ccwg_geom tile_geom(Py_ssize_t N, Py_ssize_t H, Py_ssize_t W, Py_ssize_t C,
                               Py_ssize_t Ho, Py_ssize_t Wo, Py_ssize_t O, int m,
                               Py_ssize_t pt, Py_ssize_t pl) noexcept:
    """The transforms' view of one call: input N x H x W x C, output (or
    output gradient) N x Ho x Wo x O, tiled by m x m from (-pt, -pl)."""
    cdef ccwg_geom g
    g.N = N; g.H = H; g.W = W; g.C = C
    g.O = O; g.Ho = Ho; g.Wo = Wo
    g.pt = pt; g.pl = pl
    g.tiles_h = (Ho + m - 1) // m
    g.tiles_w = (Wo + m - 1) // m
    return g


def winograd_forward(const floating[:, :, :, ::1] x,    # IN  (N, H, W, C)
                     const floating[:, :, :, ::1] w,    # IN  (3, 3, C//groups, O)
                     const floating[::1] bias,          # IN  (O,) or None
                     floating[:, :, :, ::1] y,          # OUT (N, Ho, Wo, O)
                     int m, Py_ssize_t pt, Py_ssize_t pl,
                     Py_ssize_t tiles_per_block, int n_threads):
    """y = conv(x, w) + bias by F(m x m, 3 x 3); ``pt``/``pl`` are the top and
    left padding (negative crops); y's shape gives the output size.
    ``tiles_per_block`` output tiles share one pass of the GEMMs."""
    cdef ccwg_geom g = tile_geom(x.shape[0], x.shape[1], x.shape[2], x.shape[3],
                                 y.shape[1], y.shape[2], y.shape[3], m, pt, pl)
    cdef Py_ssize_t Cg = w.shape[2]
    cdef Py_ssize_t groups = g.C // Cg if Cg > 0 else 1
    cdef Py_ssize_t Og = g.O // groups
    cdef Py_ssize_t alpha = m + 2
    cdef Py_ssize_t A2 = alpha * alpha
    cdef Py_ssize_t n_tiles = g.N * g.tiles_h * g.tiles_w
    if n_tiles == 0 or g.O == 0:
        return
    cdef const cck_row* k = ROW
    cdef floating* tag = NULL
    cdef Py_ssize_t T = max(1, min(tiles_per_block, n_tiles))
    cdef Py_ssize_t n_blocks = (n_tiles + T - 1) // T
    cdef Py_ssize_t bsize = packb_size(k, tag, Cg, Og)
    cdef Py_ssize_t asize = abuf_size(k, tag, Cg)
    cdef Py_ssize_t vsize = A2 * T * g.C
    cdef Py_ssize_t msize = A2 * T * g.O
    dtype = np.float32 if floating is float else np.float64
    cdef ccwg_pack pk
    pk.Cg = Cg; pk.O = g.O; pk.Og = Og; pk.groups = groups; pk.bsize = bsize
    cdef Py_ssize_t nr = panel_width(k, tag)      # the GEMM's NR, from the same row
    cdef Py_ssize_t panels = (Og + nr - 1) // nr
    packed_array = np.empty(max(A2 * groups * bsize, 1), dtype=dtype)
    zeros_array = np.zeros(max(g.C, 1), dtype=dtype)
    cdef int work_threads = <int>min(n_threads, n_blocks)
    work_array = np.empty((work_threads, vsize + msize + asize), dtype=dtype)
    cdef floating[::1] packed = packed_array
    cdef floating[::1] zeros = zeros_array
    cdef floating[:, ::1] work = work_array
    cdef const floating* xp = &x[0, 0, 0, 0] if x.size else &zeros[0]
    cdef const floating* wp = &w[0, 0, 0, 0] if w.size else NULL
    cdef const floating* bp = &bias[0] if bias is not None else NULL
    cdef floating* yp = &y[0, 0, 0, 0]
    cdef floating* Bp = &packed[0]
    cdef const floating* zp = &zeros[0]
    cdef Py_ssize_t q, xi, grp, blk, t0, cnt
    cdef floating* V
    cdef floating* Mb
    cdef floating* abuf
    cdef ccwg_geom* gp = &g
    with nogil:
        if Cg > 0:
            # As many threads as panels: a thread with nothing to do would still
            # have to be scheduled to pass the region's barrier.
            for q in prange(groups * panels, schedule='dynamic',
                            num_threads=<int>min(n_threads, groups * panels)):
                weight_panel(k, m, wp, &pk, q // panels, q % panels, Bp)
        with parallel(num_threads=work_threads):
            V = &work[threadid(), 0]
            Mb = V + vsize
            abuf = Mb + msize
            for blk in prange(n_blocks, schedule='dynamic'):
                t0 = blk * T
                cnt = min(T, n_tiles - t0)
                input_tiles(k, m, CCWG_ALL_ROWS, xp, gp, zp, t0, cnt, V, T * g.C)
                for q in range(A2 * groups):
                    xi = q // groups
                    grp = q % groups
                    gemm_packed(k, cnt, Og, Cg, V + xi * T * g.C + grp * Cg, g.C, 1,
                                Bp + q * bsize, Mb + xi * T * g.O + grp * Og, g.O,
                                False, NULL, abuf)
                output_tiles(k, m, Mb, T * g.O, bp, yp, gp, t0, cnt)


cdef enum:
    # Output slices per block of the 3-D passes, at most.
    DEPTH_RUN_MAX = 8
    # The GEMM's micro-tile rows that its row count should be a multiple of.
    TILE_ROWS = 6


cdef inline void depth_run(Py_ssize_t budget, Py_ssize_t C, Py_ssize_t O, Py_ssize_t KD,
                           Py_ssize_t per_slice, Py_ssize_t Do, Py_ssize_t* S,
                           Py_ssize_t* band) noexcept nogil:
    """The blocks of the 3-D Winograd passes: S output slices by a band of
    ``band`` consecutive tiles of each, so S * band rows per product and
    (S + KD - 1) * band input patches, of C values each (times alpha^2), and
    S * band products (or output-gradient tiles) of O; the two within
    ``budget`` values (times alpha^2), so the working memory does not grow
    with the slice size. Larger S transforms each patch fewer times
    ((S + KD - 1) / S), and more rows per block stream each tap's
    transformed weight over more tiles: the largest S, then the widest
    band; whole slices where they fit, else a band of a multiple of
    TILE_ROWS / S' rows (a ragged micro-tile is packed each call)."""
    cdef Py_ssize_t s, bt, b2
    S[0] = max(1, min(<Py_ssize_t>DEPTH_RUN_MAX, Do))
    for s in range(S[0], 0, -1):
        bt = budget // max((s + KD - 1) * C + s * O, 1)
        if bt >= 1 or s == 1:
            S[0] = s
            break
    s = S[0]
    bt = max(1, budget // max((s + KD - 1) * C + s * O, 1))
    if bt >= per_slice:
        band[0] = per_slice
        return
    for b2 in range(bt, max(bt - TILE_ROWS, 0), -1):
        if s * b2 % TILE_ROWS == 0:
            band[0] = b2
            return
    band[0] = bt


cdef inline void input_slice_tiles(const cck_row* k, int m, int half, const floating* x,
                                   const ccwg_geom* g, const floating* zeros, Py_ssize_t D,
                                   Py_ssize_t n, Py_ssize_t di, Py_ssize_t ts, Py_ssize_t cnt,
                                   floating* V, Py_ssize_t vs) noexcept nogil:
    """V for tiles ts .. ts+cnt-1 of input slice di of batch entry n (slices of
    g.H x g.W x g.C, D per entry), the positions of ``half`` (CCWG_ALL_ROWS,
    0 or 1: transforms.h): zero rows for a slice beyond the depth padding."""
    cdef Py_ssize_t xi, e
    cdef Py_ssize_t alpha = m + 2
    cdef Py_ssize_t xi0 = 0 if half < 0 else half * (alpha // 2) * alpha
    cdef Py_ssize_t xi1 = alpha * alpha if half < 0 else xi0 + (alpha // 2) * alpha
    cdef floating* row
    if 0 <= di < D:
        input_tiles(k, m, half, x + (n * D + di) * g.H * g.W * g.C, g, zeros, ts, cnt, V, vs)
    else:
        for xi in range(xi0, xi1):
            row = V + xi * vs
            for e in range(cnt * g.C):
                row[e] = 0


def winograd_forward3d(const floating[:, :, :, :, ::1] x,    # IN  (N, D, H, W, C)
                       const floating[:, :, :, :, ::1] w,    # IN  (KD, 3, 3, C//groups, O)
                       const floating[::1] bias,             # IN  (O,) or None
                       floating[:, :, :, :, ::1] y,          # OUT (N, Do, Ho, Wo, O)
                       int m, Py_ssize_t pf, Py_ssize_t pt, Py_ssize_t pl,
                       Py_ssize_t tiles_per_block, int n_threads):
    """y = conv3d(x, w) + bias for a KD x 3 x 3 kernel, stride 1, dilation 1:
    F(m x m, 3 x 3) over (H, W), the depth taps summed directly.

    Output slice do is the sum over kd of the 2-D convolutions of input slice
    do - pf + kd with w[kd]. The sum runs in the transform domain: for each
    block of output tiles and each depth tap, the input patches of the slice
    the tap reads are transformed (V) and multiplied by that tap's
    transformed weight, accumulating into one M per block (the GEMM's beta),
    and the output transform runs once per block. ``pf``/``pt``/``pl`` are
    the front, top and left padding (negative crops); y's shape gives the
    output size. The blocks run as in winograd_forward.

    A block is a band of tiles in S consecutive output slices of one batch
    entry (depth_run): the same band of the S + KD - 1 input slices they read
    is transformed once each, and tap kd's product reads those patches
    shifted by kd slices, so a patch is transformed (S + KD - 1) / S times
    instead of KD times."""
    cdef Py_ssize_t N = x.shape[0], D = x.shape[1], Do = y.shape[1], KD = w.shape[0]
    cdef ccwg_geom g = tile_geom(N * Do, x.shape[2], x.shape[3], x.shape[4],
                                 y.shape[2], y.shape[3], y.shape[4], m, pt, pl)
    cdef Py_ssize_t Cg = w.shape[3]
    cdef Py_ssize_t groups = g.C // Cg if Cg > 0 else 1
    cdef Py_ssize_t Og = g.O // groups
    cdef Py_ssize_t alpha = m + 2
    cdef Py_ssize_t A2 = alpha * alpha
    cdef Py_ssize_t n_tiles = g.N * g.tiles_h * g.tiles_w
    if n_tiles == 0 or g.O == 0:
        return
    cdef const cck_row* k = ROW
    cdef floating* tag = NULL
    cdef Py_ssize_t T = max(1, tiles_per_block)
    cdef Py_ssize_t per_slice = g.tiles_h * g.tiles_w
    cdef Py_ssize_t S = 0, band = 1
    # V and M within 1.5x those of T tiles, which tiles_per_block sized for C + O.
    depth_run(T * (g.C + g.O) * 3 // 2, g.C, g.O, KD, per_slice, Do, &S, &band)
    cdef Py_ssize_t bands = (per_slice + band - 1) // band
    cdef Py_ssize_t runs = (Do + S - 1) // S
    cdef Py_ssize_t n_blocks = N * runs * bands
    cdef Py_ssize_t vrows = (S + KD - 1) * band
    cdef Py_ssize_t mrows = S * band
    cdef Py_ssize_t bsize = packb_size(k, tag, Cg, Og)
    cdef Py_ssize_t asize = abuf_size(k, tag, Cg)
    cdef Py_ssize_t vsize = A2 * vrows * g.C
    cdef Py_ssize_t msize = A2 * mrows * g.O
    cdef Py_ssize_t tap_size = A2 * groups * bsize      # one depth tap's transformed weight
    dtype = np.float32 if floating is float else np.float64
    cdef ccwg_pack pk
    pk.Cg = Cg; pk.O = g.O; pk.Og = Og; pk.groups = groups; pk.bsize = bsize
    cdef Py_ssize_t nr = panel_width(k, tag)
    cdef Py_ssize_t panels = (Og + nr - 1) // nr
    packed_array = np.empty(max(KD * tap_size, 1), dtype=dtype)
    zeros_array = np.zeros(max(g.C, 1), dtype=dtype)
    cdef int work_threads = <int>min(n_threads, n_blocks)
    work_array = np.empty((work_threads, vsize + msize + asize), dtype=dtype)
    cdef floating[::1] packed = packed_array
    cdef floating[::1] zeros = zeros_array
    cdef floating[:, ::1] work = work_array
    cdef const floating* xp = &x[0, 0, 0, 0, 0] if x.size else &zeros[0]
    cdef const floating* wp = &w[0, 0, 0, 0, 0] if w.size else NULL
    cdef const floating* bp = &bias[0] if bias is not None else NULL
    cdef floating* yp = &y[0, 0, 0, 0, 0]
    cdef floating* Bp = &packed[0]
    cdef const floating* zp = &zeros[0]
    cdef Py_ssize_t q, r, xi, grp, blk, cnt, kd, e, n, do0, ns, j, lo, bt, band_t0
    cdef bint first
    cdef floating* V
    cdef floating* Mb
    cdef floating* abuf
    cdef floating* row
    cdef ccwg_geom* gp = &g
    with nogil:
        if Cg > 0:
            for q in prange(KD * groups * panels, schedule='dynamic',
                            num_threads=<int>min(n_threads, KD * groups * panels)):
                kd = q // (groups * panels)
                r = q % (groups * panels)
                weight_panel(k, m, wp + kd * 9 * Cg * g.O, &pk, r // panels, r % panels, Bp + kd * tap_size)
        with parallel(num_threads=work_threads):
            V = &work[threadid(), 0]
            Mb = V + vsize
            abuf = Mb + msize
            for blk in prange(n_blocks, schedule='dynamic'):
                n = blk // (runs * bands)
                do0 = (blk // bands) % runs * S
                ns = min(S, Do - do0)
                band_t0 = blk % bands * band                # the band's first tile in a slice
                bt = min(band, per_slice - band_t0)
                cnt = ns * bt
                # Rows of V: the band of input slices do0 - pf .. do0 - pf + ns + KD - 2, bt each.
                if Cg > 0:
                    for j in range(ns + KD - 1):
                        input_slice_tiles(k, m, CCWG_ALL_ROWS, xp, gp, zp, D, n, do0 - pf + j, band_t0, bt,
                                          V + j * bt * g.C, vrows * g.C)
                first = True
                for kd in range(KD):
                    lo = do0 - pf + kd              # the input slices tap kd reads: lo .. lo+ns-1
                    if Cg == 0 or lo + ns <= 0 or lo >= D:
                        continue
                    for q in range(A2 * groups):
                        xi = q // groups
                        grp = q % groups
                        gemm_packed(k, cnt, Og, Cg, V + (kd * bt + xi * vrows) * g.C + grp * Cg, g.C, 1,
                                    Bp + kd * tap_size + q * bsize, Mb + xi * mrows * g.O + grp * Og, g.O,
                                    not first, NULL, abuf)
                    first = False
                if first:                   # no tap reaches the input: only the bias
                    for xi in range(A2):
                        row = Mb + xi * mrows * g.O
                        for e in range(cnt * g.O):
                            row[e] = 0
                for j in range(ns):
                    output_tiles(k, m, Mb + j * bt * g.O, mrows * g.O, bp, yp, gp,
                                 (n * Do + do0 + j) * per_slice + band_t0, bt)


# G^T of F(2x2, 3x3) and F(4x4, 3x3), rows of 6 (F(2x2) uses the first 4).
cdef double G_T2[3][6]
cdef double G_T4[3][6]
G_T2[:] = [[1.0, 0.5, 0.5, 0.0, 0.0, 0.0],
           [0.0, 0.5, -0.5, 0.0, 0.0, 0.0],
           [0.0, 0.5, 0.5, 1.0, 0.0, 0.0]]
G_T4[:] = [[1.0 / 4, -1.0 / 6, -1.0 / 6, 1.0 / 24, 1.0 / 24, 0.0],
           [0.0, -1.0 / 6, 1.0 / 6, 1.0 / 12, -1.0 / 12, 0.0],
           [0.0, -1.0 / 6, -1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0]]

cdef enum:
    # Elements of M's (c, o) plane one task of the last transform takes.
    FINAL_CHUNK = 256


# Tiles one task of the transform phase takes (handed out dynamically).
cdef enum:
    TRANSFORM_CHUNK = 4


cdef inline void final_chunk(const floating* Mp, floating* dwp, Py_ssize_t plane, Py_ssize_t alpha,
                             const double* gt, Py_ssize_t ch, double* rows) noexcept nogil:
    """dw = G^T M G for elements [ch * FINAL_CHUNK, ...) of the (c, o) plane,
    in double: rows first (3 x alpha), then columns. ``rows`` is scratch of
    (3 * 6 + 1) * FINAL_CHUNK doubles."""
    cdef double* acc = rows + 3 * 6 * FINAL_CHUNK
    cdef Py_ssize_t j0 = ch * FINAL_CHUNK
    cdef Py_ssize_t n = min(<Py_ssize_t>FINAL_CHUNK, plane - j0)
    cdef Py_ssize_t a, b, kh, kw, j
    cdef double coef
    for kh in range(3):
        for b in range(alpha):
            for j in range(n):
                acc[j] = 0
            for a in range(alpha):
                coef = gt[kh * 6 + a]
                if coef != 0:
                    for j in range(n):
                        acc[j] += coef * Mp[(a * alpha + b) * plane + j0 + j]
            for j in range(n):
                rows[(kh * 6 + b) * FINAL_CHUNK + j] = acc[j]
    for kh in range(3):
        for kw in range(3):
            for j in range(n):
                acc[j] = 0
            for b in range(alpha):
                coef = gt[kw * 6 + b]
                if coef != 0:
                    for j in range(n):
                        acc[j] += coef * rows[(kh * 6 + b) * FINAL_CHUNK + j]
            for j in range(n):
                dwp[(kh * 3 + kw) * plane + j0 + j] = <floating>acc[j]


def winograd_grad_weight(const floating[:, :, :, ::1] x,    # IN  (N, H, W, C)
                         const floating[:, :, :, ::1] dy,   # IN  (N, Ho, Wo, O)
                         floating[:, :, ::1] M,             # SCRATCH (alpha^2, C//groups, O), zeroed
                         floating[:, :, :, ::1] dw,         # OUT (3, 3, C//groups, O)
                         floating[::1] db,                  # OUT (O,) zeroed, or None
                         int m, Py_ssize_t pt, Py_ssize_t pl,
                         Py_ssize_t tiles_per_block, int n_threads):
    """dw = G^T M G with M[xi] = sum over output tiles t of V[xi][t]^T
    E[xi][t] (per group); ``db`` (if given) gets the bias gradient.

    Blocks of ``tiles_per_block`` tiles are done one after the other, by all
    threads together: first their transforms (V from x, E from dy, in small
    chunks), then one GEMM task per transform position and group, each of
    which owns its slice of M. Every element of M is so summed in the same
    order whatever the thread count, with no partial sums. The last transform
    (in double, on chunks of the (c, o) plane) runs in the same parallel
    region: under a contended core each region costs a wake-up.

    The work of a block is split into two halves of the positions (rows
    i < alpha/2 and i >= alpha/2: transforms.h), each a queue of transform
    chunks and then of GEMM tasks. Even threads drain half 0's queue first,
    odd threads half 1's, and only then help with the other's: so each half of
    V and E is normally written and then multiplied by the same thread, in its
    own core's cache. When any thread wrote any tile (one shared queue, as
    before), half of what a GEMM read came from the other core's cache:
    measured on 2 cores of a Sapphire Rapids class Xeon, the halves take
    0.70-0.93x the time of one shared queue on 2 threads (ResNet-like 3x3
    layers, 8x8 to 56x56), 0.87-1.09x on 1 thread (which loads each input
    patch twice, once per half).
    """
    cdef ccwg_geom g = tile_geom(x.shape[0], x.shape[1], x.shape[2], x.shape[3],
                                 dy.shape[1], dy.shape[2], dy.shape[3], m, pt, pl)
    cdef Py_ssize_t Cg = M.shape[1]
    cdef Py_ssize_t groups = g.C // Cg if Cg > 0 else 1
    cdef Py_ssize_t Og = g.O // groups
    cdef Py_ssize_t alpha = m + 2
    cdef Py_ssize_t A2 = alpha * alpha
    cdef Py_ssize_t n_tiles = g.N * g.tiles_h * g.tiles_w
    if n_tiles == 0 or g.O == 0 or Cg == 0:
        dw[...] = 0
        return
    cdef const cck_row* k = ROW
    cdef floating* tag = NULL
    cdef Py_ssize_t T = max(1, min(tiles_per_block, n_tiles))
    cdef Py_ssize_t n_blocks = (n_tiles + T - 1) // T
    cdef Py_ssize_t vsize = A2 * T * g.C
    cdef Py_ssize_t esize = A2 * T * g.O
    cdef Py_ssize_t bsize = packb_size(k, tag, T, Og)
    cdef Py_ssize_t asize = abuf_size(k, tag, T)
    dtype = np.float32 if floating is float else np.float64
    shared_array = np.empty(vsize + esize, dtype=dtype)
    zeros_array = np.zeros(max(g.C, g.O, 1), dtype=dtype)
    work_array = np.empty((n_threads, bsize + asize), dtype=dtype)
    cdef Py_ssize_t plane = Cg * g.O
    cdef Py_ssize_t n_chunks = (plane + FINAL_CHUNK - 1) // FINAL_CHUNK
    final_array = np.empty((n_threads, (3 * 6 + 1) * FINAL_CHUNK), dtype=np.float64)
    cdef double[:, ::1] final_work = final_array
    cdef const double* gt = &G_T2[0][0] if m == 2 else &G_T4[0][0]
    cdef floating* dwp = &dw[0, 0, 0, 0]
    cdef Py_ssize_t ch
    cdef floating[::1] shared = shared_array
    cdef floating[::1] zeros = zeros_array
    cdef floating[:, ::1] work = work_array
    cdef const floating* xp = &x[0, 0, 0, 0]
    cdef const floating* dyp = &dy[0, 0, 0, 0]
    cdef floating* Mp = &M[0, 0, 0]
    cdef floating* dbp = &db[0] if db is not None else NULL
    cdef const floating* zp = &zeros[0]
    cdef floating* V = &shared[0]
    cdef floating* E = V + vsize
    cdef Py_ssize_t sum_xi = alpha + 1          # E there is the tile's pixel sum
    cdef Py_ssize_t half_xi = alpha // 2 * alpha  # positions per half
    cdef Py_ssize_t half_tasks = half_xi * groups
    # queues[blk, stage, half]: the next transform chunk (stage 0) or GEMM
    # task (stage 1) of that half of block blk (take_task).
    queues_array = np.zeros((n_blocks, 2, 2), dtype=np.intp)
    cdef Py_ssize_t[:, :, ::1] queues = queues_array
    cdef Py_ssize_t blk, t0, cnt, n_tchunks, thr, task, half, c0, cc, xi, grp, t, o
    cdef floating* bpack
    cdef floating* abuf
    cdef const floating* erow
    cdef ccwg_geom* gp = &g
    with nogil, parallel(num_threads=n_threads):
        bpack = &work[threadid(), 0]
        abuf = bpack + bsize
        for blk in range(n_blocks):
            t0 = blk * T
            cnt = min(T, n_tiles - t0)
            n_tchunks = (cnt + TRANSFORM_CHUNK - 1) // TRANSFORM_CHUNK
            for thr in prange(n_threads, schedule='static', chunksize=1):
                task = take_task(&queues[blk, 0, 0], thr % 2, n_tchunks)
                while task >= 0:
                    half = task // n_tchunks
                    c0 = task % n_tchunks * TRANSFORM_CHUNK
                    cc = min(<Py_ssize_t>TRANSFORM_CHUNK, cnt - c0)
                    input_tiles(k, m, <int>half, xp, gp, zp, t0 + c0, cc, V + c0 * g.C, T * g.C)
                    grad_output_tiles(k, m, <int>half, dyp, gp, zp, t0 + c0, cc, E + c0 * g.O, T * g.O)
                    task = take_task(&queues[blk, 0, 0], thr % 2, n_tchunks)
            for thr in prange(n_threads, schedule='static', chunksize=1):
                task = take_task(&queues[blk, 1, 0], thr % 2, half_tasks)
                while task >= 0:
                    xi = task // half_tasks * half_xi + task % half_tasks // groups
                    grp = task % groups
                    # M_xi,g[Cg, Og] += V_xi,g^T[Cg, cnt] @ E_xi,g[cnt, Og]
                    pack_b(k, cnt, Og, E + xi * T * g.O + grp * Og, g.O, 1, bpack)
                    gemm_packed(k, Cg, Og, cnt, V + xi * T * g.C + grp * Cg, 1, g.C, bpack,
                                Mp + xi * Cg * g.O + grp * Og, g.O, True, NULL, abuf)
                    if dbp != NULL and xi == sum_xi:
                        for t in range(cnt):
                            erow = E + xi * T * g.O + t * g.O + grp * Og
                            for o in range(Og):
                                dbp[grp * Og + o] += erow[o]
                    task = take_task(&queues[blk, 1, 0], thr % 2, half_tasks)
        for ch in prange(n_chunks, schedule='dynamic'):
            final_chunk(Mp, dwp, plane, alpha, gt, ch, &final_work[threadid(), 0])




def winograd_grad_weight3d(const floating[:, :, :, :, ::1] x,    # IN  (N, D, H, W, C)
                           const floating[:, :, :, :, ::1] dy,   # IN  (N, Do, Ho, Wo, O)
                           floating[:, :, :, ::1] M,             # SCRATCH (KD, alpha^2, C//groups, O), zeroed
                           floating[:, :, :, :, ::1] dw,         # OUT (KD, 3, 3, C//groups, O)
                           floating[::1] db,                     # OUT (O,) zeroed, or None
                           int m, Py_ssize_t pf, Py_ssize_t pt, Py_ssize_t pl,
                           Py_ssize_t tiles_per_block, int n_threads):
    """dw[kd] = G^T M[kd] G with M[kd][xi] = sum over output tiles t of
    V_kd[xi][t]^T E[xi][t] (per group), V_kd the transformed input patches of
    the slice that depth tap kd reads for tile t (winograd_forward3d), E the
    transformed output-gradient tiles; ``db`` (if given) gets the bias
    gradient.

    As winograd_grad_weight, block by block with all threads together. A block
    is a band of tiles in S output slices (depth_run, as in
    winograd_forward3d): the transforms (E of the S slices' band, V of the same
    band of the S + KD - 1 input slices they read, each once) in small chunks,
    then one task per transform position and group, which packs E once for
    that position's KD products (tap kd reads V shifted by kd slices) and owns
    their slices of M, so the sums do not depend on the thread count; the last
    transform in the same parallel region. Both stages are split into the two
    halves of the positions, drained first by even and odd threads
    respectively (winograd_grad_weight): c3d-32^3x32's weight gradient ran in
    0.73x the time of the shared queue on 2 cores of a Sapphire Rapids class
    Xeon."""
    cdef Py_ssize_t N = x.shape[0], D = x.shape[1], Do = dy.shape[1], KD = M.shape[0]
    cdef ccwg_geom g = tile_geom(N * Do, x.shape[2], x.shape[3], x.shape[4],
                                 dy.shape[2], dy.shape[3], dy.shape[4], m, pt, pl)
    cdef Py_ssize_t Cg = M.shape[2]
    cdef Py_ssize_t groups = g.C // Cg if Cg > 0 else 1
    cdef Py_ssize_t Og = g.O // groups
    cdef Py_ssize_t alpha = m + 2
    cdef Py_ssize_t A2 = alpha * alpha
    cdef Py_ssize_t n_tiles = g.N * g.tiles_h * g.tiles_w
    if n_tiles == 0 or g.O == 0 or Cg == 0 or KD == 0:
        dw[...] = 0
        return
    cdef const cck_row* k = ROW
    cdef floating* tag = NULL
    cdef Py_ssize_t T = max(1, tiles_per_block)
    cdef Py_ssize_t per_slice = g.tiles_h * g.tiles_w
    cdef Py_ssize_t S = 0, band = 1
    # V and E within those of T tiles, which grad_weight_tiles_per_block sized for KD*C + O.
    depth_run(T * (KD * g.C + g.O), g.C, g.O, KD, per_slice, Do, &S, &band)
    cdef Py_ssize_t bands = (per_slice + band - 1) // band
    cdef Py_ssize_t runs = (Do + S - 1) // S
    cdef Py_ssize_t n_blocks = N * runs * bands
    cdef Py_ssize_t vrows = (S + KD - 1) * band
    cdef Py_ssize_t erows = S * band
    cdef Py_ssize_t vsize = A2 * vrows * g.C
    cdef Py_ssize_t esize = A2 * erows * g.O
    cdef Py_ssize_t bsize = packb_size(k, tag, erows, Og)
    cdef Py_ssize_t asize = abuf_size(k, tag, erows)
    dtype = np.float32 if floating is float else np.float64
    shared_array = np.empty(vsize + esize, dtype=dtype)
    zeros_array = np.zeros(max(g.C, g.O, 1), dtype=dtype)
    work_array = np.empty((n_threads, bsize + asize), dtype=dtype)
    cdef Py_ssize_t plane = Cg * g.O
    cdef Py_ssize_t n_chunks = (plane + FINAL_CHUNK - 1) // FINAL_CHUNK
    final_array = np.empty((n_threads, (3 * 6 + 1) * FINAL_CHUNK), dtype=np.float64)
    cdef double[:, ::1] final_work = final_array
    cdef const double* gt = &G_T2[0][0] if m == 2 else &G_T4[0][0]
    cdef floating* dwp = &dw[0, 0, 0, 0, 0]
    cdef floating[::1] shared = shared_array
    cdef floating[::1] zeros = zeros_array
    cdef floating[:, ::1] work = work_array
    cdef const floating* xp = &x[0, 0, 0, 0, 0]
    cdef const floating* dyp = &dy[0, 0, 0, 0, 0]
    cdef floating* Mp = &M[0, 0, 0, 0]
    cdef floating* dbp = &db[0] if db is not None else NULL
    cdef const floating* zp = &zeros[0]
    cdef floating* V = &shared[0]
    cdef floating* E = V + vsize
    cdef Py_ssize_t sum_xi = alpha + 1          # E there is the tile's pixel sum
    cdef Py_ssize_t half_xi = alpha // 2 * alpha  # positions per half
    cdef Py_ssize_t half_tasks = half_xi * groups
    queues_array = np.zeros((n_blocks, 2, 2), dtype=np.intp)   # as in winograd_grad_weight
    cdef Py_ssize_t[:, :, ::1] queues = queues_array
    cdef Py_ssize_t n_tchunks, per_half, thr, task, half
    cdef Py_ssize_t blk, cnt, j, c0, cc, q, kd, xi, grp, t, o, ch, n, do0, ns, bt, band_t0, sl, lo
    cdef floating* bpack
    cdef floating* abuf
    cdef const floating* erow
    cdef ccwg_geom* gp = &g
    with nogil, parallel(num_threads=n_threads):
        bpack = &work[threadid(), 0]
        abuf = bpack + bsize
        for blk in range(n_blocks):
            n = blk // (runs * bands)
            do0 = (blk // bands) % runs * S
            ns = min(S, Do - do0)
            band_t0 = blk % bands * band                # the band's first tile in a slice
            bt = min(band, per_slice - band_t0)
            cnt = ns * bt
            n_tchunks = (bt + TRANSFORM_CHUNK - 1) // TRANSFORM_CHUNK
            per_half = (2 * ns + KD - 1) * n_tchunks
            # Task j of a half: a chunk of one slice's band, E of output slice
            # do0 + sl for sl < ns, else V of input slice do0 - pf + sl - ns.
            for thr in prange(n_threads, schedule='static', chunksize=1):
                task = take_task(&queues[blk, 0, 0], thr % 2, per_half)
                while task >= 0:
                    half = task // per_half
                    j = task % per_half
                    sl = j // n_tchunks
                    c0 = (j % n_tchunks) * TRANSFORM_CHUNK
                    cc = min(<Py_ssize_t>TRANSFORM_CHUNK, bt - c0)
                    if sl < ns:
                        grad_output_tiles(k, m, <int>half, dyp, gp, zp,
                                          (n * Do + do0 + sl) * per_slice + band_t0 + c0, cc,
                                          E + (sl * bt + c0) * g.O, erows * g.O)
                    else:
                        sl = sl - ns
                        input_slice_tiles(k, m, <int>half, xp, gp, zp, D, n, do0 - pf + sl, band_t0 + c0,
                                          cc, V + (sl * bt + c0) * g.C, vrows * g.C)
                    task = take_task(&queues[blk, 0, 0], thr % 2, per_half)
            # One task per transform position and group: E packed once for its KD products.
            for thr in prange(n_threads, schedule='static', chunksize=1):
                task = take_task(&queues[blk, 1, 0], thr % 2, half_tasks)
                while task >= 0:
                    xi = task // half_tasks * half_xi + task % half_tasks // groups
                    grp = task % groups
                    pack_b(k, cnt, Og, E + xi * erows * g.O + grp * Og, g.O, 1, bpack)
                    for kd in range(KD):
                        # M_kd,xi,g[Cg, Og] += V_kd,xi,g^T[Cg, cnt] @ E_xi,g[cnt, Og], V_kd
                        # the input slices lo .. lo+ns-1 that tap kd reads
                        lo = do0 - pf + kd
                        if lo + ns > 0 and lo < D:
                            gemm_packed(k, Cg, Og, cnt, V + (kd * bt + xi * vrows) * g.C + grp * Cg, 1, g.C,
                                        bpack, Mp + (kd * A2 + xi) * plane + grp * Og, g.O, True, NULL, abuf)
                    if dbp != NULL and xi == sum_xi:
                        for t in range(cnt):
                            erow = E + xi * erows * g.O + t * g.O + grp * Og
                            for o in range(Og):
                                dbp[grp * Og + o] += erow[o]
                    task = take_task(&queues[blk, 1, 0], thr % 2, half_tasks)
        for ch in prange(KD * n_chunks, schedule='dynamic'):
            kd = ch // n_chunks
            final_chunk(Mp + kd * A2 * plane, dwp + kd * 9 * plane, plane, alpha, gt, ch % n_chunks,
                        &final_work[threadid(), 0])
