"""Winograd F(m x m, 3 x 3) convolution for 3x3, stride-1, dilation-1 layers
(private; cconv._conv and cconv._conv3d dispatch here). A 3-D layer with a
KD x 3 x 3 kernel runs F(m x m, 3 x 3) over (H, W) with its depth taps summed
directly, in the transform domain.

Inputs reach these functions already validated: C-contiguous NHWC / HWIO
arrays of one dtype, float32 or float64. ``padding4`` is
(top, bottom, left, right). See docs/winograd.md for the algorithm, the
measured error and speed.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from numpy.typing import NDArray

from . import _winograd_kernel

__all__ = ["winograd_conv2d", "winograd_grad_input", "winograd_grad_weight", "winograd_conv3d",
           "winograd_grad_weight3d", "winograd_supported", "TILES"]

#: Output tile sizes m that F(m x m, 3 x 3) is built for.
TILES = (2, 4)

# Output tiles one thread transforms and multiplies together. A block's
# transformed input (alpha^2 x T x C) and products (alpha^2 x T x O) stay
# near L2 (_BLOCK_BYTES, at most _MAX_TILES tiles). But each block's GEMMs
# read the whole transformed weight U (alpha^2 x C/groups x O), which comes
# from L3 once it outgrows L2: a block then has at least
# one tile per _WEIGHT_BYTES_PER_TILE of U, within _MAX_BLOCK_BYTES of V and M.
# Measured on 2 cores of a Sapphire Rapids class Xeon (2 MiB L2 per core),
# 2 threads, 392-tile layers: 28^2 x 128 -> 128 F(4x4) 2.50 ms at 18 tiles,
# 2.33 at 102; 14^2 x 256 -> 256 F(2x2) 3.78 at 24, 3.24 at 198;
# 28^2 x 256 -> 64 F(4x4) 3.15 at 12, 2.50 at 102; 56^2 x 64 -> 64 (U in
# L2) unchanged from 42 to 102. Results do not depend on the block size.
_BLOCK_BYTES = 768 * 1024
_MIN_TILES = 12
_MAX_TILES = 96
_WEIGHT_BYTES_PER_TILE = 16 * 1024
_MAX_BLOCK_BYTES = 8 * 1024 * 1024
# With fewer blocks than this many per thread, their count is rounded up to
# a multiple of the threads and the tiles shared out evenly (5 blocks on 2
# threads would leave one thread a whole block late).
_BALANCED_BLOCKS_PER_THREAD = 8


def tiles_per_block(m: int, C: int, O: int, itemsize: int, *, weight_elems: int = 0,
                    n_tiles: int = 0, threads: int = 1) -> int:
    """Tiles per GEMM block for F(m x m, 3 x 3): about _BLOCK_BYTES of V and M,
    at most _MAX_TILES; at least one tile per _WEIGHT_BYTES_PER_TILE of the
    transformed weight (``weight_elems`` values), within _MAX_BLOCK_BYTES; a
    multiple of the GEMM's 6-row micro-tile, at least _MIN_TILES. Given
    ``n_tiles`` and ``threads``, a few blocks are evened out over the threads."""
    per_tile = (m + 2) ** 2 * max(C + O, 1) * itemsize
    t = min(_BLOCK_BYTES // per_tile, _MAX_TILES)
    t = max(t, min(weight_elems * itemsize // _WEIGHT_BYTES_PER_TILE, _MAX_BLOCK_BYTES // per_tile))
    t = max(t // 6 * 6, _MIN_TILES)
    blocks = -(-n_tiles // t)
    if threads > 1 and 0 < blocks < _BALANCED_BLOCKS_PER_THREAD * threads:
        blocks = -(-blocks // threads) * threads
        t = max(-(-(-(-n_tiles // blocks)) // 6) * 6, _MIN_TILES)
    return int(t)


# The weight gradient's blocks are transformed and multiplied by all threads
# together: a block's V and E (alpha^2 x T x (C + O)) are shared, and T is the
# depth of its GEMMs, so blocks are larger than the forward's. Results do not
# depend on it.
_GW_BLOCK_BYTES = 4 * 1024 * 1024
_GW_MIN_TILES = 16

def grad_weight_tiles_per_block(m: int, C: int, O: int, itemsize: int, KD: int = 1) -> int:
    """Tiles per block of the weight gradient: about _GW_BLOCK_BYTES of V and E
    in all (a 3-D layer holds one V per depth tap), at least _GW_MIN_TILES
    (the GEMMs' depth)."""
    per_tile = (m + 2) ** 2 * max(KD * C + O, 1) * itemsize
    return int(max(_GW_BLOCK_BYTES // per_tile, _GW_MIN_TILES))


def winograd_supported(geometry: Any) -> tuple[bool, str]:
    """Whether the Winograd kernels can compute this convolution.

    Parameters
    ----------
    geometry : cconv._params.ConvGeometry
        The validated sizes of the convolution.

    Returns
    -------
    (bool, str)
        ``(True, "")`` when supported, else ``(False, reason)`` with a reason
        fit for a ValueError message.
    """
    g = geometry
    rank = getattr(g, "rank", 2)
    if rank == 1:
        # A 1-D call runs as the 2-D one with a unit H axis: a 1x3 kernel, no 3x3 tiles.
        return False, (f"winograd is for 2-D 3x3 kernels and 3-D KDx3x3 ones (F(2x2,3x3), F(4x4,3x3)); "
                       f"a 1-D kernel has KW={g.KW}")
    if rank == 3:
        # F(m x m, 3 x 3) over (H, W), the depth taps summed directly (any KD).
        if (g.KH, g.KW) != (3, 3):
            return False, f"winograd needs a KD x 3 x 3 kernel in 3-D; got {g.KD}x{g.KH}x{g.KW}"
        if (g.sd, g.sh, g.sw) != (1, 1, 1):
            return False, f"winograd needs stride 1; got stride ({g.sd}, {g.sh}, {g.sw})"
        if (g.dd, g.dh, g.dw) != (1, 1, 1):
            return False, f"winograd needs dilation 1; got dilation ({g.dd}, {g.dh}, {g.dw})"
        return True, ""
    if (g.KH, g.KW) != (3, 3):
        return False, f"winograd needs a 3x3 kernel; got {g.KH}x{g.KW}"
    if (g.sh, g.sw) != (1, 1):
        return False, f"winograd needs stride 1; got stride ({g.sh}, {g.sw})"
    if (g.dh, g.dw) != (1, 1):
        return False, f"winograd needs dilation 1; got dilation ({g.dh}, {g.dw})"
    return True, ""


def _check_tile(tile: Any) -> int:
    if tile not in TILES:
        raise ValueError(f"tile must be one of {TILES}; got {tile!r}")
    return int(tile)


def winograd_conv2d(x_nhwc: NDArray[Any], w_hwio: NDArray[Any], bias: NDArray[Any] | None,
                    padding4: Sequence[int], num_threads: int, tile: int = 4, *,
                    block_tiles: int | None = None) -> NDArray[Any]:
    """Forward 3x3, stride-1 convolution by Winograd F(tile x tile, 3 x 3).

    Parameters
    ----------
    x_nhwc : ndarray (N, H, W, C), C-contiguous float32 or float64
    w_hwio : ndarray (3, 3, C // groups, O), same dtype; groups = C // w.shape[2]
    bias : ndarray (O,) of the same dtype, or None
    padding4 : (top, bottom, left, right) zero padding, each >= 0
    num_threads : int, OpenMP threads
    tile : 2 or 4, the output tile size m
    block_tiles : tiles per GEMM block (tuning only; default from the sizes)

    Returns
    -------
    ndarray (N, Ho, Wo, O) of the input dtype, Ho = H + top + bottom - 2.
    """
    m = _check_tile(tile)
    pt, pb, pl, pr = (int(p) for p in padding4)
    return _forward(x_nhwc, w_hwio, bias, (pt, pb, pl, pr), num_threads, m, block_tiles)


def _forward(x: NDArray[Any], w: NDArray[Any], bias: NDArray[Any] | None,
             padding4: tuple[int, int, int, int], num_threads: int, m: int,
             block_tiles: int | None = None) -> NDArray[Any]:
    """The kernel call; padding entries may be negative (crop), as grad_input needs."""
    pt, pb, pl, pr = padding4
    N, H, W, C = x.shape
    O = w.shape[3]
    Ho, Wo = H + pt + pb - 2, W + pl + pr - 2
    y = np.empty((N, max(Ho, 0), max(Wo, 0), O), dtype=x.dtype)
    if y.size == 0:
        return y
    if block_tiles is None:
        n_tiles = N * -(-y.shape[1] // m) * -(-y.shape[2] // m)
        block_tiles = tiles_per_block(m, C, O, x.dtype.itemsize, weight_elems=(m + 2) ** 2 * w.shape[2] * O,
                                      n_tiles=n_tiles, threads=num_threads)
    _winograd_kernel.winograd_forward(x, w, bias, y, m, pt, pl, int(block_tiles), int(num_threads))
    return y


def winograd_grad_input(grad_out: NDArray[Any], w_hwio: NDArray[Any], input_shape: Sequence[int],
                        padding4: Sequence[int], num_threads: int, tile: int = 4) -> NDArray[Any]:
    """Gradient of a 3x3, stride-1 convolution with respect to its input.

    It is the 3x3 stride-1 convolution of ``grad_out`` with the kernel
    rotated 180 degrees and its in/out channels swapped (per group), padded
    (2-top, 2-bottom, 2-left, 2-right); a negative amount crops.

    Parameters
    ----------
    grad_out : ndarray (N, Ho, Wo, O), C-contiguous float32 or float64
    w_hwio : ndarray (3, 3, C // groups, O), same dtype
    input_shape : (N, H, W, C) of the forward input
    padding4 : (top, bottom, left, right) of the forward convolution
    num_threads : int, OpenMP threads
    tile : 2 or 4, the output tile size m

    Returns
    -------
    ndarray of ``input_shape`` and the dtype of ``grad_out``.
    """
    m = _check_tile(tile)
    N, H, W, C = (int(s) for s in input_shape)
    KH, KW, Cg, O = w_hwio.shape
    groups = C // Cg if Cg else 1
    Og = O // groups
    pt, pb, pl, pr = (int(p) for p in padding4)
    if grad_out.size == 0 or C == 0:
        return np.zeros((N, H, W, C), dtype=grad_out.dtype)
    # w_rot (3, 3, Og, C): per group, the flipped weight with c and o swapped.
    w_rot = np.ascontiguousarray(
        w_hwio[::-1, ::-1].reshape(3, 3, Cg, groups, Og).transpose(0, 1, 4, 3, 2).reshape(3, 3, Og, C)
    )
    gx = _forward(grad_out, w_rot, None, (2 - pt, 2 - pb, 2 - pl, 2 - pr), num_threads, m)
    assert gx.shape == (N, H, W, C), (gx.shape, (N, H, W, C))
    return gx


def winograd_grad_weight(grad_out: NDArray[Any], x_nhwc: NDArray[Any], weight_shape: Sequence[int],
                         padding4: Sequence[int], num_threads: int, tile: int = 4, *, with_bias: bool = True,
                         block_tiles: int | None = None) -> tuple[NDArray[Any], NDArray[Any] | None]:
    """Weight (and bias) gradient of a 3x3, stride-1 convolution by the
    transpose of Winograd F(tile x tile, 3 x 3).

    dW = G^T [sum over output tiles (B^T d B) * (A e A^T)] G, with d the input
    patch of a tile and e the tile of ``grad_out`` (src/kernels/winograd/
    transforms.h); the sum runs as alpha^2 GEMMs per group in the working
    dtype, the last transform (compiled, no BLAS) in float64, in the same
    parallel region.

    Parameters
    ----------
    grad_out : ndarray (N, Ho, Wo, O), C-contiguous float32 or float64
    x_nhwc : ndarray (N, H, W, C), same dtype
    weight_shape : (3, 3, C // groups, O)
    padding4 : (top, bottom, left, right) zero padding of the forward convolution
    num_threads : int, OpenMP threads
    tile : 2 or 4, the output tile size m
    with_bias : also return the bias gradient (the sum of ``grad_out``)
    block_tiles : tiles per block (tuning only; default from the sizes)

    Returns
    -------
    (grad_weight of ``weight_shape``, grad_bias (O,) or None), in the dtype of ``grad_out``.
    """
    m = _check_tile(tile)
    KH, KW, Cg, O = (int(s) for s in weight_shape)
    pt, _pb, pl, _pr = (int(p) for p in padding4)
    dtype = grad_out.dtype
    alpha = m + 2
    M = np.zeros((alpha * alpha, Cg, O), dtype=dtype)
    db = np.zeros(O, dtype=dtype) if with_bias else None
    dw = np.zeros((KH, KW, Cg, O), dtype=dtype)
    if grad_out.size and x_nhwc.size and Cg:
        if block_tiles is None:
            block_tiles = grad_weight_tiles_per_block(m, x_nhwc.shape[3], O, dtype.itemsize)
        _winograd_kernel.winograd_grad_weight(x_nhwc, grad_out, M, dw, db, m, pt, pl, int(block_tiles),
                                              int(num_threads))
    elif db is not None and grad_out.size:     # no input channels: only the bias has a gradient
        np.sum(grad_out.reshape(-1, O), axis=0, out=db)
    return dw, db


def winograd_conv3d(x_ndhwc: NDArray[Any], w_dhwio: NDArray[Any], bias: NDArray[Any] | None,
                    padding6: Sequence[int], num_threads: int, tile: int = 4, *,
                    block_tiles: int | None = None) -> NDArray[Any]:
    """Forward KD x 3 x 3, stride-1 3-D convolution: F(tile x tile, 3 x 3) over
    (H, W), the KD depth taps summed in the transform domain.

    Parameters
    ----------
    x_ndhwc : ndarray (N, D, H, W, C), C-contiguous float32 or float64
    w_dhwio : ndarray (KD, 3, 3, C // groups, O), same dtype
    bias : ndarray (O,) of the same dtype, or None
    padding6 : (front, back, top, bottom, left, right) zero padding; a
        negative amount crops (grad_input is this convolution of grad_out with
        the flipped kernel, padded by the kernel's extent less the layer's
        padding: cconv._conv3d)
    num_threads : int, OpenMP threads
    tile : 2 or 4, the output tile size m
    block_tiles : tiles per GEMM block (tuning only; default from the sizes)

    Returns
    -------
    ndarray (N, Do, Ho, Wo, O) of the input dtype, Do = D + front + back - KD + 1.
    """
    m = _check_tile(tile)
    pf, pbk, pt, pb, pl, pr = (int(p) for p in padding6)
    N, D, H, W, C = x_ndhwc.shape
    KD, O = w_dhwio.shape[0], w_dhwio.shape[4]
    Do, Ho, Wo = D + pf + pbk - KD + 1, H + pt + pb - 2, W + pl + pr - 2
    y = np.empty((N, max(Do, 0), max(Ho, 0), max(Wo, 0), O), dtype=x_ndhwc.dtype)
    if y.size == 0:
        return y
    if block_tiles is None:
        # The cache rule alone: the 2-D forward's larger blocks for a large
        # transformed weight measured 0.83-1.29x the time here (depth runs
        # shape these blocks differently).
        block_tiles = tiles_per_block(m, C, O, x_ndhwc.dtype.itemsize)
    _winograd_kernel.winograd_forward3d(x_ndhwc, w_dhwio, bias, y, m, pf, pt, pl, int(block_tiles),
                                        int(num_threads))
    return y



def winograd_grad_weight3d(grad_out: NDArray[Any], x_ndhwc: NDArray[Any], weight_shape: Sequence[int],
                           padding6: Sequence[int], num_threads: int, tile: int = 4, *, with_bias: bool = True,
                           block_tiles: int | None = None) -> tuple[NDArray[Any], NDArray[Any] | None]:
    """Weight (and bias) gradient of a KD x 3 x 3, stride-1 3-D convolution by
    the transpose of F(tile x tile, 3 x 3) over (H, W): for each depth tap kd,
    dW[kd] = G^T [sum over output tiles (B^T d B) * (A e A^T)] G, d the patch
    of the input slice that tap reads for the tile and e the tile of
    ``grad_out``.

    Parameters
    ----------
    grad_out : ndarray (N, Do, Ho, Wo, O), C-contiguous float32 or float64
    x_ndhwc : ndarray (N, D, H, W, C), same dtype
    weight_shape : (KD, 3, 3, C // groups, O)
    padding6 : (front, back, top, bottom, left, right) zero padding of the forward convolution
    num_threads : int, OpenMP threads
    tile : 2 or 4, the output tile size m
    with_bias : also return the bias gradient (the sum of ``grad_out``)
    block_tiles : tiles per block (tuning only; default from the sizes)

    Returns
    -------
    (grad_weight of ``weight_shape``, grad_bias (O,) or None), in the dtype of ``grad_out``.
    """
    m = _check_tile(tile)
    KD, KH, KW, Cg, O = (int(s) for s in weight_shape)
    pf, _pbk, pt, _pb, pl, _pr = (int(p) for p in padding6)
    dtype = grad_out.dtype
    alpha = m + 2
    M = np.zeros((KD, alpha * alpha, Cg, O), dtype=dtype)
    db = np.zeros(O, dtype=dtype) if with_bias else None
    dw = np.zeros((KD, KH, KW, Cg, O), dtype=dtype)
    if grad_out.size and x_ndhwc.size and Cg and KD:
        if block_tiles is None:
            block_tiles = grad_weight_tiles_per_block(m, x_ndhwc.shape[4], O, dtype.itemsize, KD)
        _winograd_kernel.winograd_grad_weight3d(x_ndhwc, grad_out, M, dw, db, m, pf, pt, pl, int(block_tiles),
                                                int(num_threads))
    elif db is not None and grad_out.size:     # no input channels: only the bias has a gradient
        np.sum(grad_out.reshape(-1, O), axis=0, out=db)
    return dw, db
