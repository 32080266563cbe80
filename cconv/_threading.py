"""Thread control: how many OpenMP threads cconv's kernels use.

cconv's kernels own the parallelism (OpenMP over disjoint tiles) and multiply
their tiles with cconv's own single-threaded GEMM, so there is no BLAS thread
pool to compete with them and no global BLAS setting is touched.
"""
from __future__ import annotations

from . import _threads
from ._params import MAX_THREADS, num_threads_iv

_requested_threads: int | None = None


def openmp_enabled() -> bool:
    """Return True when cconv's kernels were compiled with OpenMP.

    Without OpenMP (for example with a compiler that lacks it) every kernel
    runs serially and ``num_threads`` has no effect.
    """
    return _threads.openmp_enabled()


def set_num_threads(n: int | None) -> None:
    """Set the number of threads cconv's kernels use by default.

    Parameters
    ----------
    n : int or None
        A positive thread count, or None to go back to the default: the
        OpenMP default when cconv was imported, which honours
        ``OMP_NUM_THREADS`` and is otherwise the number of cores available to
        the process. ``threadpoolctl.threadpool_limits`` sets and restores
        this value too. It is one setting for the whole process, the same in
        every Python thread.
    """
    global _requested_threads
    _requested_threads = num_threads_iv(n)


def get_num_threads() -> int:
    """Return the number of threads cconv's kernels use when ``num_threads=None``."""
    if _requested_threads is not None:
        return _requested_threads
    return _default_threads()


def _default_threads() -> int:
    """The OpenMP default read once, at import, within [1, MAX_THREADS] (an
    OMP_NUM_THREADS beyond MAX_THREADS would crash libgomp, see _params).

    Read once because OpenMP's default is a per-thread setting: a library that
    calls ``omp_set_num_threads`` in one Python thread would otherwise give
    cconv different thread counts, and so differently rounded sums, in
    different Python threads."""
    return _PROCESS_DEFAULT


_PROCESS_DEFAULT = min(max(1, int(_threads.omp_max_threads())), MAX_THREADS)


def resolve_num_threads(num_threads: int | None) -> int:
    """Return the thread count for one call: ``num_threads`` if given, else the default."""
    n = num_threads_iv(num_threads)
    return get_num_threads() if n is None else n


def _register_threadpoolctl_controller() -> None:
    """Let ``threadpoolctl.threadpool_limits`` limit cconv like any OpenMP library."""
    try:
        import threadpoolctl
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return
    if not hasattr(threadpoolctl, "register") or not hasattr(threadpoolctl, "LibController"):
        return  # older threadpoolctl: it still limits libgomp, which the default follows

    # threadpoolctl ships no type information, so its base class is Any to mypy.
    class CconvController(threadpoolctl.LibController):  # type: ignore[misc]
        """threadpoolctl controller for cconv's default thread count."""

        user_api = "openmp"
        internal_api = "cconv"
        filename_prefixes = ("_threads",)
        check_symbols = ("PyInit__threads",)

        def get_num_threads(self) -> int:
            return get_num_threads()

        def set_num_threads(self, num_threads: int) -> None:
            # Restoring the default count restores "follow the default", so a
            # threadpool_limits block leaves no explicit setting behind.
            n = max(1, int(num_threads))
            set_num_threads(None if n == _default_threads() else min(n, MAX_THREADS))

        def get_version(self) -> str:
            from . import __version__

            return __version__

    threadpoolctl.register(CconvController)


_register_threadpoolctl_controller()

