"""Type stub for the compiled ``cconv._threads`` (src/_threads.pyx): OpenMP facts."""

def openmp_enabled() -> bool:
    """Return True when the kernels were compiled with OpenMP."""

def omp_max_threads() -> int:
    """Return ``omp_get_max_threads()`` for the calling thread (1 without OpenMP)."""
