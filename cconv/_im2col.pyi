"""Type stub for the compiled ``cconv._im2col`` (src/_im2col.pyx).

The im2col and col2im kernels (NHWC, groups=1 columns). They validate nothing
(``cconv._patches`` checks every argument first). Each array argument is a
Cython typed memoryview over the fused type ``floating`` (float32 or float64,
the same for every argument of one call); the C type is recorded after each
parameter. ``geom`` is ``ConvGeometry.kernel_tuple()``: (N, H, W, C, O, KH,
KW, groups, sh, sw, dh, dw, pt, pl, Ho, Wo).
"""
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

_F = TypeVar("_F", np.float32, np.float64)

def im2col(
    x: NDArray[_F],  # const floating[:, :, :, ::1], (N, H, W, C)
    cols: NDArray[_F],  # floating[:, ::1], OUT (N*Ho*Wo, KH*KW*C)
    geom: tuple[int, ...],  # tuple -> Geom struct
    n_threads: int,  # int
) -> None:
    """Fill every im2col row of ``cols``."""

def col2im(
    cols: NDArray[_F],  # const floating[:, ::1], (N*Ho*Wo, KH*KW*C)
    dx: NDArray[_F],  # floating[:, :, :, ::1], OUT (N, H, W, C), zeroed
    geom: tuple[int, ...],  # tuple -> Geom struct
    n_threads: int,  # int
) -> None:
    """Sum every im2col row back into its taps of the zeroed ``dx``."""
