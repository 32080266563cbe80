from _geometry cimport Geom

# How output pixels are cut into per-thread tiles, and the row blocks that
# make col2im scatters disjoint. One place to tune tile sizes.

cdef enum:
    # Target bytes of one thread's im2col tile: well inside the 1 MiB L2 per core.
    TILE_BYTES = 256 * 1024
    MIN_ROWS = 16
    MAX_ROWS = 2048


cdef inline Py_ssize_t tile_rows(Py_ssize_t K, Py_ssize_t itemsize,
                                 Py_ssize_t P, Py_ssize_t n_threads) noexcept:
    """Rows of im2col per tile: about TILE_BYTES, and at least 4 tiles a thread."""
    cdef Py_ssize_t rows = TILE_BYTES // max(K * itemsize, 1)
    cdef Py_ssize_t balanced = (P + 4 * n_threads - 1) // (4 * n_threads)
    rows = min(rows, MAX_ROWS, balanced)
    rows = max(rows, MIN_ROWS)
    return rows


cdef inline Py_ssize_t block_out_rows(Py_ssize_t KH, Py_ssize_t dh, Py_ssize_t sh,
                                      Py_ssize_t Wo, Py_ssize_t tile) noexcept:
    """Output rows per col2im block.

    A block of R output rows touches input rows [R*b*sh - pt, ...] spanning
    (R-1)*sh + (KH-1)*dh + 1 rows. With R*sh >= (KH-1)*dh, blocks b and b+2
    never touch the same input row, so all even blocks (then all odd blocks)
    can scatter in parallel without races.
    """
    cdef Py_ssize_t overlap = ((KH - 1) * dh + sh - 1) // sh
    cdef Py_ssize_t for_gemm = (tile + Wo - 1) // max(Wo, 1)
    return max(overlap, for_gemm, 1)


cdef inline Py_ssize_t block_first_pixel(Py_ssize_t phase, Py_ssize_t j, Py_ssize_t n_blocks,
                                         Py_ssize_t R, Py_ssize_t Ho, Py_ssize_t Wo,
                                         bint end) noexcept nogil:
    """First output pixel (or, with ``end``, one past the last) of the j-th
    block of one parity phase.

    Blocks of R output rows are numbered per image; phase 0 takes the even
    ones, phase 1 the odd ones; images are independent. (Returned by value:
    a variable written through a pointer inside prange would be shared.)
    """
    cdef Py_ssize_t per_image = (n_blocks - phase + 1) // 2
    cdef Py_ssize_t n = j // per_image
    cdef Py_ssize_t r0 = (phase + 2 * (j % per_image)) * R
    if end:
        return (n * Ho + min(r0 + R, Ho)) * Wo
    return (n * Ho + r0) * Wo


cdef inline Py_ssize_t phase_blocks(Py_ssize_t phase, Py_ssize_t n_blocks,
                                    Py_ssize_t N) noexcept nogil:
    """How many blocks (over all images) one parity phase holds."""
    return N * ((n_blocks - phase + 1) // 2)


cdef inline bint is_pointwise(const Geom* g) noexcept nogil:
    """1x1, stride 1, no padding, one group: the input rows are the cols."""
    return (g.KH == 1 and g.KW == 1 and g.sh == 1 and g.sw == 1 and g.pt == 0
            and g.pl == 0 and g.groups == 1 and g.Ho == g.H and g.Wo == g.W)


cdef inline Py_ssize_t part_first_tile(Py_ssize_t part, Py_ssize_t n_tiles,
                                       Py_ssize_t n_parts) noexcept nogil:
    """First tile of partial sum ``part`` when n_tiles are cut into n_parts
    contiguous runs (the last run ends at n_tiles)."""
    return part * n_tiles // n_parts
