"""The ``algorithm`` keyword: every algorithm against the float64 direct definition (and PyTorch,
when it is installed) on every case it can serve, clear errors where it cannot, and what ``"auto"``
picks."""
import numpy as np
import pytest

import cconv
from _oracle import assert_close
from _torch_ref import torch_conv2d_all

ALGORITHMS = ("auto", "gemm", "winograd", "direct")


def _passes(routes):
    """The per-pass routes of ``select_algorithm`` (without its "isa" entry)."""
    return {k: v for k, v in routes.items() if k != "isa"}


def _serves(problem, algorithm):
    try:
        return _passes(cconv.select_algorithm(problem.x.shape, problem.w.shape, **_shape_kw(problem),
                                              algorithm=algorithm))
    except ValueError:
        return None


def _shape_kw(problem):
    return {k: v for k, v in problem.kw.items() if k != "num_threads"}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_every_algorithm_matches_the_definition_where_it_serves(problem, algorithm, torch_or_none):
    """Forward and all gradients, through every entry point, per algorithm: against the float64 loop
    definition always, and against PyTorch (float64 autograd) too when torch is importable."""
    routes = _serves(problem, algorithm)
    kw = dict(problem.kw, algorithm=algorithm)
    if routes is None:
        with pytest.raises(ValueError, match=f"algorithm='{algorithm}' cannot compute"):
            cconv.conv2d(problem.x, problem.w, problem.b, **kw)
        with pytest.raises(ValueError, match=f"algorithm='{algorithm}' cannot compute"):
            cconv.conv2d_backward(problem.gy, problem.x, problem.w, **kw)
        return
    oracles = [("definition", problem.oracle_forward(), *problem.oracle_backward())]
    if torch_or_none is not None:
        oracles.append(("torch", *torch_conv2d_all(
            torch_or_none, problem.x, problem.w, problem.b, problem.gy, stride=problem.case["stride"],
            pads=problem.pads, dilation=problem.case["dilation"], groups=problem.case["groups"],
            layout=problem.layout)))
    y = cconv.conv2d(problem.x, problem.w, problem.b, **kw)
    assert y.dtype == problem.dtype
    gx, gw, gb = cconv.conv2d_backward(problem.gy, problem.x, problem.w, **kw)
    gx_alone = cconv.conv2d_grad_input(problem.gy, problem.w, problem.x.shape, **kw)
    gw_alone = cconv.conv2d_grad_weight(problem.gy, problem.x, problem.w.shape, **kw)
    assert gx.dtype == gw.dtype == gb.dtype == gx_alone.dtype == gw_alone.dtype == problem.dtype
    for name, ey, egx, egw, egb in oracles:
        assert_close(y, ey, problem.dtype, what=f"y ({routes['forward']}) vs {name}")
        assert_close(gx, egx, problem.dtype, what=f"grad_x ({routes['grad_input']}) vs {name}")
        assert_close(gw, egw, problem.dtype, what=f"grad_weight ({routes['grad_weight']}) vs {name}")
        assert_close(gb, egb, problem.dtype, what=f"grad_bias vs {name}")
        assert_close(gx_alone, egx, problem.dtype, what=f"conv2d_grad_input vs {name}")
        assert_close(gw_alone, egw, problem.dtype, what=f"conv2d_grad_weight vs {name}")


def _routes_or_empty(case, algorithm):
    from conftest import build_problem
    p = build_problem(case, "NHWC", np.float64)
    r = _serves(p, algorithm)
    return () if r is None else r.values()


def test_the_case_table_reaches_every_route():
    """Every route is exercised by the per-algorithm check above on some case."""
    from conftest import CASES
    seen = set()
    for case in CASES:
        for alg in ALGORITHMS:
            seen.update(_routes_or_empty(case, alg))
    assert seen == {"gemm", "gemm-implicit", "gemm-pointwise", "direct-depthwise", "direct-single-channel", "winograd-f2",
                    "winograd-f4"}


def test_auto_picks_winograd_for_wide_3x3_stride1_and_gemm_otherwise():
    r = cconv.select_algorithm((8, 56, 56, 64), (3, 3, 64, 64), padding=1)
    assert r == {"forward": "winograd-f4", "grad_input": "winograd-f4", "grad_weight": "winograd-f4",
                 "isa": cconv.show_config("dicts")["isa"]}
    assert cconv.select_algorithm((8, 14, 14, 256), (3, 3, 256, 256), padding=1)["forward"] == "winograd-f2"
    assert cconv.select_algorithm((8, 56, 56, 64), (3, 3, 64, 128), padding=1, stride=2)["forward"] == "gemm-implicit"
    assert cconv.select_algorithm((8, 56, 56, 130), (3, 3, 130, 128), padding=1, stride=2)["forward"] == "gemm"
    assert cconv.select_algorithm((2, 224, 224, 3), (7, 7, 3, 64), padding=3, stride=2)["forward"] == "gemm-implicit"
    assert cconv.select_algorithm((2, 224, 224, 3), (7, 7, 3, 64), padding=3, stride=2)["grad_input"] == "gemm"
    assert cconv.select_algorithm((64, 14, 14, 6), (5, 5, 6, 16))["forward"] == "gemm-implicit"
    assert cconv.select_algorithm((64, 28, 28, 3), (3, 3, 3, 64), padding=1)["forward"] == "gemm-implicit"
    assert set(_passes(cconv.select_algorithm((8, 28, 28, 256), (1, 1, 256, 64))).values()) == {"gemm-pointwise"}
    assert set(_passes(cconv.select_algorithm((8, 56, 56, 128), (3, 3, 1, 128), padding=1,
                                              groups=128)).values()) == {"direct-depthwise"}
    assert _passes(cconv.select_algorithm((64, 28, 28, 1), (5, 5, 1, 6))) == {
        "forward": "direct-single-channel", "grad_input": "direct-single-channel",
        "grad_weight": "direct-single-channel"}
    assert cconv.select_algorithm((64, 28, 28, 1), (5, 5, 1, 6), stride=2)["forward"] == "gemm-implicit"


def test_forcing_gemm_on_a_depthwise_layer_uses_grouped_gemm():
    r = cconv.select_algorithm((2, 9, 9, 8), (3, 3, 1, 8), padding=1, groups=8, algorithm="gemm")
    assert _passes(r) == {"forward": "gemm-implicit", "grad_input": "gemm", "grad_weight": "gemm"}


@pytest.mark.parametrize("algorithm, why", [
    ("winograd", "winograd needs a 3x3 kernel; got 5x5"),
    ("direct", "'direct' needs a depthwise convolution"),
])
def test_an_algorithm_that_cannot_serve_says_why(algorithm, why):
    x = np.ones((1, 8, 8, 2), np.float32)
    w = np.ones((5, 5, 2, 4), np.float32)
    with pytest.raises(ValueError, match=why):
        cconv.conv2d(x, w, algorithm=algorithm)
    with pytest.raises(ValueError, match=why):
        cconv.conv2d_grad_input(np.ones((1, 4, 4, 4), np.float32), w, x.shape, algorithm=algorithm)


@pytest.mark.parametrize("bad, exc", [("fast", ValueError), ("GEMM", ValueError), (1, TypeError), (None, TypeError)])
def test_bad_algorithm_values(bad, exc):
    x = np.ones((1, 5, 5, 2))
    w = np.ones((3, 3, 2, 2))
    with pytest.raises(exc, match="algorithm must be"):
        cconv.conv2d(x, w, algorithm=bad)
    with pytest.raises(exc, match="algorithm must be"):
        cconv.conv2d_grad_weight(np.ones((1, 3, 3, 2)), x, w.shape, algorithm=bad)


@pytest.mark.parametrize("dtype, bound", [(np.float32, 1e-4), (np.float64, 1e-10)])
@pytest.mark.parametrize("scale, shift", [(1.0, 0.0), (1e4, 0.0), (1e4, 3e4)])
def test_auto_keeps_the_accuracy_contract(dtype, bound, scale, shift):
    """Whatever "auto" picks (here Winograd F(4x4) and F(2x2)) stays within the
    contract against a float64 direct result, relative to max |y|, for
    large-magnitude and mixed-sign or all-positive inputs."""
    from _oracle import conv2d_loop  # the float64 loop definition
    rng = np.random.default_rng(3)
    for H, tile in ((24, "winograd-f4"), (9, "winograd-f2")):
        x = (rng.standard_normal((1, H, H, 16)) * scale + shift).astype(dtype)
        w = (rng.standard_normal((3, 3, 16, 16)) * scale).astype(dtype)
        assert cconv.select_algorithm(x.shape, w.shape, padding=1)["forward"] == tile
        y = cconv.conv2d(x, w, padding=1)
        ref = conv2d_loop(x.astype(np.float64), w.astype(np.float64), None, stride=(1, 1),
                          pads=((1, 1), (1, 1)), dilation=(1, 1), groups=1)
        err = np.max(np.abs(y - ref)) / np.max(np.abs(ref))
        assert err < bound, (tile, err)
