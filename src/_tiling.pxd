from _geometry cimport Geom

# How output pixels are cut into tiles, the row blocks that make col2im
# scatters disjoint, and how many partial sums a reduction keeps. One place
# to tune tile sizes. (Which kernel runs is decided in cconv/_routes.py.)

cdef enum:
    # Target bytes of one thread's im2col tile: well inside the 1 MiB L2 per core.
    TILE_BYTES = 256 * 1024
    MIN_ROWS = 16
    MAX_ROWS = 2048
    # Partial sums per thread a reduction aims for: with several runs of work
    # a thread, handed out dynamically, a thread whose core is taken by
    # another process (e.g. OpenBLAS's spinning workers) costs a fraction of
    # its share instead of holding up the whole call.
    PARTS_PER_THREAD = 4
    # Bytes the partial sums beyond one per thread may take.
    EXTRA_PARTS_BYTES = 4 * 1024 * 1024
    # Chunks per thread of a loop over output rows handed out dynamically:
    # enough that a thread whose core is taken costs a fraction of its share,
    # few enough that the shared counter is not taken once per short row.
    ROW_CHUNKS_PER_THREAD = 16
    # Least rows of a grad_weight tile (see weight_tile_rows). Measured on
    # Zen 5, 2 threads, float32, against TILE_BYTES alone: 0.82 of the time
    # for a 3x3x3 layer of 128 channels (K = 3456: 18 rows), 0.93 for 3x3
    # layers of 128 and 256 channels (float64: 0.83-0.86), unchanged for 64
    # channels and for a 3x3x3 layer of 32 (within 3%).
    WEIGHT_MIN_ROWS = 128
    # ... within this many bytes of im2col a thread (a bound on working memory).
    WEIGHT_TILE_MAX_BYTES = 2 * 1024 * 1024


cdef inline Py_ssize_t tile_rows(Py_ssize_t K, Py_ssize_t itemsize,
                                 Py_ssize_t P, Py_ssize_t n_threads) noexcept:
    """Rows of im2col per tile: about TILE_BYTES, and at least 4 tiles a thread."""
    cdef Py_ssize_t rows = TILE_BYTES // max(K * itemsize, 1)
    cdef Py_ssize_t balanced = (P + 4 * n_threads - 1) // (4 * n_threads)
    rows = min(rows, MAX_ROWS, balanced)
    rows = max(rows, MIN_ROWS)
    return rows


cdef inline Py_ssize_t whole_tiles(Py_ssize_t rows, Py_ssize_t unit) noexcept nogil:
    """``rows`` rounded down to a multiple of ``unit`` (when at least one
    unit): the rows of a GEMM tile, as whole micro-tiles. A tile of 75 rows
    (a 3x3x3 layer of 32 channels: K = 864) ran 6 pairs of 6-row micro-tiles
    and one of 3 rows, which costs a whole one."""
    return rows // unit * unit if rows >= unit else rows


cdef inline Py_ssize_t weight_tile_rows(Py_ssize_t K, Py_ssize_t itemsize,
                                        Py_ssize_t P, Py_ssize_t n_threads) noexcept:
    """Rows of im2col per grad_weight tile. A tile's rows are the depth of
    its GEMM (dW[K, O] += cols^T @ dY), and dW's partial sum is read and
    written once a tile, so a long im2col row (K = 27*128 = 3456 in a 3x3x3
    layer: 18 rows in TILE_BYTES) still gets up to WEIGHT_MIN_ROWS rows, as
    long as every thread keeps 4 tiles and the tile WEIGHT_TILE_MAX_BYTES."""
    cdef Py_ssize_t balanced = (P + 4 * n_threads - 1) // (4 * n_threads)
    cdef Py_ssize_t longer = min(WEIGHT_MIN_ROWS, balanced, WEIGHT_TILE_MAX_BYTES // max(K * itemsize, 1))
    return max(tile_rows(K, itemsize, P, n_threads), longer)


cdef inline Py_ssize_t row_chunk(Py_ssize_t rows, Py_ssize_t n_threads) noexcept nogil:
    """Rows per dynamically scheduled chunk: about ROW_CHUNKS_PER_THREAD chunks a
    thread. (A row of LeNet's first layer is ~0.2 us of work: handed out one
    by one, the two threads' shared counter cost more than the rows, and 2
    threads ran no faster than 1.)"""
    return max(1, rows // max(ROW_CHUNKS_PER_THREAD * n_threads, 1))


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


cdef inline Py_ssize_t part_first_tile(Py_ssize_t part, Py_ssize_t n_tiles,
                                       Py_ssize_t n_parts) noexcept nogil:
    """First tile of partial sum ``part`` when n_tiles are cut into n_parts
    contiguous runs (the last run ends at n_tiles)."""
    return part * n_tiles // n_parts


cdef inline Py_ssize_t partial_sum_count(Py_ssize_t n_tiles, Py_ssize_t n_threads,
                                         Py_ssize_t part_bytes) noexcept:
    """How many partial sums (fixed runs of tiles) a reduction over n_tiles
    keeps: PARTS_PER_THREAD a thread, within EXTRA_PARTS_BYTES beyond one a
    thread, at least one a thread and at most one a tile. It depends only on
    the sizes and the requested thread count, so results are reproducible."""
    cdef Py_ssize_t extra = EXTRA_PARTS_BYTES // max(part_bytes, 1)
    cdef Py_ssize_t parts = min(PARTS_PER_THREAD * n_threads, n_threads + extra)
    return max(1, min(max(parts, n_threads), n_tiles))
