"""Thread control: how many OpenMP threads cconv's kernels use, and holding the
BLAS that the kernels call to one thread while they run.

cconv's kernels own the parallelism (OpenMP over disjoint tiles); each thread
calls BLAS on its own tile. A multithreaded BLAS inside that would put two
thread pools against each other, so during a call the BLAS behind
``scipy.linalg.cython_blas`` is set to one thread and restored afterwards. The
setting is reference-counted, so concurrent cconv calls from several Python
threads restore it exactly once, when the last one leaves.
"""
from __future__ import annotations

import os
import threading

from . import _threads
from ._params import num_threads_iv

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
        OpenMP default of the calling thread, which honours ``OMP_NUM_THREADS``
        and ``threadpoolctl.threadpool_limits`` and is otherwise the number of
        cores available to the process.
    """
    global _requested_threads
    _requested_threads = num_threads_iv(n)


def get_num_threads() -> int:
    """Return the number of threads cconv's kernels use when ``num_threads=None``."""
    if _requested_threads is not None:
        return _requested_threads
    return max(1, int(_threads.omp_max_threads()))


def resolve_num_threads(num_threads) -> int:
    """Return the thread count for one call: ``num_threads`` if given, else the default."""
    n = num_threads_iv(num_threads)
    return get_num_threads() if n is None else n


class _BlasSingleThread:
    """Reference-counted "BLAS runs on one thread" while cconv kernels run."""

    def __init__(self):
        self._lock = threading.Lock()
        self._depth = 0
        self._saved: list[tuple[object, int]] = []
        self._controllers = None

    def _blas_controllers(self):
        # Found once: threadpoolctl's scan of loaded libraries costs milliseconds.
        if self._controllers is None:
            import scipy.linalg.cython_blas  # noqa: F401  (load the BLAS cconv calls)
            from threadpoolctl import ThreadpoolController

            blas = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
            scipy_dir = os.path.dirname(os.path.dirname(os.path.realpath(scipy.linalg.cython_blas.__file__)))
            site = os.path.dirname(scipy_dir)
            own = [
                c for c in blas
                if os.path.realpath(c.filepath).startswith((scipy_dir + os.sep, os.path.join(site, "scipy.libs") + os.sep))
            ]
            # If scipy's own BLAS cannot be told apart, hold every BLAS (and restore it).
            self._controllers = own or blas
        return self._controllers

    def __enter__(self):
        with self._lock:
            if self._depth == 0:
                self._saved = []
                for c in self._blas_controllers():
                    n = c.get_num_threads()
                    if n is not None and n != 1:
                        c.set_num_threads(1)
                        self._saved.append((c, n))
            self._depth += 1
        return self

    def __exit__(self, *exc):
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                for c, n in self._saved:
                    c.set_num_threads(n)
                self._saved = []
        return False


blas_single_thread = _BlasSingleThread()


def _register_threadpoolctl_controller() -> None:
    """Let ``threadpoolctl.threadpool_limits`` limit cconv like any OpenMP library."""
    try:
        import threadpoolctl
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return
    if not hasattr(threadpoolctl, "register") or not hasattr(threadpoolctl, "LibController"):
        return  # older threadpoolctl: it still limits libgomp, which the default follows

    class CconvController(threadpoolctl.LibController):
        """threadpoolctl controller for cconv's default thread count."""

        user_api = "openmp"
        internal_api = "cconv"
        filename_prefixes = ("_threads",)
        check_symbols = ("PyInit__threads",)

        def get_num_threads(self):
            return get_num_threads()

        def set_num_threads(self, num_threads):
            # Restoring the default count restores "follow the default", so a
            # threadpool_limits block leaves no explicit setting behind.
            n = max(1, int(num_threads))
            set_num_threads(None if n == max(1, int(_threads.omp_max_threads())) else n)

        def get_version(self):
            from . import __version__

            return __version__

    threadpoolctl.register(CconvController)


_register_threadpoolctl_controller()

