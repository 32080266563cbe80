"""The PyTorch baseline, when ``import torch`` works:
``torch.nn.functional.conv2d`` on channels_last tensors for the forward
pass, ``torch.ops.aten.convolution_backward`` for the backward pass (grad_x,
grad_weight and grad_bias in one call), under ``torch.no_grad``."""
from __future__ import annotations

from typing import Any

from .impl import Impl
from .inputs import Inputs
from .suite import Layer


def import_torch(enabled: bool) -> Any:
    """Return the ``torch`` module, or None if disabled or not importable."""
    if not enabled:
        return None
    try:
        import torch
    except Exception:  # ImportError, or a broken install raising OSError and the like
        return None
    return torch


def torch_impl(torch: Any, layer: Layer, inputs: Inputs, layout: str) -> Impl:
    """Bind PyTorch's conv2d and convolution_backward on channels_last tensors.

    ``inputs`` must be in NHWC/HWIO order; ``layout`` is the order that
    ``to_numpy`` converts the results to.
    """
    g = layer.geometry
    channels_last = torch.channels_last
    x = torch.from_numpy(inputs.x).permute(0, 3, 1, 2).contiguous(memory_format=channels_last)
    w = torch.from_numpy(inputs.weight).permute(3, 2, 0, 1).contiguous(memory_format=channels_last)
    b = torch.from_numpy(inputs.bias)
    gy = torch.from_numpy(inputs.grad_out).permute(0, 3, 1, 2).contiguous(memory_format=channels_last)
    (pt, _pb), (pl, _pr) = g.padding
    stride, padding, dilation = list(layer.stride), [pt, pl], list(layer.dilation)
    conv2d = torch.nn.functional.conv2d
    conv_backward = torch.ops.aten.convolution_backward

    def forward() -> Any:
        with torch.no_grad():
            return conv2d(x, w, b, stride, padding, dilation, g.groups)

    def backward() -> Any:
        with torch.no_grad():
            return conv_backward(gy, x, w, [g.O], stride, padding, dilation, False, [0, 0],
                                 g.groups, [True, True, True])

    def activation(t: Any) -> Any:
        a = t.numpy()  # logical NCHW
        return a.transpose(0, 2, 3, 1) if layout == "NHWC" else a

    def to_numpy(result: Any) -> Any:
        if isinstance(result, (tuple, list)):
            gx, gw, gb = result
            gw = gw.numpy()  # OIHW
            return (activation(gx), gw.transpose(2, 3, 1, 0) if layout == "NHWC" else gw, gb.numpy())
        return activation(result)

    return Impl(name="torch", forward=forward, backward=backward, to_numpy=to_numpy)
