"""Type stub for the compiled ``cconv._depthwise_nchw`` (src/_depthwise_nchw.pyx).

Depthwise convolution (groups == C == O) computed in NCHW directly, one (n, c)
plane per task. The kernels validate nothing. Each array argument is a Cython
typed memoryview over the fused type ``floating`` (float32 or float64, the same
for every argument of one call); the C type is recorded after each parameter.
``geom`` is ``ConvGeometry.kernel_tuple()``: (N, H, W, C, O, KH, KW, groups,
sh, sw, dh, dw, pt, pl, Ho, Wo).
"""
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

_F = TypeVar("_F", np.float32, np.float64)

def forward(
    x: NDArray[_F],  # const floating[:, :, :, ::1], (N, C, H, W)
    w: NDArray[_F],  # const floating[:, ::1], (C, KH*KW)
    bias: NDArray[_F] | None,  # const floating[::1], (C,) or None
    y: NDArray[_F],  # floating[:, :, :, ::1], OUT (N, C, Ho, Wo)
    geom: tuple[int, ...],  # tuple -> Geom struct
    n_threads: int,  # int
) -> None:
    """Depthwise forward in NCHW; writes ``y``."""

def grad_input(
    dy: NDArray[_F],  # const floating[:, :, :, ::1], (N, C, Ho, Wo)
    w: NDArray[_F],  # const floating[:, ::1], (C, KH*KW)
    dx: NDArray[_F],  # floating[:, :, :, ::1], OUT (N, C, H, W)
    geom: tuple[int, ...],  # tuple -> Geom struct
    n_threads: int,  # int
) -> None:
    """Depthwise grad_input in NCHW; writes ``dx``."""

def grad_weight(
    x: NDArray[_F],  # const floating[:, :, :, ::1], (N, C, H, W)
    dy: NDArray[_F],  # const floating[:, :, :, ::1], (N, C, Ho, Wo)
    dw: NDArray[_F],  # floating[:, ::1], OUT (C, KH*KW), zeroed
    db: NDArray[_F] | None,  # floating[::1], OUT (C,) or None, zeroed
    geom: tuple[int, ...],  # tuple -> Geom struct
    n_threads: int,  # int
) -> None:
    """Depthwise grad_weight and grad_bias in NCHW; writes ``dw`` and ``db``."""
