"""im2col / col2im: column orderings against a loop oracle, adjointness, and im2col @ W == conv2d."""
import numpy as np
import pytest

import cconv
from _oracle import assert_close, col2im_loop, im2col_loop


def _geo(p):
    return dict(stride=p.case["stride"], padding=p.case["padding"], dilation=p.case["dilation"], layout=p.layout)


def test_im2col_matches_loop_ordering(problem):
    cols = cconv.im2col(problem.x, problem.kernel_size, **_geo(problem))
    c = problem.case
    Ho, Wo = problem.out_hw
    KH, KW = c["K"]
    assert cols.shape == (c["N"] * Ho * Wo, KH * KW * c["C"])
    assert cols.dtype == problem.dtype
    expected = im2col_loop(problem.x, c["K"], stride=c["stride"], pads=problem.pads, dilation=c["dilation"],
                           layout=problem.layout)
    # pure copies and zeros: exact
    np.testing.assert_array_equal(cols, expected.astype(problem.dtype))


def test_col2im_matches_loop_scatter_add(problem, rng):
    c = problem.case
    Ho, Wo = problem.out_hw
    KH, KW = c["K"]
    cols = rng.standard_normal((c["N"] * Ho * Wo, KH * KW * c["C"])).astype(problem.dtype)
    x = cconv.col2im(cols, problem.x.shape, problem.kernel_size, **_geo(problem))
    assert x.shape == problem.x.shape and x.dtype == problem.dtype
    expected = col2im_loop(cols, problem.x.shape, c["K"], stride=c["stride"], pads=problem.pads,
                           dilation=c["dilation"], layout=problem.layout)
    assert_close(x, expected, problem.dtype, what="col2im")


@pytest.mark.parametrize("dtype", [np.float64])
def test_col2im_is_adjoint_of_im2col(problem, rng):
    """<im2col(x), c> == <x, col2im(c)> for random x and c."""
    cols_x = cconv.im2col(problem.x, problem.kernel_size, **_geo(problem))
    c = rng.standard_normal(cols_x.shape)
    back = cconv.col2im(c, problem.x.shape, problem.kernel_size, **_geo(problem))
    lhs = float(np.sum(cols_x * c))
    rhs = float(np.sum(problem.x * back))
    scale = float(np.sum(np.abs(cols_x * c)))
    assert abs(lhs - rhs) <= 1e-12 * scale + 1e-300, (lhs, rhs)


def test_im2col_matmul_weight_equals_conv2d(case_g1, layout, dtype, make_problem):
    p = make_problem(case_g1, layout, dtype)
    cols = cconv.im2col(p.x, p.kernel_size, **_geo(p))
    N, O = p.case["N"], p.case["O"]
    Ho, Wo = p.out_hw
    if layout == "NHWC":
        y = (cols.astype(np.float64) @ p.w.astype(np.float64).reshape(-1, O)).reshape(N, Ho, Wo, O)
    else:
        y = (cols.astype(np.float64) @ p.w.astype(np.float64).reshape(O, -1).T).reshape(N, Ho, Wo, O)
        y = y.transpose(0, 3, 1, 2)
    assert_close(cconv.conv2d(p.x, p.w, **p.kw), y, dtype, what="conv2d vs im2col @ W")


def test_grad_weight_equals_cols_transpose_grad_out(case_g1, layout, make_problem):
    """grad_weight == im2col(x)^T @ dY (reshaped to the weight layout)."""
    p = make_problem(case_g1, layout, np.float64)
    cols = cconv.im2col(p.x, p.kernel_size, **_geo(p))
    O = p.case["O"]
    dy = p.gy64.reshape(-1, O)                    # rows (n, ho, wo)
    g = cols.T @ dy                               # (KH*KW*C, O) or (C*KH*KW, O)
    gw = cconv.conv2d_grad_weight(p.gy, p.x, p.w.shape, **p.kw)
    expected = g.reshape(p.w.shape) if layout == "NHWC" else g.T.reshape(p.w.shape)
    assert_close(gw, expected, np.float64)


def test_kernel_size_int_equals_pair(layout):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 6, 5, 3) if layout == "NHWC" else (2, 3, 6, 5))
    a = cconv.im2col(x, 3, stride=2, padding=1, layout=layout)
    b = cconv.im2col(x, (3, 3), stride=2, padding=1, layout=layout)
    np.testing.assert_array_equal(a, b)
    c = cconv.col2im(a, x.shape, 3, stride=2, padding=1, layout=layout)
    d = cconv.col2im(a, x.shape, (3, 3), stride=2, padding=1, layout=layout)
    np.testing.assert_array_equal(c, d)


def test_padded_taps_are_zero():
    x = np.full((1, 2, 2, 1), 7.0)
    cols = cconv.im2col(x, (3, 3), padding=1)
    # 4 output pixels, each sees the 2x2 input block exactly once: 4 sevens and 5 zeros per row
    assert cols.shape == (4, 9)
    assert np.all(np.sort(cols, axis=1) == [0, 0, 0, 0, 0, 7, 7, 7, 7])
