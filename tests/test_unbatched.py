"""Unbatched input, as PyTorch takes it: x of shape (H, W, C) for NHWC or (C, H, W) for NCHW.

Every function that takes an activation is called on one image without its batch axis, in both
layouts and both float dtypes, and checked

* against the float64 direct definition (tests/_oracle.py) of the same image as a batch of one, and
  against ``cconv.reference``'s unbatched call (neither needs torch);
* against cconv's own call on the batch of one: the unbatched result must be its first entry
  exactly, since the kernels see the same batched arrays;
* against torch's own unbatched ``F.conv2d`` / ``F.conv_transpose2d`` and ``nn.Conv2d`` /
  ``nn.ConvTranspose2d``, forward and autograd, in tests/test_torch_oracle.py (one skip without torch).

Also: the batch axis is a view in and out (no input copied, aliased or modified), the shape
functions take unbatched shapes, and the layers pass unbatched input through.
"""
from __future__ import annotations

import numpy as np
import pytest

import cconv
import cconv.reference as ref
from _oracle import assert_close
from cconv._batch import batch_iv
from conftest import CASES, DTYPES, LAYOUTS, build_problem
from test_conv_transpose import BY_ID as T_BY_ID
from test_conv_transpose import TOL as T_TOL
from test_conv_transpose import loop_transpose_all, make, rel_err

# One case per route: GEMM, asymmetric and "same" padding, grouped, depthwise (multiplier 1 and 2),
# the native NCHW 1x1 kernel, the single-channel kernel, Winograd F(4x4,3x3).
CASE_IDS = ["basic3x3", "asym_pad", "same_stride2", "dil_asym_pad_groups", "depthwise",
            "depthwise_mult2_same_s2", "pointwise_stride1", "single_channel", "winograd_f4_edges"]
BY_ID = {c["id"]: c for c in CASES}
T_CASE_IDS = ["basic3x3", "s2_p1_op1", "asym_pad_s2", "dil_rect_op_ge_stride_asym", "depthwise_s2", "same_s2_k3",
              "pointwise_s1"]


def _one(case_id, layout, dtype):
    """A batch-of-one problem; ``p.x[0]`` and ``p.gy[0]`` are its unbatched x and grad_out."""
    return build_problem(BY_ID[case_id], layout, dtype, N=1)


def _close(got, expected, dtype, what):
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    assert got.dtype == dtype, f"{what}: dtype {got.dtype}"
    assert_close(got, expected, dtype, what=what)


# ---------------------------------------------------------------------------
# conv2d and its gradients
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("case_id", CASE_IDS)
def test_conv2d_family_unbatched_matches_definition_and_batch_of_one(case_id, layout, dtype):
    p = _one(case_id, layout, dtype)
    x, gy = p.x[0], p.gy[0]
    ey = p.oracle_forward()[0]
    egx, egw, egb = p.oracle_backward()
    egx = egx[0]

    y = cconv.conv2d(x, p.w, p.b, **p.kw)
    gx, gw, gb = cconv.conv2d_backward(gy, x, p.w, **p.kw)
    gx_alone = cconv.conv2d_grad_input(gy, p.w, x.shape, **p.kw)
    gw_alone = cconv.conv2d_grad_weight(gy, x, p.w.shape, **p.kw)
    for got, expected, what in ((y, ey, "y"), (gx, egx, "grad_x"), (gw, egw, "grad_weight"), (gb, egb, "grad_bias"),
                                (gx_alone, egx, "conv2d_grad_input"), (gw_alone, egw, "conv2d_grad_weight")):
        _close(got, expected, dtype, f"{what} vs definition")
    assert cconv.output_shape(x.shape, p.w.shape, **p.kw) == y.shape

    # the same kernels on the same batched arrays: the batch of one's first entry, bit for bit
    np.testing.assert_array_equal(y, cconv.conv2d(p.x, p.w, p.b, **p.kw)[0])
    bx, bw, bb = cconv.conv2d_backward(p.gy, p.x, p.w, **p.kw)
    np.testing.assert_array_equal(gx, bx[0])
    np.testing.assert_array_equal(gw, bw)
    np.testing.assert_array_equal(gb, bb)
    np.testing.assert_array_equal(gx_alone, cconv.conv2d_grad_input(p.gy, p.w, p.x.shape, **p.kw)[0])
    np.testing.assert_array_equal(gw_alone, cconv.conv2d_grad_weight(p.gy, p.x, p.w.shape, **p.kw))


@pytest.mark.parametrize("case_id", ["basic3x3", "asym_pad", "dil_asym_pad_groups", "depthwise", "single_channel"])
def test_reference_unbatched_matches_definition(case_id, layout, dtype):
    p = _one(case_id, layout, dtype)
    x, gy = p.x[0], p.gy[0]
    egx, egw, egb = p.oracle_backward()
    _close(ref.conv2d(x, p.w, p.b, **p.kw), p.oracle_forward()[0], dtype, "reference y")
    for got, expected, what in zip(ref.conv2d_backward(gy, x, p.w, **p.kw), (egx[0], egw, egb),
                                   ("grad_x", "grad_weight", "grad_bias")):
        _close(got, expected, dtype, f"reference {what}")
    _close(ref.conv2d_grad_input(gy, p.w, x.shape, **p.kw), egx[0], dtype, "reference conv2d_grad_input")
    _close(ref.conv2d_grad_weight(gy, x, p.w.shape, **p.kw), egw, dtype, "reference conv2d_grad_weight")


# ---------------------------------------------------------------------------
# the transposed convolution
# ---------------------------------------------------------------------------
def _t_problem(case_id, layout, dtype):
    case = T_BY_ID[case_id]
    x, w, b, gy, kw = make(case, layout, dtype, N=1)
    return case, x, w, b, gy, kw


@pytest.mark.parametrize("case_id", T_CASE_IDS)
def test_conv_transpose2d_unbatched_matches_definition_and_batch_of_one(case_id, layout, dtype):
    case, x, w, b, gy, kw = _t_problem(case_id, layout, dtype)
    ey, egx, egw, egb = (a[0] if i < 2 else a for i, a in enumerate(loop_transpose_all(x, w, b, gy, case, layout)))
    y = cconv.conv_transpose2d(x[0], w, b, **kw)
    gx, gw, gb = cconv.conv_transpose2d_backward(gy[0], x[0], w, **kw)
    assert y.shape == ey.shape == cconv.conv_transpose2d_output_shape(x[0].shape, w.shape, **kw)
    assert gx.shape == x[0].shape and y.dtype == gx.dtype == gw.dtype == gb.dtype == dtype
    for got, expected, what in ((y, ey, "y"), (gx, egx, "grad_x"), (gw, egw, "grad_weight"), (gb, egb, "grad_bias")):
        assert rel_err(got, expected) <= T_TOL[dtype], f"{what} vs definition"
    np.testing.assert_array_equal(y, cconv.conv_transpose2d(x, w, b, **kw)[0])
    bx, bw, bb = cconv.conv_transpose2d_backward(gy, x, w, **kw)
    np.testing.assert_array_equal(gx, bx[0])
    np.testing.assert_array_equal(gw, bw)
    np.testing.assert_array_equal(gb, bb)


# ---------------------------------------------------------------------------
# layers
# ---------------------------------------------------------------------------
def _layers(layout, dtype):
    conv = cconv.Conv2D(4, 6, (3, 2), stride=2, padding=1, groups=2, layout=layout, dtype=dtype, rng=0)
    tconv = cconv.ConvTranspose2D(4, 6, (3, 2), stride=2, padding=1, output_padding=1, groups=2, layout=layout,
                                  dtype=dtype, rng=0)
    for layer in (conv, tconv):
        layer.bias[:] = np.arange(6.0)
    return conv, tconv


def _image(layout, dtype, seed=1):
    x = np.random.default_rng(seed).standard_normal((5, 7, 4)).astype(dtype)     # H, W, C
    return x if layout == "NHWC" else np.ascontiguousarray(x.transpose(2, 0, 1))


def test_layers_pass_unbatched_input_through(layout, dtype):
    x = _image(layout, dtype)
    for layer, batched in zip(_layers(layout, dtype), _layers(layout, dtype)):   # two identical pairs
        y = layer(x)
        assert y.ndim == 3
        gy = np.random.default_rng(2).standard_normal(y.shape).astype(dtype)
        gx = layer.backward(gy)
        assert gx.shape == x.shape and gx.dtype == dtype
        np.testing.assert_array_equal(y, batched(x[None])[0])
        np.testing.assert_array_equal(gx, batched.backward(gy[None])[0])
        np.testing.assert_array_equal(layer.grad_weight, batched.grad_weight)
        np.testing.assert_array_equal(layer.grad_bias, batched.grad_bias)
        with pytest.raises(ValueError, match=r"grad_out is batched .* but x is unbatched"):
            layer.backward(gy[None])


# ---------------------------------------------------------------------------
# shapes, patches, algorithm selection
# ---------------------------------------------------------------------------
def test_shape_functions_take_unbatched_shapes(layout):
    c = BY_ID["dil_asym_pad_groups"]
    p = _one(c["id"], layout, np.float64)
    batched = cconv.output_shape(p.x.shape, p.w.shape, **p.kw)
    assert cconv.output_shape(p.x.shape[1:], p.w.shape, **p.kw) == batched[1:]
    algo = {k: v for k, v in p.kw.items() if k != "layout"}
    assert cconv.select_algorithm(p.x.shape[1:], p.w.shape, layout=layout, **algo) == \
        cconv.select_algorithm(p.x.shape, p.w.shape, layout=layout, **algo)
    case = T_BY_ID["dil_rect_op_ge_stride_asym"]
    x, w, _, _, kw = make(case, layout, np.float64, N=1)
    assert cconv.conv_transpose2d_output_shape(x.shape[1:], w.shape, **kw) == \
        cconv.conv_transpose2d_output_shape(x.shape, w.shape, **kw)[1:]


@pytest.mark.parametrize("module", [cconv, ref], ids=["cconv", "reference"])
def test_im2col_col2im_take_one_image(module, layout, dtype):
    """An unbatched image unfolds into the rows of a batch of one (F.unfold's unbatched form, flattened)."""
    p = _one("rect_kernel_stride_dil_pairpad", layout, dtype)
    geo = dict(stride=p.case["stride"], padding=p.case["padding"], dilation=p.case["dilation"], layout=layout)
    cols = module.im2col(p.x[0], p.case["K"], **geo)
    np.testing.assert_array_equal(cols, module.im2col(p.x, p.case["K"], **geo))
    back = module.col2im(cols, p.x.shape[1:], p.case["K"], **geo)
    assert back.shape == p.x.shape[1:]
    np.testing.assert_array_equal(back, module.col2im(cols, p.x.shape, p.case["K"], **geo)[0])


# ---------------------------------------------------------------------------
# the batch axis is a view in and out; nothing is copied into, aliased or modified
# ---------------------------------------------------------------------------
def test_batch_axis_is_a_view_both_ways(layout):
    x = np.zeros((3, 4, 5))
    batch = batch_iv(x.shape, "x", layout)
    assert batch.unbatched and batch.batched_shape == (1, 3, 4, 5)
    xb = batch.add(x)
    assert xb.shape == (1, 3, 4, 5) and np.shares_memory(xb, x) and xb.base is x
    y = np.zeros((1, 2, 2, 6))
    assert batch.strip(y).shape == (2, 2, 6) and batch.strip(y).base is y
    batched = batch_iv((2, 3, 4, 5), "x", layout)
    assert not batched.unbatched and batched.add(x) is x and batched.strip(y) is y


def test_unbatched_inputs_are_not_modified_and_results_are_fresh(layout):
    p = _one("asym_pad", layout, np.float32)
    # a read-only, non-contiguous image: any change or write attempt shows
    x = np.repeat(p.x[0], 2, axis=-1)[..., ::2]
    gy = p.gy[0].copy()
    for a in (x, gy, p.w):
        a.setflags(write=False)
    before = [a.copy() for a in (x, gy, p.w)]
    results = [cconv.conv2d(x, p.w, p.b, **p.kw), *cconv.conv2d_backward(gy, x, p.w, **p.kw),
               cconv.conv2d_grad_input(gy, p.w, x.shape, **p.kw), cconv.conv2d_grad_weight(gy, x, p.w.shape, **p.kw)]
    for a, a0 in zip((x, gy, p.w), before):
        np.testing.assert_array_equal(a, a0)
    for r in results:
        assert r.flags.c_contiguous and r.flags.writeable
        assert not any(np.shares_memory(r, a) for a in (x, gy, p.w, p.b))


# ---------------------------------------------------------------------------
# Dask
# ---------------------------------------------------------------------------
def test_dask_takes_unbatched_arrays(layout):
    da = pytest.importorskip("dask.array")
    import cconv.dask as cdask

    p = _one("stride2_pad1", layout, np.float64)
    x, gy = p.x[0], p.gy[0]
    xd = da.from_array(x, chunks=(2, 3, 4))
    y = cdask.conv2d(xd, p.w, p.b, **p.kw)
    assert y.ndim == 3
    np.testing.assert_allclose(y.compute(), cconv.conv2d(x, p.w, p.b, **p.kw), rtol=1e-12, atol=1e-12)
    grads = cdask.conv2d_backward(da.from_array(gy, chunks=2), xd, p.w, **p.kw)
    assert grads[0].shape == x.shape and grads[0].chunks == xd.chunks
    for got, expected in zip(grads, cconv.conv2d_backward(gy, x, p.w, **p.kw)):
        np.testing.assert_allclose(got.compute(), expected, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"grad_out is batched .* but x is unbatched"):
        cdask.conv2d_backward(da.from_array(p.gy), xd, p.w, **p.kw)
