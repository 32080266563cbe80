"""The Conv2D layer class: shapes, init, dtype, rng, forward/backward against conv2d and the definition."""
import numpy as np
import pytest

import cconv
from _oracle import (act_from_nhwc, act_to_nhwc, assert_close, conv2d_backward_loop, conv2d_loop,
                     explicit_padding, weight_from_hwio, weight_to_hwio)


def _expected_weight_shape(cin, cout, k, groups, layout):
    kh, kw = (k, k) if isinstance(k, int) else k
    return (kh, kw, cin // groups, cout) if layout == "NHWC" else (cout, cin // groups, kh, kw)


@pytest.mark.parametrize("cin,cout,k,groups", [(3, 4, 3, 1), (4, 6, (3, 2), 2), (4, 4, (1, 5), 4)])
def test_parameter_shapes_and_default_dtype(cin, cout, k, groups, layout):
    layer = cconv.Conv2D(cin, cout, k, groups=groups, layout=layout, rng=np.random.default_rng(0))
    assert layer.weight.shape == _expected_weight_shape(cin, cout, k, groups, layout)
    assert layer.weight.dtype == np.float32
    assert layer.bias.shape == (cout,) and layer.bias.dtype == np.float32
    assert np.all(np.isfinite(layer.weight))


def test_bias_false_gives_none(layout):
    rng = np.random.default_rng(0)
    layer = cconv.Conv2D(3, 2, 3, bias=False, layout=layout, dtype=np.float64, rng=rng)
    assert layer.bias is None
    x = rng.standard_normal((2, 6, 5, 3) if layout == "NHWC" else (2, 3, 6, 5))
    y = layer(x)
    assert_close(y, cconv.conv2d(x, layer.weight, layout=layout))
    assert_close(y, act_from_nhwc(conv2d_loop(act_to_nhwc(x, layout), weight_to_hwio(layer.weight, layout)), layout))
    gx = layer.backward(np.ones_like(y))
    assert gx.shape == x.shape
    assert layer.grad_bias is None
    assert layer.grad_weight.shape == layer.weight.shape


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_dtype_argument(dtype, layout):
    rng = np.random.default_rng(0)
    layer = cconv.Conv2D(2, 3, 3, padding=1, layout=layout, dtype=dtype, rng=rng)
    assert layer.weight.dtype == dtype and layer.bias.dtype == dtype
    x = rng.standard_normal((1, 4, 4, 2) if layout == "NHWC" else (1, 2, 4, 4)).astype(dtype)
    y = layer(x)
    assert y.dtype == dtype
    gx = layer.backward(np.ones_like(y))
    assert gx.dtype == dtype
    assert layer.grad_weight.dtype == dtype and layer.grad_bias.dtype == dtype


@pytest.mark.parametrize("cin,cout,k,groups", [(32, 64, 3, 1), (32, 32, 3, 4), (16, 48, (5, 3), 1)])
def test_he_initialisation_std(cin, cout, k, groups):
    layer = cconv.Conv2D(cin, cout, k, groups=groups, rng=np.random.default_rng(42))
    kh, kw = (k, k) if isinstance(k, int) else k
    fan_in = cin // groups * kh * kw
    target = np.sqrt(2.0 / fan_in)
    w = layer.weight.astype(np.float64)
    # loose: normal, uniform or truncated-normal He variants all land within 25%
    assert 0.75 * target < w.std() < 1.25 * target, (w.std(), target)
    assert abs(w.mean()) < 0.05 * target


def test_rng_reproducibility():
    a = cconv.Conv2D(3, 5, 3, rng=np.random.default_rng(123))
    b = cconv.Conv2D(3, 5, 3, rng=np.random.default_rng(123))
    c = cconv.Conv2D(3, 5, 3, rng=np.random.default_rng(124))
    np.testing.assert_array_equal(a.weight, b.weight)
    np.testing.assert_array_equal(a.bias, b.bias)
    assert not np.array_equal(a.weight, c.weight)


def test_default_rng_is_random():
    a = cconv.Conv2D(3, 5, 3)
    b = cconv.Conv2D(3, 5, 3)
    assert not np.array_equal(a.weight, b.weight)


LAYER_CASES = [
    dict(cin=4, cout=6, k=(3, 2), stride=2, padding="same", dilation=1, groups=2),
    dict(cin=3, cout=2, k=3, stride=(1, 2), padding=((1, 0), (2, 1)), dilation=(2, 1), groups=1),
    dict(cin=3, cout=3, k=3, stride=1, padding=1, dilation=1, groups=3),
]


@pytest.mark.parametrize("lc", LAYER_CASES, ids=["same_groups", "asym_dil", "depthwise"])
def test_forward_backward_match_functions_and_definition(lc, layout):
    rng = np.random.default_rng(5)
    layer = cconv.Conv2D(lc["cin"], lc["cout"], lc["k"], stride=lc["stride"], padding=lc["padding"],
                         dilation=lc["dilation"], groups=lc["groups"], layout=layout, dtype=np.float64, rng=rng)
    layer.bias[...] = rng.standard_normal(lc["cout"])
    x_nhwc = rng.standard_normal((2, 7, 6, lc["cin"]))
    x = act_from_nhwc(x_nhwc, layout)
    kw = dict(stride=lc["stride"], padding=lc["padding"], dilation=lc["dilation"], groups=lc["groups"],
              layout=layout)

    y = layer.forward(x)
    assert_close(layer(x), y, rtol=1e-14)
    assert y.shape == cconv.output_shape(x.shape, layer.weight.shape, **kw)
    assert_close(y, cconv.conv2d(x, layer.weight, layer.bias, **kw))
    w_hwio = weight_to_hwio(layer.weight, layout)
    k = (lc["k"], lc["k"]) if isinstance(lc["k"], int) else lc["k"]
    pads = explicit_padding(lc["padding"], (7, 6), k, lc["stride"], lc["dilation"])
    geo = dict(stride=lc["stride"], pads=pads, dilation=lc["dilation"], groups=lc["groups"])
    assert_close(y, act_from_nhwc(conv2d_loop(x_nhwc, w_hwio, layer.bias, **geo), layout))

    gy = rng.standard_normal(y.shape)
    gx = layer.backward(gy)
    fx, fw, fb = cconv.conv2d_backward(gy, x, layer.weight, **kw)
    assert_close(gx, fx)
    assert_close(layer.grad_weight, fw)
    assert_close(layer.grad_bias, fb)
    ex, ew, eb = conv2d_backward_loop(act_to_nhwc(gy, layout), x_nhwc, w_hwio, **geo)
    assert_close(gx, act_from_nhwc(ex, layout))
    assert_close(layer.grad_weight, weight_from_hwio(ew, layout))
    assert_close(layer.grad_bias, eb)


def test_backward_uses_the_cached_forward_input():
    rng = np.random.default_rng(6)
    layer = cconv.Conv2D(2, 3, 3, dtype=np.float64, rng=rng)
    x1 = rng.standard_normal((1, 5, 5, 2))
    x2 = rng.standard_normal((1, 5, 5, 2))
    layer(x1)
    gy = rng.standard_normal((1, 3, 3, 3))
    layer.backward(gy)
    gw1 = layer.grad_weight.copy()
    layer(x2)
    layer.backward(gy)
    assert_close(gw1, cconv.conv2d_grad_weight(gy, x1, layer.weight.shape))
    assert_close(layer.grad_weight, cconv.conv2d_grad_weight(gy, x2, layer.weight.shape))
