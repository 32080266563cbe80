"""conv2d_grad_input / conv2d_grad_weight are the parts of conv2d_backward (and match the definition)."""
import numpy as np
import pytest

import cconv
from _oracle import assert_close


def test_grad_input_and_grad_weight_equal_backward_parts(problem):
    gx_full, gw_full, _ = cconv.conv2d_backward(problem.gy, problem.x, problem.w, **problem.kw)
    ex, ew, _ = problem.oracle_backward()
    gx = cconv.conv2d_grad_input(problem.gy, problem.w, problem.x.shape, **problem.kw)
    assert gx.shape == problem.x.shape and gx.dtype == problem.dtype
    assert_close(gx, gx_full.astype(np.float64), problem.dtype, what="grad_input vs backward")
    assert_close(gx, ex, problem.dtype, what="grad_input vs definition")
    gw = cconv.conv2d_grad_weight(problem.gy, problem.x, problem.w.shape, **problem.kw)
    assert gw.shape == problem.w.shape and gw.dtype == problem.dtype
    assert_close(gw, gw_full.astype(np.float64), problem.dtype, what="grad_weight vs backward")
    assert_close(gw, ew, problem.dtype, what="grad_weight vs definition")


def test_shapes_accept_tuples_and_lists():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 5, 3))
    w = rng.standard_normal((3, 3, 3, 4))
    gy = rng.standard_normal((2, 3, 3, 4))
    a = cconv.conv2d_grad_input(gy, w, (2, 5, 5, 3))
    b = cconv.conv2d_grad_input(gy, w, [2, 5, 5, 3])
    np.testing.assert_array_equal(a, b)
    c = cconv.conv2d_grad_weight(gy, x, (3, 3, 3, 4))
    d = cconv.conv2d_grad_weight(gy, x, [3, 3, 3, 4])
    np.testing.assert_array_equal(c, d)


@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
def test_grad_input_for_ambiguous_input_size(layout):
    """H=7 and H=8 both give Ho=3 with K=3, s=2: input_shape decides, the extra row gets zero gradient."""
    rng = np.random.default_rng(1)
    if layout == "NHWC":
        w = rng.standard_normal((3, 3, 2, 3))
        gy = rng.standard_normal((1, 3, 3, 3))
        shapes = [(1, 7, 7, 2), (1, 8, 8, 2)]
    else:
        w = rng.standard_normal((3, 2, 3, 3))
        gy = rng.standard_normal((1, 3, 3, 3))
        shapes = [(1, 2, 7, 7), (1, 2, 8, 8)]
    g7 = cconv.conv2d_grad_input(gy, w, shapes[0], stride=2, layout=layout)
    g8 = cconv.conv2d_grad_input(gy, w, shapes[1], stride=2, layout=layout)
    assert g7.shape == shapes[0] and g8.shape == shapes[1]
    if layout == "NHWC":
        inner, last_row, last_col = g8[:, :7, :7], g8[:, 7], g8[:, :, 7]
    else:
        inner, last_row, last_col = g8[:, :, :7, :7], g8[:, :, 7], g8[:, :, :, 7]
    assert_close(inner, g7, np.float64)
    assert np.all(last_row == 0) and np.all(last_col == 0)
