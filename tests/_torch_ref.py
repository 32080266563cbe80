"""PyTorch as an oracle: forward and the three gradients, via autograd.

Arrays come in cconv's layout (NHWC/HWIO or NCHW/OIHW) and results go back in
that layout.  torch always computes in float64 here (float32 inputs are cast
exactly), so the reference carries no float32 rounding of its own.
Symmetric padding goes straight to F.conv2d; asymmetric padding is applied with
F.pad((left, right, top, bottom)) before an unpadded convolution.
An unbatched x ((H, W, C) or (C, H, W)) goes to torch unbatched, as (C, H, W):
torch's own unbatched path is then the oracle, not a batch of one made here.
"""
from __future__ import annotations

import contextlib

import numpy as np

from _oracle import pair


def torch_conv2d_all(torch, x, w, b, gy, *, stride, pads, dilation, groups, layout):
    """Return (y, grad_x, grad_w, grad_b) as float64 NumPy arrays in ``layout``.

    ``b`` may be None (then grad_b is None); ``gy`` may be None (then only y).
    """
    F = torch.nn.functional
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    if layout == "NHWC":
        x_nchw = _to_torch(x)                     # NHWC -> NCHW, HWC -> CHW
        w_oihw = w.transpose(3, 2, 0, 1)          # HWIO -> OIHW
    else:
        x_nchw, w_oihw = x, w
    xt = torch.tensor(np.ascontiguousarray(x_nchw), dtype=torch.float64, requires_grad=True)
    wt = torch.tensor(np.ascontiguousarray(w_oihw), dtype=torch.float64, requires_grad=True)
    bt = None
    if b is not None:
        bt = torch.tensor(np.asarray(b, dtype=np.float64), requires_grad=True)
    (pt, pb), (pl, pr) = pads
    if pt == pb and pl == pr:
        yt = F.conv2d(xt, wt, bt, stride=pair(stride), padding=(pt, pl),
                      dilation=pair(dilation), groups=groups)
    else:
        yt = F.conv2d(F.pad(xt, (pl, pr, pt, pb)), wt, bt, stride=pair(stride), padding=0,
                      dilation=pair(dilation), groups=groups)
    y = yt.detach().numpy()
    if gy is None:
        return _back(y, layout), None, None, None
    gy = np.asarray(gy, dtype=np.float64)
    gy_nchw = _to_torch(gy) if layout == "NHWC" else gy
    yt.backward(torch.tensor(np.ascontiguousarray(gy_nchw), dtype=torch.float64))
    gx = xt.grad.numpy()
    gw = wt.grad.numpy()
    if layout == "NHWC":
        gw = gw.transpose(2, 3, 1, 0)             # OIHW -> HWIO
    gb = None if bt is None else bt.grad.numpy()
    return _back(y, layout), _back(gx, layout), gw, gb


def _to_torch(a):
    """Channels-last activations (batched or not) in torch's channels-first order."""
    return a.transpose(0, 3, 1, 2) if a.ndim == 4 else a.transpose(2, 0, 1)


def _back(a, layout):
    if layout != "NHWC":
        return a
    return a.transpose(0, 2, 3, 1) if a.ndim == 4 else a.transpose(1, 2, 0)


@contextlib.contextmanager
def case_label(*parts):
    """Prefix an assertion failure inside the block with the case it checked:
    the PyTorch comparisons loop over their cases inside one test each, so a
    machine without torch skips each comparison once, not once per case."""
    try:
        yield
    except AssertionError as e:
        raise AssertionError(f"[{' '.join(str(p) for p in parts)}] {e}") from e
