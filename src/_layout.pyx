"""Parallel, cache-blocked NCHW <-> NHWC conversions, so that the NCHW entry
points pay little for running on the native NHWC kernels."""
from cython cimport floating
from cython.parallel cimport prange

cdef enum:
    BLOCK = 32     # a 32 x 32 tile of either side stays in L1


def nchw_to_nhwc(const floating[:, :, :, :] src,      # IN  (N, C, H, W), any strides
                 floating[:, :, :, ::1] dst,           # OUT (N, H, W, C)
                 int n_threads):
    """dst[n, h, w, c] = src[n, c, h, w], in 32x32 (pixel x channel) tiles."""
    cdef Py_ssize_t N = src.shape[0], C = src.shape[1], H = src.shape[2], W = src.shape[3]
    cdef Py_ssize_t HW = H * W
    cdef Py_ssize_t pix_blocks = (HW + BLOCK - 1) // BLOCK
    cdef Py_ssize_t jobs = N * pix_blocks
    cdef Py_ssize_t job, n, p0, p1, c0, c1, p, c, h, w
    if jobs == 0 or C == 0:
        return
    with nogil:
        for job in prange(jobs, schedule='dynamic', num_threads=<int>min(n_threads, jobs)):
            n = job // pix_blocks
            p0 = (job % pix_blocks) * BLOCK
            p1 = min(p0 + BLOCK, HW)
            c0 = 0
            while c0 < C:
                c1 = min(c0 + BLOCK, C)
                for p in range(p0, p1):
                    h = p // W
                    w = p - h * W
                    for c in range(c0, c1):
                        dst[n, h, w, c] = src[n, c, h, w]
                c0 = c0 + BLOCK


def nhwc_to_nchw(const floating[:, :, :, ::1] src,    # IN  (N, H, W, C)
                 floating[:, :, :, ::1] dst,           # OUT (N, C, H, W)
                 int n_threads):
    """dst[n, c, h, w] = src[n, h, w, c], in 32x32 (channel x pixel) tiles."""
    cdef Py_ssize_t N = src.shape[0], H = src.shape[1], W = src.shape[2], C = src.shape[3]
    cdef Py_ssize_t HW = H * W
    cdef Py_ssize_t ch_blocks = (C + BLOCK - 1) // BLOCK
    cdef Py_ssize_t jobs = N * ch_blocks
    cdef Py_ssize_t job, n, c0, c1, p0, p1, p, c
    cdef const floating* s
    cdef floating* d
    if jobs == 0 or HW == 0:
        return
    with nogil:
        for job in prange(jobs, schedule='dynamic', num_threads=<int>min(n_threads, jobs)):
            n = job // ch_blocks
            c0 = (job % ch_blocks) * BLOCK
            c1 = min(c0 + BLOCK, C)
            s = &src[n, 0, 0, 0]
            d = &dst[n, 0, 0, 0]
            p0 = 0
            while p0 < HW:
                p1 = min(p0 + BLOCK, HW)
                for c in range(c0, c1):
                    for p in range(p0, p1):
                        d[c * HW + p] = s[p * C + c]
                p0 = p0 + BLOCK
