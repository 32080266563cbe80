"""Transposed 2-D and 3-D convolution (PyTorch ``conv_transpose2d`` and
``conv_transpose3d``, TensorFlow ``conv2d_transpose``/``conv3d_transpose``) and
their backward, as a public face of cconv's kernels.

A transposed convolution is the adjoint of a convolution. Call the convolution
it is the adjoint of the *underlying* convolution: its input has the transposed
convolution's output shape (N, Hout, Wout, C_out), its output has the transposed
convolution's input shape (N, H, W, C_in), and its weight is this function's
weight as stored. Then

* ``conv_transpose2d(x, w)``  is ``conv2d_grad_input(x, w, input_shape=(N, Hout, Wout, C_out))``;
* its grad_x                  is ``conv2d(grad_out, w)``;
* its grad_weight             is ``conv2d_grad_weight(x, grad_out, w.shape)`` (roles swapped);
* its grad_bias               is ``grad_out`` summed over N, Hout and Wout.

The weight layouts are chosen so the stored weight *is* the underlying
convolution's weight, with no copy or transpose: PyTorch's NCHW weight
(C_in, C_out//groups, KH, KW) is the underlying OIHW weight, and the NHWC weight
(KH, KW, C_out//groups, C_in) is the underlying HWIO weight (also TensorFlow's
``conv2d_transpose`` filter layout [height, width, output_channels, in_channels]).
No pixel-level work happens here except adding the bias. The 3-D functions
are the same with ``conv3d``'s functions underneath: the weight
(C_in, C_out//groups, KD, KH, KW) for NCDHW, (KD, KH, KW, C_out//groups, C_in)
for NDHWC.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, TypeVar, cast

import numpy as np
from numpy.typing import DTypeLike, NDArray

from ._batch import Batch, grad_out_shape_iv
from ._layout_hints import explain_layout
from ._layout_hints import spatial_letters
from ._params import (
    _shape_iv,
    activation_iv,
    array_iv,
    canonical_layout,
    compute_dtype,
    extent,
    groups_iv,
    input_batch_iv,
    ints_iv,
    layout_iv,
    layout_rank,
    num_threads_iv,
    padding_iv,
    remember_plain_calls,
    weight_geometry,
)
from ._types import ArrayLike, FloatArray, IntPair, Padding, Shape
from ._conv import conv2d, conv2d_grad_input, conv2d_grad_weight
from ._conv3d import conv3d, conv3d_grad_input, conv3d_grad_weight

_Func = TypeVar("_Func", bound=Callable[..., Any])

__all__ = ["conv_transpose2d", "conv_transpose2d_backward", "conv_transpose2d_output_shape",
           "conv_transpose3d", "conv_transpose3d_backward", "conv_transpose3d_output_shape"]

#: The convolution functions underneath a transposed one of each call rank (1-D runs as 2-D).
_UNDERLYING = {2: (conv2d, conv2d_grad_input, conv2d_grad_weight), 3: (conv3d, conv3d_grad_input, conv3d_grad_weight)}

_PARAMS_DOC = """stride : int or (int, int), default 1
        Step between the positions where neighbouring input pixels are
        scattered in the output (the underlying convolution's stride); each >= 1.
    padding : int, (ph, pw), ((top, bottom), (left, right)), "valid" or "same"
        Rows/columns cropped from each side of the full transposed
        convolution (PyTorch's meaning). An int or pair is symmetric as in
        PyTorch; ``((top, bottom), (left, right))`` crops each side
        independently (PyTorch has no such form; it equals PyTorch's result
        with padding 0, cropped). The strings, case-insensitive, follow
        TensorFlow/Keras ``Conv2DTranspose``; they fix the output size, so
        ``output_padding`` must then be 0:

        * "same": Hout = H * stride. It is the adjoint of ``conv2d(...,
          padding="same")`` on an input of that size: total = max(span -
          stride, 0) rows are cropped, total // 2 from the top, the rest from
          the bottom, where span = dilation * (KH - 1) + 1.
        * "valid": nothing is cropped and Hout = (H - 1) * stride +
          max(span, stride): the adjoint of ``conv2d(..., padding="valid")``.
    output_padding : int or (int, int), default 0
        Extra rows/columns added at the bottom/right of the output, to pick
        one of the output sizes that a strided convolution maps to the same
        input size. Each must be < max(stride, dilation) in its axis, as in
        PyTorch.
    dilation : int or (int, int), default 1
        Spacing between kernel taps; each >= 1.
    groups : int, default 1
        C_in and C_out are split into ``groups`` independent transposed
        convolutions; C_in must be divisible by it.
    layout : {"NHWC", "NCHW"}, default "NHWC"
        "NHWC": x (N, H, W, C_in), weight (KH, KW, C_out//groups, C_in),
        result (N, Hout, Wout, C_out).
        "NCHW": x (N, C_in, H, W), weight (C_in, C_out//groups, KH, KW) as in
        PyTorch, result (N, C_out, Hout, Wout).
        x may also come without the batch axis, (H, W, C_in) or
        (C_in, H, W), as PyTorch allows; the result and grad_out are then
        unbatched too.
    num_threads : int or None, default None
        OpenMP threads for this call; None uses ``cconv.get_num_threads()``."""


def _doc(func: _Func) -> _Func:
    func.__doc__ = cast(str, func.__doc__).replace("{params}", _PARAMS_DOC)
    return func


@dataclass(frozen=True)
class TransposeGeometry:
    """Sizes of one transposed convolution, validated.

    ``pads`` are the explicit ``((top, bottom), (left, right))`` crops and
    ``extra = (eh, ew)`` the number of zero rows/columns the input needs at the
    bottom/right so that the underlying convolution, run on the output size,
    gives back exactly the (extended) input size. ``extra`` is non-zero only when
    output_padding >= stride, which PyTorch allows when dilation > stride.
    ``rank`` is the caller's number of spatial axes; a 1-D one (``rank == 1``)
    is the 2-D one with a unit H axis (H = KH = Hout = 1), as for
    ``ConvGeometry``. A 3-D one also has the depth sizes D, KD and Dout, and
    its ``stride``, ``dilation``, ``pads`` and ``output_padding`` have an entry
    per axis (d, h, w); those of the other ranks have two (h, w).
    """

    N: int
    H: int
    W: int
    C_in: int
    C_out: int
    KH: int
    KW: int
    groups: int
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]
    output_padding: tuple[int, ...]
    Hout: int
    Wout: int
    rank: int = 2
    D: int = 1
    KD: int = 1
    Dout: int = 1

    @property
    def call_rank(self) -> int:
        """The rank of the underlying convolution call: 3, or 2 (which also runs a 1-D one)."""
        return 3 if self.rank == 3 else 2

    @property
    def extra(self) -> tuple[int, ...]:
        """Zero rows (planes) the input needs at the end of each axis of the underlying call."""
        return tuple(op // st for op, st in zip(self.output_padding, self.stride))

    def output_shape(self, layout: str) -> tuple[int, ...]:
        """The batched output shape in ``layout`` (of any rank)."""
        sizes = {"N": self.N, "D": self.Dout, "H": self.Hout, "W": self.Wout, "C": self.C_out}
        return tuple(sizes[a] for a in layout)

    def input_sizes(self) -> tuple[int, ...]:
        """The spatial sizes of the input in the underlying call's rank: (H, W) or (D, H, W)."""
        return (self.D, self.H, self.W) if self.call_rank == 3 else (self.H, self.W)

    def conv_kwargs(self, layout: str, num_threads: int | None) -> dict[str, Any]:
        """Keywords for the underlying ``cconv`` convolution call (``layout`` of the call's rank)."""
        return dict(stride=self.stride, padding=self.pads, dilation=self.dilation, groups=self.groups,
                    layout=layout, num_threads=num_threads)

    def transpose2d_kwargs(self) -> dict[str, Any]:
        """Keywords of the explicit ``conv_transpose2d`` call with these sizes (what a 1-D call runs)."""
        return dict(stride=self.stride, padding=self.pads, output_padding=self.output_padding,
                    dilation=self.dilation, groups=self.groups)


def _string_padding(mode: str, span: int, stride: int) -> tuple[int, int, int]:
    """(crop_before, crop_after, output_padding) of one axis for "same"/"valid".

    Both give output_padding = max(stride - span, 0), so the output is never
    shorter than stride per input pixel; "same" also crops span - stride.
    """
    total = max(span - stride, 0) if mode == "same" else 0
    return total // 2, total - total // 2, max(stride - span, 0)


_AXIS_NAMES = {"D": "depth", "H": "height", "W": "width"}


def transpose_geometry(input_shape: Shape, weight_shape: Shape, *, stride: IntPair = 1, padding: Padding = 0, output_padding: IntPair = 0, dilation: IntPair = 1,
                       groups: int = 1, layout: str = "NHWC", input_name: str = "x", weight_name: str = "weight",
                       unbatched: bool = False) -> TransposeGeometry:
    """Validate one transposed convolution's parameters and return its geometry.

    ``input_shape`` (batched) and ``weight_shape`` are in ``layout`` order, of
    either spatial rank ("NWC"/"NCW" or "NHWC"/"NCHW"); the per-axis
    parameters and the messages follow that rank. ``unbatched`` says the
    caller gave the input without its (unit) batch axis, so that messages show
    the shape as given. Every error is a ValueError or TypeError naming the
    argument with expected and actual values.
    """
    layout = canonical_layout(layout)
    rank = layout_rank(layout)
    letters = spatial_letters(layout)
    shape = _shape_iv(input_shape, f"{input_name}.shape", rank + 2)
    sizes = dict(zip(layout, shape))
    C, size = sizes["C"], tuple(sizes[a] for a in letters)
    shown = shape[1:] if unbatched else shape
    kernel, Cin, Cog = weight_geometry(weight_shape, layout, weight_name, transposed=True)
    strides = ints_iv(stride, "stride", rank)
    dilations = ints_iv(dilation, "dilation", rank)
    groups = groups_iv(groups)
    out_pads = ints_iv(output_padding, "output_padding", rank, minimum=0)
    pad = padding_iv(padding, rank)
    if min(size) < 1:
        got = ", ".join(f"{a}={n}" for a, n in zip(letters, size))
        raise ValueError(f"{input_name} must have spatial size >= {extent((1,) * rank)}; got {got} "
                         f"(shape {shown})")
    if Cin != C:
        channel_axis = "last" if layout.endswith("C") else "first"
        raise ValueError(
            f"channel mismatch: {weight_name}'s {channel_axis} axis holds C_in={Cin} input channels, "
            f"but {input_name} has C_in={C} ({weight_name} shape {tuple(weight_shape)}, {input_name} shape {shown})"
        )
    if C % groups != 0:
        raise ValueError(f"groups={groups} must divide the input channels C_in={C} of {input_name}")
    spans = tuple(d * (k - 1) + 1 for d, k in zip(dilations, kernel))
    if isinstance(pad, str):
        if any(out_pads):
            raise ValueError(
                f"output_padding must be 0 when padding is a string ({pad!r} fixes the output size); "
                f"got output_padding={output_padding!r}"
            )
        per_axis = [_string_padding(pad, span, st) for span, st in zip(spans, strides)]
        crops = tuple((before, after) for before, after, _ in per_axis)
        out_pads = tuple(op for _, _, op in per_axis)
    else:
        crops = pad
        where = " in each dimension" if rank > 1 else ""
        for axis, op, st, d in zip(letters, out_pads, strides, dilations):
            if op >= max(st, d):
                raise ValueError(
                    f"output_padding must be < max(stride, dilation){where}; got {op} in the {_AXIS_NAMES[axis]} "
                    f"axis with stride {st} and dilation {d} (output_padding={output_padding!r})"
                )
    full = tuple((n - 1) * st + span + op for n, st, span, op in zip(size, strides, spans, out_pads))
    outs = tuple(f - before - after for f, (before, after) in zip(full, crops))
    if min(outs) < 1:
        raise ValueError(
            f"padding {padding!r} crops more than the transposed convolution produces: the output would be "
            f"{extent(outs)}; padding per side must leave at least {extent((1,) * rank)} of the uncropped "
            f"{extent(full)}"
        )
    if rank == 3:
        (D, H, W), (KD, KH, KW), (Dout, Hout, Wout) = size, kernel, outs
        return TransposeGeometry(sizes["N"], H, W, C, Cog * groups, KH, KW, groups, tuple(strides), tuple(dilations),
                                 tuple(crops), tuple(out_pads), Hout, Wout, rank, D, KD, Dout)
    # A 1-D transposed convolution is the 2-D one with a unit H axis (see TransposeGeometry).
    unit = 2 - rank
    H, W = (1,) * unit + size
    KH, KW = (1,) * unit + kernel
    sh, sw = (1,) * unit + strides
    dh, dw = (1,) * unit + dilations
    (pt, pb), (pl, pr) = ((0, 0),) * unit + tuple(crops)
    oph, opw = (0,) * unit + tuple(out_pads)
    Hout, Wout = (1,) * unit + outs
    return TransposeGeometry(sizes["N"], H, W, C, Cog * groups, KH, KW, groups, (sh, sw), (dh, dw),
                             ((pt, pb), (pl, pr)), (oph, opw), Hout, Wout, rank)


def _call_geometry(batch: Batch, weight_shape: Shape, *, stride: IntPair, padding: Padding, output_padding: IntPair,
                   dilation: IntPair, groups: int, weight_name: str = "weight") -> TransposeGeometry:
    """The geometry of a transposed convolution whose input ``batch`` describes;
    shape errors that a layout mix-up explains say so (``_layout_hints``).
    Plain calls reuse an earlier equal call's geometry (``remember_plain_calls``)."""
    return _remembered_geometry(batch, weight_shape, stride, padding, output_padding, dilation, groups, weight_name)


@remember_plain_calls
def _remembered_geometry(batch: Batch, weight_shape: Shape, stride: IntPair, padding: Padding,
                         output_padding: IntPair, dilation: IntPair, groups: int,
                         weight_name: str) -> TransposeGeometry:
    def build(layout: str, input_shape: tuple[int, ...], w_shape: Shape) -> TransposeGeometry:
        return transpose_geometry(input_shape, w_shape, stride=stride, padding=padding, output_padding=output_padding,
                                  dilation=dilation, groups=groups, layout=layout, input_name=batch.name,
                                  weight_name=weight_name, unbatched=batch.unbatched)

    return explain_layout(build, batch, weight_shape, weight_name, groups=groups, transposed=True)


@_doc
def conv_transpose2d_output_shape(input_shape: Shape, weight_shape: Shape, *, stride: IntPair = 1, padding: Padding = 0, output_padding: IntPair = 0, dilation: IntPair = 1,
                                  groups: int = 1, layout: str = "NHWC") -> tuple[int, ...]:
    """Return the shape ``conv_transpose2d`` gives for these input and weight shapes.

    Parameters
    ----------
    input_shape : tuple of 4 ints, or 3 for an unbatched input
        (N, H, W, C_in) for NHWC, (N, C_in, H, W) for NCHW; without N for an
        unbatched input.
    weight_shape : tuple of 4 ints
        (KH, KW, C_out//groups, C_in) for NHWC, (C_in, C_out//groups, KH, KW) for NCHW.
    {params}

    Returns
    -------
    tuple of 4 ints, or 3 for an unbatched input
        (N, Hout, Wout, C_out) for NHWC, (N, C_out, Hout, Wout) for NCHW
        (without N when ``input_shape`` has none), with
        Hout = (H - 1) * stride - top - bottom + dilation * (KH - 1) + output_padding + 1
        (PyTorch's formula with per-side padding).
    """
    layout = layout_iv(layout)
    batch = input_batch_iv(input_shape, "input_shape", layout)
    geom = _call_geometry(batch, weight_shape, stride=stride, padding=padding, output_padding=output_padding,
                          dilation=dilation, groups=groups, weight_name="weight_shape")
    return batch.strip_shape(geom.output_shape(layout))


def _as_dtype(a: NDArray[Any], dtype: DTypeLike) -> NDArray[Any]:
    return a if a.dtype == dtype else a.astype(dtype)


def _extend(a: NDArray[Any], extra: tuple[int, ...], layout: str) -> NDArray[Any]:
    """``a`` with ``extra[i]`` zero rows (planes, columns) appended at the end of spatial axis i."""
    if not any(extra):
        return a
    widths = [(0, 0)] * a.ndim
    for axis, e in zip((layout.index(c) for c in spatial_letters(layout)), extra):
        widths[axis] = (0, e)
    return np.pad(a, widths)


def _crop(a: NDArray[Any], sizes: tuple[int, ...], layout: str) -> NDArray[Any]:
    """The first ``sizes`` samples of each spatial axis of a batch in ``layout``, C-contiguous."""
    axes = [layout.index(c) for c in spatial_letters(layout)]
    if tuple(a.shape[i] for i in axes) == tuple(sizes):
        return a
    index = [slice(None)] * a.ndim
    for axis, n in zip(axes, sizes):
        index[axis] = slice(0, n)
    return np.ascontiguousarray(a[tuple(index)])


def _transpose_forward(x: ArrayLike, weight: ArrayLike, bias: ArrayLike | None, *, stride: IntPair, padding: Padding,
                       output_padding: IntPair, dilation: IntPair, groups: int, layout: str,
                       num_threads: int | None) -> FloatArray:
    """conv_transpose2d/3d on a validated ``layout`` (its rank picks the underlying functions)."""
    x, batch = activation_iv(x, "x", layout)
    weight = array_iv(weight, "weight", len(layout))
    geom = _call_geometry(batch, weight.shape, stride=stride, padding=padding, output_padding=output_padding,
                          dilation=dilation, groups=groups)
    if bias is not None:
        bias = array_iv(bias, "bias")
        if bias.shape != (geom.C_out,):
            raise ValueError(f"bias must have shape (C_out,) = ({geom.C_out},); got {bias.shape}")
    num_threads = num_threads_iv(num_threads)
    result_dtype, dtype = compute_dtype(x, weight, bias)
    _, grad_input, _ = _UNDERLYING[geom.call_rank]
    x_ext = _extend(_as_dtype(x, dtype), geom.extra, layout)
    y = grad_input(x_ext, _as_dtype(weight, dtype), geom.output_shape(layout), **geom.conv_kwargs(layout, num_threads))
    if bias is not None and y.size:
        b = np.asarray(bias, dtype=dtype)
        y += b if layout.endswith("C") else b.reshape((-1,) + (1,) * (len(layout) - 2))
    return batch.strip(y.astype(result_dtype, copy=False))


def _transpose_backward(grad_out: ArrayLike, x: ArrayLike, weight: ArrayLike, *, stride: IntPair, padding: Padding,
                        output_padding: IntPair, dilation: IntPair, groups: int, layout: str,
                        num_threads: int | None) -> tuple[FloatArray, FloatArray, FloatArray]:
    """conv_transpose2d/3d_backward on a validated ``layout``."""
    grad_out = array_iv(grad_out, "grad_out")
    x, batch = activation_iv(x, "x", layout)
    weight = array_iv(weight, "weight", len(layout))
    geom = _call_geometry(batch, weight.shape, stride=stride, padding=padding, output_padding=output_padding,
                          dilation=dilation, groups=groups)
    grad_out_shape_iv(grad_out.shape, geom.output_shape(layout), batch)
    grad_out = batch.add(grad_out)
    num_threads = num_threads_iv(num_threads)
    result_dtype, dtype = compute_dtype(grad_out, x, weight)
    dy = _as_dtype(grad_out, dtype)
    w = _as_dtype(weight, dtype)
    conv, _, grad_weight = _UNDERLYING[geom.call_rank]
    kwargs = geom.conv_kwargs(layout, num_threads)
    grad_x = _crop(conv(dy, w, **kwargs), geom.input_sizes(), layout)
    grad_w = grad_weight(_extend(_as_dtype(x, dtype), geom.extra, layout), dy, w.shape, **kwargs)
    spatial = tuple(layout.index(c) for c in spatial_letters(layout))
    grad_b = dy.sum(axis=(0,) + spatial, dtype=dtype)
    return (batch.strip(grad_x.astype(result_dtype, copy=False)), grad_w.astype(result_dtype, copy=False),
            np.ascontiguousarray(grad_b, dtype=result_dtype))


@_doc
def conv_transpose2d(x: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, *, stride: IntPair = 1, padding: Padding = 0, output_padding: IntPair = 0, dilation: IntPair = 1,
                     groups: int = 1, layout: str = "NHWC", num_threads: int | None = None) -> FloatArray:
    """Transposed 2-D convolution of a batch or one image (PyTorch ``conv_transpose2d``).

    Each input pixel scatters ``x[n, i, j, :] @ weight`` into the output at
    rows ``i * stride - top + kh * dilation`` (and likewise for columns); the
    result is the adjoint of ``conv2d`` with the same weight and parameters, and
    equals ``conv2d_grad_input`` of that convolution, which is how it is
    computed (no copy of the weight).

    Parameters
    ----------
    x : array_like of shape (N, H, W, C_in) or (N, C_in, H, W)
        Input batch in ``layout`` order, or one unbatched image (H, W, C_in)
        or (C_in, H, W); H, W >= 1. Any strides or memory order.
    weight : array_like of shape (KH, KW, C_out//groups, C_in) or (C_in, C_out//groups, KH, KW)
        Kernel. NCHW: PyTorch's ``conv_transpose2d`` layout. NHWC: the same
        axes as (KH, KW, C_out//groups, C_in), which is TensorFlow's
        ``conv2d_transpose`` filter layout (for groups=1) and the HWIO weight of
        the ``conv2d`` this is the adjoint of.
    bias : array_like of shape (C_out,), optional
        Added to every output pixel.
    {params}

    Returns
    -------
    y : ndarray of shape (N, Hout, Wout, C_out) or (N, C_out, Hout, Wout)
        Without N for an unbatched x. C-contiguous, of dtype ``np.result_type`` of the inputs (integer and
        bool inputs give float64). float32 and float64 are computed natively,
        float16 in float32; longdouble raises TypeError.

    Raises
    ------
    ValueError, TypeError
        For any invalid shape, parameter or dtype, naming the argument.

    Notes
    -----
    When output_padding >= stride in an axis (allowed when dilation > stride),
    ``x`` is copied once with output_padding // stride zero rows/columns
    appended, so the underlying convolution's sizes match; otherwise no input
    is copied beyond the layout/dtype conversion the convolution kernels make.
    """
    return _transpose_forward(x, weight, bias, stride=stride, padding=padding, output_padding=output_padding,
                              dilation=dilation, groups=groups, layout=layout_iv(layout), num_threads=num_threads)


@_doc
def conv_transpose2d_backward(grad_out: ArrayLike, x: ArrayLike, weight: ArrayLike, *, stride: IntPair = 1, padding: Padding = 0, output_padding: IntPair = 0, dilation: IntPair = 1,
                              groups: int = 1, layout: str = "NHWC",
                              num_threads: int | None = None) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gradients of ``conv_transpose2d`` with respect to input, weight and bias.

    Computed with cconv's convolution kernels: grad_x is ``conv2d(grad_out,
    weight)``, grad_weight is ``conv2d_grad_weight`` with ``x`` in the role of
    the output gradient and ``grad_out`` in the role of the input, grad_bias is
    ``grad_out`` summed over N, Hout and Wout.

    Parameters
    ----------
    grad_out : array_like, the shape of ``conv_transpose2d(x, weight, ...)``
        Gradient of the loss with respect to the transposed convolution's
        output; unbatched exactly when ``x`` is.
    x : array_like of shape (N, H, W, C_in) or (N, C_in, H, W)
        The forward input, batched or unbatched ((H, W, C_in) or (C_in, H, W)).
    weight : array_like of shape (KH, KW, C_out//groups, C_in) or (C_in, C_out//groups, KH, KW)
        The forward kernel.
    {params}

    Returns
    -------
    grad_x : ndarray, shape and layout of ``x`` (unbatched when ``x`` is)
    grad_weight : ndarray, shape and layout of ``weight``
    grad_bias : ndarray of shape (C_out,)
        All three C-contiguous, of dtype ``np.result_type`` of the inputs
        (integers give float64; float16 is computed in float32).
    """
    return _transpose_backward(grad_out, x, weight, stride=stride, padding=padding, output_padding=output_padding,
                               dilation=dilation, groups=groups, layout=layout_iv(layout), num_threads=num_threads)


_PARAMS_3D_DOC = """stride : int or (int, int, int), default 1
        Step between the positions where neighbouring input voxels are
        scattered in the output; each >= 1.
    padding : int, (pd, ph, pw), ((front, back), (top, bottom), (left, right)), "valid" or "same"
        Samples cropped from each side of the full transposed convolution, as
        for ``conv_transpose2d`` (PyTorch's meaning for an int or triple;
        "same" gives Dout = D * stride and so on, with output_padding 0).
    output_padding : int or (int, int, int), default 0
        Extra samples at the end of each axis of the output; each
        < max(stride, dilation) in its axis, as in PyTorch.
    dilation : int or (int, int, int), default 1
        Spacing between kernel taps; each >= 1.
    groups : int, default 1
        C_in and C_out are split into ``groups`` independent transposed
        convolutions; C_in must be divisible by it.
    layout : {"NDHWC", "NCDHW"}, default "NDHWC"
        "NDHWC": x (N, D, H, W, C_in), weight (KD, KH, KW, C_out//groups, C_in),
        result (N, Dout, Hout, Wout, C_out). "NCDHW": x (N, C_in, D, H, W),
        weight (C_in, C_out//groups, KD, KH, KW) as in PyTorch, result
        (N, C_out, Dout, Hout, Wout). x may also come without the batch axis;
        the result and grad_out are then unbatched too.
    num_threads : int or None, default None
        OpenMP threads for this call; None uses ``cconv.get_num_threads()``."""


def _doc3(func: _Func) -> _Func:
    func.__doc__ = cast(str, func.__doc__).replace("{params}", _PARAMS_3D_DOC)
    return func


@_doc3
def conv_transpose3d_output_shape(input_shape: Shape, weight_shape: Shape, *, stride: IntPair = 1,
                                  padding: Padding = 0, output_padding: IntPair = 0, dilation: IntPair = 1,
                                  groups: int = 1, layout: str = "NDHWC") -> tuple[int, ...]:
    """Return the shape ``conv_transpose3d`` gives for these input and weight shapes.

    Parameters
    ----------
    input_shape : tuple of 5 ints, or 4 for an unbatched input
        (N, D, H, W, C_in) for NDHWC, (N, C_in, D, H, W) for NCDHW.
    weight_shape : tuple of 5 ints
        (KD, KH, KW, C_out//groups, C_in) for NDHWC, (C_in, C_out//groups, KD, KH, KW) for NCDHW.
    {params}

    Returns
    -------
    tuple of 5 ints, or 4 for an unbatched input
        With Dout = (D - 1) * stride - front - back + dilation * (KD - 1) + output_padding + 1,
        and likewise Hout and Wout.
    """
    layout = layout_iv(layout, rank=3)
    batch = input_batch_iv(input_shape, "input_shape", layout)
    geom = _call_geometry(batch, weight_shape, stride=stride, padding=padding, output_padding=output_padding,
                          dilation=dilation, groups=groups, weight_name="weight_shape")
    return batch.strip_shape(geom.output_shape(layout))


@_doc3
def conv_transpose3d(x: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, *, stride: IntPair = 1,
                     padding: Padding = 0, output_padding: IntPair = 0, dilation: IntPair = 1, groups: int = 1,
                     layout: str = "NDHWC", num_threads: int | None = None) -> FloatArray:
    """Transposed 3-D convolution of a batch or one volume (PyTorch ``conv_transpose3d``).

    The adjoint of ``conv3d`` with the same weight and parameters, computed
    as that convolution's ``conv3d_grad_input`` (no copy of the weight).

    Parameters
    ----------
    x : array_like of shape (N, D, H, W, C_in) or (N, C_in, D, H, W)
        Input batch in ``layout`` order, or one unbatched volume; D, H, W >= 1.
    weight : array_like of shape (KD, KH, KW, C_out//groups, C_in) or (C_in, C_out//groups, KD, KH, KW)
        Kernel; NCDHW: PyTorch's ``conv_transpose3d`` layout.
    bias : array_like of shape (C_out,), optional
        Added to every output voxel.
    {params}

    Returns
    -------
    y : ndarray of shape (N, Dout, Hout, Wout, C_out) or (N, C_out, Dout, Hout, Wout)
        Without N for an unbatched x; dtypes as ``conv_transpose2d``.
    """
    return _transpose_forward(x, weight, bias, stride=stride, padding=padding, output_padding=output_padding,
                              dilation=dilation, groups=groups, layout=layout_iv(layout, rank=3),
                              num_threads=num_threads)


@_doc3
def conv_transpose3d_backward(grad_out: ArrayLike, x: ArrayLike, weight: ArrayLike, *, stride: IntPair = 1,
                              padding: Padding = 0, output_padding: IntPair = 0, dilation: IntPair = 1,
                              groups: int = 1, layout: str = "NDHWC",
                              num_threads: int | None = None) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gradients of ``conv_transpose3d`` with respect to input, weight and bias.

    grad_x is ``conv3d(grad_out, weight)``, grad_weight ``conv3d_grad_weight``
    with the roles of ``x`` and ``grad_out`` swapped, grad_bias ``grad_out``
    summed over N, Dout, Hout and Wout.

    Parameters
    ----------
    grad_out : array_like, the shape of ``conv_transpose3d(x, weight, ...)``
        Unbatched exactly when ``x`` is.
    x : array_like of shape (N, D, H, W, C_in) or (N, C_in, D, H, W)
        The forward input, batched or unbatched.
    weight : array_like of shape (KD, KH, KW, C_out//groups, C_in) or (C_in, C_out//groups, KD, KH, KW)
    {params}

    Returns
    -------
    grad_x : ndarray, shape and layout of ``x`` (unbatched when ``x`` is)
    grad_weight : ndarray, shape and layout of ``weight``
    grad_bias : ndarray of shape (C_out,)
    """
    return _transpose_backward(grad_out, x, weight, stride=stride, padding=padding, output_padding=output_padding,
                               dilation=dilation, groups=groups, layout=layout_iv(layout, rank=3),
                               num_threads=num_threads)
