"""Gradients against central finite differences of a random projection (seed 000's method), float64.

L(x, w, b) = sum(conv2d(x, w, b) * R) with a random R; dL/dx is conv2d_backward(R, ...).
conv2d is linear in each argument, so the central difference has no truncation error and
eps can be large (1e-3): the only error is rounding, ~1e-16 * |L| / eps.
"""
import numpy as np

import cconv
from _oracle import assert_close

EPS = 1e-3


def _central_difference(f, a):
    g = np.zeros(a.shape)
    for idx in np.ndindex(a.shape):
        plus = a.copy()
        plus[idx] += EPS
        minus = a.copy()
        minus[idx] -= EPS
        g[idx] = (f(plus) - f(minus)) / (2 * EPS)
    return g


def test_backward_matches_finite_differences(fd_case, layout, make_problem):
    p = make_problem(fd_case, layout, np.float64, seed=5)
    R = p.gy                                         # random projection of the output
    kw = p.kw

    def L(x, w, b):
        # hundreds of tiny calls: one thread keeps this fast on a loaded machine
        return float(np.sum(cconv.conv2d(x, w, b, num_threads=1, **kw) * R))

    gx, gw, gb = cconv.conv2d_backward(R, p.x, p.w, **kw)
    fx = _central_difference(lambda x: L(x, p.w, p.b), p.x)
    fw = _central_difference(lambda w: L(p.x, w, p.b), p.w)
    fb = _central_difference(lambda b: L(p.x, p.w, b), p.b)
    assert_close(gx, fx, rtol=1e-8, what="grad_x vs finite differences")
    assert_close(gw, fw, rtol=1e-8, what="grad_weight vs finite differences")
    assert_close(gb, fb, rtol=1e-8, what="grad_bias vs finite differences")


def test_layer_backward_matches_finite_differences(restore_threads):
    cconv.set_num_threads(1)       # hundreds of tiny forward calls
    rng = np.random.default_rng(9)
    layer = cconv.Conv2D(2, 4, (2, 3), stride=(2, 1), padding="same", dilation=(1, 2), groups=2,
                         layout="NCHW", dtype=np.float64, rng=rng)
    layer.bias[...] = rng.standard_normal(4)
    x = rng.standard_normal((2, 2, 5, 6))
    y = layer.forward(x)
    R = rng.standard_normal(y.shape)
    gx = layer.backward(R)

    def L(xx):
        return float(np.sum(layer.forward(xx) * R))

    assert_close(gx, _central_difference(L, x), rtol=1e-8, what="layer grad_x")


def test_conv3d_and_padding_modes_match_finite_differences():
    """conv3d (NCDHW, strided, grouped, per-side padding) and conv2d/conv3d with border modes:
    the mode's copies of border samples are linear in x too, so the same exact differences hold."""
    rng = np.random.default_rng(9)
    cases = [
        (cconv.conv3d, cconv.conv3d_backward, (1, 4, 3, 4, 3), (4, 2, 2, 3, 2),
         dict(stride=(1, 2, 1), padding=((1, 0), (1, 1), (0, 1)), groups=2, layout="NCDHW")),
        (cconv.conv3d, cconv.conv3d_backward, (1, 3, 4, 3, 2), (2, 2, 3, 2, 2),
         dict(padding=((1, 2), (1, 0), (2, 1)), padding_mode="reflect")),
        (cconv.conv2d, cconv.conv2d_backward, (2, 5, 4, 2), (3, 3, 2, 2),
         dict(padding=((2, 1), (1, 3)), padding_mode="symmetric")),
        (cconv.conv2d, cconv.conv2d_backward, (1, 4, 5, 3), (3, 2, 3, 2),
         dict(stride=2, padding=((1, 2), (2, 1)), padding_mode="circular")),
    ]
    for conv, backward, x_shape, w_shape, kw in cases:
        x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
        R = rng.standard_normal(conv(x, w, **kw).shape)

        def L(x, w):
            return float(np.sum(conv(x, w, num_threads=1, **kw) * R))

        gx, gw, _ = backward(R, x, w, **kw)
        assert_close(gx, _central_difference(lambda a: L(a, w), x), rtol=1e-8, what=f"grad_x {kw}")
        assert_close(gw, _central_difference(lambda a: L(x, a), w), rtol=1e-8, what=f"grad_weight {kw}")
