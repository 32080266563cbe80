"""No result depends on what ``np.empty`` happens to hold.

cconv allocates its outputs and work buffers with ``np.empty`` wherever a kernel writes every
element (a fresh page from the system is zero, so a kernel that skips elements can pass every other
test). Here ``np.empty`` returns arrays full of NaN (and of a huge integer pattern for other dtypes)
while every route's forward and gradients run, against the float64 direct definition.
"""
import numpy as np
import pytest

import cconv
from _oracle import assert_close, conv2d_backward_loop, conv2d_loop

_real_empty = np.empty


def _poisoned_empty(shape, dtype=float, *args, **kwargs):
    a = _real_empty(shape, dtype, *args, **kwargs)
    if a.dtype.kind == "f":
        a.fill(np.nan)
    elif a.dtype.kind in "iu":
        a.fill(np.iinfo(a.dtype).max // 3)
    return a


# (id, x shape NHWC, weight shape HWIO, kwargs): one layer per route of conv2d.
LAYERS = [
    ("pointwise", (2, 5, 6, 8), (1, 1, 8, 5), {}),
    ("implicit", (2, 7, 6, 5), (3, 3, 5, 7), {"padding": 1}),
    ("strided", (1, 9, 9, 6), (3, 3, 6, 4), {"padding": 1, "stride": 2}),
    ("depthwise", (1, 6, 13, 32), (3, 3, 1, 32), {"padding": 1, "groups": 32}),
    ("single_channel", (2, 9, 9, 1), (3, 3, 1, 6), {"padding": 1}),
    ("winograd", (1, 8, 8, 4), (3, 3, 4, 4), {"padding": 1, "algorithm": "winograd"}),
]


@pytest.mark.parametrize("layer", LAYERS, ids=[layer[0] for layer in LAYERS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_route_writes_what_it_returns(layer, dtype, monkeypatch):
    _, xs, ws, kw = layer
    rng = np.random.default_rng(len(xs) + ws[-1])
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[-1]).astype(dtype)
    opts = {k: v for k, v in kw.items() if k != "algorithm"}
    stride, pad, groups = opts.get("stride", 1), opts.get("padding", 0), opts.get("groups", 1)
    pads = ((pad, pad), (pad, pad))
    y_ref = conv2d_loop(x, w, b, stride=stride, pads=pads, groups=groups)
    gy = rng.standard_normal(y_ref.shape).astype(dtype)
    gx_ref, gw_ref, gb_ref = conv2d_backward_loop(gy, x, w, stride=stride, pads=pads, groups=groups)
    monkeypatch.setattr(np, "empty", _poisoned_empty)
    assert np.isnan(np.empty(3)).all()          # the patch is what cconv sees
    assert_close(cconv.conv2d(x, w, b, **kw), y_ref, dtype, what="forward")
    assert_close(cconv.conv2d_grad_input(gy, w, x.shape, **kw), gx_ref, dtype, what="grad_input")
    assert_close(cconv.conv2d_grad_weight(gy, x, w.shape, **kw), gw_ref, dtype, what="grad_weight")
    gx, gw, gb = cconv.conv2d_backward(gy, x, w, **kw)
    assert_close(gx, gx_ref, dtype, what="backward grad_input")
    assert_close(gw, gw_ref, dtype, what="backward grad_weight")
    assert_close(gb, gb_ref, dtype, what="backward grad_bias")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_3d_pointwise_and_depthwise_write_what_they_return(dtype, monkeypatch):
    """The 3-D grad_input routes that skip the zeroing: a 1x1x1 layer and a depthwise one,
    checked against cconv's own zeroed run (whose routes the 2-D oracle test above covers)."""
    rng = np.random.default_rng(7)
    cases = [((2, 3, 4, 5, 8), (1, 1, 1, 8, 6), {}),
             ((1, 3, 4, 9, 16), (3, 3, 3, 1, 16), {"padding": 1, "groups": 16})]
    for xs, ws, kw in cases:
        x = rng.standard_normal(xs).astype(dtype)
        w = rng.standard_normal(ws).astype(dtype)
        gy = rng.standard_normal(cconv.conv3d(x, w, **kw).shape).astype(dtype)
        want = cconv.conv3d_backward(gy, x, w, **kw)
        with monkeypatch.context() as m:
            m.setattr(np, "empty", _poisoned_empty)
            got = cconv.conv3d_backward(gy, x, w, **kw)
            gx = cconv.conv3d_grad_input(gy, w, x.shape, **kw)
        for g, e in zip(got, want):
            assert not np.isnan(g).any()
            np.testing.assert_allclose(g, e, rtol=1e-6 if dtype == np.float64 else 1e-4, atol=1e-5)
        assert not np.isnan(gx).any()
        np.testing.assert_allclose(gx, want[0], rtol=1e-6 if dtype == np.float64 else 1e-4, atol=1e-5)
