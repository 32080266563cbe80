"""Type stub for the compiled ``cconv._winograd_kernel`` (src/_winograd_kernel.pyx).

Winograd F(m x m, 3 x 3) forward convolution and weight gradient, NHWC input,
HWIO weight, and the 3-D forward (NDHWC, DHWIO) of a KD x 3 x 3 kernel. It
validates nothing. Each array argument is a Cython typed memoryview over the
fused type ``floating`` (float32 or float64, the same for every argument of one
call); the C type is recorded after each parameter.
"""
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

_F = TypeVar("_F", np.float32, np.float64)

def winograd_forward(
    x: NDArray[_F],  # const floating[:, :, :, ::1], (N, H, W, C)
    w: NDArray[_F],  # const floating[:, :, :, ::1], (3, 3, C//groups, O)
    bias: NDArray[_F] | None,  # const floating[::1], (O,) or None
    y: NDArray[_F],  # floating[:, :, :, ::1], OUT (N, Ho, Wo, O)
    m: int,  # int
    pt: int,  # Py_ssize_t, top padding (negative crops)
    pl: int,  # Py_ssize_t, left padding (negative crops)
    tiles_per_block: int,  # Py_ssize_t
    n_threads: int,  # int
) -> None:
    """y = conv(x, w) + bias by F(m x m, 3 x 3); writes ``y``."""

def winograd_forward3d(
    x: NDArray[_F],  # const floating[:, :, :, :, ::1], (N, D, H, W, C)
    w: NDArray[_F],  # const floating[:, :, :, :, ::1], (KD, 3, 3, C//groups, O)
    bias: NDArray[_F] | None,  # const floating[::1], (O,) or None
    y: NDArray[_F],  # floating[:, :, :, :, ::1], OUT (N, Do, Ho, Wo, O)
    m: int,  # int
    pf: int,  # Py_ssize_t, front padding (negative crops)
    pt: int,  # Py_ssize_t, top padding (negative crops)
    pl: int,  # Py_ssize_t, left padding (negative crops)
    tiles_per_block: int,  # Py_ssize_t
    n_threads: int,  # int
) -> None:
    """y = conv3d(x, w) + bias, stride 1: F(m x m, 3 x 3) over (H, W), the depth
    taps summed in the transform domain; writes ``y``."""

def winograd_grad_weight(
    x: NDArray[_F],  # const floating[:, :, :, ::1], (N, H, W, C)
    dy: NDArray[_F],  # const floating[:, :, :, ::1], (N, Ho, Wo, O)
    M: NDArray[_F],  # floating[:, :, ::1], SCRATCH (alpha^2, C//groups, O), zeroed
    dw: NDArray[_F],  # floating[:, :, :, ::1], OUT (3, 3, C//groups, O)
    db: NDArray[_F] | None,  # floating[::1], OUT (O,) zeroed, or None
    m: int,  # int
    pt: int,  # Py_ssize_t, top padding
    pl: int,  # Py_ssize_t, left padding
    tiles_per_block: int,  # Py_ssize_t
    n_threads: int,  # int
) -> None:
    """dw = G^T (sum over output tiles of V[xi]^T E[xi]) G; ``db`` += the sum of ``dy``."""

def winograd_grad_weight3d(
    x: NDArray[_F],  # const floating[:, :, :, :, ::1], (N, D, H, W, C)
    dy: NDArray[_F],  # const floating[:, :, :, :, ::1], (N, Do, Ho, Wo, O)
    M: NDArray[_F],  # floating[:, :, :, ::1], SCRATCH (KD, alpha^2, C//groups, O), zeroed
    dw: NDArray[_F],  # floating[:, :, :, :, ::1], OUT (KD, 3, 3, C//groups, O)
    db: NDArray[_F] | None,  # floating[::1], OUT (O,) zeroed, or None
    m: int,  # int
    pf: int,  # Py_ssize_t, front padding
    pt: int,  # Py_ssize_t, top padding
    pl: int,  # Py_ssize_t, left padding
    tiles_per_block: int,  # Py_ssize_t
    n_threads: int,  # int
) -> None:
    """dw[kd] = G^T (sum over output tiles of V_kd[xi]^T E[xi]) G; ``db`` += the sum of ``dy``."""
