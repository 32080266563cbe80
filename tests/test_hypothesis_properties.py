"""Property tests over random valid parameters (hypothesis), against the loop oracle (and torch when installed)."""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cconv
from _oracle import (act_from_nhwc, act_to_nhwc, assert_close, col2im_loop, conv2d_backward_loop, conv2d_loop,
                     explicit_padding, im2col_loop, out_hw, weight_from_hwio, weight_to_hwio)
from _torch_ref import torch_conv2d_all

SETTINGS = settings(max_examples=40, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@st.composite
def conv_params(draw, with_groups=True):
    groups = draw(st.integers(1, 3)) if with_groups else 1
    Cg = draw(st.integers(1, 3))
    Og = draw(st.integers(1, 3))
    KH, KW = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    stride = sh if (sh == sw and draw(st.booleans())) else (sh, sw)
    dilation = dh if (dh == dw and draw(st.booleans())) else (dh, dw)
    kind = draw(st.sampled_from(["int", "pair", "asym", "same", "valid", "SAME"]))
    if kind == "int":
        p = draw(st.integers(0, 2))
        padding, pads = p, ((p, p), (p, p))
    elif kind == "pair":
        ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
        padding, pads = (ph, pw), ((ph, ph), (pw, pw))
    elif kind == "asym":
        t, b, l, r = (draw(st.integers(0, 2)) for _ in range(4))
        padding = pads = ((t, b), (l, r))
    elif kind == "valid":
        padding, pads = kind, ((0, 0), (0, 0))
    else:
        padding, pads = kind, None
    span_h, span_w = dh * (KH - 1) + 1, dw * (KW - 1) + 1
    if kind in ("same", "SAME"):
        lo_h = lo_w = 1
    else:
        lo_h = max(1, span_h - pads[0][0] - pads[0][1])
        lo_w = max(1, span_w - pads[1][0] - pads[1][1])
    H = draw(st.integers(lo_h, lo_h + 5))
    W = draw(st.integers(lo_w, lo_w + 5))
    N = draw(st.integers(1, 2))
    layout = draw(st.sampled_from(["NHWC", "NCHW"]))
    seed = draw(st.integers(0, 2**31 - 1))
    return dict(N=N, H=H, W=W, C=Cg * groups, O=Og * groups, K=(KH, KW), stride=stride, padding=padding,
                dilation=dilation, groups=groups, layout=layout, seed=seed)


def _arrays(p, dtype=np.float64):
    rng = np.random.default_rng(p["seed"])
    KH, KW = p["K"]
    pads = explicit_padding(p["padding"], (p["H"], p["W"]), p["K"], p["stride"], p["dilation"])
    Ho, Wo = out_hw((p["H"], p["W"]), p["K"], p["stride"], pads, p["dilation"])
    x = rng.standard_normal((p["N"], p["H"], p["W"], p["C"])).astype(dtype)
    w = rng.standard_normal((KH, KW, p["C"] // p["groups"], p["O"])).astype(dtype)
    b = rng.standard_normal(p["O"]).astype(dtype)
    gy = rng.standard_normal((p["N"], Ho, Wo, p["O"])).astype(dtype)
    L = p["layout"]
    return (act_from_nhwc(x, L), weight_from_hwio(w, L), b, act_from_nhwc(gy, L), pads, (Ho, Wo))


def _kw(p):
    return dict(stride=p["stride"], padding=p["padding"], dilation=p["dilation"], groups=p["groups"],
                layout=p["layout"])


@SETTINGS
@given(p=conv_params(), dtype=st.sampled_from([np.float32, np.float64]))
def test_forward_and_backward_match_loop_oracle(p, dtype):
    x, w, b, gy, pads, (Ho, Wo) = _arrays(p, dtype)
    L = p["layout"]
    geo = dict(stride=p["stride"], pads=pads, dilation=p["dilation"], groups=p["groups"])
    x64 = act_to_nhwc(x.astype(np.float64), L)
    w64 = weight_to_hwio(w.astype(np.float64), L)
    gy64 = act_to_nhwc(gy.astype(np.float64), L)

    assert cconv.output_shape(x.shape, w.shape, **_kw(p)) == gy.shape
    y = cconv.conv2d(x, w, b, **_kw(p))
    assert y.shape == gy.shape and y.dtype == dtype
    assert_close(y, act_from_nhwc(conv2d_loop(x64, w64, b, **geo), L), dtype, what="y")

    gx, gw, gb = cconv.conv2d_backward(gy, x, w, **_kw(p))
    ex, ew, eb = conv2d_backward_loop(gy64, x64, w64, **geo)
    assert_close(gx, act_from_nhwc(ex, L), dtype, what="grad_x")
    assert_close(gw, weight_from_hwio(ew, L), dtype, what="grad_weight")
    assert_close(gb, eb, dtype, what="grad_bias")


@SETTINGS
@given(p=conv_params(with_groups=False))
def test_im2col_col2im_match_loop_oracle_and_are_adjoint(p):
    x, _, _, _, pads, (Ho, Wo) = _arrays(p)
    kw = dict(stride=p["stride"], padding=p["padding"], dilation=p["dilation"], layout=p["layout"])
    cols = cconv.im2col(x, p["K"], **kw)
    np.testing.assert_array_equal(
        cols, im2col_loop(x, p["K"], stride=p["stride"], pads=pads, dilation=p["dilation"], layout=p["layout"]))
    c = np.random.default_rng(p["seed"] + 1).standard_normal(cols.shape)
    back = cconv.col2im(c, x.shape, p["K"], **kw)
    assert_close(back, col2im_loop(c, x.shape, p["K"], stride=p["stride"], pads=pads, dilation=p["dilation"],
                                   layout=p["layout"]), np.float64, what="col2im")
    lhs, rhs = float(np.sum(cols * c)), float(np.sum(x * back))
    assert abs(lhs - rhs) <= 1e-12 * float(np.sum(np.abs(cols * c))) + 1e-300


@SETTINGS
@given(p=conv_params(), dtype=st.sampled_from([np.float32, np.float64]))
def test_every_entry_point_matches_definition_and_torch(p, dtype, torch_or_none):
    """conv2d, conv2d_backward, conv2d_grad_input and conv2d_grad_weight against the loop definition,
    and against PyTorch (float64 autograd) as well when torch is importable."""
    x, w, b, gy, pads, _ = _arrays(p, dtype)
    L = p["layout"]
    geo = dict(stride=p["stride"], pads=pads, dilation=p["dilation"], groups=p["groups"])
    x64 = act_to_nhwc(x.astype(np.float64), L)
    w64 = weight_to_hwio(w.astype(np.float64), L)
    ex, ew, eb = conv2d_backward_loop(act_to_nhwc(gy.astype(np.float64), L), x64, w64, **geo)
    oracles = [("definition", act_from_nhwc(conv2d_loop(x64, w64, b, **geo), L), act_from_nhwc(ex, L),
                weight_from_hwio(ew, L), eb)]
    if torch_or_none is not None:
        oracles.append(("torch", *torch_conv2d_all(torch_or_none, x, w, b, gy, stride=p["stride"], pads=pads,
                                                   dilation=p["dilation"], groups=p["groups"], layout=L)))
    y = cconv.conv2d(x, w, b, **_kw(p))
    gx, gw, gb = cconv.conv2d_backward(gy, x, w, **_kw(p))
    gx_alone = cconv.conv2d_grad_input(gy, w, x.shape, **_kw(p))
    gw_alone = cconv.conv2d_grad_weight(gy, x, w.shape, **_kw(p))
    for name, ey, egx, egw, egb in oracles:
        assert_close(y, ey, dtype, what=f"y vs {name}")
        assert_close(gx, egx, dtype, what=f"grad_x vs {name}")
        assert_close(gw, egw, dtype, what=f"grad_weight vs {name}")
        assert_close(gb, egb, dtype, what=f"grad_bias vs {name}")
        assert_close(gx_alone, egx, dtype, what=f"conv2d_grad_input vs {name}")
        assert_close(gw_alone, egw, dtype, what=f"conv2d_grad_weight vs {name}")
