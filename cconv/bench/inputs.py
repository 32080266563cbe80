"""The arrays each layer is timed on: drawn once per layer, in NHWC/HWIO
order, and converted to the layout under test outside the timed calls."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cconv import _unit_axis as unit

from .suite import Layer


@dataclass
class Inputs:
    """The arrays of one layer, in NHWC/HWIO order.

    Attributes
    ----------
    x : ndarray, (N, H, W, C), or (N, D, H, W, C) for a 3-D layer
    weight : ndarray, (KH, KW, C // groups, O), or (KD, KH, KW, C // groups, O)
    bias : ndarray, (O,)
    grad_out : ndarray, (N, Ho, Wo, O), or (N, Do, Ho, Wo, O)
    """

    x: np.ndarray
    weight: np.ndarray
    bias: np.ndarray
    grad_out: np.ndarray


def make_inputs(layer: Layer, dtype: str) -> Inputs:
    """Draw the layer's arrays from ``default_rng(0)``, standard normal, in ``dtype``.

    The generator is seeded afresh for each layer, so a layer's inputs do not
    depend on which layers ran before it.
    """
    rng: Any = np.random.default_rng(0)  # standard_normal's dtype here is a str
    g = layer.geometry
    native = layer.native_layout
    return Inputs(
        x=rng.standard_normal(g.input_shape(native), dtype=dtype),
        weight=rng.standard_normal(g.weight_shape(native), dtype=dtype),
        bias=rng.standard_normal(g.O, dtype=dtype),
        grad_out=rng.standard_normal(g.output_shape(native), dtype=dtype),
    )


def for_call(inputs: Inputs, layer: Layer, layout: str) -> Inputs:
    """The arrays as the layer's calls take them: ``inputs`` (already in
    ``layout``) for a 2-D layer; for a 1-D one the same arrays without their
    unit H axis (views: NWC/WIO, or NCW/OIW)."""
    if layer.rank != 1:
        return inputs
    call = layer.call_layout(layout)
    return Inputs(x=unit.drop(inputs.x, "x", call), weight=unit.drop(inputs.weight, "w", call), bias=inputs.bias,
                  grad_out=unit.drop(inputs.grad_out, "x", call))


def to_layout(inputs: Inputs, layout: str) -> Inputs:
    """Return the inputs in ``layout`` (NCHW: x/grad_out NCHW, weight OIHW; NCDHW/OIDHW for 5-D
    arrays), contiguous."""
    if layout == "NHWC":
        return inputs
    act, wt = ((0, 4, 1, 2, 3), (4, 3, 0, 1, 2)) if inputs.x.ndim == 5 else ((0, 3, 1, 2), (3, 2, 0, 1))
    return Inputs(
        x=np.ascontiguousarray(inputs.x.transpose(act)),
        weight=np.ascontiguousarray(inputs.weight.transpose(wt)),
        bias=inputs.bias,
        grad_out=np.ascontiguousarray(inputs.grad_out.transpose(act)),
    )
