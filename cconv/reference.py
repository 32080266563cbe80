"""Pure-NumPy reference implementation of cconv's convolution API (1-D, 2-D and 3-D).

Everything is vectorised NumPy (``sliding_window_view`` plus BLAS-backed matmul or
einsum); it is the baseline the compiled kernels are tested and benchmarked against.
Like cconv, every function takes its activations batched or unbatched (``x`` of shape
(H, W, C) or (C, H, W)); the validation shared with cconv (``cconv._params``,
``cconv._batch``) adds and strips the batch axis, so the computations below only see
batched arrays. The 1-D functions are the 2-D ones on one-row images: a unit H axis
inserted as a view (``cconv._unit_axis``), validated first in 1-D terms.
"""
from __future__ import annotations

from typing import Any, cast

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import DTypeLike, NDArray

from . import _unit_axis as unit
from ._batch import grad_out_shape_iv
from ._params import (
    ConvGeometry,
    activation_iv,
    array_iv,
    compute_dtype,
    conv_call_geometry,
    conv_geometry,
    input_batch_iv,
    layout_iv,
    num_threads_iv,
)
from ._padding_mode import NUMPY_MODE
from ._types import ArrayLike, FloatArray, IntPair, Padding, Shape

__all__ = [
    "conv1d",
    "conv1d_backward",
    "conv1d_grad_input",
    "conv1d_grad_weight",
    "conv2d",
    "conv2d_backward",
    "conv2d_grad_input",
    "conv2d_grad_weight",
    "conv3d",
    "conv3d_backward",
    "conv3d_grad_input",
    "conv3d_grad_weight",
    "im2col",
    "col2im",
]

# How the work is arranged. Every choice was timed on bench-suite-like layers (float32,
# batch 8, 2 cores, OpenBLAS, on a machine shared with other jobs: best of 5-15 runs).
#
# * groups == 1: "pixel-major" (NHWC) im2col. The padded input is NHWC and the windows
#   are copied into cols of shape (N*Ho*Wo, KH*KW*C), whose rows are contiguous runs of
#   KW*C values; one GEMM does the rest. Building the cols channel-major instead was
#   1.3-4x slower for the forward pass (equal only for the 1-channel LeNet layer), and
#   ``np.einsum(..., optimize=True)`` on the window view 2.2-2.8x slower.
# * depthwise with multiplier 1 (C == O == groups): a multiply-and-reduce on the strided
#   window view, ``np.einsum`` *without* ``optimize`` (with it, einsum routes through
#   transposed copies and tensordot). 15 ms against 230-270 ms for the batched-GEMM route
#   on an 8x56x56x128 3x3 layer.
# * grouped convolutions with Cg = C/groups >= 32 channels per group: the same
#   pixel-major cols with a leading groups axis, (groups, N*Ho*Wo, KH*KW*Cg), and one
#   batched ``np.matmul`` that treats the groups as a batch axis.
# * grouped convolutions with Cg < 32: "channel-major" cols. The padded input is
#   (C, N, H, W) and the cols (groups, Cg*KH*KW, N*Ho*Wo) have rows that run along W,
#   where pixel-major rows are runs of only Cg values; again one batched ``np.matmul``.
#   Forward / grad_weight, single-threaded BLAS (the shared machine made 2-thread
#   timings too noisy), pixel-major vs channel-major: Cg=64 1.05-1.5x faster,
#   Cg=32 1.1x faster, Cg=16 1.3-1.5x slower, Cg=4 1.8-2x slower.
#   A Python loop over the groups was never faster than the batched matmul (equal at
#   groups=2, 1.1x slower at groups=8 and 2.5x slower at groups=32).
#
# grad_input needs the adjoint of im2col. The public ``col2im`` scatters with
# ``np.add.at`` as seed 003 does (with flat indices, which measured 2-4x faster than
# seed 003's (slice, m, i, j) indexing); ``_grad_input`` instead accumulates one strided
# slice-add per kernel tap, which measured faster (numbers there).


# ----------------------------------------------------------------------------------
# layout helpers (all return views except where noted)


def _x_nhwc(x: NDArray[Any], layout: str) -> NDArray[Any]:
    return x if layout == "NHWC" else x.transpose(0, 2, 3, 1)


def _x_cnhw(x: NDArray[Any], layout: str) -> NDArray[Any]:
    return x.transpose(3, 0, 1, 2) if layout == "NHWC" else x.transpose(1, 0, 2, 3)


def _y_from_nhwc(y: NDArray[Any], layout: str) -> NDArray[Any]:
    """Return a C-contiguous copy (or ``y`` itself) of NHWC ``y`` in ``layout``."""
    return np.ascontiguousarray(y if layout == "NHWC" else y.transpose(0, 3, 1, 2))


def _y_from_cnhw(y: NDArray[Any], layout: str) -> NDArray[Any]:
    y = y.transpose(1, 2, 3, 0) if layout == "NHWC" else y.transpose(1, 0, 2, 3)
    return np.ascontiguousarray(y)


def _w_hwio(w: NDArray[Any], layout: str) -> NDArray[Any]:
    return w if layout == "NHWC" else w.transpose(2, 3, 1, 0)


def _w_oihw(w: NDArray[Any], layout: str) -> NDArray[Any]:
    return w.transpose(3, 2, 0, 1) if layout == "NHWC" else w


def _w_from_hwio(w: NDArray[Any], layout: str) -> NDArray[Any]:
    return np.ascontiguousarray(w if layout == "NHWC" else w.transpose(3, 2, 0, 1))


def _w_from_oihw(w: NDArray[Any], layout: str) -> NDArray[Any]:
    return np.ascontiguousarray(w.transpose(2, 3, 1, 0) if layout == "NHWC" else w)


def _pad(a: NDArray[Any], g: ConvGeometry, axes: tuple[int, int], dtype: DTypeLike) -> NDArray[Any]:
    """Return a C-contiguous padded copy of ``a`` in ``dtype``: ``numpy.pad`` with
    the mode of ``g.padding_mode`` (zeros by default).

    ``axes`` are the (H, W) axes of ``a``. Without padding the array is only made
    contiguous (a no-op for a contiguous input of the right dtype).
    """
    a = a.astype(dtype, copy=False)
    if g.pt == g.pb == g.pl == g.pr == 0:
        return np.ascontiguousarray(a)
    widths = [(0, 0)] * a.ndim
    widths[axes[0]] = (g.pt, g.pb)
    widths[axes[1]] = (g.pl, g.pr)
    return np.ascontiguousarray(np.pad(a, widths, mode=NUMPY_MODE[g.padding_mode]))


def _unpad(buf: NDArray[Any], g: ConvGeometry, axes: tuple[int, ...]) -> NDArray[Any]:
    """The gradient of the input from that of its padded copy ``buf`` (the adjoint of ``_pad``).

    Zeros: the crop. Another padding mode: along each padded axis, every padded
    sample's gradient is added (``np.add.at``) onto the input sample its value
    was copied from.
    """
    maps = g.border_maps()
    # Per padded axis: (axis of buf, before, size, border map); (D,) H, W.
    per_axis = [(axes[-2], g.pt, g.H, maps[0] if maps else None), (axes[-1], g.pl, g.W, maps[1] if maps else None)]
    if len(axes) == 3:
        per_axis.insert(0, (axes[0], g.pf, g.D, maps[4] if maps else None))
    if maps is None:
        index = [slice(None)] * buf.ndim
        for axis, before, size, _ in per_axis:
            index[axis] = slice(before, before + size)
        return buf[tuple(index)]
    for axis, _, size, source in per_axis:
        shape = list(buf.shape)
        shape[axis] = size
        folded = np.zeros(shape, buf.dtype)
        at: Any = (slice(None),) * axis + (source,)   # numpy's stub takes no slice in the tuple
        np.add.at(folded, at, buf)
        buf = folded
    return buf


def _windows(xp: NDArray[Any], g: ConvGeometry, axes: tuple[int, int]) -> NDArray[Any]:
    """Read-only view of every dilated, strided kernel window of padded ``xp``.

    ``axes`` are the (H, W) axes of ``xp``; they become (Ho, Wo) and two window axes
    (KH, KW) are appended: NHWC -> (N, Ho, Wo, C, KH, KW), CNHW -> (C, N, Ho, Wo, KH, KW).
    """
    span = ((g.KH - 1) * g.dh + 1, (g.KW - 1) * g.dw + 1)
    view = sliding_window_view(xp, span, axis=axes)
    index = [slice(None)] * view.ndim
    index[axes[0]] = slice(None, None, g.sh)
    index[axes[1]] = slice(None, None, g.sw)
    index[-2] = slice(None, None, g.dh)
    index[-1] = slice(None, None, g.dw)
    return view[tuple(index)]


def _tap_slices(g: ConvGeometry, kh: int, kw: int) -> tuple[slice, slice]:
    """The (H, W) slices of the padded input that kernel tap (kh, kw) reads."""
    h0, w0 = kh * g.dh, kw * g.dw
    return (
        slice(h0, h0 + (g.Ho - 1) * g.sh + 1, g.sh),
        slice(w0, w0 + (g.Wo - 1) * g.sw + 1, g.sw),
    )


def _is_depthwise(g: ConvGeometry) -> bool:
    return g.groups > 1 and g.Cg == 1 and g.Og == 1


# Channels per group from which grouped convolutions use pixel-major cols (measured
# crossover; see the notes at the top of the module).
_PIXEL_MAJOR_MIN_CG = 32


def _route(g: ConvGeometry) -> str:
    """How the forward pass and grad_weight build their columns."""
    if g.groups == 1 or g.Cg >= _PIXEL_MAJOR_MIN_CG:
        return "pixel"
    return "depthwise" if _is_depthwise(g) else "channel"


def _cols_pixel_major(x: NDArray[Any], g: ConvGeometry, layout: str, dtype: DTypeLike) -> NDArray[Any]:
    """Grouped im2col in NHWC order: (groups, N*Ho*Wo, KH*KW*Cg), column (kh*KW + kw)*Cg + c.

    With ``groups == 1`` it is ``im2col``'s NHWC matrix with a leading axis of length 1.
    """
    xp = _pad(_x_nhwc(x, layout), g, (1, 2), dtype)
    win = _windows(xp, g, (1, 2)).transpose(0, 1, 2, 4, 5, 3)  # N, Ho, Wo, KH, KW, C
    win = win.reshape(g.N, g.Ho, g.Wo, g.KH, g.KW, g.groups, g.Cg)
    win = win.transpose(5, 0, 1, 2, 3, 4, 6)  # groups, N, Ho, Wo, KH, KW, Cg
    return win.reshape(g.groups, g.N * g.Ho * g.Wo, g.KH * g.KW * g.Cg)


def _cols_channel_major(x: NDArray[Any], g: ConvGeometry, layout: str, dtype: DTypeLike) -> NDArray[Any]:
    """Grouped, transposed im2col: (groups, Cg*KH*KW, N*Ho*Wo), row (c*KH + kh)*KW + kw."""
    xp = _pad(_x_cnhw(x, layout), g, (2, 3), dtype)
    win = _windows(xp, g, (2, 3)).transpose(0, 4, 5, 1, 2, 3)  # C, KH, KW, N, Ho, Wo
    return win.reshape(g.groups, g.Cg * g.KH * g.KW, g.N * g.Ho * g.Wo)


# ----------------------------------------------------------------------------------
# the three computations, on validated input; results in the compute dtype


def _forward(x: NDArray[Any], w: NDArray[Any], g: ConvGeometry, layout: str, dtype: DTypeLike) -> NDArray[Any]:
    route = _route(g)
    K = g.KH * g.KW * g.Cg
    if route == "pixel":
        cols = _cols_pixel_major(x, g, layout, dtype)  # groups, M, K
        wg = _w_hwio(w, layout).astype(dtype, copy=False).reshape(g.KH, g.KW, g.Cg, g.groups, g.Og)
        y = np.matmul(cols, wg.transpose(3, 0, 1, 2, 4).reshape(g.groups, K, g.Og))  # groups, M, Og
        return _y_from_nhwc(y.transpose(1, 0, 2).reshape(g.N, g.Ho, g.Wo, g.O), layout)
    if route == "depthwise":
        xp = _pad(_x_nhwc(x, layout), g, (1, 2), dtype)
        win = _windows(xp, g, (1, 2))  # N, Ho, Wo, C, KH, KW
        wd = _w_hwio(w, layout)[:, :, 0, :].astype(dtype, copy=False)  # KH, KW, C
        return _y_from_nhwc(np.einsum("nhwckl,klc->nhwc", win, wd), layout)
    cols = _cols_channel_major(x, g, layout, dtype)  # groups, K, M
    wg = _w_oihw(w, layout).astype(dtype, copy=False).reshape(g.groups, g.Og, K)
    y = np.matmul(wg, cols)  # groups, Og, M  ==  O, N, Ho, Wo
    return _y_from_cnhw(y.reshape(g.O, g.N, g.Ho, g.Wo), layout)


def _grad_weight(grad_out: NDArray[Any], x: NDArray[Any], g: ConvGeometry, layout: str, dtype: DTypeLike) -> NDArray[Any]:
    route = _route(g)
    M = g.N * g.Ho * g.Wo
    dy = grad_out.astype(dtype, copy=False)
    if route == "pixel":
        cols = _cols_pixel_major(x, g, layout, dtype)  # groups, M, K
        dyg = _x_nhwc(dy, layout).reshape(M, g.groups, g.Og).transpose(1, 0, 2)
        gw = np.matmul(cols.transpose(0, 2, 1), dyg)  # groups, K, Og
        gw = gw.reshape(g.groups, g.KH, g.KW, g.Cg, g.Og).transpose(1, 2, 3, 0, 4)
        return _w_from_hwio(gw.reshape(g.KH, g.KW, g.Cg, g.O), layout)
    if route == "depthwise":
        xp = _pad(_x_nhwc(x, layout), g, (1, 2), dtype)
        win = _windows(xp, g, (1, 2))  # N, Ho, Wo, C, KH, KW
        gw = np.einsum("nhwckl,nhwc->klc", win, _x_nhwc(dy, layout))
        return _w_from_hwio(gw[:, :, None, :], layout)
    cols = _cols_channel_major(x, g, layout, dtype)  # groups, K, M
    dyc = _x_cnhw(dy, layout).reshape(g.groups, g.Og, M)
    gw = np.matmul(dyc, cols.transpose(0, 2, 1))  # groups, Og, K  ==  OIHW
    return _w_from_oihw(gw.reshape(g.O, g.Cg, g.KH, g.KW), layout)


def _grad_bias(grad_out: NDArray[Any], layout: str, dtype: DTypeLike) -> NDArray[Any]:
    axes = (0, 1, 2) if layout == "NHWC" else (0, 2, 3)
    return cast(NDArray[Any], grad_out.sum(axis=axes, dtype=dtype))


def _grad_input(grad_out: NDArray[Any], w: NDArray[Any], g: ConvGeometry, layout: str, dtype: DTypeLike) -> NDArray[Any]:
    # grad_input = col2im(grad_out @ W^T). Measured, float32, 2 cores, best of 16 runs
    # in each of two sessions: the same GEMM followed by the np.add.at col2im (flat
    # indices) -> the per-tap strided slice-adds used here:
    #   LeNet 32x28x28x1 -> 6, 5x5             7.0 ms ->  0.9 ms   7.8x faster
    #   LeNet 32x14x14x6 -> 16, 5x5            2.5 ms ->  1.7 ms   1.5x
    #   ResNet 8x56x56x64, 3x3                78   ms -> 67   ms   1.2x
    #   ResNet 8x28x28x128, 3x3               67   ms -> 40   ms   1.7x
    #   ResNet 8x14x14x256, 3x3               46   ms -> 32   ms   1.5x
    #   8x56x56 64 -> 128, 3x3 stride 2       35   ms -> 25   ms   1.4x
    #   stem 8x224x224x3 -> 64, 7x7 stride 2 212   ms -> 83   ms   2.6x
    #   1x1 8x56x56x256 -> 64                 38   ms -> 14   ms   2.6x
    #   groups=32 8x28x28x128, 3x3            60   ms -> 28   ms   2.1x
    #   depthwise 8x56x56x128, 3x3           298   ms -> 28   ms  10.6x
    # (float64 under heavier machine load: 0.8-5x, parity on the wide ResNet layers.)
    # The tap loop is KH*KW NumPy calls, each over a whole (N, Ho, Wo, C) slab, so its
    # Python overhead is negligible. The slab is walked NHWC when its contiguous run of
    # channels (one group's Cg) is at least a row long (Cg >= Wo), else channel-major
    # (C, N, H, W) with the inner loop along W: 2-4x faster for the LeNet and stem
    # layers, 1.3-3x slower for the wide ones.
    M = g.N * g.Ho * g.Wo
    dy = grad_out.astype(dtype, copy=False)
    ph, pw = g.H + g.pt + g.pb, g.W + g.pl + g.pr
    if _is_depthwise(g):
        wd = _w_hwio(w, layout)[:, :, 0, :].astype(dtype, copy=False)  # KH, KW, C
        dyn = _x_nhwc(dy, layout)
        buf = np.zeros((g.N, ph, pw, g.C), dtype)
        tmp = np.empty((g.N, g.Ho, g.Wo, g.C), dtype)
        for kh in range(g.KH):
            for kw in range(g.KW):
                hs, ws = _tap_slices(g, kh, kw)
                buf[:, hs, ws] += np.multiply(dyn, wd[kh, kw], out=tmp)
        return _y_from_nhwc(_unpad(buf, g, (1, 2)), layout)
    K = g.KH * g.KW * g.Cg
    if g.Cg >= g.Wo:
        dyg = _x_nhwc(dy, layout).reshape(M, g.groups, g.Og).transpose(1, 0, 2)  # groups, M, Og
        wg = _w_hwio(w, layout).astype(dtype, copy=False).reshape(g.KH, g.KW, g.Cg, g.groups, g.Og)
        dcols = np.matmul(dyg, wg.transpose(3, 4, 0, 1, 2).reshape(g.groups, g.Og, K))
        dcols = dcols.reshape(g.groups, g.N, g.Ho, g.Wo, g.KH, g.KW, g.Cg)
        dcols = dcols.transpose(1, 2, 3, 4, 5, 0, 6)  # N, Ho, Wo, KH, KW, groups, Cg
        buf = np.zeros((g.N, ph, pw, g.groups, g.Cg), dtype)
        for kh in range(g.KH):
            for kw in range(g.KW):
                hs, ws = _tap_slices(g, kh, kw)
                buf[:, hs, ws] += dcols[:, :, :, kh, kw]
        return _y_from_nhwc(_unpad(buf.reshape(g.N, ph, pw, g.C), g, (1, 2)), layout)
    dyc = _x_cnhw(dy, layout).reshape(g.groups, g.Og, M)
    wt = _w_oihw(w, layout).astype(dtype, copy=False).reshape(g.groups, g.Og, K).transpose(0, 2, 1)
    dcols = np.matmul(wt, dyc).reshape(g.C, g.KH, g.KW, g.N, g.Ho, g.Wo)
    buf = np.zeros((g.C, g.N, ph, pw), dtype)
    for kh in range(g.KH):
        for kw in range(g.KW):
            hs, ws = _tap_slices(g, kh, kw)
            buf[:, :, hs, ws] += dcols[:, kh, kw]
    return _y_from_cnhw(_unpad(buf, g, (2, 3)), layout)


def _col2im_add_at(cols: NDArray[Any], g: ConvGeometry, layout: str, dtype: DTypeLike) -> NDArray[Any]:
    """Scatter-add im2col columns back onto the padded input with ``np.add.at``."""
    N, C, Ho, Wo, KH, KW = g.N, g.C, g.Ho, g.Wo, g.KH, g.KW
    ph, pw = g.H + g.pt + g.pb, g.W + g.pl + g.pr
    hi = (np.arange(Ho) * g.sh)[:, None] + (np.arange(KH) * g.dh)[None, :]  # Ho, KH
    wi = (np.arange(Wo) * g.sw)[:, None] + (np.arange(KW) * g.dw)[None, :]  # Wo, KW
    n = np.arange(N)
    c = np.arange(C)
    if layout == "NHWC":
        # cols entry (n, ho, wo, kh, kw, c) -> offset ((n*Hp + h)*Wp + w)*C + c in the
        # padded (N, Hp, Wp, C) buffer, where h = ho*sh + kh*dh and w = wo*sw + kw*dw
        rows = (n[:, None, None] * ph + hi[None, :, :]) * pw  # N, Ho, KH
        flat = (rows[:, :, None, :, None] + wi[None, None, :, None, :]) * C  # N, Ho, Wo, KH, KW
        flat = flat[..., None] + c
        shape = (N, ph, pw, C)
    else:
        # cols entry (n, ho, wo, c, kh, kw) -> offset ((n*C + c)*Hp + h)*Wp + w in the
        # padded (N, C, Hp, Wp) buffer
        planes = (n[:, None] * C + c[None, :]) * ph  # N, C
        rows = (planes[:, None, :, None] + hi[None, :, None, :]) * pw  # N, Ho, C, KH
        flat = rows[:, :, None, :, :, None] + wi[None, None, :, None, None, :]  # N,Ho,Wo,C,KH,KW
        shape = (N, C, ph, pw)
    out = np.zeros(N * ph * pw * C, dtype)
    np.add.at(out, flat.reshape(-1), cols.astype(dtype, copy=False).reshape(-1))
    out = out.reshape(shape)
    if layout == "NHWC":
        return out[:, g.pt:g.pt + g.H, g.pl:g.pl + g.W, :]
    return out[:, :, g.pt:g.pt + g.H, g.pl:g.pl + g.W]


# ----------------------------------------------------------------------------------
# validation shared by the public functions


def _finish(a: NDArray[Any], result_dtype: DTypeLike) -> NDArray[Any]:
    return a.astype(result_dtype, copy=False)


# ----------------------------------------------------------------------------------
# public API


def conv2d(x: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, *, stride: IntPair = 1, padding: Padding = 0,
           padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1, layout: str = "NHWC",
           num_threads: int | None = None) -> FloatArray:
    """2-D cross-correlation (a deep-learning "convolution") of a batch of images.

    Parameters
    ----------
    x : array_like
        Input, shape (N, H, W, C) for ``layout="NHWC"`` or (N, C, H, W) for ``"NCHW"``;
        or one unbatched image, (H, W, C) or (C, H, W).
    weight : array_like
        Kernel, shape (KH, KW, C // groups, O) (HWIO) for ``"NHWC"`` or
        (O, C // groups, KH, KW) (OIHW, as in PyTorch) for ``"NCHW"``.
    bias : array_like, optional
        Shape (O,), added to every output pixel.
    stride, dilation : int or (int, int)
        Step between output pixels and between kernel taps; each >= 1.
    padding_mode : {"zeros", "reflect", "replicate", "circular", "symmetric"}, default "zeros"
        What the padding holds, as in ``cconv.conv2d`` (``numpy.pad``'s modes).
    padding : int, (int, int), ((int, int), (int, int)), "valid" or "same"
        Padding: symmetric, per axis, explicit ((top, bottom), (left, right)), or a
        case-insensitive string. ``"same"`` follows TensorFlow: Ho = ceil(H / sh) and
        the larger half of the padding goes after.
    groups : int
        Number of channel groups; must divide C and O. ``groups == C`` is depthwise.
    layout : {"NHWC", "NCHW"}
        Memory layout of ``x``, ``weight`` and the result (case-insensitive).
    num_threads : int, optional
        Accepted for API compatibility and ignored (NumPy's BLAS decides).

    Returns
    -------
    y : ndarray
        Shape (N, Ho, Wo, O) or (N, O, Ho, Wo) (without N for an unbatched x), C-contiguous, with
        Ho = (H + top + bottom - dh*(KH-1) - 1) // sh + 1 (likewise Wo). The dtype is
        ``np.result_type`` of the inputs, with integers and bools promoted to float64;
        float16 is computed in float32.

    Notes
    -----
    As in PyTorch and TensorFlow this is a cross-correlation (the kernel is not flipped):
    ``y[n, i, j, o] = bias[o] + sum x[n, i*sh - top + kh*dh, j*sw - left + kw*dw, g*Cg + c]
    * weight[kh, kw, c, o]`` over kh, kw and the Cg channels c of output channel o's
    group g (NHWC indices; out-of-range input pixels are zero).

    Raises
    ------
    ValueError
        Wrong ndim, channel mismatch, groups not dividing C or O, kernel larger than the
        padded input, stride/dilation/groups < 1, negative padding, unknown padding or
        layout string, or a bias whose shape is not (O,).
    TypeError
        Complex, object or string input, or malformed stride/padding/dilation.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> conv2d(x, np.ones((2, 2, 1, 1)))[0, :, :, 0]
    array([[10., 14., 18.],
           [26., 30., 34.],
           [42., 46., 50.]])
    """
    layout = layout_iv(layout)
    num_threads_iv(num_threads)
    x, batch = activation_iv(x, "x", layout)
    weight = array_iv(weight, "weight", 4)
    g = conv_call_geometry(batch, weight.shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
                           padding_mode=padding_mode)
    if bias is not None:
        bias = array_iv(bias, "bias")
        if bias.shape != (g.O,):
            raise ValueError(
                f"bias must have shape (O,) = ({g.O},) to match weight of shape {weight.shape}; "
                f"got shape {bias.shape}"
            )
    result_dtype, dtype = compute_dtype(x, weight, bias)
    y = _forward(x, weight, g, layout, dtype)
    if bias is not None:
        b = bias.astype(dtype, copy=False)
        y += b if layout == "NHWC" else b[:, None, None]
    return batch.strip(_finish(y, result_dtype))


def conv2d_backward(grad_out: ArrayLike, x: ArrayLike, weight: ArrayLike, *, stride: IntPair = 1, padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1,
                    groups: int = 1, layout: str = "NHWC",
                    num_threads: int | None = None) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gradients of :func:`conv2d` with respect to its input, weight and bias.

    Parameters
    ----------
    grad_out : array_like
        Gradient of the loss with respect to the output of ``conv2d(x, weight, ...)``;
        must have exactly that output's shape (unbatched exactly when ``x`` is).
    x, weight : array_like
        The forward pass's input (batched or unbatched) and weight, in ``layout``'s order.
    stride, padding, dilation, groups, layout, num_threads
        As in :func:`conv2d` (``num_threads`` is ignored).

    Returns
    -------
    grad_x : ndarray
        Same shape as ``x``.
    grad_weight : ndarray
        Same shape as ``weight``.
    grad_bias : ndarray
        Shape (O,): ``grad_out`` summed over N (if any), H and W.

    All three share one dtype: ``np.result_type`` of ``grad_out``, ``x`` and
    ``weight``, with integers and bools promoted to float64.

    Raises
    ------
    ValueError
        Any error :func:`conv2d` raises, or a ``grad_out`` whose shape differs from the
        forward output's.
    TypeError
        Complex, object or string input.
    """
    layout = layout_iv(layout)
    num_threads_iv(num_threads)
    grad_out = array_iv(grad_out, "grad_out")
    x, batch = activation_iv(x, "x", layout)
    weight = array_iv(weight, "weight", 4)
    g = conv_call_geometry(batch, weight.shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
                           padding_mode=padding_mode)
    grad_out_shape_iv(grad_out.shape, g.output_shape(layout), batch)
    grad_out = batch.add(grad_out)
    result_dtype, dtype = compute_dtype(grad_out, x, weight)
    grad_x = batch.strip(_grad_input(grad_out, weight, g, layout, dtype))
    grad_w = _grad_weight(grad_out, x, g, layout, dtype)
    grad_b = _grad_bias(grad_out, layout, dtype)
    return cast("tuple[FloatArray, FloatArray, FloatArray]",
                tuple(_finish(a, result_dtype) for a in (grad_x, grad_w, grad_b)))


def conv2d_grad_input(grad_out: ArrayLike, weight: ArrayLike, input_shape: Shape, *, stride: IntPair = 1, padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1,
                      groups: int = 1, layout: str = "NHWC", num_threads: int | None = None) -> FloatArray:
    """Gradient of :func:`conv2d` with respect to its input (like ``torch.nn.grad.conv2d_input``).

    Parameters
    ----------
    grad_out : array_like
        Gradient with respect to the forward output; must have its shape (unbatched
        exactly when ``input_shape`` is).
    weight : array_like
        The forward pass's weight, in ``layout``'s order.
    input_shape : sequence of 4 ints, or 3 for an unbatched input
        Shape of the forward input ``x``, in ``layout``'s order.
    stride, padding, dilation, groups, layout, num_threads
        As in :func:`conv2d` (``num_threads`` is ignored).

    Returns
    -------
    grad_x : ndarray
        Shape ``input_shape``; dtype ``np.result_type(grad_out, weight)`` with integers
        and bools promoted to float64.

    Raises
    ------
    ValueError
        Invalid geometry (see :func:`conv2d`) or a ``grad_out`` of the wrong shape.
    TypeError
        Complex, object or string input.
    """
    layout = layout_iv(layout)
    num_threads_iv(num_threads)
    grad_out = array_iv(grad_out, "grad_out")
    weight = array_iv(weight, "weight", 4)
    batch = input_batch_iv(input_shape, "input_shape", layout)
    g = conv_call_geometry(batch, weight.shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
                           padding_mode=padding_mode)
    grad_out_shape_iv(grad_out.shape, g.output_shape(layout), batch)
    grad_out = batch.add(grad_out)
    result_dtype, dtype = compute_dtype(grad_out, weight)
    return batch.strip(_finish(_grad_input(grad_out, weight, g, layout, dtype), result_dtype))


def conv2d_grad_weight(grad_out: ArrayLike, x: ArrayLike, weight_shape: Shape, *, stride: IntPair = 1, padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1,
                       groups: int = 1, layout: str = "NHWC", num_threads: int | None = None) -> FloatArray:
    """Gradient of :func:`conv2d` with respect to its weight (like ``torch.nn.grad.conv2d_weight``).

    Parameters
    ----------
    grad_out : array_like
        Gradient with respect to the forward output; must have its shape (unbatched
        exactly when ``x`` is).
    x : array_like
        The forward pass's input, in ``layout``'s order, batched or unbatched.
    weight_shape : sequence of 4 ints
        Shape of the forward weight: (KH, KW, C // groups, O) for ``"NHWC"``,
        (O, C // groups, KH, KW) for ``"NCHW"``.
    stride, padding, dilation, groups, layout, num_threads
        As in :func:`conv2d` (``num_threads`` is ignored).

    Returns
    -------
    grad_weight : ndarray
        Shape ``weight_shape``; dtype ``np.result_type(grad_out, x)`` with integers and
        bools promoted to float64.

    Raises
    ------
    ValueError
        Invalid geometry (see :func:`conv2d`) or a ``grad_out`` of the wrong shape.
    TypeError
        Complex, object or string input.
    """
    layout = layout_iv(layout)
    num_threads_iv(num_threads)
    grad_out = array_iv(grad_out, "grad_out")
    x, batch = activation_iv(x, "x", layout)
    g = conv_call_geometry(batch, weight_shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
                           weight_name="weight_shape", padding_mode=padding_mode)
    grad_out_shape_iv(grad_out.shape, g.output_shape(layout), batch)
    grad_out = batch.add(grad_out)
    result_dtype, dtype = compute_dtype(grad_out, x)
    return _finish(_grad_weight(grad_out, x, g, layout, dtype), result_dtype)


def im2col(x: ArrayLike, kernel_size: IntPair, *, stride: IntPair = 1, padding: Padding = 0, dilation: IntPair = 1,
           layout: str = "NHWC", num_threads: int | None = None) -> FloatArray:
    """Unfold every kernel window of ``x`` into one row of a matrix.

    Parameters
    ----------
    x : array_like
        Input, (N, H, W, C) for ``"NHWC"`` or (N, C, H, W) for ``"NCHW"``; an unbatched
        (H, W, C) or (C, H, W) image gives the rows of a batch of one.
    kernel_size : int or (int, int)
        (KH, KW).
    stride, padding, dilation, layout, num_threads
        As in :func:`conv2d` (``num_threads`` is ignored).

    Returns
    -------
    cols : ndarray
        Shape (N*Ho*Wo, KH*KW*C), C-contiguous. Rows are ordered (n, ho, wo). Columns are
        ``(kh*KW + kw)*C + c`` for ``"NHWC"`` (so ``cols @ w.reshape(-1, O)`` is the NHWC
        convolution with HWIO ``w``) and ``(c*KH + kh)*KW + kw`` for ``"NCHW"`` (so
        ``cols @ w.reshape(O, -1).T`` is the convolution with OIHW ``w``). Padded taps
        are zero. The dtype is that of ``x``, with integers and bools promoted to float64.

    Raises
    ------
    ValueError, TypeError
        As for :func:`conv2d`.
    """
    layout = layout_iv(layout)
    num_threads_iv(num_threads)
    x, _ = activation_iv(x, "x", layout)
    g = conv_geometry(x.shape, kernel_size, stride=stride, padding=padding, dilation=dilation,
                      layout=layout, input_name="x")
    result_dtype, _ = compute_dtype(x)  # a pure copy: no arithmetic, so no compute dtype
    if layout == "NHWC":
        cols: NDArray[Any] = _cols_pixel_major(x, g, layout, result_dtype)[0]
    else:
        xp = _pad(x, g, (2, 3), result_dtype)
        win = _windows(xp, g, (2, 3)).transpose(0, 2, 3, 1, 4, 5)  # N, Ho, Wo, C, KH, KW
        cols = win.reshape(g.N * g.Ho * g.Wo, g.C * g.KH * g.KW)
    # The reshape copies except in degenerate cases (1x1 kernel, stride 1, no padding),
    # where it is a read-only view of x itself; always hand back a fresh array.
    return cols if cols.flags.writeable else cols.copy()


def col2im(cols: ArrayLike, input_shape: Shape, kernel_size: IntPair, *, stride: IntPair = 1, padding: Padding = 0, dilation: IntPair = 1,
           layout: str = "NHWC", num_threads: int | None = None) -> FloatArray:
    """Fold im2col rows back onto an input-shaped array, summing overlapping taps.

    The exact adjoint of :func:`im2col`: ``<im2col(x), c> == <x, col2im(c)>``. Entries
    that land in the padding are dropped. The scatter uses ``np.add.at``.

    Parameters
    ----------
    cols : array_like
        Shape (N*Ho*Wo, KH*KW*C), in :func:`im2col`'s row and column order for ``layout``.
    input_shape : sequence of 4 ints, or 3 for an unbatched image
        Shape of the result, in ``layout``'s order.
    kernel_size : int or (int, int)
        (KH, KW).
    stride, padding, dilation, layout, num_threads
        As in :func:`conv2d` (``num_threads`` is ignored).

    Returns
    -------
    x : ndarray
        Shape ``input_shape``, C-contiguous; dtype that of ``cols`` with integers and
        bools promoted to float64 (float16 is summed in float32).

    Raises
    ------
    ValueError
        Invalid geometry (see :func:`conv2d`) or ``cols`` of the wrong shape.
    TypeError
        Complex, object or string input.
    """
    layout = layout_iv(layout)
    num_threads_iv(num_threads)
    cols = array_iv(cols, "cols", 2)
    batch = input_batch_iv(input_shape, "input_shape", layout)
    g = conv_geometry(batch.batched_shape, kernel_size, stride=stride, padding=padding, dilation=dilation,
                      layout=layout, input_name="input_shape")
    expected = (g.N * g.Ho * g.Wo, g.KH * g.KW * g.C)
    if cols.shape != expected:
        what = "KH*KW*C" if layout == "NHWC" else "C*KH*KW"
        raise ValueError(
            f"cols must have shape (N*Ho*Wo, {what}) = {expected} for input_shape "
            f"{batch.shape} and kernel {g.KH}x{g.KW} (output {g.Ho}x{g.Wo}); "
            f"got shape {cols.shape}"
        )
    result_dtype, dtype = compute_dtype(cols)
    return batch.strip(np.ascontiguousarray(_col2im_add_at(cols, g, layout, dtype), dtype=result_dtype))


# ----------------------------------------------------------------------------------
# 1-D: the 2-D functions above on one-row images


def conv1d(x: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, *, stride: IntPair = 1, padding: Padding = 0,
           padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1, layout: str = "NWC",
           num_threads: int | None = None) -> FloatArray:
    """1-D cross-correlation of a batch of sequences, or of one unbatched sequence.

    Parameters
    ----------
    x : array_like
        (N, W, C) for ``layout="NWC"`` or (N, C, W) for ``"NCW"``; or unbatched (W, C) or (C, W).
    weight : array_like
        (KW, C // groups, O) for ``"NWC"``, (O, C // groups, KW) (PyTorch's) for ``"NCW"``.
    bias : array_like, optional
        Shape (O,).
    stride, dilation : int or (int,)
    padding : int, (left, right), ((left, right),), "valid", "same" or "causal"
        As in ``cconv.conv1d``; "causal" puts all of dilation*(KW-1) on the left.
    padding_mode : {"zeros", "reflect", "replicate", "circular", "symmetric"}, default "zeros"
        As in ``cconv.conv1d``.
    groups, num_threads
        As in :func:`conv2d` (``num_threads`` is ignored).

    Returns
    -------
    y : ndarray
        (N, Wo, O) or (N, O, Wo), without N for an unbatched x.
    """
    layout = layout_iv(layout, rank=1)
    num_threads_iv(num_threads)
    x, batch = activation_iv(x, "x", layout)
    weight = array_iv(weight, "weight", 3)
    g = conv_call_geometry(batch, weight.shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
                           padding_mode=padding_mode)
    y = conv2d(unit.lift(x, "x", layout), unit.lift(weight, "w", layout), bias, **unit.conv2d_kwargs(g, layout))
    return batch.strip(unit.drop(y, "x", layout))


def conv1d_backward(grad_out: ArrayLike, x: ArrayLike, weight: ArrayLike, *, stride: IntPair = 1,
                    padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
                    layout: str = "NWC", num_threads: int | None = None) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gradients of :func:`conv1d` with respect to its input, weight and bias.

    ``grad_out`` has the forward output's shape (unbatched exactly when ``x`` is); the
    other arguments are as for :func:`conv1d`. Returns ``(grad_x, grad_weight,
    grad_bias)`` shaped as ``x``, ``weight`` and (O,).
    """
    layout = layout_iv(layout, rank=1)
    num_threads_iv(num_threads)
    grad_out = array_iv(grad_out, "grad_out")
    x, batch = activation_iv(x, "x", layout)
    weight = array_iv(weight, "weight", 3)
    g = conv_call_geometry(batch, weight.shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
                           padding_mode=padding_mode)
    grad_out_shape_iv(grad_out.shape, g.output_shape(layout), batch)
    gx, gw, gb = conv2d_backward(unit.lift(batch.add(grad_out), "x", layout), unit.lift(x, "x", layout),
                                 unit.lift(weight, "w", layout), **unit.conv2d_kwargs(g, layout))
    return batch.strip(unit.drop(gx, "x", layout)), unit.drop(gw, "w", layout), gb


def conv1d_grad_input(grad_out: ArrayLike, weight: ArrayLike, input_shape: Shape, *, stride: IntPair = 1,
                      padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
                      layout: str = "NWC", num_threads: int | None = None) -> FloatArray:
    """Gradient of :func:`conv1d` with respect to its input, of shape ``input_shape``
    (3 ints, or 2 for an unbatched input, in ``layout``'s order)."""
    layout = layout_iv(layout, rank=1)
    num_threads_iv(num_threads)
    grad_out = array_iv(grad_out, "grad_out")
    weight = array_iv(weight, "weight", 3)
    batch = input_batch_iv(input_shape, "input_shape", layout)
    g = conv_call_geometry(batch, weight.shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
                           padding_mode=padding_mode)
    grad_out_shape_iv(grad_out.shape, g.output_shape(layout), batch)
    gx = conv2d_grad_input(unit.lift(batch.add(grad_out), "x", layout), unit.lift(weight, "w", layout),
                           unit.lift_shape(batch.batched_shape, "x", layout), **unit.conv2d_kwargs(g, layout))
    return batch.strip(unit.drop(gx, "x", layout))


def conv1d_grad_weight(grad_out: ArrayLike, x: ArrayLike, weight_shape: Shape, *, stride: IntPair = 1,
                       padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
                       layout: str = "NWC", num_threads: int | None = None) -> FloatArray:
    """Gradient of :func:`conv1d` with respect to its weight, of shape ``weight_shape``
    ((KW, C // groups, O) for ``"NWC"``, (O, C // groups, KW) for ``"NCW"``); ``x`` is
    batched or unbatched, and ``grad_out`` exactly as ``x``."""
    layout = layout_iv(layout, rank=1)
    num_threads_iv(num_threads)
    grad_out = array_iv(grad_out, "grad_out")
    x, batch = activation_iv(x, "x", layout)
    g = conv_call_geometry(batch, weight_shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
                           weight_name="weight_shape", padding_mode=padding_mode)
    grad_out_shape_iv(grad_out.shape, g.output_shape(layout), batch)
    gw = conv2d_grad_weight(unit.lift(batch.add(grad_out), "x", layout), unit.lift(x, "x", layout),
                            g.weight_shape(unit.LAYOUT_2D[layout]), **unit.conv2d_kwargs(g, layout))
    return unit.drop(gw, "w", layout)



# ----------------------------------------------------------------------------------
# 3-D: the windows of the zero-padded NDHWC volume, contracted per group with einsum


def _volume_windows(xp: NDArray[Any], g: ConvGeometry) -> NDArray[Any]:
    """Every dilated, strided window of the padded NDHWC ``xp``, grouped:
    (N, Do, Ho, Wo, groups, Cg, KD, KH, KW), a read-only view."""
    span = ((g.KD - 1) * g.dd + 1, (g.KH - 1) * g.dh + 1, (g.KW - 1) * g.dw + 1)
    win = sliding_window_view(xp, span, axis=(1, 2, 3))
    win = win[:, ::g.sd, ::g.sh, ::g.sw, :, ::g.dd, ::g.dh, ::g.dw]
    return win.reshape(g.N, g.Do, g.Ho, g.Wo, g.groups, g.Cg, g.KD, g.KH, g.KW)


def _pad3(x: NDArray[Any], g: ConvGeometry, dtype: DTypeLike) -> NDArray[Any]:
    """The NDHWC input padded (numpy.pad in ``g.padding_mode``), in ``dtype``."""
    widths = ((0, 0), (g.pf, g.pbk), (g.pt, g.pb), (g.pl, g.pr), (0, 0))
    if max(max(w) for w in widths) == 0:
        return x.astype(dtype, copy=False)
    return np.pad(x.astype(dtype, copy=False), widths, mode=NUMPY_MODE[g.padding_mode])


def _x_ndhwc(x: NDArray[Any], layout: str) -> NDArray[Any]:
    return x if layout == "NDHWC" else x.transpose(0, 2, 3, 4, 1)


def _y_from_ndhwc(y: NDArray[Any], layout: str) -> NDArray[Any]:
    return np.ascontiguousarray(y if layout == "NDHWC" else y.transpose(0, 4, 1, 2, 3))


def _w_grouped(w: NDArray[Any], g: ConvGeometry, layout: str, dtype: DTypeLike) -> NDArray[Any]:
    """The weight as (KD, KH, KW, Cg, groups, Og)."""
    dhwio = w if layout == "NDHWC" else w.transpose(2, 3, 4, 1, 0)
    return dhwio.astype(dtype, copy=False).reshape(g.KD, g.KH, g.KW, g.Cg, g.groups, g.Og)


def _w_from_grouped(gw: NDArray[Any], g: ConvGeometry, layout: str) -> NDArray[Any]:
    dhwio = gw.reshape(g.KD, g.KH, g.KW, g.Cg, g.O)
    return np.ascontiguousarray(dhwio if layout == "NDHWC" else dhwio.transpose(4, 3, 0, 1, 2))


def _dy_grouped(grad_out: NDArray[Any], g: ConvGeometry, layout: str, dtype: DTypeLike) -> NDArray[Any]:
    return _x_ndhwc(grad_out, layout).astype(dtype, copy=False).reshape(g.N, g.Do, g.Ho, g.Wo, g.groups, g.Og)


def _geometry3(batch: Any, weight_shape: Any, stride: Any, padding: Any, padding_mode: Any, dilation: Any,
               groups: Any, weight_name: str = "weight") -> ConvGeometry:
    return conv_call_geometry(batch, weight_shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
                              weight_name=weight_name, padding_mode=padding_mode)


def _conv3d_grad_input(dy: NDArray[Any], w: NDArray[Any], g: ConvGeometry, layout: str,
                       dtype: DTypeLike) -> NDArray[Any]:
    """The adjoint of the windows: one strided slice-add per kernel tap (KD*KH*KW NumPy calls)."""
    wg = _w_grouped(w, g, layout, dtype)
    dyg = _dy_grouped(dy, g, layout, dtype)
    buf = np.zeros((g.N, g.D + g.pf + g.pbk, g.H + g.pt + g.pb, g.W + g.pl + g.pr, g.groups, g.Cg), dtype)
    for kd in range(g.KD):
        for kh in range(g.KH):
            for kw in range(g.KW):
                d0, h0, w0 = kd * g.dd, kh * g.dh, kw * g.dw
                buf[:, d0:d0 + (g.Do - 1) * g.sd + 1:g.sd, h0:h0 + (g.Ho - 1) * g.sh + 1:g.sh,
                    w0:w0 + (g.Wo - 1) * g.sw + 1:g.sw] += np.einsum("ndhwgo,cgo->ndhwgc", dyg, wg[kd, kh, kw])
    inner = _unpad(buf, g, (1, 2, 3))
    return _y_from_ndhwc(inner.reshape(g.N, g.D, g.H, g.W, g.C), layout)


def _conv3d_grad_weight(dy: NDArray[Any], x: NDArray[Any], g: ConvGeometry, layout: str,
                        dtype: DTypeLike) -> NDArray[Any]:
    win = _volume_windows(_pad3(_x_ndhwc(x, layout), g, dtype), g)
    gw = np.einsum("ndhwgcijk,ndhwgo->ijkcgo", win, _dy_grouped(dy, g, layout, dtype), optimize=True)
    return _w_from_grouped(gw, g, layout)


def conv3d(x: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, *, stride: IntPair = 1, padding: Padding = 0,
           padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1, layout: str = "NDHWC",
           num_threads: int | None = None) -> FloatArray:
    """3-D cross-correlation of a batch of volumes, or of one unbatched volume.

    Parameters
    ----------
    x : array_like
        (N, D, H, W, C) for ``layout="NDHWC"`` or (N, C, D, H, W) for ``"NCDHW"``;
        or unbatched (D, H, W, C) or (C, D, H, W).
    weight : array_like
        (KD, KH, KW, C // groups, O) for ``"NDHWC"``, (O, C // groups, KD, KH, KW)
        (PyTorch's) for ``"NCDHW"``.
    bias : array_like, optional
        Shape (O,).
    stride, padding, padding_mode, dilation, groups, num_threads
        As in ``cconv.conv3d`` (``num_threads`` is ignored).

    Returns
    -------
    y : ndarray
        (N, Do, Ho, Wo, O) or (N, O, Do, Ho, Wo), without N for an unbatched x.
    """
    layout = layout_iv(layout, rank=3)
    num_threads_iv(num_threads)
    x, batch = activation_iv(x, "x", layout)
    weight = array_iv(weight, "weight", 5)
    g = _geometry3(batch, weight.shape, stride, padding, padding_mode, dilation, groups)
    if bias is not None:
        bias = array_iv(bias, "bias")
        if bias.shape != (g.O,):
            raise ValueError(f"bias must have shape (O,) = ({g.O},) to match weight of shape {weight.shape}; "
                             f"got shape {bias.shape}")
    result_dtype, dtype = compute_dtype(x, weight, bias)
    win = _volume_windows(_pad3(_x_ndhwc(x, layout), g, dtype), g)
    y = np.einsum("ndhwgcijk,ijkcgo->ndhwgo", win, _w_grouped(weight, g, layout, dtype), optimize=True)
    y = y.reshape(g.N, g.Do, g.Ho, g.Wo, g.O)
    if bias is not None:
        y = y + bias.astype(dtype, copy=False)
    return batch.strip(_finish(_y_from_ndhwc(y, layout), result_dtype))


def conv3d_backward(grad_out: ArrayLike, x: ArrayLike, weight: ArrayLike, *, stride: IntPair = 1,
                    padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
                    layout: str = "NDHWC",
                    num_threads: int | None = None) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gradients of :func:`conv3d` with respect to its input, weight and bias, shaped
    as ``x`` (unbatched when it is), ``weight`` and (O,)."""
    layout = layout_iv(layout, rank=3)
    num_threads_iv(num_threads)
    grad_out = array_iv(grad_out, "grad_out")
    x, batch = activation_iv(x, "x", layout)
    weight = array_iv(weight, "weight", 5)
    g = _geometry3(batch, weight.shape, stride, padding, padding_mode, dilation, groups)
    grad_out_shape_iv(grad_out.shape, g.output_shape(layout), batch)
    grad_out = batch.add(grad_out)
    result_dtype, dtype = compute_dtype(grad_out, x, weight)
    gx = _conv3d_grad_input(grad_out, weight, g, layout, dtype)
    gw = _conv3d_grad_weight(grad_out, x, g, layout, dtype)
    gb = _x_ndhwc(grad_out, layout).sum(axis=(0, 1, 2, 3), dtype=dtype)
    return batch.strip(_finish(gx, result_dtype)), _finish(gw, result_dtype), _finish(gb, result_dtype)


def conv3d_grad_input(grad_out: ArrayLike, weight: ArrayLike, input_shape: Shape, *, stride: IntPair = 1,
                      padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
                      layout: str = "NDHWC", num_threads: int | None = None) -> FloatArray:
    """Gradient of :func:`conv3d` with respect to its input, of shape ``input_shape``
    (5 ints, or 4 for an unbatched input, in ``layout``'s order)."""
    layout = layout_iv(layout, rank=3)
    num_threads_iv(num_threads)
    grad_out = array_iv(grad_out, "grad_out")
    weight = array_iv(weight, "weight", 5)
    batch = input_batch_iv(input_shape, "input_shape", layout)
    g = _geometry3(batch, weight.shape, stride, padding, padding_mode, dilation, groups)
    grad_out_shape_iv(grad_out.shape, g.output_shape(layout), batch)
    grad_out = batch.add(grad_out)
    result_dtype, dtype = compute_dtype(grad_out, weight)
    return batch.strip(_finish(_conv3d_grad_input(grad_out, weight, g, layout, dtype), result_dtype))


def conv3d_grad_weight(grad_out: ArrayLike, x: ArrayLike, weight_shape: Shape, *, stride: IntPair = 1,
                       padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
                       layout: str = "NDHWC", num_threads: int | None = None) -> FloatArray:
    """Gradient of :func:`conv3d` with respect to its weight, of shape ``weight_shape``;
    ``x`` is batched or unbatched, and ``grad_out`` exactly as ``x``."""
    layout = layout_iv(layout, rank=3)
    num_threads_iv(num_threads)
    grad_out = array_iv(grad_out, "grad_out")
    x, batch = activation_iv(x, "x", layout)
    g = _geometry3(batch, weight_shape, stride, padding, padding_mode, dilation, groups, weight_name="weight_shape")
    grad_out_shape_iv(grad_out.shape, g.output_shape(layout), batch)
    grad_out = batch.add(grad_out)
    result_dtype, dtype = compute_dtype(grad_out, x)
    return _finish(_conv3d_grad_weight(grad_out, x, g, layout, dtype), result_dtype)
