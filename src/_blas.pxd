# Row-major GEMM on top of scipy's BLAS (nogil), for float and double.
# The caller holds BLAS to one thread: cconv's OpenMP threads each call it.
from cython cimport floating
from libc.string cimport memset
from scipy.linalg.cython_blas cimport sgemm, dgemm


cdef inline void gemm_rm(bint trans_a, bint trans_b, int M, int N, int K,
                         floating alpha, const floating* A, int lda,
                         const floating* B, int ldb, floating beta,
                         floating* C, int ldc) noexcept nogil:
    """C[M, N] = alpha * op(A) @ op(B) + beta * C, all row-major.

    Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T, so BLAS
    is called with the operands swapped and the same transpose flags.
    """
    cdef char ta = b'T' if trans_a else b'N'
    cdef char tb = b'T' if trans_b else b'N'
    cdef Py_ssize_t i, j
    if M <= 0 or N <= 0:
        return
    if K <= 0:
        # BLAS rejects leading dimensions of 0; the product is empty anyway.
        for i in range(M):
            for j in range(N):
                C[i * ldc + j] = 0 if beta == 0 else beta * C[i * ldc + j]
        return
    if floating is float:
        sgemm(&tb, &ta, &N, &M, &K, &alpha, <float*>B, &ldb, <float*>A, &lda,
              &beta, C, &ldc)
    else:
        dgemm(&tb, &ta, &N, &M, &K, &alpha, <double*>B, &ldb, <double*>A, &lda,
              &beta, C, &ldc)
