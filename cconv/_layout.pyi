"""Type stub for the compiled ``cconv._layout`` (src/_layout.pyx).

Parallel blocked NCHW <-> NHWC copies. They validate nothing. Each array
argument is a Cython typed memoryview over the fused type ``floating`` (float32
or float64, the same for both arrays); the C type is recorded after each
parameter.
"""
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

_F = TypeVar("_F", np.float32, np.float64)

def nchw_to_nhwc(
    src: NDArray[_F],  # const floating[:, :, :, :], (N, C, H, W), any strides
    dst: NDArray[_F],  # floating[:, :, :, ::1], OUT (N, H, W, C)
    n_threads: int,  # int
) -> None:
    """Copy ``src`` (NCHW) into ``dst`` (NHWC)."""

def nhwc_to_nchw(
    src: NDArray[_F],  # const floating[:, :, :, ::1], (N, H, W, C)
    dst: NDArray[_F],  # floating[:, :, :, ::1], OUT (N, C, H, W)
    n_threads: int,  # int
) -> None:
    """Copy ``src`` (NHWC) into ``dst`` (NCHW)."""
