"""conv2d and conv2d_backward against the direct definition (float64 loops in _oracle)."""
import numpy as np

import cconv
from _oracle import assert_close


def test_forward_matches_loop_definition(problem):
    y = cconv.conv2d(problem.x, problem.w, problem.b, **problem.kw)
    assert y.dtype == problem.dtype
    assert y.shape == problem.output_shape
    assert_close(y, problem.oracle_forward(), problem.dtype, what="y")
    y0 = cconv.conv2d(problem.x, problem.w, **problem.kw)          # bias=None
    assert y0.dtype == problem.dtype
    assert_close(y0, problem.oracle_forward(bias=False), problem.dtype, what="y (bias=None)")


def test_backward_matches_loop_definition(problem):
    gx, gw, gb = cconv.conv2d_backward(problem.gy, problem.x, problem.w, **problem.kw)
    ex, ew, eb = problem.oracle_backward()
    assert (gx.shape, gw.shape, gb.shape) == (problem.x.shape, problem.w.shape, (problem.case["O"],))
    assert gx.dtype == gw.dtype == gb.dtype == problem.dtype
    assert_close(gx, ex, problem.dtype, what="grad_x")
    assert_close(gw, ew, problem.dtype, what="grad_weight")
    assert_close(gb, eb, problem.dtype, what="grad_bias")


def test_stride_and_dilation_pairs_equal_ints():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 9, 9, 3))
    w = rng.standard_normal((3, 3, 3, 2))
    for s, d in ((2, 1), (1, 2), (3, 2)):
        a = cconv.conv2d(x, w, stride=s, dilation=d, padding=1)
        b = cconv.conv2d(x, w, stride=(s, s), dilation=(d, d), padding=(1, 1))
        c = cconv.conv2d(x, w, stride=(s, s), dilation=(d, d), padding=((1, 1), (1, 1)))
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_padding_strings_are_case_insensitive():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1, 7, 6, 2))
    w = rng.standard_normal((3, 2, 2, 3))
    for group in (("same", "SAME", "Same", "sAmE"), ("valid", "VALID", "Valid")):
        outs = [cconv.conv2d(x, w, padding=p, stride=2) for p in group]
        for o in outs[1:]:
            np.testing.assert_array_equal(outs[0], o)
    np.testing.assert_array_equal(cconv.conv2d(x, w, padding="valid"), cconv.conv2d(x, w, padding=0))
