# cconv's own packed GEMM (src/_gemm_kernel.h): B is packed once per call and
# shared by every thread; each thread multiplies its tiles with a 6x16 (float)
# or 6x8 (double) AVX2/FMA micro-kernel, chosen at run time, with a portable C
# fallback. Single-threaded by construction: no BLAS thread pool to tame.
from cython cimport floating

cdef extern from "_gemm_kernel.h" nogil:
    size_t ccg_s_packb_size(int K, int N)
    size_t ccg_d_packb_size(int K, int N)
    size_t ccg_s_abuf_size(int K)
    size_t ccg_d_abuf_size(int K)
    void ccg_s_pack_b(int K, int N, const float* B, ptrdiff_t rsb, ptrdiff_t csb, float* Bp)
    void ccg_d_pack_b(int K, int N, const double* B, ptrdiff_t rsb, ptrdiff_t csb, double* Bp)
    void ccg_s_gemm(int M, int N, int K, const float* A, ptrdiff_t rsa, ptrdiff_t csa,
                    const float* Bp, float* C, ptrdiff_t ldc, int beta, const float* bias,
                    float* abuf)
    void ccg_d_gemm(int M, int N, int K, const double* A, ptrdiff_t rsa, ptrdiff_t csa,
                    const double* Bp, double* C, ptrdiff_t ldc, int beta, const double* bias,
                    double* abuf)


cdef inline Py_ssize_t packb_size(floating* tag, Py_ssize_t K, Py_ssize_t N) noexcept nogil:
    """Elements a packed K x N B operand needs (``tag`` only selects the type)."""
    if floating is float:
        return ccg_s_packb_size(<int>K, <int>N)
    else:
        return ccg_d_packb_size(<int>K, <int>N)


cdef inline Py_ssize_t abuf_size(floating* tag, Py_ssize_t K) noexcept nogil:
    """Elements of the per-thread A packing buffer for depth K."""
    if floating is float:
        return ccg_s_abuf_size(<int>K)
    else:
        return ccg_d_abuf_size(<int>K)


cdef inline void pack_b(Py_ssize_t K, Py_ssize_t N, const floating* B, Py_ssize_t rsb,
                        Py_ssize_t csb, floating* Bp) noexcept nogil:
    """Pack b(k, n) = B[k*rsb + n*csb] into micro-panels."""
    if floating is float:
        ccg_s_pack_b(<int>K, <int>N, B, rsb, csb, Bp)
    else:
        ccg_d_pack_b(<int>K, <int>N, B, rsb, csb, Bp)


cdef inline void gemm_packed(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K, const floating* A,
                             Py_ssize_t rsa, Py_ssize_t csa, const floating* Bp, floating* C,
                             Py_ssize_t ldc, bint beta, const floating* bias,
                             floating* abuf) noexcept nogil:
    """C[M, N] (ld ldc) = A @ B (+ C if beta) (+ bias per column); a(m, k) = A[m*rsa + k*csa]."""
    if floating is float:
        ccg_s_gemm(<int>M, <int>N, <int>K, A, rsa, csa, Bp, C, ldc, beta, bias, abuf)
    else:
        ccg_d_gemm(<int>M, <int>N, <int>K, A, rsa, csa, Bp, C, ldc, beta, bias, abuf)
