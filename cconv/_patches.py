"""The public im2col and its adjoint col2im, compiled and parallel.

Rows are ordered (n, ho, wo). NHWC columns are (kh*KW + kw)*C + c; NCHW
columns are (c*KH + kh)*KW + kw. Padded taps are zero in im2col and dropped
in col2im, which sums overlapping taps: it is the exact adjoint of im2col.
An unbatched image (as ``F.unfold`` takes) gives the rows of a batch of one.
"""
from __future__ import annotations

import numpy as np

from . import _im2col
from ._params import ConvGeometry, activation_iv, array_iv, compute_dtype, conv_geometry, input_batch_iv, layout_iv
from ._threading import resolve_num_threads
from ._types import ArrayLike, FloatArray, IntPair, Padding, Shape
from ._conv import from_nhwc, to_nhwc

__all__ = ["im2col", "col2im"]


def _patch_geometry(input_shape: Shape, kernel_size: IntPair, stride: IntPair, padding: Padding,
                    dilation: IntPair, layout: str, input_name: str) -> ConvGeometry:
    return conv_geometry(input_shape, kernel_size, stride=stride, padding=padding, dilation=dilation,
                         layout=layout, input_name=input_name)


def im2col(x: ArrayLike, kernel_size: IntPair, *, stride: IntPair = 1, padding: Padding = 0, dilation: IntPair = 1,
           layout: str = "NHWC", num_threads: int | None = None) -> FloatArray:
    """Unfold every receptive field of ``x`` into one row.

    Parameters
    ----------
    x : array_like of shape (N, H, W, C) or (N, C, H, W)
        Or one unbatched image, (H, W, C) or (C, H, W): then N = 1.
    kernel_size : int or (int, int)
        (KH, KW).
    stride, padding, dilation, layout, num_threads
        As in ``cconv.conv2d``.

    Returns
    -------
    cols : ndarray of shape (N*Ho*Wo, KH*KW*C)
        Row (n*Ho + ho)*Wo + wo. NHWC column (kh*KW + kw)*C + c; NCHW column
        (c*KH + kh)*KW + kw. ``cols @ weight.reshape(-1, O)`` (HWIO weight)
        is the NHWC convolution.
    """
    layout = layout_iv(layout)
    x, batch = activation_iv(x, "x", layout)
    geom = _patch_geometry(batch.batched_shape, kernel_size, stride, padding, dilation, layout, "x")
    result_dtype, dtype = compute_dtype(x)
    n_threads = resolve_num_threads(num_threads)
    P, taps = geom.N * geom.Ho * geom.Wo, geom.KH * geom.KW
    cols = np.empty((P, taps * geom.C), dtype=dtype)
    if cols.size:
        _im2col.im2col(to_nhwc(x, layout, dtype, n_threads), cols, geom.kernel_tuple(), n_threads)
    if layout == "NCHW":
        cols = cols.reshape(P, taps, geom.C).transpose(0, 2, 1).reshape(P, taps * geom.C)
    return np.ascontiguousarray(cols, dtype=result_dtype)


def col2im(cols: ArrayLike, input_shape: Shape, kernel_size: IntPair, *, stride: IntPair = 1, padding: Padding = 0,
           dilation: IntPair = 1, layout: str = "NHWC", num_threads: int | None = None) -> FloatArray:
    """Sum rows of im2col columns back into an input-shaped array (adjoint of ``im2col``).

    Parameters
    ----------
    cols : array_like of shape (N*Ho*Wo, KH*KW*C)
        Columns ordered as ``im2col`` gives them for ``layout``.
    input_shape : tuple of 4 ints, or 3 for one unbatched image
        Shape of the image batch, in ``layout`` order.
    kernel_size : int or (int, int)
    stride, padding, dilation, layout, num_threads
        As in ``cconv.conv2d``.

    Returns
    -------
    x : ndarray of shape ``input_shape``
        Each element is the sum of every column entry that im2col copied from it.
    """
    layout = layout_iv(layout)
    cols = array_iv(cols, "cols", 2)
    batch = input_batch_iv(input_shape, "input_shape", layout)
    geom = _patch_geometry(batch.batched_shape, kernel_size, stride, padding, dilation, layout, "input_shape")
    P, taps = geom.N * geom.Ho * geom.Wo, geom.KH * geom.KW
    if cols.shape != (P, taps * geom.C):
        raise ValueError(
            f"cols must have shape (N*Ho*Wo, KH*KW*C) = ({P}, {taps * geom.C}) for input_shape "
            f"{batch.shape}; got {cols.shape}"
        )
    result_dtype, dtype = compute_dtype(cols)
    n_threads = resolve_num_threads(num_threads)
    if layout == "NCHW":
        cols = cols.reshape(P, geom.C, taps).transpose(0, 2, 1).reshape(P, taps * geom.C)
    cols = np.ascontiguousarray(cols, dtype=dtype)
    dx = np.zeros((geom.N, geom.H, geom.W, geom.C), dtype=dtype)
    if dx.size and cols.size:
        _im2col.col2im(cols, dx, geom.kernel_tuple(), n_threads)
    return batch.strip(from_nhwc(dx, layout, result_dtype, n_threads))
