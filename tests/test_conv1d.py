"""conv1d, its gradients and conv_transpose1d against the float64 direct definition.

The oracle below is written from the definition (loops over output samples
and kernel taps, float64, only the short channel sums left to NumPy) and
imports nothing from cconv. Gradients are also checked by finite differences,
and "causal" padding against its own definition (output length, and y[t]
reading x[: t * stride + 1] only). The PyTorch comparisons are in
tests/test_torch_oracle.py.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import cconv
import cconv.reference as ref
from cconv import _unit_axis


# ---------------------------------------------------------------------------
# the oracle: NWC input (N, W, C), WIO weight (KW, C//groups, O)
# ---------------------------------------------------------------------------
def one(v):
    """int or (v,) -> v."""
    return int(v) if isinstance(v, (int, np.integer)) else int(v[0])


def pads_1d(padding, W, KW, stride, dilation):
    """Every 1-D padding form -> (left, right), from the documented rules."""
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return 0, 0
        if mode == "causal":
            return dilation * (KW - 1), 0
        assert mode == "same"
        out = math.ceil(W / stride)
        total = max((out - 1) * stride + (KW - 1) * dilation + 1 - W, 0)
        return total // 2, total - total // 2
    if isinstance(padding, (int, np.integer)):
        return int(padding), int(padding)
    if len(padding) == 1:
        p = padding[0]
        return (int(p), int(p)) if isinstance(p, (int, np.integer)) else (int(p[0]), int(p[1]))
    return int(padding[0]), int(padding[1])


def oracle_conv1d(x, w, b, *, stride=1, padding=0, dilation=1, groups=1):
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    N, W, C = x.shape
    KW, Cg, O = w.shape
    s, d = one(stride), one(dilation)
    left, right = pads_1d(padding, W, KW, s, d)
    Wo = (W + left + right - d * (KW - 1) - 1) // s + 1
    Og = O // groups
    y = np.zeros((N, Wo, O))
    for t in range(Wo):
        for k in range(KW):
            i = t * s - left + k * d
            if 0 <= i < W:
                for g in range(groups):
                    y[:, t, g * Og:(g + 1) * Og] += x[:, i, g * Cg:(g + 1) * Cg] @ w[k, :, g * Og:(g + 1) * Og]
    return y if b is None else y + np.asarray(b, np.float64)


def oracle_conv1d_backward(gy, x, w, *, stride=1, padding=0, dilation=1, groups=1):
    x, w, gy = (np.asarray(a, np.float64) for a in (x, w, gy))
    N, W, C = x.shape
    KW, Cg, O = w.shape
    s, d = one(stride), one(dilation)
    left, _ = pads_1d(padding, W, KW, s, d)
    Og = O // groups
    gx, gw = np.zeros_like(x), np.zeros_like(w)
    for t in range(gy.shape[1]):
        for k in range(KW):
            i = t * s - left + k * d
            if 0 <= i < W:
                for g in range(groups):
                    cs, os_ = slice(g * Cg, (g + 1) * Cg), slice(g * Og, (g + 1) * Og)
                    gx[:, i, cs] += gy[:, t, os_] @ w[k, :, os_].T
                    gw[k, :, os_] += x[:, i, cs].T @ gy[:, t, os_]
    return gx, gw, gy.sum(axis=(0, 1))


def oracle_conv_transpose1d(x, wt, b, *, stride=1, padding=0, output_padding=0, dilation=1, groups=1):
    """Each input sample i scatters x[n, i, :] @ weight into i*stride + k*dilation, then the ends are cropped.
    ``wt`` is (KW, C_out//groups, C_in)."""
    x, wt = np.asarray(x, np.float64), np.asarray(wt, np.float64)
    N, W, Cin = x.shape
    KW, Cog, _ = wt.shape
    s, d, op = one(stride), one(dilation), one(output_padding)
    left, right = pads_1d(padding, W, KW, s, d) if not isinstance(padding, str) else (0, 0)
    if isinstance(padding, str) and padding.lower() == "same":
        total = max(d * (KW - 1) + 1 - s, 0)
        left, right = total // 2, total - total // 2
    if isinstance(padding, str):
        op = max(s - (d * (KW - 1) + 1), 0)
    full = (W - 1) * s + d * (KW - 1) + 1 + op
    Cig = Cin // groups
    y = np.zeros((N, full, Cog * groups))
    for i in range(W):
        for k in range(KW):
            for g in range(groups):
                ci = slice(g * Cig, (g + 1) * Cig)
                y[:, i * s + k * d, g * Cog:(g + 1) * Cog] += x[:, i, ci] @ wt[k, :, ci].T
    y = y[:, left:full - right]
    return y if b is None else y + np.asarray(b, np.float64)


# layout helpers: the oracle is NWC / WIO (WOI for transposed weights)
def x_in(a, layout):
    return a if layout == "NWC" else a.transpose(0, 2, 1)


x_out = x_in      # (N, W, C) <-> (N, C, W) is its own inverse


def w_in(a, layout):
    return a if layout == "NWC" else a.transpose(2, 1, 0)


w_out = w_in


# ---------------------------------------------------------------------------
# the cases
# ---------------------------------------------------------------------------
# (id, N, W, C, O, KW, kwargs)
CASES = [
    ("basic", 2, 9, 3, 4, 3, {}),
    ("stride2_pad1", 2, 10, 3, 5, 3, dict(stride=2, padding=1)),
    ("per_side", 1, 8, 2, 3, 4, dict(padding=(3, 1))),
    ("per_axis_form", 2, 7, 2, 2, 3, dict(padding=((0, 2),), dilation=(2,), stride=(1,))),
    ("one_tuple", 1, 6, 2, 2, 3, dict(padding=(1,))),
    ("same_stride3", 2, 11, 4, 4, 4, dict(padding="same", stride=3)),
    ("valid", 1, 6, 3, 2, 6, dict(padding="VALID")),
    ("causal", 2, 9, 3, 4, 3, dict(padding="causal")),
    ("causal_strided_dilated", 2, 13, 2, 3, 3, dict(padding="causal", stride=2, dilation=3)),
    ("groups", 2, 8, 6, 4, 3, dict(groups=2, padding=1)),
    ("depthwise", 2, 12, 5, 5, 5, dict(groups=5, padding="same", dilation=2)),
    ("depthwise_multiplier", 1, 8, 3, 6, 3, dict(groups=3)),
    ("single_channel", 3, 16, 1, 9, 5, dict(padding=2)),
    ("single_channel_unpadded", 2, 20, 1, 6, 5, {}),              # the direct forward too (Wo = 16, O <= 8)
    ("pointwise", 2, 7, 6, 3, 1, {}),
    ("audio_stem", 1, 40, 1, 8, 10, dict(stride=5)),
    ("kernel_equals_input", 2, 5, 2, 3, 5, {}),
    ("few_channels_wide", 2, 40, 3, 5, 3, dict(padding=1)),      # once "gemm-band", now "gemm-implicit"
]
IDS = [c[0] for c in CASES]
LAYOUTS = ["NWC", "NCW"]


def problem(case, dtype=np.float64, seed=0):
    _, N, W, C, O, KW, kw = case
    rng = np.random.default_rng(seed)
    groups = kw.get("groups", 1)
    x = rng.standard_normal((N, W, C)).astype(dtype)
    w = rng.standard_normal((KW, C // groups, O)).astype(dtype)
    b = rng.standard_normal(O).astype(dtype)
    y = oracle_conv1d(x, w, b, **kw)
    gy = rng.standard_normal(y.shape).astype(dtype)
    return x, w, b, gy, kw


def tol(dtype):
    return 1e-12 if np.dtype(dtype) == np.float64 else 2e-5


def close(got, want, dtype):
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=tol(dtype), atol=tol(dtype) * scale * 4)


# ---------------------------------------------------------------------------
# forward and gradients against the definition
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv1d_matches_the_definition(case, layout, dtype):
    x, w, b, _, kw = problem(case, dtype)
    y = cconv.conv1d(x_in(x, layout), w_in(w, layout), b, layout=layout, **kw)
    assert y.dtype == dtype and y.flags.c_contiguous
    close(x_out(y, layout), oracle_conv1d(x, w, b, **kw), dtype)
    assert cconv.conv1d_output_shape(x_in(x, layout).shape, w_in(w, layout).shape, layout=layout, **kw) == y.shape


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv1d_gradients_match_the_definition(case, layout, dtype):
    x, w, _, gy, kw = problem(case, dtype)
    gx, gw, gb = cconv.conv1d_backward(x_in(gy, layout), x_in(x, layout), w_in(w, layout), layout=layout, **kw)
    ex, ew, eb = oracle_conv1d_backward(gy, x, w, **kw)
    close(x_out(gx, layout), ex, dtype)
    close(w_out(gw, layout), ew, dtype)
    close(gb, eb, dtype)
    gx2 = cconv.conv1d_grad_input(x_in(gy, layout), w_in(w, layout), x_in(x, layout).shape, layout=layout, **kw)
    gw2 = cconv.conv1d_grad_weight(x_in(gy, layout), x_in(x, layout), w_in(w, layout).shape, layout=layout, **kw)
    np.testing.assert_array_equal(gx2, gx)
    np.testing.assert_array_equal(gw2, gw)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_reference_conv1d_matches_the_definition(case, layout):
    x, w, b, gy, kw = problem(case)
    close(x_out(ref.conv1d(x_in(x, layout), w_in(w, layout), b, layout=layout, **kw), layout),
          oracle_conv1d(x, w, b, **kw), np.float64)
    gx, gw, gb = ref.conv1d_backward(x_in(gy, layout), x_in(x, layout), w_in(w, layout), layout=layout, **kw)
    ex, ew, eb = oracle_conv1d_backward(gy, x, w, **kw)
    close(x_out(gx, layout), ex, np.float64)
    close(w_out(gw, layout), ew, np.float64)
    close(gb, eb, np.float64)
    close(ref.conv1d_grad_input(x_in(gy, layout), w_in(w, layout), x_in(x, layout).shape, layout=layout, **kw),
          gx, np.float64)
    close(ref.conv1d_grad_weight(x_in(gy, layout), x_in(x, layout), w_in(w, layout).shape, layout=layout, **kw),
          gw, np.float64)


@pytest.mark.parametrize("case", [c for c in CASES if c[0] in ("basic", "stride2_pad1", "causal_strided_dilated",
                                                               "depthwise", "groups")], ids=lambda c: c[0])
def test_conv1d_gradients_by_finite_differences(case):
    x, w, b, gy, kw = problem(case, seed=1)
    gx, gw, gb = cconv.conv1d_backward(gy, x, w, **kw)
    rng = np.random.default_rng(2)

    def loss(xx, ww, bb):
        return float(np.sum(gy * cconv.conv1d(xx, ww, bb, **kw)))

    eps = 1e-6
    for grad, which in ((gx, 0), (gw, 1), (gb, 2)):
        v = rng.standard_normal(grad.shape)
        args_p, args_m = [x, w, b], [x, w, b]
        args_p[which] = args_p[which] + eps * v
        args_m[which] = args_m[which] - eps * v
        numeric = (loss(*args_p) - loss(*args_m)) / (2 * eps)
        assert numeric == pytest.approx(float(np.sum(grad * v)), rel=1e-6, abs=1e-8)


# ---------------------------------------------------------------------------
# causal padding against its definition
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("W,KW,stride,dilation", [(9, 3, 1, 1), (10, 4, 2, 1), (13, 3, 3, 2), (5, 5, 1, 1),
                                                  (7, 2, 4, 3), (1, 3, 1, 1)])
def test_causal_output_length_and_dependence(W, KW, stride, dilation):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, W, 2))
    w = rng.uniform(0.5, 1.5, (KW, 2, 3))   # no zero taps: every sample in reach changes the output
    kw = dict(padding="causal", stride=stride, dilation=dilation)
    y = cconv.conv1d(x, w, **kw)
    assert y.shape == (1, math.ceil(W / stride), 3)
    # Keras: all of dilation*(KW-1) on the left
    np.testing.assert_array_equal(y, cconv.conv1d(x, w, padding=(dilation * (KW - 1), 0), stride=stride,
                                                   dilation=dilation))
    for j in range(W):
        bumped = x.copy()
        bumped[0, j] += 1.0
        changed = np.abs(cconv.conv1d(bumped, w, **kw) - y).max(axis=(0, 2)) > 0
        for t in range(y.shape[1]):
            if t * stride < j:
                assert not changed[t], f"y[{t}] depends on x[{j}], later than t*stride={t * stride}"
        # and the last tap does read x[t*stride] itself
        if j % stride == 0:
            assert changed[j // stride]


def test_causal_gradients_and_layer():
    x, w, b, gy, kw = problem(CASES[IDS.index("causal_strided_dilated")])
    layer = cconv.Conv1D(2, 3, 3, padding="causal", stride=2, dilation=3, dtype=np.float64, rng=0)
    layer.bias = b
    y = layer(x)
    close(y, oracle_conv1d(x, layer.weight, b, **kw), np.float64)
    gx = layer.backward(gy)
    ex, ew, eb = oracle_conv1d_backward(gy, x, layer.weight, **kw)
    close(gx, ex, np.float64)
    close(layer.grad_weight, ew, np.float64)
    close(layer.grad_bias, eb, np.float64)


# ---------------------------------------------------------------------------
# unbatched input
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("layout", LAYOUTS)
def test_unbatched_calls_equal_a_batch_of_one(layout):
    x, w, b, gy, kw = problem(("u", 1, 10, 4, 6, 3, dict(stride=2, padding=(2, 1), groups=2)))
    xu, gyu, wl = x_in(x, layout)[0], x_in(gy, layout)[0], w_in(w, layout)
    kw = dict(kw, layout=layout)
    y = cconv.conv1d(xu, wl, b, **kw)
    np.testing.assert_array_equal(y, cconv.conv1d(xu[None], wl, b, **kw)[0])
    assert cconv.conv1d_output_shape(xu.shape, wl.shape, **kw) == y.shape
    gx, gw, gb = cconv.conv1d_backward(gyu, xu, wl, **kw)
    bx, bw, bb = cconv.conv1d_backward(gyu[None], xu[None], wl, **kw)
    np.testing.assert_array_equal(gx, bx[0])
    np.testing.assert_array_equal(gw, bw)
    assert gx.shape == xu.shape
    np.testing.assert_array_equal(cconv.conv1d_grad_input(gyu, wl, xu.shape, **kw), gx)
    np.testing.assert_array_equal(cconv.conv1d_grad_weight(gyu, xu, wl.shape, **kw), gw)
    np.testing.assert_array_equal(ref.conv1d(xu, wl, b, **kw), ref.conv1d(xu[None], wl, b, **kw)[0])
    wt = w_in(np.random.default_rng(0).standard_normal((3, 2, 6)), layout)   # C_in = 6, C_out = 4
    t = cconv.conv_transpose1d(y, wt, stride=2, groups=2, layout=layout)
    np.testing.assert_array_equal(t, cconv.conv_transpose1d(y[None], wt, stride=2, groups=2, layout=layout)[0])
    tx, tw, tb = cconv.conv_transpose1d_backward(t, y, wt, stride=2, groups=2, layout=layout)
    assert tx.shape == y.shape and tw.shape == wt.shape and tb.shape == (4,)


# ---------------------------------------------------------------------------
# the transposed convolution
# ---------------------------------------------------------------------------
# (id, N, W, C_in, C_out, KW, kwargs)
T_CASES = [
    ("basic", 2, 5, 3, 4, 3, {}),
    ("stride2", 2, 6, 4, 2, 3, dict(stride=2, padding=1, output_padding=1)),
    ("per_side", 1, 5, 2, 3, 4, dict(padding=(2, 0), stride=3)),
    ("dilated_op", 1, 4, 2, 2, 3, dict(dilation=3, stride=2, output_padding=2)),
    ("groups", 2, 5, 4, 6, 3, dict(groups=2, stride=(2,))),
    ("same", 2, 6, 3, 3, 4, dict(padding="same", stride=2)),
    ("valid_short_kernel", 1, 4, 2, 2, 1, dict(padding="valid", stride=3)),
    ("depthwise", 2, 7, 4, 4, 3, dict(groups=4, padding=1)),
]
T_IDS = [c[0] for c in T_CASES]


def t_problem(case, dtype=np.float64, seed=0):
    _, N, W, Cin, Cout, KW, kw = case
    rng = np.random.default_rng(seed)
    groups = kw.get("groups", 1)
    x = rng.standard_normal((N, W, Cin)).astype(dtype)
    wt = rng.standard_normal((KW, Cout // groups, Cin)).astype(dtype)
    b = rng.standard_normal(Cout).astype(dtype)
    y = oracle_conv_transpose1d(x, wt, b, **kw)
    gy = rng.standard_normal(y.shape).astype(dtype)
    return x, wt, b, gy, kw


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", T_CASES, ids=T_IDS)
def test_conv_transpose1d_matches_the_definition(case, layout, dtype):
    x, wt, b, gy, kw = t_problem(case, dtype)
    y = cconv.conv_transpose1d(x_in(x, layout), w_in(wt, layout), b, layout=layout, **kw)
    close(x_out(y, layout), oracle_conv_transpose1d(x, wt, b, **kw), dtype)
    gx, gw, gb = cconv.conv_transpose1d_backward(x_in(gy, layout), x_in(x, layout), w_in(wt, layout),
                                                 layout=layout, **kw)
    assert gx.shape == x_in(x, layout).shape and gw.shape == w_in(wt, layout).shape
    # its gradients by finite differences of <gy, y(x, w, b)> (linear in each, so exact up to rounding)
    y64 = oracle_conv_transpose1d(x, wt, None, **kw)
    rng = np.random.default_rng(5)
    vx, vw = rng.standard_normal(x.shape), rng.standard_normal(wt.shape)
    dx = np.sum(gy * (oracle_conv_transpose1d(x + vx, wt, None, **kw) - y64))
    dw = np.sum(gy * (oracle_conv_transpose1d(x, wt + vw, None, **kw) - y64))
    scale = float(np.abs(gy).sum() * max(np.abs(x).max(), np.abs(wt).max()))
    assert float(np.sum(x_out(gx, layout) * vx)) == pytest.approx(dx, abs=tol(dtype) * scale * 10)
    assert float(np.sum(w_out(gw, layout) * vw)) == pytest.approx(dw, abs=tol(dtype) * scale * 10)
    close(gb, gy.sum(axis=(0, 1)), dtype)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv_transpose1d_is_the_adjoint_of_conv1d(case):
    x, w, _, gy, kw = problem(case)
    if kw.get("padding") in ("same", "causal") or isinstance(kw.get("padding"), str):
        left, right = pads_1d(kw["padding"], x.shape[1], w.shape[0], one(kw.get("stride", 1)),
                              one(kw.get("dilation", 1)))
        kw = dict(kw, padding=(left, right))
    # the transposed convolution of conv1d's output size back to x's: output_padding picks W
    full = (gy.shape[1] - 1) * one(kw.get("stride", 1)) + one(kw.get("dilation", 1)) * (w.shape[0] - 1) + 1
    left, right = pads_1d(kw.get("padding", 0), x.shape[1], w.shape[0], 1, 1)
    op = x.shape[1] - (full - left - right)
    if not 0 <= op < max(one(kw.get("stride", 1)), one(kw.get("dilation", 1))):
        pytest.skip("x's width is not reachable by output_padding here")
    wt = w  # WIO of the convolution is the WOI weight of its transpose with C_in = O
    back = cconv.conv_transpose1d(gy, wt, output_padding=op, **kw)
    assert back.shape == x.shape
    y = cconv.conv1d(x, w, **kw)
    assert np.sum(y * gy) == pytest.approx(np.sum(x * back), rel=1e-12)


# ---------------------------------------------------------------------------
# routes, algorithms, views
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("case_id,forward", [("depthwise", "direct-depthwise"), ("single_channel_unpadded",
                                              "direct-single-channel"), ("single_channel", "gemm-implicit"), ("pointwise", "gemm-pointwise"),
                                             ("basic", "gemm-implicit"), ("causal", "gemm-implicit"),
                                             ("few_channels_wide", "gemm-implicit")])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_select_algorithm_tells_the_1d_routes(case_id, forward, layout):
    x, w, b, gy, kw = problem(CASES[IDS.index(case_id)])
    routes = cconv.select_algorithm(x_in(x, layout).shape, w_in(w, layout).shape, layout=layout, **kw)
    assert routes["forward"] == forward and routes["isa"] in ("baseline", "avx2", "avx512")
    algorithm = "direct" if forward.startswith("direct") else "gemm"   # gemm also takes gemm-implicit
    y = cconv.conv1d(x_in(x, layout), w_in(w, layout), b, layout=layout, algorithm=algorithm, **kw)
    close(x_out(y, layout), oracle_conv1d(x, w, b, **kw), np.float64)
    gx, gw, _ = cconv.conv1d_backward(x_in(gy, layout), x_in(x, layout), w_in(w, layout), layout=layout,
                                      algorithm=algorithm, **kw)
    ex, ew, _ = oracle_conv1d_backward(gy, x, w, **kw)
    close(x_out(gx, layout), ex, np.float64)
    close(w_out(gw, layout), ew, np.float64)


def test_winograd_and_direct_refusals_speak_1d():
    x, w = np.ones((1, 8, 4)), np.ones((3, 4, 4))
    with pytest.raises(ValueError, match=r"algorithm='winograd'.*2-D 3x3 kernels.*KW=3"):
        cconv.conv1d(x, w, algorithm="winograd")
    with pytest.raises(ValueError, match=r"algorithm='direct'.*stride=\(2,\)$"):
        cconv.conv1d(x, w, stride=2, algorithm="direct")
    with pytest.raises(ValueError, match=r"algorithm='winograd'"):
        cconv.select_algorithm(x.shape, w.shape, layout="NWC", algorithm="winograd")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_unit_axis_is_a_view(layout):
    x = np.zeros((2, 3, 5))
    for kind in ("x", "w", "wt"):
        lifted = _unit_axis.lift(x, kind, layout)
        assert lifted.ndim == 4 and lifted.flags.c_contiguous and np.shares_memory(lifted, x)
        back = _unit_axis.drop(lifted, kind, layout)
        assert back.shape == x.shape and np.shares_memory(back, x)
    assert _unit_axis.lift(x, "x", "NWC").shape == (2, 1, 3, 5)           # NWC -> NHWC
    assert _unit_axis.lift(x, "x", "NCW").shape == (2, 3, 1, 5)           # NCW -> NCHW
    assert _unit_axis.lift(x[0], "x", "NWC", unbatched=True).shape == (1, 3, 5)
    assert _unit_axis.lift(x, "w", "NWC").shape == (1, 2, 3, 5)           # WIO -> HWIO
    assert _unit_axis.lift(x, "w", "NCW").shape == (2, 3, 1, 5)           # OIW -> OIHW


def test_inputs_are_not_modified_and_strided_views_work():
    x, w, b, gy, kw = problem(CASES[IDS.index("groups")])
    big = np.full((x.shape[0], x.shape[1] * 2, x.shape[2]), np.nan)
    big[:, ::2] = x
    xs = big[:, ::2]
    wf = np.asfortranarray(w)
    before = [a.copy() for a in (big, wf, b, gy)]
    close(cconv.conv1d(xs, wf, b, **kw), oracle_conv1d(x, w, b, **kw), np.float64)
    cconv.conv1d_backward(gy, xs, wf, **kw)
    for a, c in zip((big, wf, b, gy), before):
        np.testing.assert_array_equal(a, c)


def test_integer_inputs_give_float64_and_float16_stays_float16():
    x, w = np.ones((1, 6, 2), np.int32), np.ones((3, 2, 2), np.int64)
    assert cconv.conv1d(x, w).dtype == np.float64
    assert cconv.conv1d(x.astype(np.float16), w.astype(np.float16)).dtype == np.float16


# ---------------------------------------------------------------------------
# layers
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("layout", LAYOUTS)
def test_conv1d_layer(layout):
    layer = cconv.Conv1D(4, 6, 3, stride=2, padding=1, groups=2, layout=layout, dtype=np.float64, rng=7)
    other = cconv.Conv1D(4, 6, 3, stride=2, padding=1, groups=2, layout="NWC", dtype=np.float64, rng=7)
    np.testing.assert_array_equal(w_out(layer.weight, layout), other.weight)   # same draw in either layout
    assert layer.weight.shape == ((3, 2, 6) if layout == "NWC" else (6, 2, 3))
    x = x_in(np.random.default_rng(0).standard_normal((2, 9, 4)), layout)
    y = layer(x)
    kw = dict(stride=2, padding=1, groups=2, layout=layout)
    np.testing.assert_array_equal(y, cconv.conv1d(x, layer.weight, layer.bias, **kw))
    gy = np.ones_like(y)
    gx = layer.backward(gy)
    ex, ew, eb = cconv.conv1d_backward(gy, x, layer.weight, **kw)
    np.testing.assert_array_equal(gx, ex)
    np.testing.assert_array_equal(layer.grad_weight, ew)
    np.testing.assert_array_equal(layer.grad_bias, eb)
    assert layer(x[0]).shape == y.shape[1:]                       # unbatched
    assert repr(layer).startswith("Conv1D(4, 6, kernel_size=(3,), stride=2")
    assert not isinstance(layer, cconv.Conv2D)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_conv_transpose1d_layer(layout):
    layer = cconv.ConvTranspose1D(4, 6, 3, stride=2, output_padding=1, groups=2, layout=layout,
                                  dtype=np.float32, rng=1)
    assert layer.weight.shape == ((3, 3, 4) if layout == "NWC" else (4, 3, 3))
    assert layer.weight.dtype == np.float32
    x = x_in(np.random.default_rng(0).standard_normal((2, 5, 4)).astype(np.float32), layout)
    y = layer(x)
    kw = dict(stride=2, output_padding=1, groups=2, layout=layout)
    np.testing.assert_array_equal(y, cconv.conv_transpose1d(x, layer.weight, layer.bias, **kw))
    gx = layer.backward(np.ones_like(y))
    ex, ew, _ = cconv.conv_transpose1d_backward(np.ones_like(y), x, layer.weight, **kw)
    np.testing.assert_array_equal(gx, ex)
    np.testing.assert_array_equal(layer.grad_weight, ew)
    assert repr(layer).startswith("ConvTranspose1D(4, 6, kernel_size=(3,)")
    with pytest.raises(RuntimeError, match="ConvTranspose1D.backward called before forward"):
        cconv.ConvTranspose1D(4, 6, 3).backward(y)
