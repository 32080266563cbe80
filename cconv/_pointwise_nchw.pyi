"""Type stub for the compiled ``cconv._pointwise_nchw`` (src/_pointwise_nchw.pyx).

1x1, stride-1, unpadded, ungrouped convolution computed in NCHW directly: each
image is a matrix, y[n] (O x HW) = W (O x C) @ x[n] (C x HW). The kernels
validate nothing. Each array argument is a Cython typed memoryview over the
fused type ``floating`` (float32 or float64, the same for every argument of one
call); the C type is recorded after each parameter.
"""
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

_F = TypeVar("_F", np.float32, np.float64)

def forward(
    x: NDArray[_F],  # const floating[:, :, ::1], (N, C, HW)
    w: NDArray[_F],  # const floating[:, ::1], (O, C)
    bias: NDArray[_F] | None,  # const floating[::1], (O,) or None
    y: NDArray[_F],  # floating[:, :, ::1], OUT (N, O, HW)
    n_threads: int,  # int
) -> None:
    """Pointwise forward in NCHW; writes ``y``."""

def grad_input(
    dy: NDArray[_F],  # const floating[:, :, ::1], (N, O, HW)
    w: NDArray[_F],  # const floating[:, ::1], (O, C)
    dx: NDArray[_F],  # floating[:, :, ::1], OUT (N, C, HW)
    n_threads: int,  # int
) -> None:
    """Pointwise grad_input in NCHW; writes ``dx``."""

def grad_weight(
    x: NDArray[_F],  # const floating[:, :, ::1], (N, C, HW)
    dy: NDArray[_F],  # const floating[:, :, ::1], (N, O, HW)
    dw: NDArray[_F],  # floating[:, ::1], OUT (O, C)
    db: NDArray[_F] | None,  # floating[::1], OUT (O,) or None
    n_threads: int,  # int
) -> None:
    """Pointwise grad_weight and grad_bias in NCHW; writes ``dw`` and ``db``."""
