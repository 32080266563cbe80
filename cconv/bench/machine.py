"""The machine and the run: what the header and the JSON ``metadata`` say
(versions, CPU, threads, ISA), the thread counts every implementation is held
to, and the two yardsticks measured in the same process: numpy's GEMM
(``% gemm``) and the cores' FMA peak at cconv's ISA level (``% peak``).

``% gemm`` is cconv's GFLOP/s as a share of numpy's matmul (OpenBLAS) on
2048x2048 matrices of the benchmark dtype, at the same thread count, best of
5. GFLOP/s always count the direct convolution's FLOPs, so a Winograd route,
which does fewer multiplications, can show more than 100%.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import platform
import time
from typing import Any, Iterator

import numpy as np

import cconv
from cconv import _kernels

from .baseline_ort import OrtModules
from .timing import SETTLE_BLAS_S, timed

GEMM_SIZE = 2048


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo, or what the platform module knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_count() -> int:
    """Logical CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def cconv_version() -> str:
    """cconv's version string."""
    version = getattr(cconv, "__version__", None)
    if version:
        return str(version)
    try:
        from importlib.metadata import version as dist_version
        return dist_version("cconv")
    except Exception:
        return "unknown"


def limit_blas_threads(threads: int) -> tuple[contextlib.AbstractContextManager[Any], bool]:
    """Context manager holding BLAS to ``threads`` (a no-op without threadpoolctl).

    Returns
    -------
    (context manager, bool)
        The context and whether threadpoolctl is there to apply it.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext(), False
    return threadpool_limits(limits=threads, user_api="blas"), True


def blas_thread_counts() -> list[int] | None:
    """numpy's BLAS thread counts as threadpoolctl reads them (nothing is
    changed), or None without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [int(info["num_threads"]) for info in threadpool_info() if info.get("user_api") == "blas"]


@contextlib.contextmanager
def thread_count(threads: int, torch: Any) -> Iterator[None]:
    """Set cconv's (and torch's) thread count, restoring the old ones afterwards."""
    old_cconv = cconv.get_num_threads()
    old_torch = torch.get_num_threads() if torch is not None else None
    cconv.set_num_threads(threads)
    if torch is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        cconv.set_num_threads(old_cconv)
        if torch is not None:
            torch.set_num_threads(old_torch)


def metadata(args: argparse.Namespace, threads: int, torch: Any, impl_names: list[str], blas_limited: bool,
             ort: OrtModules | None = None) -> dict[str, Any]:
    """Describe the machine and the run (the JSON ``metadata`` object)."""
    return {
        "cconv_version": cconv_version(),
        "numpy_version": np.__version__,
        "torch_version": torch.__version__ if torch is not None else None,
        "onnxruntime_version": ort.version if ort is not None else None,
        "onnx_version": str(ort.onnx.__version__) if ort is not None else None,
        "python_version": platform.python_version(),
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cpu_count": cpu_count(),
        "threads": threads,
        "blas_threads_limited": blas_limited,
        "dtype": args.dtype,
        "layout": args.layout,
        "openmp_enabled": bool(cconv.openmp_enabled()),
        "quick": bool(args.quick),
        "repeat": args.repeat,
        "implementations": list(impl_names),
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "gemm_gflops": None,
        "isa": _kernels.isa(),
        "isa_available": list(_kernels.available_levels()),
        "peak_gflops": None,
    }


def measure_peak_gflops(dtype: str, threads: int) -> float:
    """The cores' peak at cconv's ISA level: best of 3 runs of a register-only
    multiply-add loop on ``threads`` threads (cconv._kernels.peak_gflops)."""
    return max(_kernels.peak_gflops(dtype, threads, 0.1) for _ in range(3))


def measure_gemm_gflops(dtype: str, repeats: int = 5) -> float:
    """The machine's GEMM speed in this process: best GFLOP/s of numpy's matmul
    (its BLAS, held to the benchmark's thread count) on GEMM_SIZE^3."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((GEMM_SIZE, GEMM_SIZE)).astype(dtype)
    b = rng.standard_normal((GEMM_SIZE, GEMM_SIZE)).astype(dtype)
    out = np.empty_like(a)
    np.matmul(a, b, out=out)
    best = min(timed(lambda: np.matmul(a, b, out=out)) for _ in range(repeats))
    time.sleep(SETTLE_BLAS_S)  # let OpenBLAS's workers stop spinning before cconv runs
    return 2.0 * GEMM_SIZE ** 3 / best / 1e9
