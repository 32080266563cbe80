"""Type stub for the compiled ``cconv._forward`` (src/_forward.pyx).

Forward kernels: NHWC input, HWIO weight, NHWC output. They validate nothing
(``cconv._conv`` checks every argument first). Each array argument is a Cython
typed memoryview over the fused type ``floating`` (float32 or float64, the same
for every argument of one call); the C type is recorded after each parameter.
``geom`` is ``ConvGeometry.kernel_tuple()``: (N, H, W, C, O, KH, KW, groups,
sh, sw, dh, dw, pt, pl, Ho, Wo).
"""
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

_F = TypeVar("_F", np.float32, np.float64)

def conv2d_gemm(
    x: NDArray[_F],  # const floating[:, :, :, ::1], (N, H, W, C)
    w: NDArray[_F],  # const floating[:, :, :, ::1], (KH, KW, C//groups, O)
    bias: NDArray[_F] | None,  # const floating[::1], (O,) or None
    y: NDArray[_F],  # floating[:, :, :, ::1], OUT (N, Ho, Wo, O)
    geom: tuple[int, ...],  # tuple -> Geom struct
    n_threads: int,  # int
    pointwise: bool = False,  # bint: the "gemm-pointwise" route (input rows are the im2col rows)
    border: tuple[NDArray[np.intp], NDArray[np.intp], int, int, NDArray[np.intp], int] | None = None,  # border_maps()
) -> None:
    """im2col + GEMM forward; writes ``y`` (bias fused into the store)."""

def conv2d_implicit(
    x: NDArray[_F],  # const floating[:, :, :, ::1], (N, H, W, C)
    w: NDArray[_F],  # const floating[:, :, :, ::1], (KH, KW, C//groups, O)
    bias: NDArray[_F] | None,  # const floating[::1], (O,) or None
    y: NDArray[_F],  # floating[:, :, :, ::1], OUT (N, Ho, Wo, O)
    geom: tuple[int, ...],  # tuple -> Geom struct; KH*KW*C//groups <= the row's kc
    n_threads: int,  # int
    border: tuple[NDArray[np.intp], NDArray[np.intp], int, int, NDArray[np.intp], int] | None = None,  # border_maps()
) -> None:
    """Implicit-GEMM forward (receptive fields read in place through a pointer table); writes ``y``."""

def conv2d_depthwise(
    x: NDArray[_F],  # const floating[:, :, :, ::1], (N, H, W, C)
    w: NDArray[_F],  # const floating[:, :, :, ::1], (KH, KW, 1, C)
    bias: NDArray[_F] | None,  # const floating[::1], (O,) or None
    y: NDArray[_F],  # floating[:, :, :, ::1], OUT (N, Ho, Wo, O)
    geom: tuple[int, ...],  # tuple -> Geom struct
    n_threads: int,  # int
) -> None:
    """Direct forward for groups == C == O; writes ``y``."""

def conv2d_single_channel(
    x: NDArray[_F],  # const floating[:, :, :, ::1], (N, H, W, 1)
    w: NDArray[_F],  # const floating[:, :, :, ::1], (KH, KW, 1, O)
    bias: NDArray[_F] | None,  # const floating[::1], (O,) or None
    y: NDArray[_F],  # floating[:, :, :, ::1], OUT (N, Ho, Wo, O)
    geom: tuple[int, ...],  # tuple -> Geom struct
    n_threads: int,  # int
) -> None:
    """Direct forward for one input channel, groups == 1, stride 1; writes ``y``."""


def conv3d_depthwise(
    x: NDArray[_F],  # const floating[:, :, :, ::1], (N, D*H, W, C)
    w: NDArray[_F],  # const floating[:, :, :, ::1], (KD*KH, KW, 1, C)
    bias: NDArray[_F] | None,  # const floating[::1], (C,) or None
    y: NDArray[_F],  # floating[:, :, :, ::1], OUT (N, Do*Ho, Wo, C)
    geom: tuple[int, ...],  # tuple -> Geom struct
    n_threads: int,  # int
) -> None:
    """Direct 3-D depthwise forward (groups == C == O); writes ``y``."""
