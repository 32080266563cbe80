"""conv1d, its gradients, conv_transpose1d and the 1-D layers against PyTorch
(forward and autograd, float32 and float64, both layouts, unbatched).

PyTorch computes in float64 here (float32 inputs are cast exactly). Per-side
and "causal" padding go to torch as ``F.pad`` before an unpadded convolution,
which is how PyTorch users write them; "same" is resolved with TensorFlow's
rule from tests/test_conv1d.py.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import cconv
from _torch_ref import case_label
from test_conv1d import CASES, IDS, T_CASES, T_IDS, LAYOUTS, close, one, pads_1d, problem, t_problem, w_in, x_in


def _torch():
    return pytest.importorskip("torch")


def torch_conv1d_all(torch, x, w, b, gy, kw):
    """(y, grad_x, grad_w, grad_b) for NWC x / WIO w, via torch's NCW autograd, as NWC float64."""
    F = torch.nn.functional
    xt = torch.tensor(x.transpose(0, 2, 1), dtype=torch.float64, requires_grad=True)
    wt = torch.tensor(w.transpose(2, 1, 0), dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    left, right = pads_1d(kw.get("padding", 0), x.shape[1], w.shape[0], one(kw.get("stride", 1)),
                          one(kw.get("dilation", 1)))
    y = F.conv1d(F.pad(xt, (left, right)), wt, bt, stride=one(kw.get("stride", 1)),
                 dilation=one(kw.get("dilation", 1)), groups=kw.get("groups", 1))
    y.backward(torch.tensor(gy.transpose(0, 2, 1), dtype=torch.float64))
    return (y.detach().numpy().transpose(0, 2, 1), xt.grad.numpy().transpose(0, 2, 1),
            wt.grad.numpy().transpose(2, 1, 0), bt.grad.numpy())


def test_conv1d_forward_and_autograd_match_torch():
    torch = _torch()
    for case, layout, dtype in itertools.product(CASES, LAYOUTS, (np.float64, np.float32)):
        with case_label(case[0], layout, dtype.__name__):
            x, w, b, gy, kw = problem(case, dtype)
            ey, ex, ew, eb = torch_conv1d_all(torch, x, w, b, gy, kw)
            y = cconv.conv1d(x_in(x, layout), w_in(w, layout), b, layout=layout, **kw)
            close(x_in(y, layout), ey, dtype)
            gx, gw, gb = cconv.conv1d_backward(x_in(gy, layout), x_in(x, layout), w_in(w, layout), layout=layout, **kw)
            close(x_in(gx, layout), ex, dtype)
            close(w_in(gw, layout), ew, dtype)
            close(gb, eb, dtype)


def test_unbatched_ncw_matches_torchs_unbatched_path():
    torch = _torch()
    for dtype in (np.float64, np.float32):
        with case_label(dtype.__name__):
            F = torch.nn.functional
            rng = np.random.default_rng(0)
            x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((4, 11), (6, 2, 3), (6,)))
            xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
            y = F.conv1d(xt, wt, torch.tensor(b, dtype=torch.float64), stride=2, padding=1, dilation=2, groups=2)
            assert y.ndim == 2
            kw = dict(stride=2, padding=1, dilation=2, groups=2, layout="NCW")
            close(cconv.conv1d(x, w, b, **kw), y.detach().numpy(), dtype)
            gy = rng.standard_normal(tuple(y.shape)).astype(dtype)
            y.backward(torch.tensor(gy, dtype=torch.float64))
            gx, gw, _ = cconv.conv1d_backward(gy, x, w, **kw)
            close(gx, xt.grad.numpy(), dtype)
            close(gw, wt.grad.numpy(), dtype)
            close(cconv.conv1d_grad_input(gy, w, x.shape, **kw), xt.grad.numpy(), dtype)


def test_grad_input_and_grad_weight_match_torch_nn_grad():
    torch = _torch()
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 4, 12)), rng.standard_normal((6, 2, 3))
    kw = dict(stride=2, padding=2, dilation=2, groups=2)
    gy = rng.standard_normal(cconv.conv1d_output_shape(x.shape, w.shape, layout="NCW", **kw))
    gyt = torch.tensor(gy)
    close(cconv.conv1d_grad_input(gy, w, x.shape, layout="NCW", **kw),
          torch.nn.grad.conv1d_input(x.shape, torch.tensor(w), gyt, **kw).numpy(), np.float64)
    close(cconv.conv1d_grad_weight(gy, x, w.shape, layout="NCW", **kw),
          torch.nn.grad.conv1d_weight(torch.tensor(x), w.shape, gyt, **kw).numpy(), np.float64)


# Torch's conv_transpose1d takes symmetric integer padding only.
_T_TORCH_CASES = [c for c in T_CASES if not isinstance(c[6].get("padding", 0), (str, tuple))]


def test_conv_transpose1d_matches_torch():
    torch = _torch()
    for case, layout, dtype in itertools.product(_T_TORCH_CASES, LAYOUTS, (np.float64, np.float32)):
        with case_label(case[0], layout, dtype.__name__):
            F = torch.nn.functional
            x, wt, b, gy, kw = t_problem(case, dtype)
            xt = torch.tensor(x.transpose(0, 2, 1), dtype=torch.float64, requires_grad=True)
            wtt = torch.tensor(wt.transpose(2, 1, 0), dtype=torch.float64, requires_grad=True)   # (C_in, C_out//g, KW)
            bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
            y = F.conv_transpose1d(xt, wtt, bt, stride=one(kw.get("stride", 1)), padding=kw.get("padding", 0),
                                   output_padding=kw.get("output_padding", 0), groups=kw.get("groups", 1),
                                   dilation=kw.get("dilation", 1))
            y.backward(torch.tensor(gy.transpose(0, 2, 1), dtype=torch.float64))
            got = cconv.conv_transpose1d(x_in(x, layout), w_in(wt, layout), b, layout=layout, **kw)
            close(x_in(got, layout), y.detach().numpy().transpose(0, 2, 1), dtype)
            gx, gw, gb = cconv.conv_transpose1d_backward(x_in(gy, layout), x_in(x, layout), w_in(wt, layout),
                                                         layout=layout, **kw)
            close(x_in(gx, layout), xt.grad.numpy().transpose(0, 2, 1), dtype)
            close(w_in(gw, layout), wtt.grad.numpy().transpose(2, 1, 0), dtype)
            close(gb, bt.grad.numpy(), dtype)


def test_layers_match_torch_modules():
    torch = _torch()
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 4, 10))
    ours = cconv.Conv1D(4, 6, 3, stride=2, padding=1, groups=2, layout="NCW", dtype=np.float64, rng=0)
    theirs = torch.nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight))
        theirs.bias.zero_()
    xt = torch.tensor(x, requires_grad=True)
    y = theirs(xt)
    close(ours(x), y.detach().numpy(), np.float64)
    y.sum().backward()
    close(ours.backward(np.ones(tuple(y.shape))), xt.grad.numpy(), np.float64)
    close(ours.grad_weight, theirs.weight.grad.numpy(), np.float64)

    ours_t = cconv.ConvTranspose1D(4, 6, 3, stride=2, output_padding=1, layout="NCW", dtype=np.float64, rng=0)
    theirs_t = torch.nn.ConvTranspose1d(4, 6, 3, stride=2, output_padding=1, dtype=torch.float64)
    with torch.no_grad():
        theirs_t.weight.copy_(torch.tensor(ours_t.weight))
        theirs_t.bias.zero_()
    xt = torch.tensor(x, requires_grad=True)
    y = theirs_t(xt)
    close(ours_t(x), y.detach().numpy(), np.float64)
    y.sum().backward()
    close(ours_t.backward(np.ones(tuple(y.shape))), xt.grad.numpy(), np.float64)
    close(ours_t.grad_weight, theirs_t.weight.grad.numpy(), np.float64)
