"""Forward and all three gradients against PyTorch (float64 autograd), every case x layout x dtype."""
import numpy as np
import pytest

import cconv
from _oracle import assert_close, pair
from _torch_ref import torch_conv2d_all


def _torch_all(torch, p):
    return torch_conv2d_all(torch, p.x, p.w, p.b, p.gy, stride=p.case["stride"],
                            pads=p.pads, dilation=p.case["dilation"], groups=p.case["groups"], layout=p.layout)


def test_forward_and_all_gradients_match_torch(problem, torch):
    ty, tgx, tgw, tgb = _torch_all(torch, problem)
    y = cconv.conv2d(problem.x, problem.w, problem.b, **problem.kw)
    assert y.dtype == problem.dtype
    assert_close(y, ty, problem.dtype, what="y vs torch")
    gx, gw, gb = cconv.conv2d_backward(problem.gy, problem.x, problem.w, **problem.kw)
    assert_close(gx, tgx, problem.dtype, what="grad_x vs torch")
    assert_close(gw, tgw, problem.dtype, what="grad_weight vs torch")
    assert_close(gb, tgb, problem.dtype, what="grad_bias vs torch")
    gx = cconv.conv2d_grad_input(problem.gy, problem.w, problem.x.shape, **problem.kw)
    gw = cconv.conv2d_grad_weight(problem.gy, problem.x, problem.w.shape, **problem.kw)
    assert gx.dtype == gw.dtype == problem.dtype
    assert_close(gx, tgx, problem.dtype, what="conv2d_grad_input vs torch")
    assert_close(gw, tgw, problem.dtype, what="conv2d_grad_weight vs torch")


@pytest.mark.parametrize("layout", ["NCHW"])
def test_torch_nn_grad_functions_symmetric_padding(case_sympad, layout, torch, make_problem):
    """torch.nn.grad.conv2d_input / conv2d_weight (symmetric padding only) as a second torch route."""
    case = case_sympad
    p = make_problem(case, layout, np.float64)
    (pt, pb), (pl, pr) = p.pads
    assert pt == pb and pl == pr
    tx = torch.tensor(p.x)
    tw = torch.tensor(p.w)
    tgy = torch.tensor(p.gy)
    kw = dict(stride=pair(case["stride"]), padding=(pt, pl), dilation=pair(case["dilation"]), groups=case["groups"])
    ref_gx = torch.nn.grad.conv2d_input(tx.shape, tw, tgy, **kw).numpy()
    ref_gw = torch.nn.grad.conv2d_weight(tx, tw.shape, tgy, **kw).numpy()
    assert_close(cconv.conv2d_grad_input(p.gy, p.w, p.x.shape, **p.kw), ref_gx, np.float64, what="grad_input")
    assert_close(cconv.conv2d_grad_weight(p.gy, p.x, p.w.shape, **p.kw), ref_gw, np.float64, what="grad_weight")


def test_float32_torch_native_agrees(torch):
    """cconv float32 vs torch computing natively in float32 (both sides rounded)."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 4, 9, 8)).astype(np.float32)      # NCHW
    w = rng.standard_normal((6, 2, 3, 3)).astype(np.float32)      # OIHW, groups=2
    b = rng.standard_normal(6).astype(np.float32)
    F = torch.nn.functional
    ty = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), stride=(1, 2), padding=(2, 1),
                  dilation=(2, 1), groups=2).numpy()
    y = cconv.conv2d(x, w, b, stride=(1, 2), padding=(2, 1), dilation=(2, 1), groups=2, layout="NCHW")
    assert y.dtype == np.float32
    assert_close(y, ty, np.float32, what="float32 vs torch float32")
