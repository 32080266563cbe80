"""Errors that name the layout.

When a call's shapes do not fit together, the commonest cause is a layout
mix-up: PyTorch's NCHW data or OIHW weight passed with cconv's default NHWC
layout, or the reverse. The bare message then quotes sizes read from the wrong
axes ("x has C=8" where 8 is the width). ``explain_layout`` runs a call's shape
check; when it fails with a ValueError it tries the readings a mix-up would
explain, with the same parameters:

1. every operand in the other layout (the fix: ``layout="NCHW"``);
2. the weight alone in the other layout's order (the fix: ``weight.transpose(...)``);
3. the input alone in the other layout's order (the fix: ``x.transpose(...)``).

If one of them passes the check, the message gains which layout was assumed,
how each shape was read and that fix; otherwise the error is raised unchanged,
since no mix-up explains it. The axis orders are derived from the layout
string (channels last or first around its spatial letters), so layouts of
other spatial ranks ("NWC", "NCDHW", ...) need no code here.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence, Tuple, TypeVar

from ._batch import Batch

_T = TypeVar("_T")

#: ``build(layout, batched input shape, weight shape)``: a call's shape check, returning its geometry.
Build = Callable[[str, Tuple[int, ...], Tuple[int, ...]], _T]


def spatial_letters(layout: str) -> str:
    """The spatial axis letters of a layout, in order: ``"HW"`` for NHWC and NCHW, ``"W"`` for NWC."""
    return "".join(a for a in layout if a not in "NC")


def _channels_last(layout: str) -> bool:
    return layout.endswith("C")


def other_layout(layout: str) -> str:
    """The channels-first layout of a channels-last one and back: ``"NHWC"`` <-> ``"NCHW"``."""
    spatial = spatial_letters(layout)
    return f"NC{spatial}" if _channels_last(layout) else f"N{spatial}C"


def weight_order(layout: str, transposed: bool) -> str:
    """The weight's axis letters in ``layout``: ``"HWIO"``/``"OIHW"``, or for a
    transposed convolution ``"HWOI"``/``"IOHW"`` (I: the input's channels, O: the output's per group)."""
    channels = "OI" if transposed else "IO"   # their channels-last order; channels first reverses it
    spatial = spatial_letters(layout)
    return spatial + channels if _channels_last(layout) else channels[::-1] + spatial


def _labels(order: str, role: str, groups: Any, transposed: bool) -> list[str]:
    """What each axis of ``order`` holds, as the error messages name the sizes."""
    per_group = "" if groups == 1 else "//groups"
    if role == "x":
        names = {"C": "C_in" if transposed else "C"}
    elif transposed:
        names = {"I": "C_in", "O": "C_out" + per_group}
    else:
        names = {"I": "C" + per_group, "O": "O"}
    return [names.get(a, a if role == "x" or a == "N" else "K" + a) for a in order]


def _sizes(shape: Sequence[int], order: str, role: str, groups: Any, transposed: bool) -> str:
    """E.g. ``"KH=16, KW=3, C=3, O=3"``: each size of ``shape`` named as ``order`` reads it."""
    return ", ".join(f"{label}={n}" for label, n in zip(_labels(order, role, groups, transposed), shape))


def _reading(name: str, shape: Sequence[int], order: str, role: str, groups: Any, transposed: bool) -> str:
    return f"{name} {tuple(shape)} read as {order}: {_sizes(shape, order, role, groups, transposed)}"


def _perm(src: str, dst: str) -> tuple[int, ...]:
    """The ``transpose`` axes that turn an array in ``src`` order into ``dst`` order."""
    return tuple(src.index(a) for a in dst)


def _reorder_fix(name: str, shape: tuple[int, ...], src: str, dst: str) -> str:
    perm = _perm(src, dst)
    if name.endswith("_shape"):  # a shape argument, not an array: give the reordered shape itself
        return f"pass {name} in {dst} order, {tuple(shape[p] for p in perm)}"
    return f"pass {name}.transpose{perm}"


def _whose(layout: str) -> str:
    """Whose order a channels-first layout's axes are: most such arrays come from PyTorch."""
    return "" if _channels_last(layout) else ", PyTorch's order"


def _hint(build: Build[Any], batch: Batch, weight_shape: tuple[int, ...], weight_name: str, groups: Any,
          transposed: bool) -> str | None:
    layout, other = batch.layout, other_layout(batch.layout)
    x_order = batch.order
    x_other = other[1:] if batch.unbatched else other
    w_order, w_other = weight_order(layout, transposed), weight_order(other, transposed)

    def fits(lay: str, x_shape: tuple[int, ...], w_shape: tuple[int, ...]) -> bool:
        try:
            build(lay, (1, *x_shape) if batch.unbatched else x_shape, w_shape)
        except (ValueError, TypeError):
            return False
        return True

    def reordered(shape: tuple[int, ...], src: str, dst: str) -> tuple[int, ...]:
        return tuple(shape[p] for p in _perm(src, dst))

    fixes = []
    if fits(other, batch.shape, weight_shape):
        fixes.append(f"the shapes fit layout {other!r} ({batch.name} as {x_other}, {weight_name} as "
                     f"{w_other}{_whose(other)}): pass layout=\"{other}\"")
    if fits(layout, batch.shape, reordered(weight_shape, w_other, w_order)):
        fixes.append(f"{weight_name} fits as {w_other}{_whose(other)} "
                     f"({_sizes(weight_shape, w_other, 'weight', groups, transposed)}): for layout {layout!r} "
                     f"{_reorder_fix(weight_name, weight_shape, w_other, w_order)}")
    if fits(layout, reordered(batch.shape, x_other, x_order), weight_shape):
        fixes.append(f"{batch.name} fits as {x_other}{_whose(other)} "
                     f"({_sizes(batch.shape, x_other, 'x', groups, transposed)}): for layout {layout!r} "
                     f"{_reorder_fix(batch.name, batch.shape, x_other, x_order)}")
    if not fixes:
        return None
    return (f"Layout {layout!r} assumed: {_reading(batch.name, batch.shape, x_order, 'x', groups, transposed)}; "
            f"{_reading(weight_name, weight_shape, w_order, 'weight', groups, transposed)}. "
            f"Likely fix: {'; or '.join(fixes)}.")


def explain_layout(build: Build[_T], batch: Batch, weight_shape: Any, weight_name: str, *, groups: Any,
                   transposed: bool = False) -> _T:
    """``build(batch.layout, batch.batched_shape, weight_shape)``, with the layout explained on failure.

    A ValueError from ``build`` that a layout mix-up explains (see the module
    docstring) is raised again with which layout was assumed, how ``batch``'s
    shape and the weight's were read, and the likely fix; any other error
    passes through unchanged.
    """
    try:
        return build(batch.layout, batch.batched_shape, weight_shape)
    except ValueError as exc:
        try:
            w_shape = tuple(int(s) for s in weight_shape)
        except (TypeError, ValueError):
            raise exc from None
        if len(w_shape) != len(batch.layout):
            raise
        hint = _hint(build, batch, w_shape, weight_name, groups, transposed)
        if hint is None:
            raise
        raise ValueError(f"{str(exc).rstrip('.')}. {hint}") from None
