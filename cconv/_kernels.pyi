"""Type stub for the compiled ``cconv._kernels`` (src/_kernels.pyx): the kernel
table at run time (the CPU detector, the ISA level in use, chosen once at
import from ``CCONV_ISA``, and the rows of kernels)."""
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

LEVELS: tuple[str, ...]
ENV_VAR: str

def cpu_features() -> dict[str, bool]:
    """Return ``{feature: bool}`` for the CPU features the detector checks."""

def available_levels() -> tuple[str, ...]:
    """Return the ISA levels this CPU (and this build) can run, lowest first."""

def level_from_env(value: str | None, max_level: int | None = None) -> int:
    """Return the level index ``CCONV_ISA=value`` asks for; ValueError if it cannot run."""

def isa() -> str:
    """Return the name of the ISA level in use (e.g. ``"avx512"``)."""

def row_info(level: str | None = None) -> dict[str, Any]:
    """Return the sizes of a row (default: the active one) as a dict."""

def build_info() -> dict[str, Any]:
    """Return the compiler and OpenMP version (0: none) this module was built with."""

def gemm(
    level: str | None,
    A: NDArray[np.float32],  # const float[:, ::1], (M, K), or (K, M) with a_transposed
    B: NDArray[np.float32],  # const float[:, ::1], (K, N)
    C: NDArray[np.float32],  # float[:, ::1], IN/OUT (>= M, >= N): C[:M, :N] is written
    beta: bool,  # bint
    bias: NDArray[np.float32] | None,  # const float[::1], (N,) or None
    a_transposed: bool = False,  # bint: A holds A^T, read with a row stride of 1
) -> None:
    """C[:M, :N] = A @ B (+ C if beta) (+ bias) by one row's packed GEMM, single-threaded."""

def peak_gflops(dtype: DTypeLike = "float32", n_threads: int = 1, seconds: float = 0.2,
                level: str | None = None) -> float:
    """The cores' peak floating-point rate at an ISA level, in GFLOP/s."""

def _active_row_capsule() -> object:
    """The active row for the other compiled modules."""
