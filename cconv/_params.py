"""Argument validation and normalisation shared by every cconv entry point.

Each ``*_iv`` helper turns one user argument into its canonical form or raises a
ValueError/TypeError that names the argument and shows expected versus actual.
``ConvGeometry`` is the single place where output sizes and padding are decided;
it is always batched (``_batch`` adds the batch axis of an unbatched call before
the geometry is built), and ``conv_call_geometry`` explains shape errors that a
layout mix-up accounts for (``_layout_hints``).
"""
from __future__ import annotations

import functools
import numbers
from dataclasses import dataclass
from typing import Any, Callable, Sequence, Tuple, TypeVar, cast

import numpy as np
from numpy.typing import NDArray

from ._batch import Batch, batch_iv
from ._layout_hints import explain_layout, spatial_letters, weight_order
from ._padding_mode import border_map, check_pad_fits, padding_mode_iv

LAYOUTS = ("NHWC", "NCHW")

#: The layouts of each spatial rank: channels last (native) first, then channels first (PyTorch's).
LAYOUTS_BY_RANK = {1: ("NWC", "NCW"), 2: LAYOUTS, 3: ("NDHWC", "NCDHW")}

#: ``((top, bottom), (left, right))``: the explicit form every 2-D padding resolves to.
ExplicitPadding = Tuple[Tuple[int, int], Tuple[int, int]]

#: One ``(before, after)`` pair per spatial axis: the explicit form of any rank.
AxisPadding = Tuple[Tuple[int, int], ...]

#: What each spatial rank calls one entry of a per-axis int tuple, for the messages.
_AXES_HINT = {1: "(w,)", 2: "(h, w)", 3: "(d, h, w)"}

# Upper bound on OpenMP threads per call. libgomp keeps per-thread start data on
# the calling thread's stack, so a team of ~100,000 threads overflows it and
# crashes the process; no CPU has anywhere near 1024 hardware threads per process.
MAX_THREADS = 1024


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def layout_iv(layout: object, rank: int | tuple[int, ...] = 2) -> str:
    """Return the canonical layout of ``rank`` spatial axes (or of any of the
    ranks in a tuple) for a case-insensitive layout string: ``"NHWC"`` or
    ``"NCHW"`` for 2-D, ``"NWC"`` or ``"NCW"`` for 1-D."""
    ranks = (rank,) if isinstance(rank, int) else rank
    layouts = tuple(lay for r in ranks for lay in LAYOUTS_BY_RANK[r])
    if not isinstance(layout, str):
        raise TypeError(f"layout must be a string, one of {layouts}; got {type(layout).__name__} {layout!r}")
    canonical = layout.upper()
    if canonical not in layouts:
        raise ValueError(f"layout must be one of {layouts} (case-insensitive); got {layout!r}")
    return canonical


def layout_rank(layout: str) -> int:
    """The spatial rank of a canonical layout (2 for ``"NHWC"``, 1 for ``"NWC"``)."""
    return len(layout) - 2


def ints_iv(value: Any, name: str, rank: int, minimum: int = 1) -> tuple[int, ...]:
    """Return one int per spatial axis from an int or a ``rank``-tuple of ints, each ``>= minimum``."""
    if _is_int(value):
        ints = (int(value),) * rank
    elif isinstance(value, (tuple, list, np.ndarray)) and len(value) == rank and all(_is_int(v) for v in value):
        ints = tuple(int(v) for v in value)
    else:
        what = "a pair of ints" if rank == 2 else f"a {rank}-tuple of ints"
        raise TypeError(f"{name} must be an int or {what} {_AXES_HINT[rank]}; got {value!r}")
    if min(ints) < minimum:
        where = " in each dimension" if rank > 1 else ""
        raise ValueError(f"{name} must be >= {minimum}{where}; got {value!r}")
    return ints


def pair_iv(value: Any, name: str, minimum: int = 1) -> tuple[int, int]:
    """Return ``(h, w)`` from an int or a pair of ints, each ``>= minimum``."""
    h, w = ints_iv(value, name, 2, minimum)
    return h, w


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


_PADDING_FORMS = {
    1: "an int, (left, right), ((left, right),), 'valid', 'same' or 'causal'",
    2: "an int, (ph, pw), ((top, bottom), (left, right)), 'valid' or 'same'",
    3: "an int, (pd, ph, pw), ((front, back), (top, bottom), (left, right)), 'valid' or 'same'",
}


def padding_iv(padding: Any, rank: int = 2, *, causal: bool = False) -> str | AxisPadding:
    """Return ``"valid"``, ``"same"``, ``"causal"`` or one explicit ``(before, after)`` pair per spatial axis.

    2-D forms: int; ``(ph, pw)``; ``((top, bottom), (left, right))``.
    1-D forms: int; ``(p,)``; ``(left, right)`` (two numbers on one axis can
    only be its two sides); ``((left, right),)``. Strings in any case:
    ``"valid"``, ``"same"``, and ``"causal"`` where ``causal`` says the
    function takes it (conv1d).
    """
    strings = ("valid", "same", "causal") if causal else ("valid", "same")
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "causal" and not causal:
            raise ValueError(
                f"padding='causal' is for conv1d only (all of dilation*(KW-1) before the sequence, as Keras "
                f"defines it); this function takes padding 'valid', 'same' or explicit sizes; got {padding!r}")
        if mode not in strings:
            names = " or ".join(repr(m) for m in strings) if len(strings) == 2 else "'valid', 'same' or 'causal'"
            raise ValueError(f"padding string must be {names} (case-insensitive); got {padding!r}")
        return mode

    def is_pair(v: Any) -> bool:
        return isinstance(v, (tuple, list)) and len(v) == 2 and all(_is_int(u) for u in v)

    explicit: AxisPadding | None = None
    if _is_int(padding):
        explicit = ((int(padding), int(padding)),) * rank
    elif isinstance(padding, (tuple, list)):
        if rank == 1 and is_pair(padding):
            explicit = ((int(padding[0]), int(padding[1])),)
        elif len(padding) == rank and all(_is_int(v) for v in padding):
            explicit = tuple((int(v), int(v)) for v in padding)
        elif len(padding) == rank and all(is_pair(v) for v in padding):
            explicit = tuple((int(v[0]), int(v[1])) for v in padding)
    if explicit is None:
        raise TypeError(f"padding must be {_PADDING_FORMS[rank]}; got {padding!r}")
    if min(min(pair) for pair in explicit) < 0:
        raise ValueError(f"padding must be non-negative; got {padding!r}")
    return explicit


def _same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    # TensorFlow's rule: out = ceil(size / stride), the smaller half goes before.
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def resolve_padding(
    padding: str | AxisPadding,
    size: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
) -> AxisPadding:
    """Turn a normalised padding into one explicit ``(before, after)`` pair per spatial axis.

    "causal" (Keras's): all of ``dilation * (kernel - 1)`` before, none
    after, at any stride, so output t reads inputs up to t * stride only.
    """
    if padding == "valid":
        return ((0, 0),) * len(size)
    if padding == "same":
        return tuple(_same_padding(size[i], kernel[i], stride[i], dilation[i]) for i in range(len(size)))
    if padding == "causal":
        return tuple((dilation[i] * (kernel[i] - 1), 0) for i in range(len(size)))
    return cast(AxisPadding, padding)


def extent(sizes: Sequence[int]) -> str:
    """Sizes of the spatial axes as the messages show them: ``"3x5"`` (2-D), ``"5"`` (1-D)."""
    return "x".join(str(n) for n in sizes)


@dataclass(frozen=True)
class ConvGeometry:
    """Every size of one convolution, in NHWC terms, validated.

    ``C``/``O`` are the total input/output channels; ``Cg = C // groups`` and
    ``Og = O // groups`` are the per-group counts. ``rank`` is the number of
    spatial axes the caller has: a 1-D convolution (``rank == 1``) is the 2-D
    one with a unit H axis (H = KH = 1, stride and dilation 1 and no padding
    along H), which is how the compiled kernels compute it
    (``cconv._unit_axis``). A 3-D one (``rank == 3``, NDHWC) adds the depth
    axis: D, KD, sd, dd, the front and back padding pf and pbk, and Do (1, 1,
    1, 1, 0, 0 and 1 for the other ranks), which the compiled GEMM kernels
    read too. The shape methods take the caller's layout of any rank.
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
    rank: int = 2
    padding_mode: str = "zeros"
    D: int = 1
    KD: int = 1
    sd: int = 1
    dd: int = 1
    pf: int = 0
    pbk: int = 0
    Do: int = 1

    @property
    def Cg(self) -> int:
        return self.C // self.groups

    @property
    def Og(self) -> int:
        return self.O // self.groups

    @property
    def padding(self) -> ExplicitPadding:
        """The 2-D explicit padding (for a 1-D call, that of its 2-D call: ``((0, 0), (left, right))``)."""
        return ((self.pt, self.pb), (self.pl, self.pr))

    def spatial(self, d: Any, h: Any, w: Any) -> tuple[Any, ...]:
        """``(d, h, w)`` for a 3-D call, ``(h, w)`` for 2-D, ``(w,)`` for 1-D: a per-axis value as the caller sees it."""
        return (d, h, w)[3 - self.rank:]

    @property
    def stride(self) -> tuple[int, ...]:
        """The stride per spatial axis of the caller."""
        return self.spatial(self.sd, self.sh, self.sw)

    def input_shape(self, layout: str) -> tuple[int, ...]:
        sizes = {"N": self.N, "D": self.D, "H": self.H, "W": self.W, "C": self.C}
        return tuple(sizes[a] for a in layout)

    def output_shape(self, layout: str) -> tuple[int, ...]:
        sizes = {"N": self.N, "D": self.Do, "H": self.Ho, "W": self.Wo, "C": self.O}
        return tuple(sizes[a] for a in layout)

    def weight_shape(self, layout: str) -> tuple[int, ...]:
        sizes = {"D": self.KD, "H": self.KH, "W": self.KW, "I": self.Cg, "O": self.O}
        return tuple(sizes[a] for a in weight_order(layout, transposed=False))

    @property
    def bordered(self) -> bool:
        """Whether the padding holds input samples (a ``padding_mode`` other than
        "zeros" on a padded layer): only the kernels that read through border
        maps serve it (``cconv._routes``)."""
        return self.padding_mode != "zeros" and max(self.pf, self.pbk, *self.padding4) > 0

    def border_maps(self) -> tuple[NDArray[np.intp], NDArray[np.intp], int, int, NDArray[np.intp], int] | None:
        """``(hmap, wmap, bottom, right, dmap, back)`` for the compiled kernels of a
        bordered layer (``cconv._padding_mode.border_map`` of H, W and D), else None."""
        if not self.bordered:
            return None
        return (border_map(self.padding_mode, self.H, self.pt, self.pb),
                border_map(self.padding_mode, self.W, self.pl, self.pr), self.pb, self.pr,
                border_map(self.padding_mode, self.D, self.pf, self.pbk), self.pbk)

    @property
    def padding4(self) -> tuple[int, int, int, int]:
        """(top, bottom, left, right) zero padding."""
        return (self.pt, self.pb, self.pl, self.pr)

    def kernel_tuple(self) -> tuple[int, ...]:
        """The sizes in the order the compiled ``Geom`` struct reads them."""
        return (self.N, self.H, self.W, self.C, self.O, self.KH, self.KW, self.groups,
                self.sh, self.sw, self.dh, self.dw, self.pt, self.pl, self.Ho, self.Wo,
                self.D, self.KD, self.sd, self.dd, self.pf, self.Do)

    @property
    def flops(self) -> int:
        """Multiply-adds times two for the forward pass."""
        return 2 * self.N * self.Do * self.Ho * self.Wo * self.O * self.KD * self.KH * self.KW * self.Cg


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


def canonical_layout(layout: Any) -> str:
    """A canonical layout of any spatial rank (as the internal callers pass), else
    ``layout_iv``'s 2-D error."""
    if isinstance(layout, str) and any(layout.upper() in lays for lays in LAYOUTS_BY_RANK.values()):
        return layout.upper()
    return layout_iv(layout)


def conv_geometry(
    input_shape: Any,
    kernel_size: Any,
    *,
    out_channels: int | None = None,
    weight_cin: int | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: Any = 1,
    layout: Any = "NHWC",
    input_name: str = "x",
    padding_mode: Any = "zeros",
) -> ConvGeometry:
    """Validate one convolution's parameters and return its ``ConvGeometry``.

    ``input_shape`` is batched, in ``layout`` order, whose spatial rank (1 for
    "NWC"/"NCW", 2 for "NHWC"/"NCHW") is the call's: ``kernel_size`` and the
    per-axis parameters have that many entries, and every message speaks of
    those axes only. ``out_channels`` (O) and ``weight_cin`` (C // groups as
    stored in the weight) are checked when given; ``out_channels=None`` means
    "not a weight-bearing call" (im2col/col2im) and takes O = C.
    ``padding_mode`` (``cconv._padding_mode``) must be able to fill the pads.
    """
    layout = canonical_layout(layout)
    rank = layout_rank(layout)
    shape = _shape_iv(input_shape, f"{input_name}.shape", rank + 2)
    sizes = dict(zip(layout, shape))
    N, C = sizes["N"], sizes["C"]
    size = tuple(sizes[a] for a in spatial_letters(layout))
    strides = ints_iv(stride, "stride", rank)
    dilations = ints_iv(dilation, "dilation", rank)
    groups = groups_iv(groups)
    kernel = ints_iv(kernel_size, "kernel_size", rank)
    pads = resolve_padding(padding_iv(padding, rank, causal=rank == 1), size, kernel, strides, dilations)
    mode = padding_mode_iv(padding_mode)
    for letter, n, (before, after) in zip(spatial_letters(layout), size, pads):
        check_pad_fits(mode, letter, n, before, after, input_name)
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
    spans = tuple(d * (k - 1) + 1 for d, k in zip(dilations, kernel))
    padded = tuple(n + before + after for n, (before, after) in zip(size, pads))
    if any(span > p for span, p in zip(spans, padded)):
        raise ValueError(
            f"kernel (dilated extent {extent(spans)}) is larger than the padded input "
            f"({extent(padded)}) of {input_name}"
        )
    outs = tuple((p - span) // st + 1 for p, span, st in zip(padded, spans, strides))
    # A 1-D convolution is the 2-D one with a unit H axis: one row, a one-row
    # kernel, stride and dilation 1 and no padding along it; a 2-D one has a
    # unit depth axis likewise.
    lead = 3 - rank
    D, H, W = (1,) * lead + size
    KD, KH, KW = (1,) * lead + kernel
    sd, sh, sw = (1,) * lead + strides
    dd, dh, dw = (1,) * lead + dilations
    (pf, pbk), (pt, pb), (pl, pr) = ((0, 0),) * lead + pads
    Do, Ho, Wo = (1,) * lead + outs
    return ConvGeometry(N, H, W, C, O, KH, KW, groups, sh, sw, dh, dw, pt, pb, pl, pr, Ho, Wo, rank, mode,
                        D, KD, sd, dd, pf, pbk, Do)


def weight_geometry(weight_shape: Any, layout: str, name: str = "weight",
                    transposed: bool = False) -> tuple[tuple[int, ...], int, int]:
    """Return ``(kernel, I, O)`` from a weight shape in the layout's order.

    ``kernel`` has one size per spatial axis of ``layout`` (``(KH, KW)``,
    ``(KW,)``). For a convolution I is C // groups and O the output channels;
    for a transposed one (``transposed=True``) I is C_in and O is
    C_out // groups. ``name`` is the argument: a weight array's (its shape is
    ``name.shape``) or a shape argument's own, such as ``"weight_shape"``.
    """
    order = weight_order(layout, transposed)
    shape = _shape_iv(weight_shape, name if name.endswith("_shape") else f"{name}.shape", len(order))
    sizes = dict(zip(order, shape))
    letters = spatial_letters(layout)
    kernel = tuple(sizes[a] for a in letters)
    if min(kernel) < 1:
        if len(kernel) == 1:
            raise ValueError(f"{name} kernel size must be >= 1; got K{letters}={kernel[0]} (shape {shape})")
        raise ValueError(f"{name} kernel size must be >= 1 in each dimension; got {extent(kernel)} (shape {shape})")
    return kernel, sizes["I"], sizes["O"]


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


def _plain(value: Any) -> bool:
    """Whether ``value`` is an exact int or str, a tuple of plain values or a
    ``Batch`` of them: arguments for which equality means the same validation
    (``1.0 == 1`` and ``True == 1``, which validation rejects, are not plain;
    nor are lists and numpy integers, which are accepted but not remembered)."""
    kind = type(value)
    if kind is int or kind is str:
        return True
    if kind is Batch:
        return _plain((value.name, value.shape, value.layout))
    return kind is tuple and all(_plain(v) for v in value)


#: How many distinct plain calls' geometries each remembering builder keeps.
GEOMETRY_CACHE_SIZE = 256

_R = TypeVar("_R")


def remember_plain_calls(build: Callable[..., _R]) -> Callable[..., _R]:
    """``build`` (a geometry builder taking positional arguments), remembering
    its result for calls whose arguments are all plain (``_plain``; an LRU of
    GEOMETRY_CACHE_SIZE). Validating a call's arguments is about 20 us of
    Python, more than half of a small layer's call, and a loop over batches
    repeats the same arguments. The results must be immutable; failures are
    not remembered, so a bad call raises its error every time."""
    remembered = functools.lru_cache(maxsize=GEOMETRY_CACHE_SIZE)(build)

    @functools.wraps(build)
    def call(*args: Any) -> _R:
        return remembered(*args) if _plain(args) else build(*args)

    call.cache_info = remembered.cache_info  # type: ignore[attr-defined]
    return call


def conv_call_geometry(batch: Batch, weight_shape: Any, *, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
                       groups: Any = 1, weight_name: str = "weight", padding_mode: Any = "zeros") -> ConvGeometry:
    """The geometry of a convolution with a weight, its input described by ``batch``.

    Shape errors that a layout mix-up explains say so (``_layout_hints``).
    Plain calls reuse an earlier equal call's geometry (``remember_plain_calls``).
    """
    return _call_geometry(batch, weight_shape, stride, padding, dilation, groups, weight_name, padding_mode)


@remember_plain_calls
def _call_geometry(batch: Batch, weight_shape: Any, stride: Any, padding: Any, dilation: Any, groups: Any,
                   weight_name: str, padding_mode: Any) -> ConvGeometry:
    def build(layout: str, input_shape: tuple[int, ...], w_shape: tuple[int, ...]) -> ConvGeometry:
        kernel, Cg, O = weight_geometry(w_shape, layout, name=weight_name)
        return conv_geometry(input_shape, kernel, out_channels=O, weight_cin=Cg, stride=stride, padding=padding,
                             dilation=dilation, groups=groups, layout=layout, input_name=batch.name,
                             padding_mode=padding_mode)

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
