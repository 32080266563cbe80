"""cconv.reference (pure NumPy) agrees with the compiled cconv and with the loop definition."""
import numpy as np
import pytest

import cconv
from _oracle import assert_close, im2col_loop

ref = pytest.importorskip("cconv.reference")


def test_reference_forward_and_gradients(problem):
    y_ref = ref.conv2d(problem.x, problem.w, problem.b, **problem.kw)
    y = cconv.conv2d(problem.x, problem.w, problem.b, **problem.kw)
    assert y_ref.shape == y.shape and y_ref.dtype == y.dtype
    assert_close(y_ref, y.astype(np.float64), problem.dtype, what="y reference vs cconv")
    assert_close(y_ref, problem.oracle_forward(), problem.dtype, what="y reference vs definition")

    got = ref.conv2d_backward(problem.gy, problem.x, problem.w, **problem.kw)
    exp = cconv.conv2d_backward(problem.gy, problem.x, problem.w, **problem.kw)
    defn = problem.oracle_backward()
    for g, e, d, what in zip(got, exp, defn, ("grad_x", "grad_weight", "grad_bias")):
        assert g.shape == e.shape and g.dtype == e.dtype, what
        assert_close(g, e.astype(np.float64), problem.dtype, what=what + " reference vs cconv")
        assert_close(g, d, problem.dtype, what=what + " reference vs definition")

    gx = ref.conv2d_grad_input(problem.gy, problem.w, problem.x.shape, **problem.kw)
    gw = ref.conv2d_grad_weight(problem.gy, problem.x, problem.w.shape, **problem.kw)
    assert_close(gx, exp[0].astype(np.float64), problem.dtype, what="reference grad_input")
    assert_close(gw, exp[1].astype(np.float64), problem.dtype, what="reference grad_weight")


def test_reference_im2col_col2im(problem, rng):
    c = problem.case
    geo = dict(stride=c["stride"], padding=c["padding"], dilation=c["dilation"], layout=problem.layout)
    cols = ref.im2col(problem.x, c["K"], **geo)
    np.testing.assert_array_equal(cols, cconv.im2col(problem.x, c["K"], **geo))
    np.testing.assert_array_equal(cols, im2col_loop(problem.x, c["K"], stride=c["stride"], pads=problem.pads,
                                                    dilation=c["dilation"], layout=problem.layout)
                                  .astype(problem.dtype))
    r = rng.standard_normal(cols.shape).astype(problem.dtype)
    assert_close(ref.col2im(r, problem.x.shape, c["K"], **geo),
                 cconv.col2im(r, problem.x.shape, c["K"], **geo).astype(np.float64), problem.dtype)
