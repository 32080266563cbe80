"""OpenMP facts for the Python layer: was OpenMP compiled in, and the calling
thread's OpenMP default thread count (which honours OMP_NUM_THREADS and
threadpoolctl limits)."""

cdef extern from "_omp_compat.h":
    int omp_get_max_threads() nogil
    int CCONV_OPENMP


def openmp_enabled():
    """Return True when the kernels were compiled with OpenMP."""
    return bool(CCONV_OPENMP)


def omp_max_threads():
    """Return ``omp_get_max_threads()`` for the calling thread (1 without OpenMP)."""
    return omp_get_max_threads()
