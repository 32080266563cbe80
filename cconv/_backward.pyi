"""Type stub for the compiled ``cconv._backward`` (src/_backward.pyx).

Gradient kernels: NHWC activations, HWIO weight. They validate nothing
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

def conv2d_grad_weight(
    x: NDArray[_F],  # const floating[:, :, :, ::1], (N, H, W, C)
    dy: NDArray[_F],  # const floating[:, :, :, ::1], (N, Ho, Wo, O)
    dw: NDArray[_F],  # floating[:, :, :, ::1], OUT (KH, KW, C//groups, O)
    db: NDArray[_F] | None,  # floating[::1], OUT (O,) or None
    geom: tuple[int, ...],  # tuple -> Geom struct
    n_threads: int,  # int
    pointwise: bool = False,  # bint: the "gemm-pointwise" route (input rows are the im2col rows)
    border: tuple[NDArray[np.intp], NDArray[np.intp], int, int, NDArray[np.intp], int] | None = None,  # border_maps()
) -> None:
    """grad_weight = cols^T @ dY and grad_bias = sum of dY; writes ``dw`` and ``db``."""

def conv2d_grad_input(
    dy: NDArray[_F],  # const floating[:, :, :, ::1], (N, Ho, Wo, O)
    w: NDArray[_F],  # const floating[:, :, :, ::1], (KH, KW, C//groups, O)
    dx: NDArray[_F],  # floating[:, :, :, ::1], OUT (N, H, W, C), zeroed
    geom: tuple[int, ...],  # tuple -> Geom struct
    n_threads: int,  # int
    pointwise: bool = False,  # bint: the "gemm-pointwise" route (input rows are the im2col rows)
    border: tuple[NDArray[np.intp], NDArray[np.intp], int, int, NDArray[np.intp], int] | None = None,  # border_maps()
) -> None:
    """grad_input: dcols = dY @ W^T scattered (col2im) into the zeroed ``dx``."""

def depthwise_grad_input(
    dy: NDArray[_F],  # const floating[:, :, :, ::1], (N, Ho, Wo, O)
    w: NDArray[_F],  # const floating[:, :, :, ::1], (KH, KW, 1, C)
    dx: NDArray[_F],  # floating[:, :, :, ::1], OUT (N, H, W, C)
    geom: tuple[int, ...],  # tuple -> Geom struct
    n_threads: int,  # int
) -> None:
    """Direct grad_input for groups == C == O; writes ``dx``."""

def depthwise_grad_weight(
    x: NDArray[_F],  # const floating[:, :, :, ::1], (N, H, W, C)
    dy: NDArray[_F],  # const floating[:, :, :, ::1], (N, Ho, Wo, O)
    dw: NDArray[_F],  # floating[:, :, :, ::1], OUT (KH, KW, 1, C)
    db: NDArray[_F] | None,  # floating[::1], OUT (O,) or None
    geom: tuple[int, ...],  # tuple -> Geom struct
    n_threads: int,  # int
) -> None:
    """Direct grad_weight and grad_bias for groups == C == O; writes ``dw`` and ``db``."""

def grad_weight_single_channel(
    x: NDArray[_F],  # const floating[:, :, :, ::1], (N, H, W, 1)
    dy: NDArray[_F],  # const floating[:, :, :, ::1], (N, Ho, Wo, O)
    dw: NDArray[_F],  # floating[:, :, :, ::1], OUT (KH, KW, 1, O)
    db: NDArray[_F] | None,  # floating[::1], OUT (O,) or None
    geom: tuple[int, ...],  # tuple -> Geom struct
    n_threads: int,  # int
) -> None:
    """Direct grad_weight and grad_bias for one input channel, groups == 1, stride 1."""

def grad_input_single_channel(
    dy: NDArray[_F],  # const floating[:, :, :, ::1], (N, Ho, Wo, O)
    w: NDArray[_F],  # const floating[:, :, :, ::1], (KH, KW, 1, O)
    dx: NDArray[_F],  # floating[:, :, :, ::1], OUT (N, H, W, 1)
    geom: tuple[int, ...],  # tuple -> Geom struct
    n_threads: int,  # int
) -> None:
    """Direct grad_input for one input channel, groups == 1, stride 1; writes ``dx``."""


def depthwise3d_grad_input(
    dy: NDArray[_F],  # const floating[:, :, :, ::1], (N, Do*Ho, Wo, C)
    w: NDArray[_F],  # const floating[:, :, :, ::1], (KD*KH, KW, 1, C)
    dx: NDArray[_F],  # floating[:, :, :, ::1], OUT (N, D*H, W, C)
    geom: tuple[int, ...],  # tuple -> Geom struct
    n_threads: int,  # int
) -> None:
    """grad_input of a 3-D depthwise layer; writes every value of ``dx``."""

def depthwise3d_grad_weight(
    x: NDArray[_F],  # const floating[:, :, :, ::1], (N, D*H, W, C)
    dy: NDArray[_F],  # const floating[:, :, :, ::1], (N, Do*Ho, Wo, C)
    dw: NDArray[_F],  # floating[:, :, :, ::1], OUT (KD*KH, KW, 1, C)
    db: NDArray[_F] | None,  # floating[::1], OUT (C,) or None
    geom: tuple[int, ...],  # tuple -> Geom struct
    n_threads: int,  # int
) -> None:
    """grad_weight (and grad_bias) of a 3-D depthwise layer."""
