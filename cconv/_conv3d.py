"""The public 3-D functions: ``conv3d`` with its gradients and output shape.

Each validates its call in 3-D terms (layouts "NDHWC"/"NCDHW", kernel
(KD, KH, KW), per-axis stride, padding and dilation) into a ``ConvGeometry``
of rank 3, converts NCDHW to the native NDHWC once, and runs the compiled GEMM
kernels, which read the depth axis from the geometry: vol2col tiles (each
row one output voxel's receptive field over (kd, kh, kw, c)) times the
packed weight, the implicit GEMM's table of contiguous input runs, and
col2im in race-free blocks of output depth planes. Every ISA level of the
kernel table serves them. A depthwise layer (groups == C == O) runs the 2-D
depthwise row kernels of the table summed over the kernel's depth taps
("direct-depthwise"). A KD x 3 x 3 stride-1 layer's passes may run on the
Winograd kernels (cconv._winograd.winograd_conv3d), which
take the 5-D arrays. The GEMM kernels take 4-D memoryviews: an NDHWC array
is passed as its (N, D*H, W, C) view, which is the same memory.
"""
from __future__ import annotations

from typing import Any, Callable, TypeVar, cast

import numpy as np
from numpy.typing import DTypeLike, NDArray

from . import _backward, _forward, _layout
from ._batch import Batch, grad_out_shape_iv
from ._conv import _threads_for, _tile
from ._params import ConvGeometry, activation_iv, array_iv, compute_dtype, conv_call_geometry, input_batch_iv, layout_iv
from ._routes import (algorithm_iv, forward_route, grad_input_route, grad_input_writes_every_pixel, grad_weight_route,
                      transposed_geometry)
from ._threading import resolve_num_threads
from ._winograd import winograd_conv3d, winograd_grad_weight3d
from ._types import ArrayLike, FloatArray, IntPair, Padding, Shape

_Func = TypeVar("_Func", bound=Callable[..., Any])

__all__ = ["conv3d", "conv3d_backward", "conv3d_grad_input", "conv3d_grad_weight", "conv3d_output_shape"]

_PARAMS_DOC = """stride : int or (int, int, int), default 1
        Step of the kernel over (D, H, W); each >= 1.
    padding : int, (pd, ph, pw), ((front, back), (top, bottom), (left, right)), "valid" or "same"
        Zero padding. "same" follows TensorFlow: Do = ceil(D / stride) and so
        on, the smaller half of each axis's total padding before.
    padding_mode : {"zeros", "reflect", "replicate", "circular", "symmetric"}, default "zeros"
        What the padding holds, as for ``conv2d`` (PyTorch's
        ``nn.Conv3d(padding_mode=...)`` and numpy.pad's "symmetric";
        "constant", "edge" and "wrap" are accepted too). Gradients are exact.
        A padded layer with a mode other than zeros runs on the GEMM kernels.
    dilation : int or (int, int, int), default 1
        Spacing between kernel taps; each >= 1.
    groups : int, default 1
        C and O are split into ``groups`` independent convolutions; C and O
        must be divisible by it. ``groups == C`` is a depthwise convolution.
    layout : {"NDHWC", "NCDHW"}, default "NDHWC"
        "NDHWC": x (N, D, H, W, C), weight (KD, KH, KW, C//groups, O)
        (native; TensorFlow's). "NCDHW": x (N, C, D, H, W), weight
        (O, C//groups, KD, KH, KW) as in PyTorch. x may also come without the
        batch axis, (D, H, W, C) or (C, D, H, W); the result and grad_out are
        then unbatched too.
    num_threads : int or None, default None
        OpenMP threads for this call, at most; None uses
        ``cconv.get_num_threads()``.
    algorithm : {"auto", "gemm", "winograd", "direct"}, default "auto"
        3-D convolutions run on the GEMM kernels ("gemm-implicit" forward
        where the receptive field fits one K block, "gemm-pointwise" for
        1x1x1, else "gemm"), depthwise ones (groups == C == O) on the
        direct depthwise kernels ("direct"), and KD x 3 x 3 ones of stride 1
        and dilation 1 with at least 16 channels per group (under "auto":
        slices of at least 16 x 16, or at least 48 channels) by Winograd
        F(m x m, 3 x 3) over (H, W), the depth taps summed in the transform
        domain; "winograd" raises ValueError for other shapes."""


def _doc(func: _Func) -> _Func:
    func.__doc__ = cast(str, func.__doc__).replace("{params}", _PARAMS_DOC)
    return func


def _geometry(batch: Batch, weight_shape: Shape, stride: IntPair, padding: Padding, padding_mode: str,
              dilation: IntPair, groups: int, weight_name: str = "weight") -> ConvGeometry:
    return conv_call_geometry(batch, weight_shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
                              weight_name=weight_name, padding_mode=padding_mode)


def _to_ndhwc(a: NDArray[Any], layout: str, dtype: DTypeLike, n_threads: int) -> NDArray[Any]:
    """A C-contiguous NDHWC copy (or ``a`` itself) of an activation in ``layout``, as its 4-D (N, D*H, W, C) view."""
    if layout == "NCDHW":
        a = np.ascontiguousarray(a, dtype=dtype)
        N, C, D, H, W = a.shape
        out = np.empty((N, D * H, W, C), dtype=dtype)
        _layout.nchw_to_nhwc(a.reshape(N, C, D * H, W), out, n_threads)
        return out
    a = np.ascontiguousarray(a, dtype=dtype)
    N, D, H, W, C = a.shape
    return a.reshape(N, D * H, W, C)


def _from_ndhwc(a: NDArray[Any], geom_shape: tuple[int, ...], layout: str, dtype: DTypeLike,
                n_threads: int) -> NDArray[Any]:
    """A (N, D*H, W, C) result as the ``layout`` array of NDHWC shape ``geom_shape`` and ``dtype``."""
    N, D, H, W, C = geom_shape
    if layout == "NCDHW":
        out = np.empty((N, C, D * H, W), dtype=a.dtype)
        _layout.nhwc_to_nchw(a, out, n_threads)
        return np.ascontiguousarray(out.reshape(N, C, D, H, W), dtype=dtype)
    return np.ascontiguousarray(a.reshape(N, D, H, W, C), dtype=dtype)


def _weight_dhwio(w: NDArray[Any], layout: str, dtype: DTypeLike) -> NDArray[Any]:
    """The weight as a C-contiguous DHWIO array, as its 4-D (KD*KH, KW, C//groups, O) view."""
    if layout == "NCDHW":
        w = w.transpose(2, 3, 4, 1, 0)
    w = np.ascontiguousarray(w, dtype=dtype)
    return w.reshape(w.shape[0] * w.shape[1], *w.shape[2:])


def _weight_from_dhwio(w: NDArray[Any], geom: ConvGeometry, layout: str, dtype: DTypeLike) -> NDArray[Any]:
    w = w.reshape(geom.KD, geom.KH, geom.KW, geom.Cg, geom.O)
    if layout == "NCDHW":
        w = w.transpose(4, 3, 0, 1, 2)
    return np.ascontiguousarray(w, dtype=dtype)


def _forward_ndhwc(xh: NDArray[Any], wh: NDArray[Any], bias: NDArray[Any] | None, geom: ConvGeometry,
                   dtype: DTypeLike, n_threads: int, route: str) -> NDArray[Any]:
    if route.startswith("winograd"):
        return _winograd_ndhwc(xh, wh, bias, geom, n_threads, route)
    y = np.empty((geom.N, geom.Do * geom.Ho, geom.Wo, geom.O), dtype=dtype)
    if y.size:
        if route == "direct-depthwise":
            _forward.conv3d_depthwise(xh, wh, bias, y, geom.kernel_tuple(), n_threads)
        elif route == "gemm-implicit":
            _forward.conv2d_implicit(xh, wh, bias, y, geom.kernel_tuple(), n_threads, geom.border_maps())
        else:
            _forward.conv2d_gemm(xh, wh, bias, y, geom.kernel_tuple(), n_threads, route == "gemm-pointwise",
                                 geom.border_maps())
    return y


def _winograd_ndhwc(xh: NDArray[Any], wh: NDArray[Any], bias: NDArray[Any] | None, geom: ConvGeometry,
                    n_threads: int, route: str) -> NDArray[Any]:
    """The "winograd-fM" forward of ``geom`` on (N, D*H, W, C) / (KD*KH, KW, Cg, O)
    views, as the (N, Do*Ho, Wo, O) view of its result."""
    x5 = xh.reshape(geom.N, geom.D, geom.H, geom.W, geom.C)
    w5 = wh.reshape(geom.KD, geom.KH, geom.KW, geom.Cg, geom.O)
    padding6 = (geom.pf, geom.pbk) + geom.padding4
    y = winograd_conv3d(x5, w5, bias, padding6, n_threads, tile=_tile(route))
    return y.reshape(geom.N, geom.Do * geom.Ho, geom.Wo, geom.O)


def _flipped_transposed_weight(wh: NDArray[Any], geom: ConvGeometry) -> NDArray[Any]:
    """The weight of grad_input's forward (``_routes.transposed_geometry``), as a 4-D view:
    w'[kd, kh, kw, o, g*Cg + c] = w[KD-1-kd, KH-1-kh, KW-1-kw, c, g*Og + o]."""
    w6 = wh.reshape(geom.KD, geom.KH, geom.KW, geom.Cg, geom.groups, geom.Og)[::-1, ::-1, ::-1]
    flipped = np.ascontiguousarray(w6.transpose(0, 1, 2, 5, 4, 3))
    return flipped.reshape(geom.KD * geom.KH, geom.KW, geom.Og, geom.C)


def _grad_input_ndhwc(dyh: NDArray[Any], wh: NDArray[Any], geom: ConvGeometry, dtype: DTypeLike,
                      n_threads: int, route: str) -> NDArray[Any]:
    if route.startswith("winograd") and dyh.size and geom.C:
        return _winograd_ndhwc(dyh, _flipped_transposed_weight(wh, geom), None, transposed_geometry(geom),
                               n_threads, route)
    writes_all = grad_input_writes_every_pixel(route) and dyh.size > 0
    dx = (np.empty if writes_all else np.zeros)((geom.N, geom.D * geom.H, geom.W, geom.C), dtype=dtype)
    if dx.size and dyh.size:
        if route == "direct-depthwise":
            _backward.depthwise3d_grad_input(dyh, wh, dx, geom.kernel_tuple(), n_threads)
        elif route == "gemm-implicit":
            _forward.conv2d_implicit(dyh, _flipped_transposed_weight(wh, geom), None, dx,
                                     transposed_geometry(geom).kernel_tuple(), n_threads)
        else:
            _backward.conv2d_grad_input(dyh, wh, dx, geom.kernel_tuple(), n_threads, route == "gemm-pointwise",
                                        geom.border_maps())
    return dx


def _grad_weight_ndhwc(dyh: NDArray[Any], xh: NDArray[Any], geom: ConvGeometry, dtype: DTypeLike, n_threads: int,
                       route: str, with_bias: bool) -> tuple[NDArray[Any], NDArray[Any] | None]:
    if route.startswith("winograd"):
        dw5, db = winograd_grad_weight3d(dyh.reshape(geom.N, geom.Do, geom.Ho, geom.Wo, geom.O),
                                         xh.reshape(geom.N, geom.D, geom.H, geom.W, geom.C),
                                         (geom.KD, geom.KH, geom.KW, geom.Cg, geom.O),
                                         (geom.pf, geom.pbk) + geom.padding4, n_threads, tile=_tile(route),
                                         with_bias=with_bias)
        return dw5.reshape(geom.KD * geom.KH, geom.KW, geom.Cg, geom.O), db
    dw = np.empty((geom.KD * geom.KH, geom.KW, geom.Cg, geom.O), dtype=dtype)
    db = np.empty((geom.O,), dtype=dtype) if with_bias else None
    if route == "direct-depthwise":
        _backward.depthwise3d_grad_weight(xh, dyh, dw, db, geom.kernel_tuple(), n_threads)
    else:
        _backward.conv2d_grad_weight(xh, dyh, dw, db, geom.kernel_tuple(), n_threads, route == "gemm-pointwise",
                                     geom.border_maps())
    return dw, db


@_doc
def conv3d_output_shape(input_shape: Shape, weight_shape: Shape, *, stride: IntPair = 1, padding: Padding = 0,
                        padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
                        layout: str = "NDHWC") -> tuple[int, ...]:
    """Return the shape ``conv3d`` gives for these input and weight shapes.

    Parameters
    ----------
    input_shape : tuple of 5 ints, or 4 for an unbatched input
        (N, D, H, W, C) or (D, H, W, C) for NDHWC, (N, C, D, H, W) or (C, D, H, W) for NCDHW.
    weight_shape : tuple of 5 ints
        (KD, KH, KW, C//groups, O) for NDHWC, (O, C//groups, KD, KH, KW) for NCDHW.
    {params}

    Returns
    -------
    tuple of 5 ints, or 4 for an unbatched input
        (N, Do, Ho, Wo, O) for NDHWC, (N, O, Do, Ho, Wo) for NCDHW, where
        Do = floor((D + front + back - dilation*(KD-1) - 1) / stride) + 1, and so on.
    """
    layout = layout_iv(layout, rank=3)
    batch = input_batch_iv(input_shape, "input_shape", layout)
    geom = _geometry(batch, weight_shape, stride, padding, padding_mode, dilation, groups, weight_name="weight_shape")
    return batch.strip_shape(geom.output_shape(layout))


@_doc
def conv3d(x: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, *, stride: IntPair = 1,
           padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
           layout: str = "NDHWC", num_threads: int | None = None, algorithm: str = "auto") -> FloatArray:
    """3-D convolution (cross-correlation, as in PyTorch and TensorFlow) of a batch or one volume.

    Parameters
    ----------
    x : array_like of shape (N, D, H, W, C) or (N, C, D, H, W)
        Input batch in ``layout`` order, or one unbatched volume (D, H, W, C)
        or (C, D, H, W). Any strides or memory order.
    weight : array_like of shape (KD, KH, KW, C//groups, O) or (O, C//groups, KD, KH, KW)
        Kernel, DHWIO for NDHWC and OIDHW (PyTorch's) for NCDHW.
    bias : array_like of shape (O,), optional
        Added to every output voxel.
    {params}

    Returns
    -------
    y : ndarray of shape (N, Do, Ho, Wo, O) or (N, O, Do, Ho, Wo)
        Without N for an unbatched x. C-contiguous, of dtype
        ``np.result_type`` of the inputs (integer and bool inputs give
        float64); float16 is computed in float32.

    Raises
    ------
    ValueError, TypeError
        For any invalid shape, parameter or dtype, naming the argument.
    """
    layout = layout_iv(layout, rank=3)
    x, batch = activation_iv(x, "x", layout)
    weight = array_iv(weight, "weight", 5)
    geom = _geometry(batch, weight.shape, stride, padding, padding_mode, dilation, groups)
    if bias is not None:
        bias = array_iv(bias, "bias")
        if bias.shape != (geom.O,):
            raise ValueError(f"bias must have shape (O,) = ({geom.O},); got {bias.shape}")
    result_dtype, dtype = compute_dtype(x, weight, bias)
    n_threads = _threads_for(geom, resolve_num_threads(num_threads))
    route = forward_route(geom, algorithm_iv(algorithm))
    bh = None if bias is None else np.ascontiguousarray(bias, dtype=dtype)
    y = _forward_ndhwc(_to_ndhwc(x, layout, dtype, n_threads), _weight_dhwio(weight, layout, dtype), bh, geom,
                       dtype, n_threads, route)
    return batch.strip(_from_ndhwc(y, geom.output_shape("NDHWC"), layout, result_dtype, n_threads))


@_doc
def conv3d_backward(grad_out: ArrayLike, x: ArrayLike, weight: ArrayLike, *, stride: IntPair = 1,
                    padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
                    layout: str = "NDHWC", num_threads: int | None = None,
                    algorithm: str = "auto") -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gradients of ``conv3d`` with respect to input, weight and bias.

    Parameters
    ----------
    grad_out : array_like, the shape of ``conv3d(x, weight, ...)``
        Unbatched exactly when ``x`` is.
    x : array_like of shape (N, D, H, W, C) or (N, C, D, H, W)
        The forward input, batched or unbatched.
    weight : array_like of shape (KD, KH, KW, C//groups, O) or (O, C//groups, KD, KH, KW)
    {params}

    Returns
    -------
    grad_x : ndarray, shape and layout of ``x`` (unbatched when ``x`` is)
    grad_weight : ndarray, shape and layout of ``weight``
    grad_bias : ndarray of shape (O,)
        ``grad_out`` summed over N, Do, Ho and Wo.
    """
    layout = layout_iv(layout, rank=3)
    grad_out = array_iv(grad_out, "grad_out")
    x, batch = activation_iv(x, "x", layout)
    weight = array_iv(weight, "weight", 5)
    geom = _geometry(batch, weight.shape, stride, padding, padding_mode, dilation, groups)
    grad_out_shape_iv(grad_out.shape, geom.output_shape(layout), batch)
    grad_out = batch.add(grad_out)
    result_dtype, dtype = compute_dtype(grad_out, x, weight)
    n_threads = _threads_for(geom, resolve_num_threads(num_threads))
    algorithm = algorithm_iv(algorithm)
    gi_route, gw_route = grad_input_route(geom, algorithm), grad_weight_route(geom, algorithm)
    dyh = _to_ndhwc(grad_out, layout, dtype, n_threads)
    dx = _grad_input_ndhwc(dyh, _weight_dhwio(weight, layout, dtype), geom, dtype, n_threads, gi_route)
    dw, db = _grad_weight_ndhwc(dyh, _to_ndhwc(x, layout, dtype, n_threads), geom, dtype, n_threads, gw_route,
                                with_bias=True)
    return (batch.strip(_from_ndhwc(dx, geom.input_shape("NDHWC"), layout, result_dtype, n_threads)),
            _weight_from_dhwio(dw, geom, layout, result_dtype), cast(NDArray[Any], db).astype(result_dtype))


@_doc
def conv3d_grad_input(grad_out: ArrayLike, weight: ArrayLike, input_shape: Shape, *, stride: IntPair = 1,
                      padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
                      layout: str = "NDHWC", num_threads: int | None = None, algorithm: str = "auto") -> FloatArray:
    """Gradient of ``conv3d`` with respect to its input (as ``torch.nn.grad.conv3d_input``).

    Parameters
    ----------
    grad_out : array_like, the forward output's shape
        Unbatched exactly when ``input_shape`` is.
    weight : array_like of shape (KD, KH, KW, C//groups, O) or (O, C//groups, KD, KH, KW)
    input_shape : tuple of 5 ints, or 4 for an unbatched input
        Shape of the forward input, in ``layout`` order.
    {params}

    Returns
    -------
    grad_x : ndarray of shape ``input_shape``
    """
    layout = layout_iv(layout, rank=3)
    grad_out = array_iv(grad_out, "grad_out")
    weight = array_iv(weight, "weight", 5)
    batch = input_batch_iv(input_shape, "input_shape", layout)
    geom = _geometry(batch, weight.shape, stride, padding, padding_mode, dilation, groups)
    grad_out_shape_iv(grad_out.shape, geom.output_shape(layout), batch)
    grad_out = batch.add(grad_out)
    result_dtype, dtype = compute_dtype(grad_out, weight)
    n_threads = _threads_for(geom, resolve_num_threads(num_threads))
    route = grad_input_route(geom, algorithm_iv(algorithm))
    dx = _grad_input_ndhwc(_to_ndhwc(grad_out, layout, dtype, n_threads), _weight_dhwio(weight, layout, dtype), geom,
                           dtype, n_threads, route)
    return batch.strip(_from_ndhwc(dx, geom.input_shape("NDHWC"), layout, result_dtype, n_threads))


@_doc
def conv3d_grad_weight(grad_out: ArrayLike, x: ArrayLike, weight_shape: Shape, *, stride: IntPair = 1,
                       padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
                       layout: str = "NDHWC", num_threads: int | None = None, algorithm: str = "auto") -> FloatArray:
    """Gradient of ``conv3d`` with respect to its weight (as ``torch.nn.grad.conv3d_weight``).

    Parameters
    ----------
    grad_out : array_like, the forward output's shape
        Unbatched exactly when ``x`` is.
    x : array_like of shape (N, D, H, W, C) or (N, C, D, H, W)
        Batched or unbatched.
    weight_shape : tuple of 5 ints
        Shape of the weight, in ``layout`` order.
    {params}

    Returns
    -------
    grad_weight : ndarray of shape ``weight_shape``
    """
    layout = layout_iv(layout, rank=3)
    grad_out = array_iv(grad_out, "grad_out")
    x, batch = activation_iv(x, "x", layout)
    geom = _geometry(batch, weight_shape, stride, padding, padding_mode, dilation, groups, weight_name="weight_shape")
    grad_out_shape_iv(grad_out.shape, geom.output_shape(layout), batch)
    grad_out = batch.add(grad_out)
    result_dtype, dtype = compute_dtype(grad_out, x)
    n_threads = _threads_for(geom, resolve_num_threads(num_threads))
    route = grad_weight_route(geom, algorithm_iv(algorithm))
    dw, _ = _grad_weight_ndhwc(_to_ndhwc(grad_out, layout, dtype, n_threads), _to_ndhwc(x, layout, dtype, n_threads),
                               geom, dtype, n_threads, route, with_bias=False)
    return _weight_from_dhwio(dw, geom, layout, result_dtype)
