"""Forward and all three gradients (default algorithm), every case x layout x dtype, against the float64
direct definition and, when torch is importable, against PyTorch (float64 autograd, torch.nn.grad and
torch's own float32) as a second, independent oracle."""
import numpy as np
import pytest

import cconv
from _oracle import assert_close, conv2d_loop, oihw_to_hwio, nchw_to_nhwc, nhwc_to_nchw, pair
from _torch_ref import torch_conv2d_all


def _torch_all(torch, p):
    return torch_conv2d_all(torch, p.x, p.w, p.b, p.gy, stride=p.case["stride"],
                            pads=p.pads, dilation=p.case["dilation"], groups=p.case["groups"], layout=p.layout)


def test_forward_and_all_gradients_match_definition_and_torch(problem, torch_or_none):
    oracles = [("definition", problem.oracle_forward(), *problem.oracle_backward())]
    if torch_or_none is not None:
        oracles.append(("torch", *_torch_all(torch_or_none, problem)))
    y = cconv.conv2d(problem.x, problem.w, problem.b, **problem.kw)
    assert y.dtype == problem.dtype
    gx, gw, gb = cconv.conv2d_backward(problem.gy, problem.x, problem.w, **problem.kw)
    gx_alone = cconv.conv2d_grad_input(problem.gy, problem.w, problem.x.shape, **problem.kw)
    gw_alone = cconv.conv2d_grad_weight(problem.gy, problem.x, problem.w.shape, **problem.kw)
    assert gx_alone.dtype == gw_alone.dtype == problem.dtype
    for name, ey, egx, egw, egb in oracles:
        assert_close(y, ey, problem.dtype, what=f"y vs {name}")
        assert_close(gx, egx, problem.dtype, what=f"grad_x vs {name}")
        assert_close(gw, egw, problem.dtype, what=f"grad_weight vs {name}")
        assert_close(gb, egb, problem.dtype, what=f"grad_bias vs {name}")
        assert_close(gx_alone, egx, problem.dtype, what=f"conv2d_grad_input vs {name}")
        assert_close(gw_alone, egw, problem.dtype, what=f"conv2d_grad_weight vs {name}")


@pytest.mark.parametrize("layout", ["NCHW"])
def test_grad_functions_symmetric_padding_match_definition_and_torch_nn_grad(case_sympad, layout, torch_or_none,
                                                                             make_problem):
    """conv2d_grad_input / conv2d_grad_weight against the definition, and against
    torch.nn.grad.conv2d_input / conv2d_weight (symmetric padding only) as a second torch route."""
    case = case_sympad
    p = make_problem(case, layout, np.float64)
    (pt, pb), (pl, pr) = p.pads
    assert pt == pb and pl == pr
    ex, ew, _ = p.oracle_backward()
    oracles = [("definition", ex, ew)]
    if torch_or_none is not None:
        torch = torch_or_none
        tx, tw, tgy = torch.tensor(p.x), torch.tensor(p.w), torch.tensor(p.gy)
        kw = dict(stride=pair(case["stride"]), padding=(pt, pl), dilation=pair(case["dilation"]),
                  groups=case["groups"])
        oracles.append(("torch.nn.grad", torch.nn.grad.conv2d_input(tx.shape, tw, tgy, **kw).numpy(),
                        torch.nn.grad.conv2d_weight(tx, tw.shape, tgy, **kw).numpy()))
    gx = cconv.conv2d_grad_input(p.gy, p.w, p.x.shape, **p.kw)
    gw = cconv.conv2d_grad_weight(p.gy, p.x, p.w.shape, **p.kw)
    for name, ref_gx, ref_gw in oracles:
        assert_close(gx, ref_gx, np.float64, what=f"grad_input vs {name}")
        assert_close(gw, ref_gw, np.float64, what=f"grad_weight vs {name}")


def test_float32_matches_definition_and_torch_native_float32(torch_or_none):
    """cconv float32 vs the float64 definition on the same float32 values, and vs torch computing
    natively in float32 (both sides rounded) when torch is importable."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 4, 9, 8)).astype(np.float32)      # NCHW
    w = rng.standard_normal((6, 2, 3, 3)).astype(np.float32)      # OIHW, groups=2
    b = rng.standard_normal(6).astype(np.float32)
    y = cconv.conv2d(x, w, b, stride=(1, 2), padding=(2, 1), dilation=(2, 1), groups=2, layout="NCHW")
    assert y.dtype == np.float32
    ref = conv2d_loop(nchw_to_nhwc(x), oihw_to_hwio(w), b, stride=(1, 2), pads=((2, 2), (1, 1)),
                      dilation=(2, 1), groups=2)
    assert_close(y, nhwc_to_nchw(ref), np.float32, what="float32 vs float64 definition")
    if torch_or_none is not None:
        torch = torch_or_none
        F = torch.nn.functional
        ty = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), stride=(1, 2), padding=(2, 1),
                      dilation=(2, 1), groups=2).numpy()
        assert_close(y, ty, np.float32, what="float32 vs torch float32")
