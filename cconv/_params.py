"""Argument validation and normalisation shared by every cconv entry point.

Each ``*_iv`` helper turns one user argument into its canonical form or raises a
ValueError/TypeError that names the argument and shows expected versus actual.
``ConvGeometry`` is the single place where output sizes and padding are decided;
it is always batched (``_batch`` adds the batch axis of an unbatched call before
the geometry is built), and ``conv_call_geometry`` explains shape errors that a
layout mix-up accounts for (``_layout_hints``).
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Tuple, cast

import numpy as np
from numpy.typing import NDArray

from ._batch import Batch, batch_iv
from ._layout_hints import explain_layout

LAYOUTS = ("NHWC", "NCHW")

#: ``((top, bottom), (left, right))``: the explicit form every padding resolves to.
ExplicitPadding = Tuple[Tuple[int, int], Tuple[int, int]]

# Upper bound on OpenMP threads per call. libgomp keeps per-thread start data on
# the calling thread's stack, so a team of ~100,000 threads overflows it and
# crashes the process; no CPU has anywhere near 1024 hardware threads per process.
MAX_THREADS = 1024


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def layout_iv(layout: object) -> str:
    """Return ``"NHWC"`` or ``"NCHW"`` for a case-insensitive layout string."""
    if not isinstance(layout, str):
        raise TypeError(f"layout must be a string, one of {LAYOUTS}; got {type(layout).__name__} {layout!r}")
    canonical = layout.upper()
    if canonical not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS} (case-insensitive); got {layout!r}")
    return canonical


def pair_iv(value: Any, name: str, minimum: int = 1) -> tuple[int, int]:
    """Return ``(h, w)`` from an int or a pair of ints, each ``>= minimum``."""
    if _is_int(value):
        pair = (int(value), int(value))
    elif isinstance(value, (tuple, list, np.ndarray)) and len(value) == 2 and all(_is_int(v) for v in value):
        pair = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{name} must be an int or a pair of ints (h, w); got {value!r}")
    if pair[0] < minimum or pair[1] < minimum:
        raise ValueError(f"{name} must be >= {minimum} in each dimension; got {value!r}")
    return pair


def groups_iv(groups: Any) -> int:
    """Return ``groups`` as a positive int."""
    if not _is_int(groups):
        raise TypeError(f"groups must be an int >= 1; got {type(groups).__name__} {groups!r}")
    if groups < 1:
        raise ValueError(f"groups must be >= 1; got {groups}")
    return int(groups)


def num_threads_iv(num_threads: Any) -> int | None:
    """Return ``None`` (use the default) or an int thread count in ``[1, MAX_THREADS]``."""
    if num_threads is None:
        return None
    if not _is_int(num_threads):
        raise TypeError(f"num_threads must be None or an int >= 1; got {type(num_threads).__name__} {num_threads!r}")
    if num_threads < 1 or num_threads > MAX_THREADS:
        raise ValueError(f"num_threads must be None or an int in [1, {MAX_THREADS}]; got {num_threads}")
    return int(num_threads)


def padding_iv(padding: Any) -> str | ExplicitPadding:
    """Return ``"valid"``, ``"same"`` or explicit ``((top, bottom), (left, right))``.

    Accepted forms: int; ``(ph, pw)``; ``((top, bottom), (left, right))``;
    ``"valid"`` or ``"same"`` in any case.
    """
    if isinstance(padding, str):
        mode = padding.lower()
        if mode not in ("valid", "same"):
            raise ValueError(f"padding string must be 'valid' or 'same' (case-insensitive); got {padding!r}")
        return mode
    if _is_int(padding):
        p = int(padding)
        explicit = ((p, p), (p, p))
    elif isinstance(padding, (tuple, list)) and len(padding) == 2:
        if all(_is_int(v) for v in padding):
            ph, pw = int(padding[0]), int(padding[1])
            explicit = ((ph, ph), (pw, pw))
        elif all(isinstance(v, (tuple, list)) and len(v) == 2 and all(_is_int(u) for u in v) for v in padding):
            explicit = ((int(padding[0][0]), int(padding[0][1])), (int(padding[1][0]), int(padding[1][1])))
        else:
            raise TypeError(
                "padding must be an int, (ph, pw), ((top, bottom), (left, right)), 'valid' or 'same'; "
                f"got {padding!r}"
            )
    else:
        raise TypeError(
            "padding must be an int, (ph, pw), ((top, bottom), (left, right)), 'valid' or 'same'; "
            f"got {padding!r}"
        )
    if min(explicit[0] + explicit[1]) < 0:
        raise ValueError(f"padding must be non-negative; got {padding!r}")
    return explicit


def _same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    # TensorFlow's rule: out = ceil(size / stride), the smaller half goes before.
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def resolve_padding(
    padding: str | ExplicitPadding,
    size_hw: tuple[int, int],
    kernel_hw: tuple[int, int],
    stride_hw: tuple[int, int],
    dilation_hw: tuple[int, int],
) -> ExplicitPadding:
    """Turn a normalised padding into explicit ``((top, bottom), (left, right))``."""
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        return cast(ExplicitPadding, tuple(
            _same_padding(size_hw[i], kernel_hw[i], stride_hw[i], dilation_hw[i]) for i in range(2)
        ))
    return cast(ExplicitPadding, padding)


@dataclass(frozen=True)
class ConvGeometry:
    """Every size of one 2-D convolution, in NHWC terms, validated.

    ``C``/``O`` are the total input/output channels; ``Cg = C // groups`` and
    ``Og = O // groups`` are the per-group counts.
    """

    N: int
    H: int
    W: int
    C: int
    O: int
    KH: int
    KW: int
    groups: int
    sh: int
    sw: int
    dh: int
    dw: int
    pt: int
    pb: int
    pl: int
    pr: int
    Ho: int
    Wo: int

    @property
    def Cg(self) -> int:
        return self.C // self.groups

    @property
    def Og(self) -> int:
        return self.O // self.groups

    @property
    def padding(self) -> ExplicitPadding:
        return ((self.pt, self.pb), (self.pl, self.pr))

    def input_shape(self, layout: str) -> tuple[int, int, int, int]:
        return (self.N, self.H, self.W, self.C) if layout == "NHWC" else (self.N, self.C, self.H, self.W)

    def output_shape(self, layout: str) -> tuple[int, int, int, int]:
        return (self.N, self.Ho, self.Wo, self.O) if layout == "NHWC" else (self.N, self.O, self.Ho, self.Wo)

    def weight_shape(self, layout: str) -> tuple[int, int, int, int]:
        return (self.KH, self.KW, self.Cg, self.O) if layout == "NHWC" else (self.O, self.Cg, self.KH, self.KW)

    @property
    def padding4(self) -> tuple[int, int, int, int]:
        """(top, bottom, left, right) zero padding."""
        return (self.pt, self.pb, self.pl, self.pr)

    def kernel_tuple(self) -> tuple[int, ...]:
        """The sizes in the order the compiled ``Geom`` struct reads them."""
        return (self.N, self.H, self.W, self.C, self.O, self.KH, self.KW, self.groups,
                self.sh, self.sw, self.dh, self.dw, self.pt, self.pl, self.Ho, self.Wo)

    @property
    def flops(self) -> int:
        """Multiply-adds times two for the forward pass."""
        return 2 * self.N * self.Ho * self.Wo * self.O * self.KH * self.KW * self.Cg


def _shape_iv(shape: Any, name: str, ndim: int) -> tuple[int, ...]:
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of {ndim} ints; got {shape!r}") from None
    if len(shape) != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions; got {len(shape)} (shape {shape})")
    if min(shape, default=0) < 0:
        raise ValueError(f"{name} must have non-negative sizes; got {shape}")
    return cast("tuple[int, ...]", shape)


def conv_geometry(
    input_shape: Any,
    kernel_hw: Any,
    *,
    out_channels: int | None = None,
    weight_cin: int | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: Any = 1,
    layout: Any = "NHWC",
    input_name: str = "x",
) -> ConvGeometry:
    """Validate one convolution's parameters and return its ``ConvGeometry``.

    ``input_shape`` is in ``layout`` order. ``kernel_hw`` is ``(KH, KW)``.
    ``out_channels`` (O) and ``weight_cin`` (C // groups as stored in the weight)
    are checked when given; ``out_channels=None`` means "not a weight-bearing call"
    (im2col/col2im) and takes O = C.
    """
    layout = layout_iv(layout)
    shape = _shape_iv(input_shape, f"{input_name}.shape", 4)
    if layout == "NHWC":
        N, H, W, C = shape
    else:
        N, C, H, W = shape
    sh, sw = pair_iv(stride, "stride")
    dh, dw = pair_iv(dilation, "dilation")
    groups = groups_iv(groups)
    KH, KW = pair_iv(kernel_hw, "kernel_size")
    pad = resolve_padding(padding_iv(padding), (H, W), (KH, KW), (sh, sw), (dh, dw))
    (pt, pb), (pl, pr) = pad
    O = C if out_channels is None else int(out_channels)
    if C % groups != 0:
        raise ValueError(f"groups={groups} must divide the input channels C={C} of {input_name}")
    if O % groups != 0:
        raise ValueError(f"groups={groups} must divide the output channels O={O} of weight")
    if weight_cin is not None and weight_cin != C // groups:
        raise ValueError(
            f"channel mismatch: weight expects C//groups={weight_cin} input channels per group, "
            f"but {input_name} has C={C} with groups={groups}, i.e. {C // groups} per group"
        )
    span_h = dh * (KH - 1) + 1
    span_w = dw * (KW - 1) + 1
    if span_h > H + pt + pb or span_w > W + pl + pr:
        raise ValueError(
            f"kernel (dilated extent {span_h}x{span_w}) is larger than the padded input "
            f"({H + pt + pb}x{W + pl + pr}) of {input_name}"
        )
    Ho = (H + pt + pb - span_h) // sh + 1
    Wo = (W + pl + pr - span_w) // sw + 1
    return ConvGeometry(N, H, W, C, O, KH, KW, groups, sh, sw, dh, dw, pt, pb, pl, pr, Ho, Wo)


def weight_geometry(weight_shape: Any, layout: str, name: str = "weight") -> tuple[int, int, int, int]:
    """Return ``(KH, KW, Cin_per_group, O)`` from a weight shape in the layout's order.

    ``name`` is the argument: a weight array's (its shape is ``name.shape``) or
    a shape argument's own, such as ``"weight_shape"``.
    """
    shape = _shape_iv(weight_shape, name if name.endswith("_shape") else f"{name}.shape", 4)
    if layout == "NHWC":
        KH, KW, Cg, O = shape
    else:
        O, Cg, KH, KW = shape
    if KH < 1 or KW < 1:
        raise ValueError(f"{name} kernel size must be >= 1 in each dimension; got {KH}x{KW} (shape {shape})")
    return KH, KW, Cg, O


def input_batch_iv(input_shape: Any, name: str, layout: str) -> Batch:
    """The ``Batch`` of an input-shape argument: a sequence of non-negative ints,
    batched or unbatched for ``layout`` (canonical)."""
    unbatched, batched = len(layout) - 1, len(layout)
    try:
        shape = tuple(int(s) for s in input_shape)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of {unbatched} or {batched} ints; got {input_shape!r}") from None
    batch = batch_iv(shape, name, layout)
    if min(shape, default=0) < 0:
        raise ValueError(f"{name} must have non-negative sizes; got {shape}")
    return batch


def activation_iv(a: Any, name: str, layout: str) -> tuple[NDArray[Any], Batch]:
    """``a`` as a batched ndarray (a view with a unit batch axis if it came
    unbatched) and the ``Batch`` it decides; ``layout`` must be canonical."""
    arr = array_iv(a, name)
    batch = batch_iv(arr.shape, name, layout)
    return batch.add(arr), batch


def conv_call_geometry(batch: Batch, weight_shape: Any, *, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                       groups: Any = 1, weight_name: str = "weight") -> ConvGeometry:
    """The geometry of a convolution with a weight, its input described by ``batch``.

    Shape errors that a layout mix-up explains say so (``_layout_hints``).
    """
    def build(layout: str, input_shape: tuple[int, ...], w_shape: tuple[int, ...]) -> ConvGeometry:
        KH, KW, Cg, O = weight_geometry(w_shape, layout, name=weight_name)
        return conv_geometry(input_shape, (KH, KW), out_channels=O, weight_cin=Cg, stride=stride, padding=padding,
                             dilation=dilation, groups=groups, layout=layout, input_name=batch.name)

    return explain_layout(build, batch, weight_shape, weight_name, groups=groups)


def array_iv(a: Any, name: str, ndim: int | None = None) -> NDArray[Any]:
    """Return ``a`` as an ndarray of a real numeric dtype, checking its ndim."""
    if isinstance(a, np.ndarray):
        arr = a
    else:
        try:
            arr = np.asarray(a)
        except Exception as exc:  # ragged lists and the like
            raise TypeError(f"{name} must be array-like of numbers; could not convert: {exc}") from None
    kind = arr.dtype.kind
    if kind not in "biuf":
        raise TypeError(
            f"{name} must have a real numeric dtype (bool, int, float); got dtype {arr.dtype}"
        )
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions; got {arr.ndim} (shape {arr.shape})")
    return arr


def compute_dtype(*arrays: NDArray[Any] | None) -> tuple[np.dtype[Any], np.dtype[Any]]:
    """Return ``(result_dtype, compute_dtype)`` for the given input arrays.

    The result is ``np.result_type`` of the inputs with integers and bools
    promoted to float64. float32 and float64 are computed natively; float16
    is computed in float32 and cast back.
    """
    result = np.result_type(*[a.dtype for a in arrays if a is not None])
    if result.kind in "biu":
        result = np.dtype(np.float64)
    if result.itemsize > 8:
        raise TypeError(
            f"dtype {result} is not supported: cconv computes in float32 or float64; "
            "cast the inputs to float64 first"
        )
    compute = np.dtype(np.float32) if result.itemsize <= 4 else np.dtype(np.float64)
    return result, compute
