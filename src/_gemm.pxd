# cconv's own packed GEMM (src/kernels/gemm/driver.h), through the kernel
# table's row: B is packed once per call and shared by every thread; each
# thread multiplies its tiles with the row's micro-kernel. Buffer sizes come
# from the same row, so a wider ISA's MR/NR cannot be contradicted by a
# constant. Single-threaded by construction: no BLAS thread pool to tame.
from cython cimport floating
from _kernel_row cimport cck_row


cdef inline Py_ssize_t packb_size(const cck_row* k, floating* tag, Py_ssize_t K,
                                  Py_ssize_t N) noexcept nogil:
    """Elements a packed K x N B operand needs (``tag`` only selects the type)."""
    if floating is float:
        return k.s.packb_size(<int>K, <int>N)
    else:
        return k.d.packb_size(<int>K, <int>N)


cdef inline Py_ssize_t abuf_size(const cck_row* k, floating* tag, Py_ssize_t K) noexcept nogil:
    """Elements of the per-thread A packing buffer for depth K."""
    if floating is float:
        return k.s.abuf_size(<int>K)
    else:
        return k.d.abuf_size(<int>K)


cdef inline int panel_width(const cck_row* k, floating* tag) noexcept nogil:
    """NR: the width of one packed B micro-panel."""
    if floating is float:
        return k.s.nr
    else:
        return k.d.nr


cdef inline void pack_b(const cck_row* k, Py_ssize_t K, Py_ssize_t N, const floating* B,
                        Py_ssize_t rsb, Py_ssize_t csb, floating* Bp) noexcept nogil:
    """Pack b(k, n) = B[k*rsb + n*csb] into micro-panels."""
    if floating is float:
        k.s.pack_b(<int>K, <int>N, B, rsb, csb, Bp)
    else:
        k.d.pack_b(<int>K, <int>N, B, rsb, csb, Bp)


cdef inline void gemm_packed(const cck_row* k, Py_ssize_t M, Py_ssize_t N, Py_ssize_t K,
                             const floating* A, Py_ssize_t rsa, Py_ssize_t csa,
                             const floating* Bp, floating* C, Py_ssize_t ldc, bint beta,
                             const floating* bias, floating* abuf) noexcept nogil:
    """C[M, N] (ld ldc) = A @ B (+ C if beta) (+ bias per column); a(m, k) = A[m*rsa + k*csa]."""
    if floating is float:
        k.s.gemm(<int>M, <int>N, <int>K, A, rsa, csa, Bp, C, ldc, beta, bias, abuf)
    else:
        k.d.gemm(<int>M, <int>N, <int>K, A, rsa, csa, Bp, C, ldc, beta, bias, abuf)


cdef inline void gemm_indirect(const cck_row* k, Py_ssize_t M, Py_ssize_t N, Py_ssize_t nseg,
                               Py_ssize_t seglen, const floating** ptrs, const floating* Bp,
                               floating* C, Py_ssize_t ldc, const floating* bias,
                               floating* abuf) noexcept nogil:
    """C[M, N] (ld ldc) = A @ B (+ bias), row i of A being the nseg runs of seglen values
    at ptrs[i*nseg + s] (the table has roundup(M, mr) rows); nseg*seglen <= the row's kc."""
    if floating is float:
        k.s.gemm_indirect(<int>M, <int>N, <int>nseg, <int>seglen, ptrs, Bp, C, ldc, bias, abuf)
    else:
        k.d.gemm_indirect(<int>M, <int>N, <int>nseg, <int>seglen, ptrs, Bp, C, ldc, bias, abuf)
