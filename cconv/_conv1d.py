"""The public 1-D functions: ``conv1d`` with its gradients and output shape, and
``conv_transpose1d`` with its backward.

Each validates its call in 1-D terms (layouts "NWC"/"NCW", kernel KW, one
stride, per-side padding, "causal"), so every error names the 1-D argument,
and then runs the 2-D function of the same name on views with a unit H axis
(``cconv._unit_axis``): the compiled 2-D kernels serve every route and ISA
level, and nothing is copied beyond what the 2-D path copies. The 2-D call
gets every size explicitly, so it decides nothing differently.
"""
from __future__ import annotations

from typing import Any, Callable, TypeVar, cast

from . import _unit_axis as unit
from ._batch import Batch, grad_out_shape_iv
from ._conv import conv2d, conv2d_backward, conv2d_grad_input, conv2d_grad_weight
from ._params import ConvGeometry, activation_iv, array_iv, conv_call_geometry, input_batch_iv, layout_iv
from ._routes import algorithm_iv, forward_route, grad_input_route, grad_weight_route
from ._transpose import TransposeGeometry, _call_geometry, conv_transpose2d, conv_transpose2d_backward
from ._types import ArrayLike, FloatArray, IntPair, Padding, Shape

_Func = TypeVar("_Func", bound=Callable[..., Any])

__all__ = [
    "conv1d",
    "conv1d_backward",
    "conv1d_grad_input",
    "conv1d_grad_weight",
    "conv1d_output_shape",
    "conv_transpose1d",
    "conv_transpose1d_backward",
]

_PARAMS_DOC = """stride : int or (int,), default 1
        Step of the kernel over W; >= 1.
    padding : int, (left, right), ((left, right),), "valid", "same" or "causal"
        Zero padding. An int pads both ends; two numbers are the left and
        right ends (on one axis they can mean nothing else). "same" follows
        TensorFlow: Wo = ceil(W / stride), the smaller half of the total
        before. "causal" follows Keras: all of dilation*(KW-1) before the
        sequence and none after, at any stride, so Wo = ceil(W / stride) and
        y[t] depends on x[:t*stride + 1] only.
    padding_mode : {"zeros", "reflect", "replicate", "circular", "symmetric"}, default "zeros"
        What the padding holds, as for ``conv2d`` (PyTorch's
        ``nn.Conv1d(padding_mode=...)``, and numpy.pad's "symmetric";
        "constant", "edge" and "wrap" are accepted too). Gradients are exact.
    dilation : int or (int,), default 1
        Spacing between kernel taps; >= 1.
    groups : int, default 1
        C and O are split into ``groups`` independent convolutions; C and O
        must be divisible by it. ``groups == C`` is a depthwise convolution.
    layout : {"NWC", "NCW"}, default "NWC"
        "NWC": x (N, W, C), weight (KW, C//groups, O) (native).
        "NCW": x (N, C, W), weight (O, C//groups, KW) as in PyTorch.
        x may also come without the batch axis, (W, C) or (C, W), as PyTorch
        allows; the result and grad_out are then unbatched too.
    num_threads : int or None, default None
        OpenMP threads for this call, at most; None uses
        ``cconv.get_num_threads()``.
    algorithm : {"auto", "gemm", "direct"}, default "auto"
        As for ``conv2d``, whose kernels compute this (as a 2-D convolution of
        one-row images): "direct" serves depthwise layers (groups == C == O)
        and one input channel with stride 1. "winograd" is 2-D only and
        raises ValueError. ``cconv.select_algorithm(..., layout="NWC")``
        tells what "auto" picks."""

_TRANSPOSE_PARAMS_DOC = """stride : int or (int,), default 1
        Step between the positions where neighbouring input samples are
        scattered in the output; >= 1.
    padding : int, (left, right), ((left, right),), "valid" or "same"
        Samples cropped from each end of the full transposed convolution
        (PyTorch's meaning for an int); two numbers crop the left and right
        ends independently. "same" (Wout = W * stride) and "valid" follow
        Keras ``Conv1DTranspose`` as for ``conv_transpose2d``; output_padding
        must then be 0. "causal" is for ``conv1d`` only.
    output_padding : int or (int,), default 0
        Extra samples added at the right end, < max(stride, dilation).
    dilation : int or (int,), default 1
        Spacing between kernel taps; >= 1.
    groups : int, default 1
        C_in and C_out are split into ``groups`` independent transposed
        convolutions; C_in must be divisible by it.
    layout : {"NWC", "NCW"}, default "NWC"
        "NWC": x (N, W, C_in), weight (KW, C_out//groups, C_in), result
        (N, Wout, C_out). "NCW": x (N, C_in, W), weight
        (C_in, C_out//groups, KW) as in PyTorch, result (N, C_out, Wout).
        x may also come without the batch axis, (W, C_in) or (C_in, W); the
        result and grad_out are then unbatched too.
    num_threads : int or None, default None
        OpenMP threads for this call; None uses ``cconv.get_num_threads()``."""


def _doc(func: _Func) -> _Func:
    doc = cast(str, func.__doc__)
    func.__doc__ = doc.replace("{params}", _PARAMS_DOC).replace("{transpose_params}", _TRANSPOSE_PARAMS_DOC)
    return func


def _geometry(batch: Batch, weight_shape: Shape, stride: IntPair, padding: Padding, dilation: IntPair,
              groups: int, weight_name: str = "weight", padding_mode: str = "zeros") -> ConvGeometry:
    return conv_call_geometry(batch, weight_shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
                              weight_name=weight_name, padding_mode=padding_mode)


@_doc
def conv1d_output_shape(input_shape: Shape, weight_shape: Shape, *, stride: IntPair = 1, padding: Padding = 0,
                        padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
                        layout: str = "NWC") -> tuple[int, ...]:
    """Return the shape ``conv1d`` gives for these input and weight shapes.

    Parameters
    ----------
    input_shape : tuple of 3 ints, or 2 for an unbatched input
        (N, W, C) or (W, C) for NWC, (N, C, W) or (C, W) for NCW.
    weight_shape : tuple of 3 ints
        (KW, C//groups, O) for NWC, (O, C//groups, KW) for NCW.
    {params}

    Returns
    -------
    tuple of 3 ints, or 2 for an unbatched input
        (N, Wo, O) for NWC, (N, O, Wo) for NCW (without N when
        ``input_shape`` has none), where
        Wo = floor((W + left + right - dilation*(KW-1) - 1) / stride) + 1.
    """
    layout = layout_iv(layout, rank=1)
    batch = input_batch_iv(input_shape, "input_shape", layout)
    geom = _geometry(batch, weight_shape, stride, padding, dilation, groups, weight_name="weight_shape",
                     padding_mode=padding_mode)
    return batch.strip_shape(geom.output_shape(layout))


@_doc
def conv1d(x: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, *, stride: IntPair = 1,
           padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
           layout: str = "NWC", num_threads: int | None = None, algorithm: str = "auto") -> FloatArray:
    """1-D convolution (cross-correlation, as in PyTorch and TensorFlow) of a batch or one sequence.

    Parameters
    ----------
    x : array_like of shape (N, W, C) or (N, C, W)
        Input batch, in ``layout`` order, or one unbatched sequence (W, C) or
        (C, W). Any strides or memory order.
    weight : array_like of shape (KW, C//groups, O) or (O, C//groups, KW)
        Kernel, WIO for NWC and OIW (PyTorch's) for NCW.
    bias : array_like of shape (O,), optional
        Added to every output sample.
    {params}

    Returns
    -------
    y : ndarray of shape (N, Wo, O) or (N, O, Wo)
        Without N for an unbatched x. C-contiguous, of dtype
        ``np.result_type`` of the inputs (integer and bool inputs give
        float64); float16 is computed in float32.

    Raises
    ------
    ValueError, TypeError
        For any invalid shape, parameter or dtype, naming the argument.
    """
    layout = layout_iv(layout, rank=1)
    x, batch = activation_iv(x, "x", layout)
    weight = array_iv(weight, "weight", 3)
    geom = _geometry(batch, weight.shape, stride, padding, dilation, groups, padding_mode=padding_mode)
    forward_route(geom, algorithm_iv(algorithm))  # a refused algorithm says why in 1-D terms
    y = conv2d(unit.lift(x, "x", layout), unit.lift(weight, "w", layout), bias, **unit.conv2d_kwargs(geom, layout),
               num_threads=num_threads, algorithm=algorithm)
    return batch.strip(unit.drop(y, "x", layout))


@_doc
def conv1d_backward(grad_out: ArrayLike, x: ArrayLike, weight: ArrayLike, *, stride: IntPair = 1,
                    padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
                    layout: str = "NWC", num_threads: int | None = None,
                    algorithm: str = "auto") -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gradients of ``conv1d`` with respect to input, weight and bias.

    Parameters
    ----------
    grad_out : array_like, the shape of ``conv1d(x, weight, ...)``
        Gradient of the loss with respect to the convolution's output;
        unbatched exactly when ``x`` is.
    x : array_like of shape (N, W, C) or (N, C, W)
        The forward input, batched or unbatched ((W, C) or (C, W)).
    weight : array_like of shape (KW, C//groups, O) or (O, C//groups, KW)
        The forward kernel.
    {params}

    Returns
    -------
    grad_x : ndarray, shape and layout of ``x`` (unbatched when ``x`` is)
    grad_weight : ndarray, shape and layout of ``weight``
    grad_bias : ndarray of shape (O,)
        ``grad_out`` summed over N and Wo.
    """
    layout = layout_iv(layout, rank=1)
    grad_out = array_iv(grad_out, "grad_out")
    x, batch = activation_iv(x, "x", layout)
    weight = array_iv(weight, "weight", 3)
    geom = _geometry(batch, weight.shape, stride, padding, dilation, groups, padding_mode=padding_mode)
    grad_out_shape_iv(grad_out.shape, geom.output_shape(layout), batch)
    algorithm = algorithm_iv(algorithm)
    grad_input_route(geom, algorithm)
    grad_weight_route(geom, algorithm)
    dx, dw, db = conv2d_backward(unit.lift(batch.add(grad_out), "x", layout), unit.lift(x, "x", layout),
                                 unit.lift(weight, "w", layout), **unit.conv2d_kwargs(geom, layout),
                                 num_threads=num_threads, algorithm=algorithm)
    return batch.strip(unit.drop(dx, "x", layout)), unit.drop(dw, "w", layout), db


@_doc
def conv1d_grad_input(grad_out: ArrayLike, weight: ArrayLike, input_shape: Shape, *, stride: IntPair = 1,
                      padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
                      layout: str = "NWC", num_threads: int | None = None, algorithm: str = "auto") -> FloatArray:
    """Gradient of ``conv1d`` with respect to its input (as ``torch.nn.grad.conv1d_input``).

    Parameters
    ----------
    grad_out : array_like, the forward output's shape
        Unbatched exactly when ``input_shape`` is.
    weight : array_like of shape (KW, C//groups, O) or (O, C//groups, KW)
    input_shape : tuple of 3 ints, or 2 for an unbatched input
        Shape of the forward input, in ``layout`` order.
    {params}

    Returns
    -------
    grad_x : ndarray of shape ``input_shape``
    """
    layout = layout_iv(layout, rank=1)
    grad_out = array_iv(grad_out, "grad_out")
    weight = array_iv(weight, "weight", 3)
    batch = input_batch_iv(input_shape, "input_shape", layout)
    geom = _geometry(batch, weight.shape, stride, padding, dilation, groups, padding_mode=padding_mode)
    grad_out_shape_iv(grad_out.shape, geom.output_shape(layout), batch)
    grad_input_route(geom, algorithm_iv(algorithm))
    dx = conv2d_grad_input(unit.lift(batch.add(grad_out), "x", layout), unit.lift(weight, "w", layout),
                           unit.lift_shape(batch.batched_shape, "x", layout), **unit.conv2d_kwargs(geom, layout),
                           num_threads=num_threads, algorithm=algorithm)
    return batch.strip(unit.drop(dx, "x", layout))


@_doc
def conv1d_grad_weight(grad_out: ArrayLike, x: ArrayLike, weight_shape: Shape, *, stride: IntPair = 1,
                       padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1, groups: int = 1,
                       layout: str = "NWC", num_threads: int | None = None, algorithm: str = "auto") -> FloatArray:
    """Gradient of ``conv1d`` with respect to its weight (as ``torch.nn.grad.conv1d_weight``).

    Parameters
    ----------
    grad_out : array_like, the forward output's shape
        Unbatched exactly when ``x`` is.
    x : array_like of shape (N, W, C) or (N, C, W)
        Batched or unbatched ((W, C) or (C, W)).
    weight_shape : tuple of 3 ints
        Shape of the weight, in ``layout`` order.
    {params}

    Returns
    -------
    grad_weight : ndarray of shape ``weight_shape``
    """
    layout = layout_iv(layout, rank=1)
    grad_out = array_iv(grad_out, "grad_out")
    x, batch = activation_iv(x, "x", layout)
    geom = _geometry(batch, weight_shape, stride, padding, dilation, groups, weight_name="weight_shape",
                     padding_mode=padding_mode)
    grad_out_shape_iv(grad_out.shape, geom.output_shape(layout), batch)
    grad_weight_route(geom, algorithm_iv(algorithm))
    dw = conv2d_grad_weight(unit.lift(batch.add(grad_out), "x", layout), unit.lift(x, "x", layout),
                            geom.weight_shape(unit.LAYOUT_2D[layout]), **unit.conv2d_kwargs(geom, layout),
                            num_threads=num_threads, algorithm=algorithm)
    return unit.drop(dw, "w", layout)


def _transpose_geometry(batch: Batch, weight_shape: Shape, stride: IntPair, padding: Padding,
                        output_padding: IntPair, dilation: IntPair, groups: int) -> TransposeGeometry:
    return _call_geometry(batch, weight_shape, stride=stride, padding=padding, output_padding=output_padding,
                          dilation=dilation, groups=groups)


@_doc
def conv_transpose1d(x: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, *, stride: IntPair = 1,
                     padding: Padding = 0, output_padding: IntPair = 0, dilation: IntPair = 1, groups: int = 1,
                     layout: str = "NWC", num_threads: int | None = None) -> FloatArray:
    """Transposed 1-D convolution of a batch or one sequence (PyTorch ``conv_transpose1d``).

    The adjoint of ``conv1d`` with the same weight and parameters: each input
    sample scatters ``x[n, i, :] @ weight`` into the output at
    ``i * stride - left + kw * dilation``.

    Parameters
    ----------
    x : array_like of shape (N, W, C_in) or (N, C_in, W)
        Input batch in ``layout`` order, or one unbatched sequence (W, C_in)
        or (C_in, W); W >= 1.
    weight : array_like of shape (KW, C_out//groups, C_in) or (C_in, C_out//groups, KW)
        Kernel. NCW: PyTorch's ``conv_transpose1d`` layout. NWC: the same
        axes channels last, as ``conv_transpose2d`` takes for NHWC (the WIO
        weight of the ``conv1d`` this is the adjoint of).
    bias : array_like of shape (C_out,), optional
        Added to every output sample.
    {transpose_params}

    Returns
    -------
    y : ndarray of shape (N, Wout, C_out) or (N, C_out, Wout)
        Without N for an unbatched x, with
        Wout = (W - 1) * stride - left - right + dilation * (KW - 1) + output_padding + 1.
    """
    layout = layout_iv(layout, rank=1)
    x, batch = activation_iv(x, "x", layout)
    weight = array_iv(weight, "weight", 3)
    geom = _transpose_geometry(batch, weight.shape, stride, padding, output_padding, dilation, groups)
    y = conv_transpose2d(unit.lift(x, "x", layout), unit.lift(weight, "wt", layout), bias,
                         **geom.transpose2d_kwargs(), layout=unit.LAYOUT_2D[layout], num_threads=num_threads)
    return batch.strip(unit.drop(y, "x", layout))


@_doc
def conv_transpose1d_backward(grad_out: ArrayLike, x: ArrayLike, weight: ArrayLike, *, stride: IntPair = 1,
                              padding: Padding = 0, output_padding: IntPair = 0, dilation: IntPair = 1,
                              groups: int = 1, layout: str = "NWC",
                              num_threads: int | None = None) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gradients of ``conv_transpose1d`` with respect to input, weight and bias.

    Parameters
    ----------
    grad_out : array_like, the shape of ``conv_transpose1d(x, weight, ...)``
        Unbatched exactly when ``x`` is.
    x : array_like of shape (N, W, C_in) or (N, C_in, W)
        The forward input, batched or unbatched ((W, C_in) or (C_in, W)).
    weight : array_like of shape (KW, C_out//groups, C_in) or (C_in, C_out//groups, KW)
        The forward kernel.
    {transpose_params}

    Returns
    -------
    grad_x : ndarray, shape and layout of ``x`` (unbatched when ``x`` is)
    grad_weight : ndarray, shape and layout of ``weight``
    grad_bias : ndarray of shape (C_out,)
    """
    layout = layout_iv(layout, rank=1)
    grad_out = array_iv(grad_out, "grad_out")
    x, batch = activation_iv(x, "x", layout)
    weight = array_iv(weight, "weight", 3)
    geom = _transpose_geometry(batch, weight.shape, stride, padding, output_padding, dilation, groups)
    grad_out_shape_iv(grad_out.shape, geom.output_shape(layout), batch)
    dx, dw, db = conv_transpose2d_backward(unit.lift(batch.add(grad_out), "x", layout), unit.lift(x, "x", layout),
                                           unit.lift(weight, "wt", layout), **geom.transpose2d_kwargs(),
                                           layout=unit.LAYOUT_2D[layout], num_threads=num_threads)
    return batch.strip(unit.drop(dx, "x", layout)), unit.drop(dw, "wt", layout), db
