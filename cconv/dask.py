"""cconv on Dask arrays: the same convolution functions, lazy and chunked.

``cconv.dask.conv2d`` and ``cconv.dask.conv2d_backward`` take the same
arguments as ``cconv.conv2d`` and ``cconv.conv2d_backward`` but accept a
``dask.array.Array`` input (NumPy inputs are wrapped as one chunk) and return
lazy Dask arrays; ``cconv.dask.conv3d`` / ``conv3d_backward`` do the same for
``cconv.conv3d`` / ``conv3d_backward``, tiled along D, H and W alike by the same
code, and ``cconv.dask.conv1d`` / ``conv1d_backward`` for ``cconv.conv1d`` /
``conv1d_backward``, as the 2-D ones on a lazy unit H axis (as ``cconv.conv1d``
is on the compiled kernels), so W chunks get the same exact halos. Each chunk is computed by
the compiled kernels, so any Dask scheduler (threads, processes, ``dask.distributed``) runs them.

How chunks map to work
----------------------
* Batch axis: chunks are independent; each batch chunk stays a batch chunk.
* H and W axes (and D in 3-D): exact halo windows. The output rows are split into tiles whose
  boundaries follow the input's chunk boundaries, mapped through the stride:
  input boundary ``b`` becomes output boundary ``ceil((b + pad_before) / stride)``.
  Output tile ``[o0, o1)`` needs the input rows
  ``[o0*stride - pad_before, (o1-1)*stride - pad_before + dilation*(K-1) + 1)``;
  that window is sliced from the (never padded) input, rows outside the image
  become the tile's own explicit zero padding, and the compiled kernel runs on
  it with ``padding`` set to exactly that. Every output pixel is therefore
  computed from the same input pixels and zeros as in memory, for any stride,
  dilation, padding form ("same", "valid", int, pairs, asymmetric) and any
  uneven chunking, however small the chunks are relative to the kernel.
* Channel axis (C): must be one chunk; it is rechunked to one if it is not.
  The output channel axis (O) is one chunk.
* Unbatched input ((H, W, C) or (C, H, W)) gets a unit batch axis as a lazy
  view, and the results lose it again, as in ``cconv.conv2d``.
* ``padding_mode`` other than ``"zeros"`` fills the padding at the array's
  outer border only (chunk seams are real neighbours, as above): the input
  is padded lazily with ``dask.array.pad`` in that mode, and the padded
  array is convolved with no padding. ``conv2d_backward`` folds the padding's
  gradient back onto the samples it copied, one spatial axis at a time.

The extra is installed with ``pip install "cconv[dask]"``.
"""
from __future__ import annotations

import itertools
import math
from functools import partial
from typing import Any, Callable, Dict, List, Sequence, Tuple, TypeVar, cast

try:
    import dask.array as _dask_array
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph as _HighLevelGraph
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        'cconv.dask needs Dask\'s array module; install it with: pip install "cconv[dask]"'
    ) from exc

import numpy as np
from numpy.typing import NDArray

from . import _conv, _conv1d, _conv3d
from . import _unit_axis as unit
from ._batch import Batch, batch_iv, grad_out_shape_iv
from ._padding_mode import NUMPY_MODE
from ._params import (ConvGeometry, array_iv, compute_dtype, conv_call_geometry, layout_iv,
                      num_threads_iv)
from ._types import ArrayLike, IntPair, Padding

# Dask's array API is only partly annotated: its arrays are ``Any`` to the type checker.
da: Any = _dask_array
HighLevelGraph: Any = _HighLevelGraph
DaskArray = Any
Grid = List[List[int]]  # small int lists: [chunk, start, stop] from _covering; [start, stop] in tasks
_Func = TypeVar("_Func", bound=Callable[..., Any])

__all__ = ["conv1d", "conv1d_backward", "conv2d", "conv2d_backward", "conv3d", "conv3d_backward"]

_SPLIT_EVERY = 8  # fan-in of the grad_weight tree reduction


# ---------------------------------------------------------------------------
# argument handling
# ---------------------------------------------------------------------------
def _dask_input(a: object, name: str) -> DaskArray:
    """``a`` as a Dask array of a real numeric dtype with known chunk sizes.

    Its rank (batched or unbatched) is checked by the caller, which knows the layout.
    """
    if not isinstance(a, da.Array):
        return da.from_array(array_iv(a, name), chunks=-1)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must have a real numeric dtype (bool, int, float); got dtype {a.dtype}")
    if any(math.isnan(c) for axis in a.chunks for c in axis):
        raise ValueError(
            f"{name} must have known chunk sizes; got chunks {a.chunks}. "
            f"Call {name}.compute_chunk_sizes() first"
        )
    return a


def _batched(a: DaskArray, batch: Batch) -> DaskArray:
    """``batch.add`` for a Dask array: a lazy unit batch axis in front for an unbatched call."""
    return batch.add(a)


def _small_input(a: object, name: str, ndim: int | None = None) -> NDArray[Any]:
    """A small operand (weight, bias) as a NumPy array; Dask arrays are computed."""
    if isinstance(a, da.Array):
        a = a.compute()
    return array_iv(a, name, ndim)


# ---------------------------------------------------------------------------
# tile geometry along one spatial axis (pure integer arithmetic)
# ---------------------------------------------------------------------------
def _offsets(chunks: Sequence[int]) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` of each chunk along one axis."""
    out: list[tuple[int, int]] = []
    pos = 0
    for c in chunks:
        out.append((pos, pos + int(c)))
        pos += int(c)
    return out


def _output_tiles(in_chunks: Sequence[int], pad_before: int, stride: int, n_out: int) -> list[tuple[int, int]]:
    """Split ``range(n_out)`` at the images of the input chunk boundaries.

    Output row ``o`` starts reading at input row ``o*stride - pad_before``; the
    first output row whose window starts at or after input boundary ``b`` is
    ``ceil((b + pad_before) / stride)``. Empty tiles are dropped.
    """
    cuts = [0]
    for _, stop in _offsets(in_chunks)[:-1]:
        cut = min(max(-(-(stop + pad_before) // stride), 0), n_out)
        if cut > cuts[-1]:
            cuts.append(cut)
    if n_out > cuts[-1]:
        cuts.append(n_out)
    return list(zip(cuts[:-1], cuts[1:]))


def _window(o0: int, o1: int, stride: int, pad_before: int, span: int, size: int) -> tuple[int, int, tuple[int, int]]:
    """Input rows ``[a, b)`` and the tile's own ``(pad_before, pad_after)`` for output rows ``[o0, o1)``.

    The padded window covers input rows ``[start, stop)`` with
    ``start = o0*stride - pad_before`` and ``stop = (o1-1)*stride - pad_before + span``;
    its part outside ``[0, size)`` is zero padding. Running the kernel on rows
    ``[a, b)`` with that padding and no other gives exactly ``o1 - o0`` rows:
    ``(stop - start - span) // stride + 1 == o1 - o0``.
    """
    start = o0 * stride - pad_before
    stop = (o1 - 1) * stride - pad_before + span
    a = min(max(start, 0), size)
    b = min(max(stop, a), size)
    if b == a:  # the window lies wholly in the padding: all zeros
        return a, a, (0, stop - start)
    return a, b, (a - start, stop - b)


def _touching_outputs(r0: int, r1: int, stride: int, pad_before: int, span: int, n_out: int) -> tuple[int, int]:
    """Output rows ``[lo, hi)`` whose windows can reach input rows ``[r0, r1)``.

    Output ``o`` reads input rows in ``[o*stride - pad_before, o*stride - pad_before + span)``;
    this range meets ``[r0, r1)`` only if ``o >= ceil((r0 + pad_before - span + 1) / stride)``
    and ``o <= floor((r1 - 1 + pad_before) / stride)``. A superset is harmless:
    contributions outside ``[r0, r1)`` are trimmed.
    """
    lo = max(-(-(r0 + pad_before - span + 1) // stride), 0)
    hi = min((r1 - 1 + pad_before) // stride + 1, n_out)
    return lo, max(hi, lo)


def _covering(offsets: Sequence[tuple[int, int]], a: int, b: int) -> Grid:
    """``[[chunk index, local start, local stop], ...]`` of the chunks meeting ``[a, b)``.

    An empty range still names one chunk (with an empty slice), so a stitched
    window always has the batch and channel sizes it should.
    """
    parts = [[i, max(a, s) - s, min(b, e) - s] for i, (s, e) in enumerate(offsets) if s < b and a < e]
    return parts or [[0, 0, 0]]


# ---------------------------------------------------------------------------
# per-tile task functions (module level, so they pickle for dask.distributed)
# ---------------------------------------------------------------------------
def _stitch(blocks: Any, ranges: List[Grid]) -> NDArray[Any]:
    """One channels-last window from a nested grid of chunks (one nesting level per
    spatial axis) and each axis's local ``[lo, hi)`` bounds per chunk."""
    def join(sub: Any, depth: int, index: Tuple[slice, ...]) -> NDArray[Any]:
        if depth == len(ranges):
            return cast(NDArray[Any], sub[(slice(None),) + index])
        parts = [join(s, depth + 1, index + (slice(lo, hi),)) for s, (lo, hi) in zip(sub, ranges[depth])]
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1 + depth)

    return join(blocks, 0, ())


def _conv_fn(rank: int, what: str) -> Callable[..., Any]:
    """cconv's in-memory ``conv2d``/``conv3d`` function ``what`` ("", "_grad_input", "_grad_weight")."""
    return cast(Callable[..., Any], getattr(_conv3d if rank == 3 else _conv, f"conv{rank}d{what}"))


def _native(rank: int) -> str:
    return "NDHWC" if rank == 3 else "NHWC"


def _forward_tile(weight: NDArray[Any], bias: NDArray[Any] | None, blocks: Any, ranges: List[Grid], *,
                  padding: Tuple[Tuple[int, int], ...], conv: Dict[str, Any], rank: int) -> NDArray[Any]:
    """One output tile: the kernel on its stitched input window with the tile's own padding."""
    y = _conv_fn(rank, "")(_stitch(blocks, ranges), weight, bias, padding=padding, layout=_native(rank), **conv)
    return cast(NDArray[Any], y)


def _grad_input_tile(weight: NDArray[Any], blocks: Any, ranges: List[Grid], *, windows: Tuple[Tuple[int, int], ...],
                     targets: Tuple[Tuple[int, int], ...], channels: int, conv: Dict[str, Any],
                     compute: np.dtype[Any], rank: int) -> NDArray[Any]:
    """grad_x for the input chunk ``targets`` (``(start, stop)`` per spatial axis) from the grad_out
    samples that reach it.

    ``windows`` is ``(start, extent)`` per axis of the input window those outputs read (in unpadded
    coordinates, possibly reaching into the padding); its gradient is computed with no padding,
    then the part inside the target chunk is copied into a zero block. Samples no output reads stay
    zero.
    """
    gb = _stitch(blocks, ranges).astype(compute, copy=False)
    n = gb.shape[0]
    out = np.zeros((n, *(t1 - t0 for t0, t1 in targets), channels), dtype=compute)
    lo = [max(a, t0) for (a, _), (t0, _) in zip(windows, targets)]
    hi = [min(a + e, t1) for (a, e), (_, t1) in zip(windows, targets)]
    if gb.size and all(h > l for l, h in zip(lo, hi)):
        gx_win = _conv_fn(rank, "_grad_input")(gb, weight, (n, *(e for _, e in windows), channels), padding=0,
                                               layout=_native(rank), **conv)
        dst = tuple(slice(l - t0, h - t0) for l, h, (t0, _) in zip(lo, hi, targets))
        src = tuple(slice(l - a, h - a) for l, h, (a, _) in zip(lo, hi, windows))
        out[(slice(None),) + dst] = gx_win[(slice(None),) + src]
    return out


def _grad_weight_tile(grad_tile: NDArray[Any], blocks: Any, ranges: List[Grid], *, weight_shape: Tuple[int, ...],
                      padding: Tuple[Tuple[int, int], ...], conv: Dict[str, Any], compute: np.dtype[Any],
                      rank: int) -> NDArray[Any]:
    """One tile's partial grad_weight, with a leading axis of length 1 to stack the tiles on."""
    xw = _stitch(blocks, ranges).astype(compute, copy=False)
    dw = _conv_fn(rank, "_grad_weight")(grad_tile.astype(compute, copy=False), xw, weight_shape, padding=padding,
                                        layout=_native(rank), **conv)
    return cast(NDArray[Any], dw[None])


def _window_args(arr: DaskArray, batch_block: int, parts: List[Grid]) -> tuple[Any, List[Grid]]:
    """The (blocks, ranges) task arguments that stitch one window of ``arr`` from the
    ``[chunk, lo, hi]`` coverings of each spatial axis."""
    def keys(depth: int, index: Tuple[int, ...]) -> Any:
        if depth == len(parts):
            return (arr.name, batch_block, *index, 0)
        return [keys(depth + 1, index + (c,)) for c, _, _ in parts[depth]]

    return keys(0, ()), [[[lo, hi] for _, lo, hi in part] for part in parts]


def _axes(geom: ConvGeometry) -> List[Tuple[int, int, int, int, int, int]]:
    """Per spatial axis of the call (D, H, W in 3-D; H, W otherwise):
    (size, kernel span, stride, front padding, output size, dilation)."""
    spans = (geom.dd * (geom.KD - 1) + 1, geom.dh * (geom.KH - 1) + 1, geom.dw * (geom.KW - 1) + 1)
    rows = [(geom.D, spans[0], geom.sd, geom.pf, geom.Do, geom.dd), (geom.H, spans[1], geom.sh, geom.pt, geom.Ho, geom.dh),
            (geom.W, spans[2], geom.sw, geom.pl, geom.Wo, geom.dw)]
    return rows if geom.rank == 3 else rows[1:]


def _border_axes(geom: ConvGeometry, layout: str) -> List[Tuple[int, int, int, int, Any]]:
    """Per padded spatial axis of a batched array in ``layout``: (axis, before, after, size, border map)."""
    maps = cast(Tuple[Any, Any, int, int, Any, int], geom.border_maps())
    rows = [("D", geom.pf, geom.pbk, geom.D, maps[4]), ("H", geom.pt, geom.pb, geom.H, maps[0]),
            ("W", geom.pl, geom.pr, geom.W, maps[1])]
    return [(layout.index(a), before, after, size, m) for a, before, after, size, m in rows if a in layout]


def _pad_border(x: DaskArray, geom: ConvGeometry, layout: str) -> DaskArray:
    """``x`` (batched) padded lazily with ``geom``'s padding in its ``padding_mode``."""
    widths = [(0, 0)] * len(layout)
    for axis, before, after, _, _ in _border_axes(geom, layout):
        widths[axis] = (before, after)
    return da.pad(x, widths, mode=NUMPY_MODE[geom.padding_mode])


def _fold_border(grad_padded: DaskArray, geom: ConvGeometry, layout: str, chunks: Any) -> DaskArray:
    """The gradient of ``x`` from that of ``_pad_border(x)``: the interior, plus
    each padded sample's gradient added onto the sample it was copied from.

    Per spatial axis, the padded rows' gradients are contracted with a one-hot
    (padded row -> source row) matrix chunked as the interior's rows, so the
    result keeps ``x``'s chunks along that axis."""
    g = grad_padded
    letters = "abcdef"[:len(layout)]
    for axis, before, _, size, source in _border_axes(geom, layout):
        interior = g[(slice(None),) * axis + (slice(before, before + size),)].rechunk({axis: chunks[axis]})
        outer = np.r_[0:before, before + size:len(source)]
        if outer.size == 0:
            g = interior
            continue
        strip = da.concatenate([g[(slice(None),) * axis + (slice(0, before),)],
                                g[(slice(None),) * axis + (slice(before + size, None),)]], axis=axis)
        strip = strip.rechunk({axis: -1})
        one_hot = np.zeros((outer.size, size), dtype=g.dtype)
        one_hot[np.arange(outer.size), source[outer]] = 1
        spec_in = letters[:axis] + "r" + letters[axis + 1:]
        spec_out = letters[:axis] + "s" + letters[axis + 1:]
        m = da.from_array(one_hot, chunks=((outer.size,), interior.chunks[axis]))
        g = interior + da.einsum(f"{spec_in},rs->{spec_out}", strip, m)
    return g if g.chunks == tuple(chunks) else g.rechunk(chunks)   # (dask.array.pad may rechunk other axes)


def _tiles_array(name: str, tasks: Dict[Any, Any], sources: Sequence[DaskArray],
                 chunks: Tuple[Tuple[int, ...], ...], dtype: np.dtype[Any]) -> DaskArray:
    """A Dask array from one task per block, depending on ``sources``."""
    graph = HighLevelGraph.from_collections(name, tasks, dependencies=list(sources))
    return da.Array(graph, name, chunks, meta=np.empty((0,) * len(chunks), dtype=dtype))


# ---------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------
# ---------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------
def _to_channels_last(a: DaskArray, layout: str) -> DaskArray:
    """A lazy channels-last view (NHWC, NDHWC) of ``a`` with the channel axis in one chunk."""
    if not layout.endswith("C"):
        a = a.transpose(0, *range(2, a.ndim), 1)
    if len(a.chunks[-1]) > 1:
        a = a.rechunk({a.ndim - 1: -1})
    return a


def _from_channels_last(a: DaskArray, layout: str) -> DaskArray:
    """A channels-last array back in ``layout`` order (lazily)."""
    return a if layout.endswith("C") else a.transpose(0, a.ndim - 1, *range(1, a.ndim - 1))


def _weight_channels_last(w: NDArray[Any], layout: str, dtype: Any) -> NDArray[Any]:
    """The weight as HWIO / DHWIO, C-contiguous."""
    if not layout.endswith("C"):
        w = w.transpose(*range(2, w.ndim), 1, 0)
    return np.ascontiguousarray(w, dtype=dtype)


def _call_conv(geom: ConvGeometry, num_threads: int | None) -> Dict[str, Any]:
    """The keywords every tile's in-memory call shares (the padding is each tile's own)."""
    per_axis = _axes(geom)
    return dict(stride=tuple(a[2] for a in per_axis), dilation=tuple(a[5] for a in per_axis), groups=geom.groups,
                num_threads=num_threads)


def _convolve(x: DaskArray, weight: NDArray[Any], bias: NDArray[Any] | None, geom: ConvGeometry, layout: str,
              num_threads: int | None, result_dtype: Any) -> DaskArray:
    """The forward of a batched ``x`` in a 2-D or 3-D ``layout``: one task per output tile of
    every spatial axis, each on its exact input window (see the module docstring)."""
    xh = _to_channels_last(x, layout)
    wh = _weight_channels_last(weight, layout, weight.dtype)
    rank = geom.rank
    conv = _call_conv(geom, num_threads)
    per_axis = _axes(geom)
    tiles = [_output_tiles(xh.chunks[1 + a], pad, st, out) for a, (_, _, st, pad, out, _) in enumerate(per_axis)]
    offsets = [_offsets(xh.chunks[1 + a]) for a in range(len(per_axis))]
    name = f"cconv-conv{rank}d-" + tokenize(xh, wh, bias, geom, num_threads)
    # The weight and bias are stored in the graph once and referenced by key from every tile's task.
    wkey, bkey = name + "-weight", (None if bias is None else name + "-bias")
    tasks: Dict[Any, Any] = {wkey: wh}
    if bkey is not None:
        tasks[bkey] = bias
    for index in itertools.product(*(range(len(t)) for t in tiles)):
        windows = [_window(*tiles[a][i], st, pad, span, size)
                   for a, (i, (size, span, st, pad, _, _)) in enumerate(zip(index, per_axis))]
        func = partial(_forward_tile, padding=tuple(w[2] for w in windows), conv=conv, rank=rank)
        parts = [_covering(offsets[a], w[0], w[1]) for a, w in enumerate(windows)]
        for b in range(len(xh.chunks[0])):
            tasks[(name, b, *index, 0)] = (func, wkey, bkey, *_window_args(xh, b, parts))
    chunks = (xh.chunks[0], *(tuple(o1 - o0 for o0, o1 in t) for t in tiles), (geom.O,))
    return _from_channels_last(_tiles_array(name, tasks, [xh], chunks, result_dtype), layout)


def _convolve_backward(grad_out: DaskArray, x: DaskArray, weight: NDArray[Any], geom: ConvGeometry, layout: str,
                       num_threads: int | None, dtype: Any, result_dtype: Any
                       ) -> tuple[DaskArray, DaskArray, DaskArray]:
    """grad_x (x's chunks), grad_weight (a tree reduction of per-tile partials) and grad_bias of
    a batched call in a 2-D or 3-D ``layout``."""
    xh = _to_channels_last(x, layout)
    wh = _weight_channels_last(weight, layout, dtype)
    rank = geom.rank
    conv = _call_conv(geom, num_threads)
    per_axis = _axes(geom)
    n_sp = len(per_axis)
    tiles = [_output_tiles(xh.chunks[1 + a], pad, st, out) for a, (_, _, st, pad, out, _) in enumerate(per_axis)]
    gh = _to_channels_last(grad_out, layout).rechunk(
        (xh.chunks[0], *(tuple(o1 - o0 for o0, o1 in t) for t in tiles), (geom.O,)))
    offsets_x = [_offsets(xh.chunks[1 + a]) for a in range(n_sp)]
    offsets_g = [_offsets(gh.chunks[1 + a]) for a in range(n_sp)]
    n_batch = len(xh.chunks[0])
    token = tokenize(gh, xh, wh, geom, num_threads)

    # grad_x: one task per chunk of x, from the grad_out samples that reach it.
    name = "cconv-grad-x-" + token
    wkey = name + "-weight"
    tasks: Dict[Any, Any] = {wkey: wh}
    for index in itertools.product(*(range(len(o)) for o in offsets_x)):
        targets = tuple(offsets_x[a][i] for a, i in enumerate(index))
        reach = [_touching_outputs(r0, r1, st, pad, span, out)
                 for (r0, r1), (_, span, st, pad, out, _) in zip(targets, per_axis)]
        windows = tuple((lo * st - pad, (hi - lo - 1) * st + span)
                        for (lo, hi), (_, span, st, pad, _, _) in zip(reach, per_axis))
        func = partial(_grad_input_tile, windows=windows, targets=targets, channels=geom.C, conv=conv, compute=dtype,
                       rank=rank)
        parts = [_covering(offsets_g[a], lo, hi) for a, (lo, hi) in enumerate(reach)]
        for b in range(n_batch):
            tasks[(name, b, *index, 0)] = (func, wkey, *_window_args(gh, b, parts))
    grad_x = _from_channels_last(_tiles_array(name, tasks, [gh], xh.chunks, dtype), layout).astype(result_dtype)
    if grad_x.chunks != x.chunks:
        grad_x = grad_x.rechunk(x.chunks)

    # grad_weight: per-tile partial sums, stacked along a new leading axis, then tree-summed.
    wshape = geom.weight_shape(_native(rank))
    name = "cconv-grad-weight-partial-" + token
    tasks = {}
    for index in itertools.product(*(range(len(t)) for t in tiles)):
        spans = [_window(*tiles[a][i], st, pad, span, size)
                 for a, (i, (size, span, st, pad, _, _)) in enumerate(zip(index, per_axis))]
        func = partial(_grad_weight_tile, weight_shape=wshape, padding=tuple(w[2] for w in spans), conv=conv,
                       compute=dtype, rank=rank)
        parts = [_covering(offsets_x[a], w[0], w[1]) for a, w in enumerate(spans)]
        for b in range(n_batch):
            tasks[(name, len(tasks), *(0,) * (len(wshape) - 1), 0)] = (func, (gh.name, b, *index, 0),
                                                                       *_window_args(xh, b, parts))
    partials = _tiles_array(name, tasks, [gh, xh], ((1,) * len(tasks),) + tuple((n,) for n in wshape), dtype)
    grad_w = partials.sum(axis=0, split_every=_SPLIT_EVERY).astype(result_dtype)
    if not layout.endswith("C"):
        grad_w = grad_w.transpose(len(wshape) - 1, len(wshape) - 2, *range(len(wshape) - 2))
    grad_b = gh.astype(dtype).sum(axis=tuple(range(n_sp + 1)), split_every=_SPLIT_EVERY).astype(result_dtype)
    return grad_x, grad_w, grad_b


_DASK_NOTES = """
    Chunking: batch chunks of ``x`` stay batch chunks. H/W chunks of ``x`` are
    honoured exactly: each output tile is computed from the input window it
    needs (its halo), sliced from the neighbouring chunks, with the image
    border's zero padding applied per tile, so the result equals the in-memory
    one for every stride, dilation, padding form and uneven chunking. The
    channel axis must be a single chunk and is rechunked to one if it is not.

    ``num_threads`` is the OpenMP thread count of each chunk's kernel call;
    with a multi-threaded Dask scheduler, ``num_threads=1`` avoids running
    (Dask threads x OpenMP threads) on too few cores.
"""


def _notes(func: _Func) -> _Func:
    func.__doc__ = cast(str, func.__doc__).replace("{notes}", _DASK_NOTES).replace("{params}", _conv._PARAMS_DOC)
    return func


@_notes
def conv2d(x: ArrayLike | DaskArray, weight: ArrayLike | DaskArray, bias: ArrayLike | DaskArray | None = None, *,
           stride: IntPair = 1, padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1,
           groups: int = 1, layout: str = "NHWC", num_threads: int | None = None) -> DaskArray:
    """2-D convolution of a Dask array, as ``cconv.conv2d`` but lazy and chunked.

    Parameters
    ----------
    x : dask.array.Array of shape (N, H, W, C) or (N, C, H, W)
        Input batch in ``layout`` order (a NumPy array is wrapped as one
        chunk), or one unbatched image (H, W, C) or (C, H, W).
    weight : array_like of shape (KH, KW, C//groups, O) or (O, C//groups, KH, KW)
        Kernel (a Dask array is computed first: it is small).
    bias : array_like of shape (O,), optional
    {params}

    Returns
    -------
    y : dask.array.Array of shape (N, Ho, Wo, O) or (N, O, Ho, Wo)
        Without N for an unbatched x. Lazy. Batch chunks as ``x``; H/W chunks follow ``x``'s chunk
        boundaries through the stride; O is one chunk. Dtype as ``cconv.conv2d``.
    {notes}
    Raises
    ------
    ValueError, TypeError
        For any invalid shape, parameter or dtype, naming the argument, before
        anything is computed.
    """
    layout = layout_iv(layout)
    x = _dask_input(x, "x")
    batch = batch_iv(x.shape, "x", layout)
    x = _batched(x, batch)
    weight = _small_input(weight, "weight", 4)
    geom = conv_call_geometry(batch, weight.shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
                              padding_mode=padding_mode)
    if geom.bordered:
        y = conv2d(_pad_border(x, geom, layout), weight, bias, stride=stride, dilation=dilation, groups=groups,
                   layout=layout, num_threads=num_threads)
        return batch.strip(y)
    if bias is not None:
        bias = _small_input(bias, "bias")
        if bias.shape != (geom.O,):
            raise ValueError(f"bias must have shape (O,) = ({geom.O},); got {bias.shape}")
    num_threads_iv(num_threads)
    result_dtype, _ = compute_dtype(x, weight, bias)

    return batch.strip(_convolve(x, weight, bias, geom, layout, num_threads, result_dtype))


@_notes
def conv2d_backward(grad_out: ArrayLike | DaskArray, x: ArrayLike | DaskArray, weight: ArrayLike | DaskArray, *,
                    stride: IntPair = 1, padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1,
                    groups: int = 1, layout: str = "NHWC", num_threads: int | None = None
                    ) -> tuple[DaskArray, DaskArray, DaskArray]:
    """Gradients of ``conv2d`` on Dask arrays, as ``cconv.conv2d_backward`` but lazy.

    Parameters
    ----------
    grad_out : dask.array.Array, the shape of ``conv2d(x, weight, ...)``
        Any chunking; it is rechunked to the tiles ``conv2d`` would produce.
        Unbatched exactly when ``x`` is.
    x : dask.array.Array of shape (N, H, W, C) or (N, C, H, W)
        Or one unbatched image, (H, W, C) or (C, H, W).
    weight : array_like of shape (KH, KW, C//groups, O) or (O, C//groups, KH, KW)
    {params}

    Returns
    -------
    grad_x : dask.array.Array, shape, layout and chunks of ``x``
        Each chunk is computed from the output rows whose windows reach it.
    grad_weight : dask.array.Array, shape and layout of ``weight`` (one chunk)
        A tree reduction (fan-in 8) of per-tile partial sums, each from
        ``cconv.conv2d_grad_weight`` on one ``grad_out`` tile and the input
        window (with halo) it was computed from.
    grad_bias : dask.array.Array of shape (O,)
        ``grad_out`` summed over N, Ho and Wo (Dask's tree reduction).
    {notes}
    """
    layout = layout_iv(layout)
    grad_out = _dask_input(grad_out, "grad_out")
    x = _dask_input(x, "x")
    batch = batch_iv(x.shape, "x", layout)
    x = _batched(x, batch)
    weight = _small_input(weight, "weight", 4)
    geom = conv_call_geometry(batch, weight.shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
                              padding_mode=padding_mode)
    grad_out_shape_iv(grad_out.shape, geom.output_shape(layout), batch)
    grad_out = _batched(grad_out, batch)
    if geom.bordered:
        gxp, gw, gb = conv2d_backward(grad_out, _pad_border(x, geom, layout), weight, stride=stride,
                                      dilation=dilation, groups=groups, layout=layout, num_threads=num_threads)
        return batch.strip(_fold_border(gxp, geom, layout, x.chunks)), gw, gb
    num_threads_iv(num_threads)
    result_dtype, dtype = compute_dtype(grad_out, x, weight)

    grad_x, grad_w, grad_b = _convolve_backward(grad_out, x, weight, geom, layout, num_threads, dtype, result_dtype)
    return batch.strip(grad_x), grad_w, grad_b


def _notes_1d(func: _Func) -> _Func:
    doc = cast(str, func.__doc__).replace("{notes}", _DASK_NOTES.replace("H/W chunks", "W chunks"))
    func.__doc__ = doc.replace("{params}", _conv1d._PARAMS_DOC)
    return func


@_notes_1d
def conv1d(x: ArrayLike | DaskArray, weight: ArrayLike | DaskArray, bias: ArrayLike | DaskArray | None = None, *,
           stride: IntPair = 1, padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1,
           groups: int = 1, layout: str = "NWC", num_threads: int | None = None) -> DaskArray:
    """1-D convolution of a Dask array, as ``cconv.conv1d`` but lazy and chunked.

    Parameters
    ----------
    x : dask.array.Array of shape (N, W, C) or (N, C, W)
        Input batch in ``layout`` order (a NumPy array is wrapped as one
        chunk), or one unbatched sequence, (W, C) or (C, W).
    weight : array_like of shape (KW, C//groups, O) or (O, C//groups, KW)
        Kernel (a Dask array is computed first: it is small).
    bias : array_like of shape (O,), optional
    {params}

    Returns
    -------
    y : dask.array.Array of shape (N, Wo, O) or (N, O, Wo)
        Without N for an unbatched x. Lazy; W chunks follow ``x``'s through
        the stride, as for ``conv2d``.
    {notes}
    Raises
    ------
    ValueError, TypeError
        For any invalid shape, parameter or dtype, naming the argument in 1-D
        terms, before anything is computed.
    """
    layout = layout_iv(layout, rank=1)
    x = _dask_input(x, "x")
    batch = batch_iv(x.shape, "x", layout)
    x = _batched(x, batch)
    weight = _small_input(weight, "weight", 3)
    geom = conv_call_geometry(batch, weight.shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
                              padding_mode=padding_mode)
    y = conv2d(unit.lift(x, "x", layout), unit.lift(weight, "w", layout), bias, **unit.conv2d_kwargs(geom, layout),
               num_threads=num_threads)
    return batch.strip(unit.drop(y, "x", layout))


@_notes_1d
def conv1d_backward(grad_out: ArrayLike | DaskArray, x: ArrayLike | DaskArray, weight: ArrayLike | DaskArray, *,
                    stride: IntPair = 1, padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1,
                    groups: int = 1, layout: str = "NWC",
                    num_threads: int | None = None) -> tuple[DaskArray, DaskArray, DaskArray]:
    """Gradients of ``conv1d`` on Dask arrays, as ``cconv.conv1d_backward`` but lazy and chunked.

    Parameters
    ----------
    grad_out : dask.array.Array, the shape of ``conv1d(x, weight, ...)``
        Unbatched exactly when ``x`` is.
    x : dask.array.Array of shape (N, W, C) or (N, C, W)
        The forward input, batched or unbatched ((W, C) or (C, W)).
    weight : array_like of shape (KW, C//groups, O) or (O, C//groups, KW)
    {params}

    Returns
    -------
    grad_x : dask.array.Array, shape, layout and chunks of ``x``
    grad_weight : dask.array.Array, shape and layout of ``weight``
        A tree reduction of per-tile partial sums, as for ``conv2d_backward``.
    grad_bias : dask.array.Array of shape (O,)
    {notes}
    """
    layout = layout_iv(layout, rank=1)
    grad_out = _dask_input(grad_out, "grad_out")
    x = _dask_input(x, "x")
    batch = batch_iv(x.shape, "x", layout)
    x = _batched(x, batch)
    weight = _small_input(weight, "weight", 3)
    geom = conv_call_geometry(batch, weight.shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
                              padding_mode=padding_mode)
    grad_out_shape_iv(grad_out.shape, geom.output_shape(layout), batch)
    gx, gw, gb = conv2d_backward(unit.lift(_batched(grad_out, batch), "x", layout), unit.lift(x, "x", layout),
                                 unit.lift(weight, "w", layout), **unit.conv2d_kwargs(geom, layout),
                                 num_threads=num_threads)
    return batch.strip(unit.drop(gx, "x", layout)), unit.drop(gw, "w", layout), gb


def _notes_3d(func: _Func) -> _Func:
    doc = cast(str, func.__doc__).replace("{notes}", _DASK_NOTES.replace("H/W chunks", "D/H/W chunks"))
    func.__doc__ = doc.replace("{params}", _conv3d._PARAMS_DOC)
    return func


@_notes_3d
def conv3d(x: ArrayLike | DaskArray, weight: ArrayLike | DaskArray, bias: ArrayLike | DaskArray | None = None, *,
           stride: IntPair = 1, padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1,
           groups: int = 1, layout: str = "NDHWC", num_threads: int | None = None) -> DaskArray:
    """3-D convolution of a Dask array, as ``cconv.conv3d`` but lazy and chunked.

    Parameters
    ----------
    x : dask.array.Array of shape (N, D, H, W, C) or (N, C, D, H, W)
        Input batch in ``layout`` order (a NumPy array is wrapped as one
        chunk), or one unbatched volume (D, H, W, C) or (C, D, H, W).
    weight : array_like of shape (KD, KH, KW, C//groups, O) or (O, C//groups, KD, KH, KW)
        Kernel (a Dask array is computed first: it is small).
    bias : array_like of shape (O,), optional
    {params}

    Returns
    -------
    y : dask.array.Array of shape (N, Do, Ho, Wo, O) or (N, O, Do, Ho, Wo)
        Without N for an unbatched x. Lazy; D/H/W chunks follow ``x``'s through the stride.
    {notes}
    Raises
    ------
    ValueError, TypeError
        For any invalid shape, parameter or dtype, naming the argument, before
        anything is computed.
    """
    layout = layout_iv(layout, rank=3)
    x = _dask_input(x, "x")
    batch = batch_iv(x.shape, "x", layout)
    x = _batched(x, batch)
    weight = _small_input(weight, "weight", 5)
    geom = conv_call_geometry(batch, weight.shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
                              padding_mode=padding_mode)
    if geom.bordered:
        return batch.strip(conv3d(_pad_border(x, geom, layout), weight, bias, stride=stride, dilation=dilation,
                                  groups=groups, layout=layout, num_threads=num_threads))
    if bias is not None:
        bias = _small_input(bias, "bias")
        if bias.shape != (geom.O,):
            raise ValueError(f"bias must have shape (O,) = ({geom.O},); got {bias.shape}")
    num_threads_iv(num_threads)
    result_dtype, _ = compute_dtype(x, weight, bias)
    return batch.strip(_convolve(x, weight, bias, geom, layout, num_threads, result_dtype))


@_notes_3d
def conv3d_backward(grad_out: ArrayLike | DaskArray, x: ArrayLike | DaskArray, weight: ArrayLike | DaskArray, *,
                    stride: IntPair = 1, padding: Padding = 0, padding_mode: str = "zeros", dilation: IntPair = 1,
                    groups: int = 1, layout: str = "NDHWC", num_threads: int | None = None
                    ) -> tuple[DaskArray, DaskArray, DaskArray]:
    """Gradients of ``conv3d`` on Dask arrays, as ``cconv.conv3d_backward`` but lazy.

    Parameters
    ----------
    grad_out : dask.array.Array, the shape of ``conv3d(x, weight, ...)``
        Any chunking; it is rechunked to the tiles ``conv3d`` would produce.
        Unbatched exactly when ``x`` is.
    x : dask.array.Array of shape (N, D, H, W, C) or (N, C, D, H, W)
        Or one unbatched volume.
    weight : array_like of shape (KD, KH, KW, C//groups, O) or (O, C//groups, KD, KH, KW)
    {params}

    Returns
    -------
    grad_x : dask.array.Array, shape, layout and chunks of ``x``
    grad_weight : dask.array.Array, shape and layout of ``weight`` (one chunk)
        A tree reduction (fan-in 8) of per-tile partial sums.
    grad_bias : dask.array.Array of shape (O,)
    {notes}
    """
    layout = layout_iv(layout, rank=3)
    grad_out = _dask_input(grad_out, "grad_out")
    x = _dask_input(x, "x")
    batch = batch_iv(x.shape, "x", layout)
    x = _batched(x, batch)
    weight = _small_input(weight, "weight", 5)
    geom = conv_call_geometry(batch, weight.shape, stride=stride, padding=padding, dilation=dilation, groups=groups,
                              padding_mode=padding_mode)
    grad_out_shape_iv(grad_out.shape, geom.output_shape(layout), batch)
    grad_out = _batched(grad_out, batch)
    if geom.bordered:
        gxp, gw, gb = conv3d_backward(grad_out, _pad_border(x, geom, layout), weight, stride=stride,
                                      dilation=dilation, groups=groups, layout=layout, num_threads=num_threads)
        return batch.strip(_fold_border(gxp, geom, layout, x.chunks)), gw, gb
    num_threads_iv(num_threads)
    result_dtype, dtype = compute_dtype(grad_out, x, weight)
    grad_x, grad_w, grad_b = _convolve_backward(grad_out, x, weight, geom, layout, num_threads, dtype, result_dtype)
    return batch.strip(grad_x), grad_w, grad_b
