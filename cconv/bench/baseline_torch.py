"""The PyTorch baseline, when ``import torch`` works:
``torch.nn.functional.conv2d`` on channels_last tensors for the forward
pass, ``torch.ops.aten.convolution_backward`` for the backward pass (grad_x,
grad_weight and grad_bias in one call), under ``torch.no_grad``.

torch's conv2d pads both sides of an axis alike. A layer whose sides differ
(``pad=same`` with an even kernel or a stride, or ``pad=T,B,L,R``) is run as
PyTorch's own ``padding="same"`` runs it then (a zero-padded copy of the
input): ``torch.nn.functional.pad`` inside the timed forward call, and
conv2d without padding. The backward pass starts from that padded input, as autograd's
would (the forward saved it), and returns grad_x cropped back to the
input's size (a view, as the pad's backward is).

A 1-D layer runs ``torch.nn.functional.conv1d`` on contiguous (N, C, W)
tensors (PyTorch has no channels_last for them), and the same
``convolution_backward`` with one-entry stride, padding and dilation; unequal
sides are padded with ``F.pad`` as above. A 3-D layer runs ``F.conv3d`` on
channels_last_3d tensors, likewise.
"""
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
    if layer.rank == 1:
        return _torch_impl_1d(torch, layer, inputs, layout)
    if layer.rank == 3:
        return _torch_impl_3d(torch, layer, inputs, layout)
    g = layer.geometry
    channels_last = torch.channels_last
    x = torch.from_numpy(inputs.x).permute(0, 3, 1, 2).contiguous(memory_format=channels_last)
    w = torch.from_numpy(inputs.weight).permute(3, 2, 0, 1).contiguous(memory_format=channels_last)
    b = torch.from_numpy(inputs.bias)
    gy = torch.from_numpy(inputs.grad_out).permute(0, 3, 1, 2).contiguous(memory_format=channels_last)
    (pt, pb), (pl, pr) = g.padding
    stride, dilation = list(layer.stride), list(layer.dilation)
    conv2d = torch.nn.functional.conv2d
    conv_backward = torch.ops.aten.convolution_backward
    if pt == pb and pl == pr:
        padding = [pt, pl]

        def forward() -> Any:
            with torch.no_grad():
                return conv2d(x, w, b, stride, padding, dilation, g.groups)

        def backward() -> Any:
            with torch.no_grad():
                return conv_backward(gy, x, w, [g.O], stride, padding, dilation, False, [0, 0],
                                     g.groups, [True, True, True])
    else:
        pad = torch.nn.functional.pad
        sides = (pl, pr, pt, pb)  # F.pad's order: the last axis (W) first
        with torch.no_grad():
            x_padded = pad(x, sides)  # keeps channels_last

        def forward() -> Any:
            with torch.no_grad():
                return conv2d(pad(x, sides), w, b, stride, [0, 0], dilation, g.groups)

        def backward() -> Any:
            with torch.no_grad():
                gx, gw, gb = conv_backward(gy, x_padded, w, [g.O], stride, [0, 0], dilation, False, [0, 0],
                                           g.groups, [True, True, True])
                return gx[:, :, pt:pt + g.H, pl:pl + g.W], gw, gb

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


def _torch_impl_1d(torch: Any, layer: Layer, inputs: Inputs, layout: str) -> Impl:
    """``torch_impl`` for a 1-D layer: conv1d and convolution_backward on (N, C, W) tensors.
    ``to_numpy`` gives NWC/WIO (``--layout NHWC``) or NCW/OIW arrays, as ``cconv.conv1d`` returns."""
    g = layer.geometry
    x = torch.from_numpy(inputs.x[:, 0]).permute(0, 2, 1).contiguous()           # (N, C, W)
    w = torch.from_numpy(inputs.weight[0]).permute(2, 1, 0).contiguous()         # (O, C//groups, KW)
    b = torch.from_numpy(inputs.bias)
    gy = torch.from_numpy(inputs.grad_out[:, 0]).permute(0, 2, 1).contiguous()
    conv1d = torch.nn.functional.conv1d
    conv_backward = torch.ops.aten.convolution_backward
    sides = (g.pl, g.pr)
    padding = [g.pl] if g.pl == g.pr else [0]
    with torch.no_grad():
        x_run = x if g.pl == g.pr else torch.nn.functional.pad(x, sides)

    def forward() -> Any:
        with torch.no_grad():
            xin = x if g.pl == g.pr else torch.nn.functional.pad(x, sides)
            return conv1d(xin, w, b, [g.sw], padding, [g.dw], g.groups)

    def backward() -> Any:
        with torch.no_grad():
            gx, gw, gb = conv_backward(gy, x_run, w, [g.O], [g.sw], padding, [g.dw], False, [0], g.groups,
                                       [True, True, True])
            return (gx if g.pl == g.pr else gx[:, :, g.pl:g.pl + g.W]), gw, gb

    def activation(t: Any) -> Any:
        a = t.numpy()  # NCW
        return a.transpose(0, 2, 1) if layout == "NHWC" else a

    def to_numpy(result: Any) -> Any:
        if isinstance(result, (tuple, list)):
            gx, gw, gb = result
            gw = gw.numpy()  # OIW
            return (activation(gx), gw.transpose(2, 1, 0) if layout == "NHWC" else gw, gb.numpy())
        return activation(result)

    return Impl(name="torch", forward=forward, backward=backward, to_numpy=to_numpy)


def _torch_impl_3d(torch: Any, layer: Layer, inputs: Inputs, layout: str) -> Impl:
    """``torch_impl`` for a 3-D layer: conv3d and convolution_backward on channels_last_3d tensors.
    ``inputs`` are NDHWC/DHWIO; ``to_numpy`` gives NDHWC/DHWIO or NCDHW/OIDHW arrays."""
    g = layer.geometry
    fmt = torch.channels_last_3d
    x = torch.from_numpy(inputs.x).permute(0, 4, 1, 2, 3).contiguous(memory_format=fmt)
    w = torch.from_numpy(inputs.weight).permute(4, 3, 0, 1, 2).contiguous(memory_format=fmt)
    b = torch.from_numpy(inputs.bias)
    gy = torch.from_numpy(inputs.grad_out).permute(0, 4, 1, 2, 3).contiguous(memory_format=fmt)
    stride, dilation = [g.sd, g.sh, g.sw], [g.dd, g.dh, g.dw]
    even = g.pf == g.pbk and g.pt == g.pb and g.pl == g.pr
    padding = [g.pf, g.pt, g.pl] if even else [0, 0, 0]
    sides = (g.pl, g.pr, g.pt, g.pb, g.pf, g.pbk)  # F.pad's order: the last axis first
    conv3d = torch.nn.functional.conv3d
    conv_backward = torch.ops.aten.convolution_backward
    with torch.no_grad():
        x_run = x if even else torch.nn.functional.pad(x, sides)

    def forward() -> Any:
        with torch.no_grad():
            return conv3d(x if even else torch.nn.functional.pad(x, sides), w, b, stride, padding, dilation,
                          g.groups)

    def backward() -> Any:
        with torch.no_grad():
            gx, gw, gb = conv_backward(gy, x_run, w, [g.O], stride, padding, dilation, False, [0, 0, 0], g.groups,
                                       [True, True, True])
            if not even:
                gx = gx[:, :, g.pf:g.pf + g.D, g.pt:g.pt + g.H, g.pl:g.pl + g.W]
            return gx, gw, gb

    def activation(t: Any) -> Any:
        a = t.numpy()  # logical NCDHW
        return a.transpose(0, 2, 3, 4, 1) if layout == "NHWC" else a

    def to_numpy(result: Any) -> Any:
        if isinstance(result, (tuple, list)):
            gx, gw, gb = result
            gw = gw.numpy()  # OIDHW
            return (activation(gx), gw.transpose(2, 3, 4, 1, 0) if layout == "NHWC" else gw, gb.numpy())
        return activation(result)

    return Impl(name="torch", forward=forward, backward=backward, to_numpy=to_numpy)
