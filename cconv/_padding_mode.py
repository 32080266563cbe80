"""``padding_mode``: what the padded border of a convolution's input holds.

``"zeros"`` is the default. The others fill the border from the input itself,
as PyTorch's ``nn.Conv*d(padding_mode=...)`` and ``numpy.pad(mode=...)``
define them (for a row ``a b c d``, padded by 2 on each side):

* ``"reflect"``   ``c b | a b c d | c b``  (mirrored about the edge sample);
* ``"symmetric"`` ``b a | a b c d | d c``  (mirrored, the edge repeated);
* ``"replicate"`` ``a a | a b c d | d d``  (the edge sample repeated);
* ``"circular"``  ``c d | a b c d | a b``  (periodic).

``numpy.pad``'s names ``"constant"``, ``"edge"`` and ``"wrap"`` are accepted for
``"zeros"``, ``"replicate"`` and ``"circular"``.

A padded axis is described by its *border map*: for each padded coordinate
``-before <= i < size + after`` (stored at ``i + before``), the input
coordinate whose value it holds. The compiled kernels read through the maps
instead of padding a copy of the input, and grad_input adds the border's
gradient back onto the samples the map names, so gradients are exact.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

#: The canonical modes, in the order the messages list them.
PADDING_MODES = ("zeros", "reflect", "replicate", "circular", "symmetric")

#: numpy.pad's names for PyTorch's modes.
_ALIASES = {"constant": "zeros", "edge": "replicate", "wrap": "circular"}

#: numpy.pad's mode for each canonical one (the border maps are numpy.pad of the indices).
#: (Typed Any: numpy's stub lists its mode names as literals.)
NUMPY_MODE: dict[str, Any] = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap",
              "symmetric": "symmetric"}


def padding_mode_iv(mode: Any) -> str:
    """The canonical name of a ``padding_mode`` value (case-insensitive, numpy.pad's aliases accepted)."""
    names = PADDING_MODES + tuple(_ALIASES)
    if not isinstance(mode, str):
        raise TypeError(f"padding_mode must be a string, one of {names}; got {type(mode).__name__} {mode!r}")
    canonical = _ALIASES.get(mode.lower(), mode.lower())
    if canonical not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {names} (case-insensitive); got {mode!r}")
    return canonical


def check_pad_fits(mode: str, axis: str, size: int, before: int, after: int, input_name: str) -> None:
    """Raise ValueError if ``mode`` cannot fill a pad of ``(before, after)`` on an axis of ``size`` samples.

    As PyTorch: "reflect" needs each pad smaller than the axis, "circular"
    each pad no larger than it. "replicate" and "symmetric" take any width
    (as numpy.pad does), but need at least one sample to copy.
    """
    pad = max(before, after)
    if mode == "zeros" or pad == 0:
        return
    if size == 0:
        raise ValueError(f"padding_mode={mode!r} needs a non-empty {input_name} axis {axis} to fill its padding "
                         f"from; got {axis}=0 with padding {(before, after)}")
    if mode == "reflect" and pad >= size:
        raise ValueError(f"padding_mode='reflect' needs each pad smaller than the axis it pads; got padding "
                         f"{(before, after)} on {axis}={size} of {input_name}")
    if mode == "circular" and pad > size:
        raise ValueError(f"padding_mode='circular' needs each pad no larger than the axis it pads; got padding "
                         f"{(before, after)} on {axis}={size} of {input_name}")


def border_map(mode: str, size: int, before: int, after: int) -> NDArray[np.intp]:
    """The input coordinate of each padded coordinate of one axis (see the module docstring).

    For ``"zeros"`` the padding holds no input sample: its entries are -1.
    """
    index = np.arange(size, dtype=np.intp)
    if mode == "zeros":
        return np.pad(index, (before, after), constant_values=-1)
    return np.ascontiguousarray(np.pad(index, (before, after), mode=NUMPY_MODE[mode]), dtype=np.intp)
