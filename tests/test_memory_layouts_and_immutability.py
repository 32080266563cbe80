"""Any strides/order/view give the same answer as contiguous inputs; inputs are never modified."""
import numpy as np
import pytest

import cconv
from _oracle import assert_close


def _fortran(a):
    return np.asfortranarray(a)


def _transposed_view(a):
    perm = tuple(reversed(range(a.ndim)))                 # self-inverse permutation
    return np.ascontiguousarray(a.transpose(perm)).transpose(perm)


def _negative_strides(a):
    idx = tuple(slice(None, None, -1) for _ in range(a.ndim))
    return np.ascontiguousarray(a[idx])[idx]


def _strided_slice(a):
    big = np.zeros(tuple(2 * s for s in a.shape), dtype=a.dtype)
    idx = tuple(slice(None, None, 2) for _ in range(a.ndim))
    big[idx] = a
    return big[idx]


def _offset_slice(a):
    big = np.zeros((a.shape[0] + 1,) + a.shape[1:], dtype=a.dtype)
    big[1:] = a
    return big[1:]


def _readonly(a):
    r = a.copy()
    r.setflags(write=False)
    return r


TRANSFORMS = {
    "fortran": _fortran,
    "transposed_view": _transposed_view,
    "negative_strides": _negative_strides,
    "strided_slice": _strided_slice,
    "offset_slice": _offset_slice,
    "readonly": _readonly,
}

CASE_IDS = ("stride2_pad1", "dil_asym_pad_groups", "same_stride2")


@pytest.fixture(params=CASE_IDS)
def nc_problem(request, layout, dtype, make_problem, case_by_id):
    return make_problem(case_by_id(request.param), layout, dtype)


@pytest.mark.parametrize("tname", list(TRANSFORMS))
def test_non_contiguous_inputs_give_same_result(nc_problem, tname):
    p = nc_problem
    t = TRANSFORMS[tname]
    tx, tw, tb, tgy = t(p.x), t(p.w), t(p.b), t(p.gy)
    assert np.array_equal(tx, p.x) and np.array_equal(tgy, p.gy)          # same values, other memory
    if tname not in ("readonly", "offset_slice"):
        assert not (tx.flags.c_contiguous and tw.flags.c_contiguous and tgy.flags.c_contiguous)
    rtol = {np.float32: 1e-5, np.float64: 1e-12}[p.dtype]

    assert_close(cconv.conv2d(tx, tw, tb, **p.kw), cconv.conv2d(p.x, p.w, p.b, **p.kw), rtol=rtol, what="conv2d")
    got = cconv.conv2d_backward(tgy, tx, tw, **p.kw)
    ref = cconv.conv2d_backward(p.gy, p.x, p.w, **p.kw)
    for g, r, what in zip(got, ref, ("grad_x", "grad_weight", "grad_bias")):
        assert_close(g, r.astype(np.float64), rtol=rtol, what=what)
    assert_close(cconv.conv2d_grad_input(tgy, tw, p.x.shape, **p.kw), ref[0].astype(np.float64), rtol=rtol)
    assert_close(cconv.conv2d_grad_weight(tgy, tx, p.w.shape, **p.kw), ref[1].astype(np.float64), rtol=rtol)

    geo = dict(stride=p.case["stride"], padding=p.case["padding"], dilation=p.case["dilation"], layout=p.layout)
    cols = cconv.im2col(p.x, p.kernel_size, **geo)
    np.testing.assert_array_equal(cconv.im2col(tx, p.kernel_size, **geo), cols)
    assert_close(cconv.col2im(t(cols), p.x.shape, p.kernel_size, **geo),
                 cconv.col2im(cols, p.x.shape, p.kernel_size, **geo).astype(np.float64), rtol=rtol)


def test_broadcast_zero_stride_view_is_accepted(layout):
    """np.broadcast_to gives a read-only view with stride 0."""
    x = np.broadcast_to(np.arange(6.0).reshape(1, 1, 1, 6) if layout == "NHWC" else
                        np.arange(6.0).reshape(1, 6, 1, 1), (2, 5, 5, 6) if layout == "NHWC" else (2, 6, 5, 5))
    w = np.ones((3, 3, 6, 2) if layout == "NHWC" else (2, 6, 3, 3))
    y = cconv.conv2d(x, w, layout=layout)
    np.testing.assert_allclose(y, cconv.conv2d(np.array(x), w, layout=layout), rtol=1e-12)
    # every output sums 9 taps of 0+1+...+5 = 15
    np.testing.assert_allclose(y, 135.0, rtol=1e-12)


def _snapshot(*arrays):
    return [(a.copy(), a.flags.writeable) for a in arrays]


def _assert_unchanged(snap, arrays):
    for (copy, writeable), a in zip(snap, arrays):
        assert np.array_equal(copy, a, equal_nan=True)
        assert a.flags.writeable == writeable


@pytest.mark.parametrize("kind", ["float", "f32_mixed", "int", "noncontig"])
def test_inputs_are_never_modified(layout, kind, make_problem, case_by_id):
    case = case_by_id("dil_asym_pad_groups")
    p = make_problem(case, layout, np.float64)
    x, w, b, gy = p.x, p.w, p.b, p.gy
    if kind == "f32_mixed":
        x, b = x.astype(np.float32), b.astype(np.float32)
    elif kind == "int":
        x, w, b, gy = [(a * 4).astype(np.int64) for a in (x, w, b, gy)]
    elif kind == "noncontig":
        x, w, b, gy = [_negative_strides(a) for a in (x, w, b, gy)]
    arrays = (x, w, b, gy)
    snap = _snapshot(*arrays)
    geo = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"], layout=layout)
    cconv.conv2d(x, w, b, **p.kw)
    cconv.conv2d_backward(gy, x, w, **p.kw)
    cconv.conv2d_grad_input(gy, w, x.shape, **p.kw)
    cconv.conv2d_grad_weight(gy, x, w.shape, **p.kw)
    cols = cconv.im2col(x, p.kernel_size, **geo)
    _assert_unchanged(snap, arrays)
    csnap = _snapshot(cols)
    cconv.col2im(cols, x.shape, p.kernel_size, **geo)
    _assert_unchanged(csnap, (cols,))


def test_layer_does_not_modify_inputs(layout):
    rng = np.random.default_rng(1)
    layer = cconv.Conv2D(4, 6, 3, padding=1, groups=2, layout=layout, dtype=np.float64, rng=rng)
    x = rng.standard_normal((2, 5, 5, 4) if layout == "NHWC" else (2, 4, 5, 5))
    xs = x.copy()
    y = layer(x)
    gy = rng.standard_normal(y.shape)
    gys = gy.copy()
    layer.backward(gy)
    assert np.array_equal(x, xs) and np.array_equal(gy, gys)


def test_outputs_do_not_alias_inputs():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 4, 4, 2))
    w = rng.standard_normal((1, 1, 2, 2))
    y = cconv.conv2d(x, w)
    assert not np.shares_memory(y, x) and not np.shares_memory(y, w)
    gx, gw, gb = cconv.conv2d_backward(y, x, w)
    for g in (gx, gw, gb):
        assert not any(np.shares_memory(g, a) for a in (x, w, y))
