"""A 1-D convolution as the 2-D one with a unit H axis: the one place that maps between them.

cconv's compiled kernels (every ISA level of the kernel table, every route)
are 2-D. A 1-D convolution over W is exactly the 2-D convolution of a one-row
image with a one-row kernel, stride and dilation 1 along H and no padding
along it, so the 1-D functions validate their call in 1-D terms
(``cconv._params.conv_geometry`` with a 1-D layout, which already records the
2-D sizes of that call) and then run the 2-D function on views:

* activations: NWC (N, W, C) -> NHWC (N, 1, W, C); NCW (N, C, W) -> NCHW (N, C, 1, W)
  (and (W, C) -> (1, W, C), (C, W) -> (C, 1, W) unbatched);
* weights: WIO (KW, C//groups, O) -> HWIO (1, KW, C//groups, O);
  OIW (O, C//groups, KW) -> OIHW (O, C//groups, 1, KW); transposed weights
  likewise (WOI -> HWOI, IOW -> IOHW).

In every order H goes just before W, where indexing with ``np.newaxis`` puts
a unit axis as a view: nothing is copied for it, and the results lose it again
as views. The positions come from the order strings, not from per-function
code.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from numpy.typing import NDArray

from ._layout_hints import weight_order
from ._params import ConvGeometry

#: The 2-D layout that computes each 1-D one.
LAYOUT_2D = {"NWC": "NHWC", "NCW": "NCHW"}


def _h_axis(order: str) -> int:
    """Where the unit H axis goes in an array whose axes are ``order`` (1-D letters): just before W."""
    return order.index("W")


def _order(kind: str, layout: str, unbatched: bool = False) -> str:
    """The axis letters of an array of ``kind`` in 1-D ``layout``.

    ``kind`` is ``"x"`` (an activation: x, grad_out, the result), ``"w"`` (a
    convolution weight) or ``"wt"`` (a transposed-convolution weight).
    """
    if kind == "x":
        return layout[1:] if unbatched else layout
    return weight_order(layout, transposed=kind == "wt")


# Both by indexing, which is a view of a NumPy array and a lazy view of a Dask one (cconv.dask's 1-D functions).
def lift(a: NDArray[Any], kind: str, layout: str, unbatched: bool = False) -> NDArray[Any]:
    """``a`` with the unit H axis inserted (a view)."""
    return a[(slice(None),) * _h_axis(_order(kind, layout, unbatched)) + (np.newaxis,)]


def drop(a: NDArray[Any], kind: str, layout: str, unbatched: bool = False) -> NDArray[Any]:
    """A 2-D result without its unit H axis (a view); ``kind`` and ``layout`` as for ``lift``."""
    return a[(slice(None),) * _h_axis(_order(kind, layout, unbatched)) + (0,)]


def lift_shape(shape: Sequence[int], kind: str, layout: str, unbatched: bool = False) -> tuple[int, ...]:
    """A 1-D shape with the unit H axis inserted."""
    out = [int(n) for n in shape]
    out.insert(_h_axis(_order(kind, layout, unbatched)), 1)
    return tuple(out)


def conv2d_kwargs(geom: ConvGeometry, layout: str) -> dict[str, Any]:
    """Keywords of the 2-D call that computes the validated 1-D ``geom`` in 1-D ``layout``.

    Everything is explicit (the padding already resolved, "same" and "causal"
    included), so the 2-D call makes no decision of its own.
    """
    return dict(stride=(geom.sh, geom.sw), padding=geom.padding, padding_mode=geom.padding_mode,
                dilation=(geom.dh, geom.dw), groups=geom.groups, layout=LAYOUT_2D[layout])
