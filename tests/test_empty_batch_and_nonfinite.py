"""N = 0 gives empty results of the right shape; NaN and Inf propagate exactly where the definition says."""
import numpy as np
import pytest

import cconv
from _oracle import (act_from_nhwc, act_to_nhwc, conv2d_backward_loop, conv2d_loop, weight_from_hwio,
                     weight_to_hwio)


def test_empty_batch(case, layout, dtype, make_problem):
    p = make_problem(case, layout, dtype, N=0)
    Ho, Wo = p.out_hw
    c = case
    y = cconv.conv2d(p.x, p.w, p.b, **p.kw)
    assert y.shape == p.output_shape and y.shape[0] == 0 and y.dtype == dtype
    gx, gw, gb = cconv.conv2d_backward(p.gy, p.x, p.w, **p.kw)
    assert gx.shape == p.x.shape and gx.dtype == dtype
    # gradients of the parameters are empty sums: exactly zero, full shape
    assert gw.shape == p.w.shape and np.all(gw == 0)
    assert gb.shape == (c["O"],) and np.all(gb == 0)
    assert cconv.conv2d_grad_input(p.gy, p.w, p.x.shape, **p.kw).shape == p.x.shape
    assert np.all(cconv.conv2d_grad_weight(p.gy, p.x, p.w.shape, **p.kw) == 0)
    geo = dict(stride=c["stride"], padding=c["padding"], dilation=c["dilation"], layout=layout)
    cols = cconv.im2col(p.x, c["K"], **geo)
    assert cols.shape == (0, c["K"][0] * c["K"][1] * c["C"])
    assert cconv.col2im(cols, p.x.shape, c["K"], **geo).shape == p.x.shape
    assert cconv.output_shape(p.x.shape, p.w.shape, **p.kw) == p.output_shape


def _masks(a):
    a = np.asarray(a)
    return np.isnan(a), np.isposinf(a), np.isneginf(a)


def _assert_same_nonfinite(actual, expected, dtype, what):
    for m_a, m_e, name in zip(_masks(actual), _masks(expected), ("nan", "+inf", "-inf")):
        assert np.array_equal(m_a, m_e), f"{what}: {name} pattern differs ({m_a.sum()} vs {m_e.sum()})"
    fin = np.isfinite(expected)
    assert fin.any()
    rtol = {np.float32: 1e-4, np.float64: 1e-10}[dtype]
    np.testing.assert_allclose(np.asarray(actual, np.float64)[fin], expected[fin], rtol=0,
                               atol=rtol * np.abs(expected[fin]).max() + 1e-12, err_msg=what)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_nonfinite_in_x_propagates(value, layout, dtype, make_problem, case_by_id):
    p = make_problem(case_by_id("dil_asym_pad_groups"), layout, dtype)
    x = p.x.copy()
    x[(0,) + tuple(s // 2 for s in x.shape[1:])] = value
    x64 = act_to_nhwc(x.astype(np.float64), layout)
    geo = dict(groups=p.case["groups"], **p.geo)
    with np.errstate(invalid="ignore"):
        y_def = act_from_nhwc(conv2d_loop(x64, p.w64, **geo), layout)
        ex, ew, eb = conv2d_backward_loop(p.gy64, x64, p.w64, **geo)
    assert not np.all(np.isfinite(y_def)) and not np.all(np.isfinite(ew))
    _assert_same_nonfinite(cconv.conv2d(x, p.w, **p.kw), y_def, dtype, "y")
    gx, gw, gb = cconv.conv2d_backward(p.gy, x, p.w, **p.kw)
    _assert_same_nonfinite(gx, act_from_nhwc(ex, layout), dtype, "grad_x")
    _assert_same_nonfinite(gw, weight_from_hwio(ew, layout), dtype, "grad_weight")
    _assert_same_nonfinite(gb, eb, dtype, "grad_bias")


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_nonfinite_in_weight_propagates(value, layout, dtype, make_problem, case_by_id):
    # no padding: every output reads every tap, so "0 * inf" questions about padded taps do not arise
    p = make_problem(case_by_id("basic3x3"), layout, dtype)
    w = p.w.copy()
    w.flat[1] = value
    w64 = weight_to_hwio(w.astype(np.float64), layout)
    geo = dict(groups=p.case["groups"], **p.geo)
    with np.errstate(invalid="ignore"):
        y_def = act_from_nhwc(conv2d_loop(p.x64, w64, **geo), layout)
        ex, ew, eb = conv2d_backward_loop(p.gy64, p.x64, w64, **geo)
    _assert_same_nonfinite(cconv.conv2d(p.x, w, **p.kw), y_def, dtype, "y")
    gx, gw, gb = cconv.conv2d_backward(p.gy, p.x, w, **p.kw)
    # grad_weight and grad_bias do not depend on the weight: finite and correct
    _assert_same_nonfinite(gw, weight_from_hwio(ew, layout), dtype, "grad_weight")
    _assert_same_nonfinite(gb, eb, dtype, "grad_bias")
    # grad_x: non-finite at least wherever the definition is (an implementation that multiplies
    # zero-padded grad_out by the weight may add NaN from 0 * inf at border pixels)
    ex = act_from_nhwc(ex, layout)
    assert not np.all(np.isfinite(ex))
    assert np.all(~np.isfinite(gx)[~np.isfinite(ex)])


def test_nan_in_grad_out_reaches_its_channel_only(layout):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 5, 3) if layout == "NHWC" else (2, 3, 5, 5))
    w = rng.standard_normal((3, 3, 3, 4) if layout == "NHWC" else (4, 3, 3, 3))
    gy = rng.standard_normal((2, 3, 3, 4) if layout == "NHWC" else (2, 4, 3, 3))
    if layout == "NHWC":
        gy[1, 2, 0, 2] = np.nan
    else:
        gy[1, 2, 2, 0] = np.nan
    gx, gw, gb = cconv.conv2d_backward(gy, x, w, layout=layout)
    assert np.array_equal(np.isnan(gb), [False, False, True, False])
    o_axis = 3 if layout == "NHWC" else 0
    nan_w = np.isnan(gw)
    assert np.all(np.take(nan_w, 2, axis=o_axis))
    assert not np.any(np.delete(nan_w, 2, axis=o_axis))
    # the NaN output pixel (n=1, ho=2, wo=0) reads input rows 2..4, cols 0..2 of sample 1
    nan_x = np.isnan(gx) if layout == "NHWC" else np.isnan(gx).transpose(0, 2, 3, 1)
    expected = np.zeros_like(nan_x)
    expected[1, 2:5, 0:3, :] = True
    assert np.array_equal(nan_x, expected)
