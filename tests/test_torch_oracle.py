"""Every comparison with PyTorch itself, in one module that is one skip without torch.

The tests elsewhere check each function against the float64 direct definition, finite differences,
``cconv.reference`` and identities, none of which needs torch; where torch is importable they add it as
a second oracle inline. What is here cannot exist without torch: agreement with PyTorch's own calls for
conv1d and its transposes, unbatched input (torch's unbatched path), the padding modes (``F.pad`` + conv
and ``nn.Conv1d(padding_mode=)``), conv3d and conv_transpose3d, and a self-check of the transposed
convolution's torch oracle.

PyTorch computes in float64 here (float32 inputs are cast exactly). Per-side and "causal" padding go to
torch as ``F.pad`` before an unpadded convolution, which is how PyTorch users write them; "same" is
resolved with TensorFlow's rule from tests/test_conv1d.py.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

import cconv  # noqa: E402
from _oracle import (act_from_nhwc, act_to_nhwc, assert_close, conv_transpose2d_loop, pair,  # noqa: E402
                     weight_to_hwio)
from _torch_ref import case_label, torch_conv2d_all  # noqa: E402
from conftest import DTYPES  # noqa: E402
from conftest import LAYOUTS as LAYOUTS_2D  # noqa: E402
from test_conv1d import CASES, LAYOUTS, T_CASES, close, one, pads_1d, problem, t_problem, w_in, x_in  # noqa: E402
from test_conv_transpose import NUMERIC_PAD_CASES, _torch_forward, make, rel_err, resolve, torch_transpose_all  # noqa: E402
from test_conv_transpose import TOL as T_TOL  # noqa: E402
from test_unbatched import CASE_IDS, T_CASE_IDS, _close, _image, _layers, _one, _t_problem  # noqa: E402


# ---------------------------------------------------------------------------
# conv1d, its gradients, conv_transpose1d and the 1-D layers
# ---------------------------------------------------------------------------
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


def _layer_matches_module(ours, theirs, x):
    """A cconv layer against the torch module given its weight (bias zero): output, input
    gradient and weight gradient of sum(y)."""
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight))
        theirs.bias.zero_()
    xt = torch.tensor(x, requires_grad=True)
    y = theirs(xt)
    close(ours(x), y.detach().numpy(), np.float64)
    y.sum().backward()
    close(ours.backward(np.ones(tuple(y.shape))), xt.grad.numpy(), np.float64)
    close(ours.grad_weight, theirs.weight.grad.numpy(), np.float64)


def test_layers_match_torch_modules():
    x = np.random.default_rng(2).standard_normal((2, 4, 10))
    _layer_matches_module(
        cconv.Conv1D(4, 6, 3, stride=2, padding=1, groups=2, layout="NCW", dtype=np.float64, rng=0),
        torch.nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2, dtype=torch.float64), x)
    _layer_matches_module(
        cconv.ConvTranspose1D(4, 6, 3, stride=2, output_padding=1, layout="NCW", dtype=np.float64, rng=0),
        torch.nn.ConvTranspose1d(4, 6, 3, stride=2, output_padding=1, dtype=torch.float64), x)


# ---------------------------------------------------------------------------
# unbatched input: torch's own unbatched calls and modules
# ---------------------------------------------------------------------------
def test_conv2d_unbatched_matches_torch_unbatched():
    """torch's own unbatched F.conv2d and its autograd, on (C, H, W) tensors."""
    for case_id, layout, dtype in itertools.product(CASE_IDS, LAYOUTS_2D, DTYPES):
        with case_label(case_id, layout, dtype):
            p = _one(case_id, layout, dtype)
            x, gy = p.x[0], p.gy[0]
            ty, tgx, tgw, tgb = torch_conv2d_all(torch, x, p.w, p.b, gy, stride=p.case["stride"], pads=p.pads,
                                                 dilation=p.case["dilation"], groups=p.case["groups"], layout=layout)
            y = cconv.conv2d(x, p.w, p.b, **p.kw)
            gx, gw, gb = cconv.conv2d_backward(gy, x, p.w, **p.kw)
            for got, expected, what in ((y, ty, "y"), (gx, tgx, "grad_x"), (gw, tgw, "grad_weight"), (gb, tgb, "grad_bias")):
                _close(got, expected, dtype, f"{what} vs torch")
            _close(cconv.conv2d_grad_input(gy, p.w, x.shape, **p.kw), tgx, dtype, "conv2d_grad_input vs torch")
            _close(cconv.conv2d_grad_weight(gy, x, p.w.shape, **p.kw), tgw, dtype, "conv2d_grad_weight vs torch")


def test_conv_transpose2d_unbatched_matches_torch_unbatched():
    """torch's own unbatched F.conv_transpose2d and its autograd, on (C_in, H, W) tensors."""
    for case_id, layout, dtype in itertools.product(T_CASE_IDS, LAYOUTS_2D, DTYPES):
        with case_label(case_id, layout, dtype):
            case, x, w, b, gy, kw = _t_problem(case_id, layout, dtype)
            ty, tgx, tgw, tgb = torch_transpose_all(x[0], w, b, gy[0], case, layout)
            assert ty.ndim == 3
            y = cconv.conv_transpose2d(x[0], w, b, **kw)
            gx, gw, gb = cconv.conv_transpose2d_backward(gy[0], x[0], w, **kw)
            tgb = np.asarray(gy[0], np.float64).sum(axis=(0, 1) if layout == "NHWC" else (1, 2)) if tgb is None else tgb
            for got, expected, what in ((y, ty, "y"), (gx, tgx, "grad_x"), (gw, tgw, "grad_weight"), (gb, tgb, "grad_bias")):
                assert got.shape == expected.shape, what
                assert rel_err(got, expected) <= T_TOL[dtype], f"{what} vs torch"


def test_layers_unbatched_match_torch_modules():
    for layout, dtype in itertools.product(LAYOUTS_2D, DTYPES):
        with case_label(layout, dtype):
            x = _image(layout, dtype)
            to_chw = (lambda a: a.transpose(2, 0, 1)) if layout == "NHWC" else (lambda a: a)
            from_chw = (lambda a: a.transpose(1, 2, 0)) if layout == "NHWC" else (lambda a: a)
            conv, tconv = _layers(layout, dtype)
            modules = (torch.nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2, dtype=torch.float64),
                       torch.nn.ConvTranspose2d(4, 6, (3, 2), stride=2, padding=1, output_padding=1, groups=2,
                                                dtype=torch.float64))
            for layer, module, oihw in ((conv, modules[0], (3, 2, 0, 1)), (tconv, modules[1], (3, 2, 0, 1))):
                with torch.no_grad():
                    w = layer.weight.astype(np.float64)
                    module.weight.copy_(torch.tensor(w if layout == "NCHW" else w.transpose(oihw)))
                    module.bias.copy_(torch.tensor(layer.bias.astype(np.float64)))
                xt = torch.tensor(np.ascontiguousarray(to_chw(x)), dtype=torch.float64, requires_grad=True)
                yt = module(xt)                                    # torch's unbatched (C, H, W) path
                assert yt.ndim == 3
                gy = np.random.default_rng(3).standard_normal(from_chw(yt.detach().numpy()).shape).astype(dtype)
                yt.backward(torch.tensor(np.ascontiguousarray(to_chw(gy)), dtype=torch.float64))
                y = layer(x)
                gx = layer.backward(gy)
                tgw = module.weight.grad.numpy()
                name = type(layer).__name__
                _close(y, from_chw(yt.detach().numpy()), dtype, f"{name} y vs torch")
                _close(gx, from_chw(xt.grad.numpy()), dtype, f"{name} grad_x vs torch")
                _close(layer.grad_weight, tgw if layout == "NCHW" else tgw.transpose(2, 3, 1, 0), dtype,
                       f"{name} grad_weight vs torch")
                _close(layer.grad_bias, module.bias.grad.numpy(), dtype, f"{name} grad_bias vs torch")


# ---------------------------------------------------------------------------
# the transposed convolution's torch oracle, against PyTorch's own padding argument
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("case", [c for c in NUMERIC_PAD_CASES if c["padding"] != ((0, 2), (1, 0))],
                         ids=lambda c: c["id"])
def test_crop_oracle_agrees_with_direct_torch_call(case):
    # The per-side crop form of the torch oracle is the same function as PyTorch's own padding argument,
    # and so is the loop definition's crop.
    x, w, b, _, _ = make(case, "NCHW", np.float64)
    pads, op, out_hw = resolve(case)
    s, d = pair(case["stride"]), pair(case["dilation"])
    assert pads[0][0] == pads[0][1] and pads[1][0] == pads[1][1]
    args = (torch.tensor(x), torch.tensor(w), torch.tensor(b))
    direct = F.conv_transpose2d(*args, stride=s, padding=(pads[0][0], pads[1][0]), output_padding=op,
                                groups=case["groups"], dilation=d).numpy()
    cropped = _torch_forward(*args, pads, op, out_hw, s, d, case["groups"], force_crop=True)
    np.testing.assert_allclose(cropped.numpy(), direct, rtol=0, atol=1e-13)
    loop = conv_transpose2d_loop(act_to_nhwc(x, "NCHW"), weight_to_hwio(w, "NCHW"), b, out_hw=out_hw, stride=s,
                                 crop_before=(pads[0][0], pads[1][0]), dilation=d, groups=case["groups"])
    np.testing.assert_allclose(act_from_nhwc(loop, "NCHW"), direct, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------
# padding modes: F.pad(mode) + conv, and nn.Conv1d(padding_mode=), through autograd
# ---------------------------------------------------------------------------
def test_padding_modes_match_torch_pad_and_conv():
    """Every PyTorch mode, float32 and float64, batched and unbatched, in 1-D, 2-D and 3-D: one
    test, so that without torch it is one skip (the definition tests above need no torch)."""
    for mode in ("reflect", "replicate", "circular"):
        for dtype in (np.float32, np.float64):
            for unbatched in (False, True):
                _check_mode_2d_and_1d(torch, mode, dtype, unbatched)
        _check_mode_3d(torch, mode)


def _check_mode_2d_and_1d(torch, mode, dtype, unbatched):
    F = torch.nn.functional
    rng = np.random.default_rng(13)
    x = rng.standard_normal((2, 6, 9, 8)).astype(dtype)       # NCHW
    w = rng.standard_normal((4, 3, 3, 2)).astype(dtype)       # OIHW, groups=2
    if unbatched:
        x = x[0]
    xt = torch.tensor(x.astype(np.float64), requires_grad=True)
    wt = torch.tensor(w.astype(np.float64), requires_grad=True)
    yt = F.conv2d(F.pad(xt, (2, 1, 1, 2), mode=mode), wt, stride=(2, 1), groups=2)
    gy = rng.standard_normal(tuple(yt.shape)).astype(dtype)
    yt.backward(torch.tensor(gy.astype(np.float64)))
    kw = dict(stride=(2, 1), padding=((1, 2), (2, 1)), padding_mode=mode, groups=2, layout="NCHW")
    assert_close(cconv.conv2d(x, w, **kw), yt.detach().numpy(), dtype)
    gx, gw, _ = cconv.conv2d_backward(gy, x, w, **kw)
    assert_close(gx, xt.grad.numpy(), dtype)
    assert_close(gw, wt.grad.numpy(), dtype)
    # conv1d as nn.Conv1d(padding_mode=mode) computes it
    s = rng.standard_normal((3, 11) if unbatched else (2, 3, 11)).astype(dtype)
    k = rng.standard_normal((5, 3, 3)).astype(dtype)
    conv = torch.nn.Conv1d(3, 5, 3, padding=2, dilation=2, padding_mode=mode, bias=False).double()
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(k.astype(np.float64)))
    st = torch.tensor(s.astype(np.float64), requires_grad=True)
    out = conv(st)
    g1 = rng.standard_normal(tuple(out.shape)).astype(dtype)
    out.backward(torch.tensor(g1.astype(np.float64)))
    kw1 = dict(padding=2, dilation=2, padding_mode=mode, layout="NCW")
    assert_close(cconv.conv1d(s, k, **kw1), out.detach().numpy(), dtype)
    gs, gk, _ = cconv.conv1d_backward(g1, s, k, **kw1)
    assert_close(gs, st.grad.numpy(), dtype)
    assert_close(gk, conv.weight.grad.numpy(), dtype)


def _check_mode_3d(torch, mode):
    F = torch.nn.functional
    rng = np.random.default_rng(23)
    x = rng.standard_normal((2, 4, 5, 6, 7))         # NCDHW
    w = rng.standard_normal((6, 2, 3, 3, 2))         # groups=2
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    yt = F.conv3d(F.pad(xt, (1, 0, 2, 1, 1, 2), mode=mode), wt, stride=(1, 2, 1), groups=2)
    gy = rng.standard_normal(tuple(yt.shape))
    yt.backward(torch.tensor(gy))
    kw = dict(stride=(1, 2, 1), padding=((1, 2), (2, 1), (1, 0)), padding_mode=mode, groups=2, layout="NCDHW")
    assert_close(cconv.conv3d(x, w, **kw), yt.detach().numpy())
    gx, gw, _ = cconv.conv3d_backward(gy, x, w, **kw)
    assert_close(gx, xt.grad.numpy())
    assert_close(gw, wt.grad.numpy())


# ---------------------------------------------------------------------------
# conv3d and conv_transpose3d
# ---------------------------------------------------------------------------
def test_conv3d_and_conv_transpose3d_match_torch():
    """conv3d (float32 and float64, batched and unbatched) and conv_transpose3d with its layer:
    one test, one skip without torch (the definition tests above need no torch)."""
    for dtype in (np.float32, np.float64):
        for unbatched in (False, True):
            _check_conv3d(torch, dtype, unbatched)
    _check_conv_transpose3d(torch)


def _check_conv3d(torch, dtype, unbatched):
    F = torch.nn.functional
    rng = np.random.default_rng(21)
    x = rng.standard_normal((2, 4, 7, 6, 5)).astype(dtype)          # NCDHW
    w = rng.standard_normal((6, 2, 3, 2, 3)).astype(dtype)          # OIDHW, groups=2
    b = rng.standard_normal(6).astype(dtype)
    if unbatched:
        x = x[0]
    kw_t = dict(stride=(2, 1, 1), padding=(1, 0, 2), dilation=(1, 2, 1), groups=2)
    xt = torch.tensor(x.astype(np.float64), requires_grad=True)
    wt = torch.tensor(w.astype(np.float64), requires_grad=True)
    bt = torch.tensor(b.astype(np.float64), requires_grad=True)
    yt = F.conv3d(xt, wt, bt, **kw_t)
    gy = rng.standard_normal(tuple(yt.shape)).astype(dtype)
    yt.backward(torch.tensor(gy.astype(np.float64)))
    kw = dict(kw_t, layout="NCDHW")
    assert_close(cconv.conv3d(x, w, b, **kw), yt.detach().numpy(), dtype)
    gx, gw, gb = cconv.conv3d_backward(gy, x, w, **kw)
    assert_close(gx, xt.grad.numpy(), dtype)
    assert_close(gw, wt.grad.numpy(), dtype)
    assert_close(gb, bt.grad.numpy(), dtype)


def _check_conv_transpose3d(torch):
    F = torch.nn.functional
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 3, 4, 5))                   # unbatched NCDHW: C_in=4
    w = rng.standard_normal((4, 3, 3, 2, 3))                # (C_in, C_out//groups, KD, KH, KW), groups=2
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    yt = F.conv_transpose3d(xt, wt, stride=(2, 1, 2), padding=(1, 0, 1), output_padding=(1, 0, 0), groups=2)
    gy = rng.standard_normal(tuple(yt.shape))
    yt.backward(torch.tensor(gy))
    kw = dict(stride=(2, 1, 2), padding=(1, 0, 1), output_padding=(1, 0, 0), groups=2, layout="NCDHW")
    assert_close(cconv.conv_transpose3d(x, w, **kw), yt.detach().numpy())
    gx, gw, _ = cconv.conv_transpose3d_backward(gy, x, w, **kw)
    assert_close(gx, xt.grad.numpy())
    assert_close(gw, wt.grad.numpy())
    layer = cconv.ConvTranspose3D(4, 6, (3, 2, 3), stride=(2, 1, 2), padding=(1, 0, 1), output_padding=(1, 0, 0),
                                  groups=2, layout="NCDHW", dtype=np.float64, rng=0)
    with torch.no_grad():
        ref = F.conv_transpose3d(torch.tensor(x), torch.tensor(layer.weight), torch.tensor(layer.bias),
                                 stride=(2, 1, 2), padding=(1, 0, 1), output_padding=(1, 0, 0), groups=2)
    assert_close(layer(x), ref.numpy())
