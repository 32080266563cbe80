"""The public convolution functions: validate and normalise every argument in
Python, convert to the native NHWC/HWIO layout, and dispatch to a compiled
kernel with the GIL released. No pixel-level work happens here."""
from __future__ import annotations

from typing import Any, Callable, TypeVar, cast

import numpy as np
from numpy.typing import DTypeLike, NDArray

from . import _backward, _depthwise_nchw, _forward, _kernels, _layout, _pointwise_nchw
from ._batch import grad_out_shape_iv
from ._params import (
    ConvGeometry,
    activation_iv,
    array_iv,
    compute_dtype,
    conv_call_geometry,
    input_batch_iv,
    layout_iv,
)
from ._routes import (algorithm_iv, forward_route, grad_input_route, grad_input_writes_every_pixel, grad_weight_route,
                      routes, transposed_geometry)
from ._threading import resolve_num_threads
from ._winograd import winograd_conv2d, winograd_grad_input, winograd_grad_weight
from ._types import ArrayLike, FloatArray, IntPair, Padding, Shape

_Func = TypeVar("_Func", bound=Callable[..., Any])

__all__ = [
    "conv2d",
    "conv2d_backward",
    "conv2d_grad_input",
    "conv2d_grad_weight",
    "output_shape",
    "select_algorithm",
]

_PARAMS_DOC = """stride : int or (int, int), default 1
        Step of the kernel over (H, W); each >= 1.
    padding : int, (ph, pw), ((top, bottom), (left, right)), "valid" or "same"
        The padding's widths. "same" follows TensorFlow: Ho = ceil(H / stride),
        and the smaller half of the total padding goes before (top/left).
    padding_mode : {"zeros", "reflect", "replicate", "circular", "symmetric"}, default "zeros"
        What the padding holds: zeros, or the input's own samples, as
        PyTorch's ``nn.Conv2d(padding_mode=...)`` ("reflect" mirrors about
        the edge sample, "replicate" repeats it, "circular" wraps around) and
        ``numpy.pad`` ("symmetric" mirrors with the edge repeated) define
        them; numpy.pad's "constant", "edge" and "wrap" are accepted too.
        Gradients are exact: grad_input adds the padding's gradient back onto
        the samples it copies. "reflect" needs each pad smaller than its axis
        and "circular" no larger (ValueError otherwise, as PyTorch).
        A padded layer with a mode other than "zeros" runs on the GEMM
        kernels ("winograd" and "direct" raise ValueError).
    dilation : int or (int, int), default 1
        Spacing between kernel taps; each >= 1.
    groups : int, default 1
        C and O are split into ``groups`` independent convolutions; C and O
        must be divisible by it. ``groups == C`` is a depthwise convolution.
    layout : {"NHWC", "NCHW"}, default "NHWC"
        "NHWC": x (N, H, W, C), weight (KH, KW, C//groups, O).
        "NCHW": x (N, C, H, W), weight (O, C//groups, KH, KW) as in PyTorch.
        x may also come without the batch axis, (H, W, C) or (C, H, W), as
        PyTorch allows; the result and grad_out are then unbatched too.
    num_threads : int or None, default None
        OpenMP threads for this call, at most; None uses
        ``cconv.get_num_threads()``. Calls with less than about 5 MFLOP per
        thread use fewer threads, since waking a thread would cost more.
    algorithm : {"auto", "gemm", "winograd", "direct"}, default "auto"
        The kernel. "gemm": im2col tiles times cconv's packed GEMM (any
        shape). "winograd": Winograd F(2x2,3x3) or F(4x4,3x3), for 3x3
        kernels with stride 1 and dilation 1 (every pass). "direct": the
        direct kernels for depthwise layers (groups == C == O) and for one
        input channel with stride 1 (every pass). "auto" picks by measured
        speed (``cconv.select_algorithm`` tells what it picks). A request
        that cannot serve the shape raises ValueError saying why."""


def _doc(func: _Func) -> _Func:
    func.__doc__ = cast(str, func.__doc__).replace("{params}", _PARAMS_DOC)
    return func


def to_nhwc(a: NDArray[Any], layout: str, dtype: DTypeLike, n_threads: int = 1) -> NDArray[Any]:
    """Return a C-contiguous NHWC array of ``dtype`` (no copy when already so)."""
    if layout == "NCHW":
        if a.dtype != dtype:
            a = a.astype(dtype)
        out = np.empty((a.shape[0], a.shape[2], a.shape[3], a.shape[1]), dtype=dtype)
        _layout.nchw_to_nhwc(a, out, n_threads)
        return out
    return np.ascontiguousarray(a, dtype=dtype)


def from_nhwc(a: NDArray[Any], layout: str, dtype: DTypeLike, n_threads: int = 1) -> NDArray[Any]:
    """Return an NHWC result in ``layout`` as a C-contiguous array of ``dtype``."""
    if layout == "NCHW":
        out = np.empty((a.shape[0], a.shape[3], a.shape[1], a.shape[2]), dtype=a.dtype)
        _layout.nhwc_to_nchw(np.ascontiguousarray(a), out, n_threads)
        a = out
    return np.ascontiguousarray(a, dtype=dtype)


def to_hwio(w: NDArray[Any], layout: str, dtype: DTypeLike) -> NDArray[Any]:
    """Return the weight as a C-contiguous HWIO array of ``dtype``."""
    if layout == "NCHW":
        w = w.transpose(2, 3, 1, 0)
    return np.ascontiguousarray(w, dtype=dtype)


def from_hwio(w: NDArray[Any], layout: str, dtype: DTypeLike) -> NDArray[Any]:
    """Return an HWIO weight-shaped result in ``layout`` order."""
    if layout == "NCHW":
        w = w.transpose(3, 2, 0, 1)
    return np.ascontiguousarray(w, dtype=dtype)


@_doc
def output_shape(input_shape: Shape, weight_shape: Shape, *, stride: IntPair = 1, padding: Padding = 0,
                 padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
                 layout: str = "NHWC") -> tuple[int, ...]:
    """Return the shape ``conv2d`` gives for these input and weight shapes.

    Parameters
    ----------
    input_shape : tuple of 4 ints, or 3 for an unbatched input
        (N, H, W, C) or (H, W, C) for NHWC, (N, C, H, W) or (C, H, W) for NCHW.
    weight_shape : tuple of 4 ints
        (KH, KW, C//groups, O) for NHWC, (O, C//groups, KH, KW) for NCHW.
    {params}

    Returns
    -------
    tuple of 4 ints, or 3 for an unbatched input
        (N, Ho, Wo, O) for NHWC, (N, O, Ho, Wo) for NCHW (without N when
        ``input_shape`` has none), where
        Ho = floor((H + top + bottom - dilation*(KH-1) - 1) / stride) + 1.
    """
    layout = layout_iv(layout)
    batch = input_batch_iv(input_shape, "input_shape", layout)
    geom = conv_call_geometry(batch, weight_shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
                              weight_name="weight_shape", padding_mode=padding_mode)
    return batch.strip_shape(geom.output_shape(layout))


def select_algorithm(input_shape: Shape, weight_shape: Shape, *, stride: IntPair = 1, padding: Padding = 0,
                     padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1, layout: str = "NHWC",
                     algorithm: str = "auto") -> dict[str, str]:
    """The kernel each pass of this convolution runs, and the ISA level it
    runs at, without running it.

    It serves ``conv1d`` and ``conv3d`` too: pass a 1-D layout (``"NWC"`` or
    ``"NCW"``) with 1-D shapes and parameters, and it tells the routes
    ``conv1d`` runs (the 2-D kernels' routes for its one-row images; never
    Winograd); a 3-D one (``"NDHWC"`` or ``"NCDHW"``) the routes of
    ``conv3d``.

    Parameters
    ----------
    input_shape : tuple of 4 ints, or 3 for an unbatched input
        Shape of x, in ``layout`` order (3 or 2 ints for a 1-D layout).
    weight_shape : tuple of 4 ints
        Shape of the weight, in ``layout`` order (3 ints for a 1-D layout).
    stride, padding, dilation, groups, algorithm
        As in ``conv2d`` (or ``conv1d`` for a 1-D layout).
    layout : {"NHWC", "NCHW", "NWC", "NCW", "NDHWC", "NCDHW"}, default "NHWC"
        The layout of the shapes; a 1-D one for a ``conv1d`` call, a 3-D one for ``conv3d``.

    Returns
    -------
    dict
        ``{"forward": route, "grad_input": route, "grad_weight": route}``, each
        one of ``"winograd-f2"``, ``"winograd-f4"`` (Winograd F(2x2,3x3) /
        F(4x4,3x3)), ``"direct-depthwise"``, ``"direct-single-channel"`` (one
        input channel, stride 1), ``"gemm-pointwise"`` (1x1 stride 1: no
        im2col), ``"gemm-implicit"`` (the GEMM reads the receptive
        fields in place, no im2col: forwards, and stride-1 grad_inputs of
        >= 16 channels per group) or ``"gemm"`` (im2col tiles times the
        packed GEMM); and
        ``"isa"``: the instruction-set level of the kernels (``"baseline"``,
        ``"avx2"`` or ``"avx512"``, see ``cconv.show_config``).

    Raises
    ------
    ValueError
        If ``algorithm`` cannot serve the shape, saying why.
    """
    layout = layout_iv(layout, rank=(2, 1, 3))
    batch = input_batch_iv(input_shape, "input_shape", layout)
    geom = conv_call_geometry(batch, weight_shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
                              weight_name="weight_shape", padding_mode=padding_mode)
    return {**routes(geom, algorithm_iv(algorithm)), "isa": _kernels.isa()}


@_doc
def conv2d(x: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, *, stride: IntPair = 1,
           padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
           layout: str = "NHWC", num_threads: int | None = None,
           algorithm: str = "auto") -> FloatArray:
    """2-D convolution (cross-correlation, as in PyTorch and TensorFlow) of a batch or one image.

    Parameters
    ----------
    x : array_like of shape (N, H, W, C) or (N, C, H, W)
        Input batch, in ``layout`` order, or one unbatched image (H, W, C) or
        (C, H, W). Any strides or memory order.
    weight : array_like of shape (KH, KW, C//groups, O) or (O, C//groups, KH, KW)
        Kernel, HWIO for NHWC and OIHW for NCHW.
    bias : array_like of shape (O,), optional
        Added to every output pixel.
    {params}

    Returns
    -------
    y : ndarray of shape (N, Ho, Wo, O) or (N, O, Ho, Wo)
        Without N for an unbatched x. C-contiguous, of dtype ``np.result_type`` of the inputs (integer and
        bool inputs give float64). float32 and float64 are computed natively,
        float16 in float32.

    Raises
    ------
    ValueError, TypeError
        For any invalid shape, parameter or dtype, naming the argument.
    """
    layout = layout_iv(layout)
    x, batch = activation_iv(x, "x", layout)
    weight = array_iv(weight, "weight", 4)
    geom = conv_call_geometry(batch, weight.shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
                              padding_mode=padding_mode)
    if bias is not None:
        bias = array_iv(bias, "bias")
        if bias.shape != (geom.O,):
            raise ValueError(f"bias must have shape (O,) = ({geom.O},); got {bias.shape}")
    result_dtype, dtype = compute_dtype(x, weight, bias)
    n_threads = _threads_for(geom, resolve_num_threads(num_threads))
    route = forward_route(geom, algorithm_iv(algorithm))

    bh = None if bias is None else np.ascontiguousarray(bias, dtype=dtype)
    if _native_nchw(route, layout):
        return batch.strip(_forward_nchw(x, weight, bh, geom, dtype, n_threads, route).astype(result_dtype,
                                                                                            copy=False))
    xh = to_nhwc(x, layout, dtype, n_threads)
    wh = to_hwio(weight, layout, dtype)
    if route.startswith("winograd"):
        y = winograd_conv2d(xh, wh, bh, geom.padding4, n_threads, tile=_tile(route))
    else:
        y = np.empty((geom.N, geom.Ho, geom.Wo, geom.O), dtype=dtype)
        if y.size:
            if route == "direct-depthwise":
                _forward.conv2d_depthwise(xh, wh, bh, y, geom.kernel_tuple(), n_threads)
            elif route == "direct-single-channel":
                _forward.conv2d_single_channel(xh, wh, bh, y, geom.kernel_tuple(), n_threads)
            elif route == "gemm-implicit":
                _forward.conv2d_implicit(xh, wh, bh, y, geom.kernel_tuple(), n_threads, geom.border_maps())
            else:
                _forward.conv2d_gemm(xh, wh, bh, y, geom.kernel_tuple(), n_threads, route == "gemm-pointwise",
                                     geom.border_maps())
    return batch.strip(from_nhwc(y, layout, result_dtype, n_threads))


#: Multiply-adds (x2) a thread should have before a call goes parallel: waking
#: a second OpenMP thread costs tens of microseconds on an idle machine and
#: milliseconds on a loaded one, more than a tiny convolution takes.
MIN_FLOPS_PER_THREAD = 5_000_000


def _threads_for(geom: ConvGeometry, n_threads: int) -> int:
    """At most ``n_threads``, and no more than the work pays for: one thread
    per MIN_FLOPS_PER_THREAD of the forward pass's FLOPs (the gradients cost
    the same order)."""
    if MIN_FLOPS_PER_THREAD <= 0:
        return n_threads
    return max(1, min(n_threads, geom.flops // MIN_FLOPS_PER_THREAD))


def _tile(route: str) -> int:
    """The Winograd output tile of a ``"winograd-fM"`` route."""
    return int(route.rsplit("f", 1)[1])


def _native_nchw(route: str, layout: str) -> bool:
    """Whether an NCHW pass runs on its NCHW planes. Depthwise: each channel
    is a plane, and computing on the planes skips two layout conversions that
    cost more than this memory-bound layer. 1x1 stride 1 with one group: per
    image a plain GEMM (O x C) @ (C x HW), cheaper than converting."""
    return layout == "NCHW" and route in ("direct-depthwise", "gemm-pointwise")


def _as_images(a: NDArray[Any], dtype: DTypeLike) -> NDArray[Any]:
    """An NCHW array as a contiguous (N, C, H*W) array of ``dtype``."""
    a = np.ascontiguousarray(a, dtype=dtype)
    return a.reshape(a.shape[0], a.shape[1], a.shape[2] * a.shape[3])


def _plane_weight(weight: NDArray[Any], geom: ConvGeometry, dtype: DTypeLike) -> NDArray[Any]:
    """An OIHW weight as a contiguous 2-D (O, C//groups * KH * KW) array: (C, KH*KW)
    for depthwise, (O, C) for 1x1."""
    return np.ascontiguousarray(weight, dtype=dtype).reshape(geom.O, geom.Cg * geom.KH * geom.KW)


def _flipped_transposed_weight(wh: NDArray[Any], geom: ConvGeometry) -> NDArray[Any]:
    """The HWIO weight of grad_input's forward (routes.transposed_geometry):
    w'[kh, kw, o, g*Cg + c] = w[KH-1-kh, KW-1-kw, c, g*Og + o]."""
    w5 = wh.reshape(geom.KH, geom.KW, geom.Cg, geom.groups, geom.Og)[::-1, ::-1]
    return np.ascontiguousarray(w5.transpose(0, 1, 4, 3, 2)).reshape(geom.KH, geom.KW, geom.Og, geom.C)


def _grad_input_nhwc(dyh: NDArray[Any], wh: NDArray[Any], geom: ConvGeometry, dtype: DTypeLike, n_threads: int,
                     route: str) -> NDArray[Any]:
    if route.startswith("winograd"):
        return winograd_grad_input(dyh, wh, (geom.N, geom.H, geom.W, geom.C), geom.padding4, n_threads,
                                   tile=_tile(route))
    writes_all = grad_input_writes_every_pixel(route) and dyh.size > 0
    dx = (np.empty if writes_all else np.zeros)((geom.N, geom.H, geom.W, geom.C), dtype=dtype)
    if dx.size and dyh.size:
        if route == "direct-depthwise":
            _backward.depthwise_grad_input(dyh, wh, dx, geom.kernel_tuple(), n_threads)
        elif route == "direct-single-channel":
            _backward.grad_input_single_channel(dyh, wh, dx, geom.kernel_tuple(), n_threads)
        elif route == "gemm-implicit":
            _forward.conv2d_implicit(dyh, _flipped_transposed_weight(wh, geom), None, dx,
                                     transposed_geometry(geom).kernel_tuple(), n_threads)
        else:
            _backward.conv2d_grad_input(dyh, wh, dx, geom.kernel_tuple(), n_threads, route == "gemm-pointwise",
                                        geom.border_maps())
    return dx


def _grad_weight_nhwc(dyh: NDArray[Any], xh: NDArray[Any], geom: ConvGeometry, dtype: DTypeLike, n_threads: int,
                      with_bias: bool, route: str) -> tuple[NDArray[Any], NDArray[Any] | None]:
    if route.startswith("winograd"):
        return winograd_grad_weight(dyh, xh, (geom.KH, geom.KW, geom.Cg, geom.O), geom.padding4, n_threads,
                                    tile=_tile(route), with_bias=with_bias)
    dw = np.empty((geom.KH, geom.KW, geom.Cg, geom.O), dtype=dtype)
    db = np.empty((geom.O,), dtype=dtype) if with_bias else None
    if route == "direct-single-channel":
        _backward.grad_weight_single_channel(xh, dyh, dw, db, geom.kernel_tuple(), n_threads)
    elif route == "direct-depthwise":
        _backward.depthwise_grad_weight(xh, dyh, dw, db, geom.kernel_tuple(), n_threads)
    else:
        _backward.conv2d_grad_weight(xh, dyh, dw, db, geom.kernel_tuple(), n_threads, route == "gemm-pointwise",
                                     geom.border_maps())
    return dw, db




def _forward_nchw(x: NDArray[Any], weight: NDArray[Any], bias: NDArray[Any] | None, geom: ConvGeometry, dtype: DTypeLike,
                  n_threads: int, route: str) -> NDArray[Any]:
    """conv2d for the native NCHW layers, as an NCHW array of ``dtype``."""
    y = np.empty(geom.output_shape("NCHW"), dtype=dtype)
    if y.size == 0:
        return y
    w2 = _plane_weight(weight, geom, dtype)
    if route == "gemm-pointwise":
        _pointwise_nchw.forward(_as_images(x, dtype), w2, bias, y.reshape(geom.N, geom.O, geom.Ho * geom.Wo),
                                n_threads)
    else:
        _depthwise_nchw.forward(np.ascontiguousarray(x, dtype=dtype), w2, bias, y, geom.kernel_tuple(), n_threads)
    return y


def _grad_input_nchw(grad_out: NDArray[Any], weight: NDArray[Any], geom: ConvGeometry, dtype: DTypeLike, n_threads: int, route: str) -> NDArray[Any]:
    """grad_x for the native NCHW layers, as an NCHW array of ``dtype``."""
    dx = np.zeros(geom.input_shape("NCHW"), dtype=dtype)
    if dx.size == 0 or grad_out.size == 0:
        return dx
    w2 = _plane_weight(weight, geom, dtype)
    if route == "gemm-pointwise":
        _pointwise_nchw.grad_input(_as_images(grad_out, dtype), w2, dx.reshape(geom.N, geom.C, geom.H * geom.W),
                                   n_threads)
    else:
        _depthwise_nchw.grad_input(np.ascontiguousarray(grad_out, dtype=dtype), w2, dx, geom.kernel_tuple(),
                                   n_threads)
    return dx


def _grad_weight_nchw(grad_out: NDArray[Any], x: NDArray[Any], geom: ConvGeometry, dtype: DTypeLike, n_threads: int, route: str,
                      with_bias: bool) -> tuple[NDArray[Any], NDArray[Any] | None]:
    """(grad_weight in OIHW, grad_bias or None) for the native NCHW layers."""
    dw = np.zeros((geom.O, geom.Cg * geom.KH * geom.KW), dtype=dtype)
    db = np.zeros(geom.O, dtype=dtype) if with_bias else None
    if route == "gemm-pointwise":
        _pointwise_nchw.grad_weight(_as_images(x, dtype), _as_images(grad_out, dtype), dw, db, n_threads)
    else:
        _depthwise_nchw.grad_weight(np.ascontiguousarray(x, dtype=dtype), np.ascontiguousarray(grad_out, dtype=dtype),
                                    dw, db, geom.kernel_tuple(), n_threads)
    return dw.reshape(geom.weight_shape("NCHW")), db


@_doc
def conv2d_backward(grad_out: ArrayLike, x: ArrayLike, weight: ArrayLike, *, stride: IntPair = 1,
                    padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
                    layout: str = "NHWC", num_threads: int | None = None,
                    algorithm: str = "auto") -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gradients of ``conv2d`` with respect to input, weight and bias.

    Parameters
    ----------
    grad_out : array_like, the shape of ``conv2d(x, weight, ...)``
        Gradient of the loss with respect to the convolution's output;
        unbatched exactly when ``x`` is.
    x : array_like of shape (N, H, W, C) or (N, C, H, W)
        The forward input, batched or unbatched ((H, W, C) or (C, H, W)).
    weight : array_like of shape (KH, KW, C//groups, O) or (O, C//groups, KH, KW)
        The forward kernel.
    {params}

    Returns
    -------
    grad_x : ndarray, shape and layout of ``x`` (unbatched when ``x`` is)
    grad_weight : ndarray, shape and layout of ``weight``
    grad_bias : ndarray of shape (O,)
        ``grad_out`` summed over N, Ho and Wo.
    """
    layout = layout_iv(layout)
    grad_out = array_iv(grad_out, "grad_out")
    x, batch = activation_iv(x, "x", layout)
    weight = array_iv(weight, "weight", 4)
    geom = conv_call_geometry(batch, weight.shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
                              padding_mode=padding_mode)
    grad_out_shape_iv(grad_out.shape, geom.output_shape(layout), batch)
    grad_out = batch.add(grad_out)
    result_dtype, dtype = compute_dtype(grad_out, x, weight)
    n_threads = _threads_for(geom, resolve_num_threads(num_threads))
    algorithm = algorithm_iv(algorithm)
    gi_route, gw_route = grad_input_route(geom, algorithm), grad_weight_route(geom, algorithm)

    # Each pass runs natively on NCHW planes or on NHWC copies made once.
    nhwc: dict[str, NDArray[Any]] = {}

    def as_nhwc(name: str, a: NDArray[Any]) -> NDArray[Any]:
        if name not in nhwc:
            nhwc[name] = to_nhwc(a, layout, dtype, n_threads)
        return nhwc[name]

    if _native_nchw(gi_route, layout):
        dx = _grad_input_nchw(grad_out, weight, geom, dtype, n_threads, gi_route).astype(result_dtype, copy=False)
    else:
        dx = from_nhwc(_grad_input_nhwc(as_nhwc("dy", grad_out), to_hwio(weight, layout, dtype), geom, dtype,
                                        n_threads, gi_route), layout, result_dtype, n_threads)
    if _native_nchw(gw_route, layout):
        dw, db = _grad_weight_nchw(grad_out, x, geom, dtype, n_threads, gw_route, with_bias=True)
        dw = dw.astype(result_dtype, copy=False)
    else:
        dw, db = _grad_weight_nhwc(as_nhwc("dy", grad_out), as_nhwc("x", x), geom, dtype, n_threads,
                                   with_bias=True, route=gw_route)
        dw = from_hwio(dw, layout, result_dtype)
    return batch.strip(dx), dw, cast(NDArray[Any], db).astype(result_dtype, copy=False)


@_doc
def conv2d_grad_input(grad_out: ArrayLike, weight: ArrayLike, input_shape: Shape, *, stride: IntPair = 1,
                      padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
                      layout: str = "NHWC", num_threads: int | None = None,
                      algorithm: str = "auto") -> FloatArray:
    """Gradient of ``conv2d`` with respect to its input (as ``torch.nn.grad.conv2d_input``).

    This is also the transposed convolution of ``grad_out`` with ``weight``.

    Parameters
    ----------
    grad_out : array_like, the forward output's shape
        Unbatched exactly when ``input_shape`` is.
    weight : array_like of shape (KH, KW, C//groups, O) or (O, C//groups, KH, KW)
    input_shape : tuple of 4 ints, or 3 for an unbatched input
        Shape of the forward input, in ``layout`` order.
    {params}

    Returns
    -------
    grad_x : ndarray of shape ``input_shape``
    """
    layout = layout_iv(layout)
    grad_out = array_iv(grad_out, "grad_out")
    weight = array_iv(weight, "weight", 4)
    batch = input_batch_iv(input_shape, "input_shape", layout)
    geom = conv_call_geometry(batch, weight.shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
                              padding_mode=padding_mode)
    grad_out_shape_iv(grad_out.shape, geom.output_shape(layout), batch)
    grad_out = batch.add(grad_out)
    result_dtype, dtype = compute_dtype(grad_out, weight)
    n_threads = _threads_for(geom, resolve_num_threads(num_threads))
    route = grad_input_route(geom, algorithm_iv(algorithm))
    if _native_nchw(route, layout):
        dx = _grad_input_nchw(grad_out, weight, geom, dtype, n_threads, route).astype(result_dtype, copy=False)
        return batch.strip(dx)
    dx = _grad_input_nhwc(to_nhwc(grad_out, layout, dtype, n_threads), to_hwio(weight, layout, dtype), geom, dtype,
                          n_threads, route)
    return batch.strip(from_nhwc(dx, layout, result_dtype, n_threads))


@_doc
def conv2d_grad_weight(grad_out: ArrayLike, x: ArrayLike, weight_shape: Shape, *, stride: IntPair = 1,
                       padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
                       layout: str = "NHWC", num_threads: int | None = None,
                       algorithm: str = "auto") -> FloatArray:
    """Gradient of ``conv2d`` with respect to its weight (as ``torch.nn.grad.conv2d_weight``).

    Parameters
    ----------
    grad_out : array_like, the forward output's shape
        Unbatched exactly when ``x`` is.
    x : array_like of shape (N, H, W, C) or (N, C, H, W)
        Batched or unbatched ((H, W, C) or (C, H, W)).
    weight_shape : tuple of 4 ints
        Shape of the weight, in ``layout`` order.
    {params}

    Returns
    -------
    grad_weight : ndarray of shape ``weight_shape``
    """
    layout = layout_iv(layout)
    grad_out = array_iv(grad_out, "grad_out")
    x, batch = activation_iv(x, "x", layout)
    geom = conv_call_geometry(batch, weight_shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
                              weight_name="weight_shape", padding_mode=padding_mode)
    grad_out_shape_iv(grad_out.shape, geom.output_shape(layout), batch)
    grad_out = batch.add(grad_out)
    result_dtype, dtype = compute_dtype(grad_out, x)
    n_threads = _threads_for(geom, resolve_num_threads(num_threads))
    route = grad_weight_route(geom, algorithm_iv(algorithm))
    if _native_nchw(route, layout):
        dw, _ = _grad_weight_nchw(grad_out, x, geom, dtype, n_threads, route, with_bias=False)
        return dw.astype(result_dtype, copy=False)
    dw, _ = _grad_weight_nhwc(to_nhwc(grad_out, layout, dtype, n_threads), to_nhwc(x, layout, dtype, n_threads),
                              geom, dtype, n_threads, with_bias=False, route=route)
    return from_hwio(dw, layout, result_dtype)
