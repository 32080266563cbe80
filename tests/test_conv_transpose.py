"""conv_transpose2d and conv_transpose2d_backward against the float64 direct
definition (tests/_oracle.py) and, when torch is importable, PyTorch; finite
differences and the adjoint identity with conv2d; dtype rules, bad input,
immutability.

The sizes and crops of every case are resolved here from the PyTorch and
TensorFlow/Keras definitions (``resolve``), never from cconv; the loop oracle
scatters every input pixel through every tap and cuts the result to them.
The PyTorch oracle works in float64 on NCHW with the weight
(C_in, C_out//groups, KH, KW). Symmetric padding with a PyTorch-legal
output_padding goes straight to ``F.conv_transpose2d``; any other padding is
the unpadded transposed convolution, zero-extended at the bottom/right and
cropped (that is the definition of the per-side crop; it is checked against
the direct call on the symmetric cases). The string paddings are resolved here
from the TensorFlow/Keras rules, not from cconv.
"""
from __future__ import annotations

import numpy as np
import pytest

import cconv
from _oracle import (act_from_nhwc, act_to_nhwc, conv_transpose2d_backward_loop, conv_transpose2d_loop, pair,
                     same_pads_1d, weight_from_hwio, weight_to_hwio)

try:
    import torch
    F = torch.nn.functional
except ImportError:    # the definition is the oracle; PyTorch, when installed, is a second one
    torch = F = None

# Sizes: x (N, H, W, C_in) in NHWC terms; weight holds C_out // groups per group.
CASES = [
    dict(id="basic3x3", N=2, H=4, W=5, Cin=3, Cout=4, K=(3, 3), stride=1, padding=0, op=0, dilation=1, groups=1),
    dict(id="s2_p1_op1", N=2, H=4, W=4, Cin=3, Cout=2, K=(3, 3), stride=2, padding=1, op=1, dilation=1, groups=1),
    dict(id="s3_rect_op2", N=1, H=3, W=4, Cin=2, Cout=3, K=(2, 3), stride=3, padding=0, op=2, dilation=1,
         groups=1),
    dict(id="s2x3_pairpad_pairop", N=2, H=3, W=4, Cin=2, Cout=3, K=(3, 2), stride=(2, 3), padding=(1, 0),
         op=(1, 2), dilation=1, groups=1),
    dict(id="asym_pad_s2", N=2, H=4, W=3, Cin=3, Cout=2, K=(3, 3), stride=2, padding=((0, 2), (1, 0)), op=1,
         dilation=1, groups=1),
    dict(id="dil2_op_ge_stride", N=2, H=4, W=5, Cin=2, Cout=3, K=(3, 3), stride=1, padding=1, op=1, dilation=2,
         groups=1),
    dict(id="dil_rect_op_ge_stride_asym", N=1, H=3, W=4, Cin=4, Cout=2, K=(2, 3), stride=(1, 2),
         padding=((1, 2), (0, 1)), op=(1, 2), dilation=(2, 3), groups=2),
    dict(id="groups2_s2", N=2, H=4, W=4, Cin=4, Cout=6, K=(3, 3), stride=2, padding=1, op=1, dilation=1,
         groups=2),
    dict(id="depthwise_s2", N=2, H=5, W=4, Cin=5, Cout=5, K=(3, 3), stride=2, padding=1, op=1, dilation=1,
         groups=5),
    dict(id="depthwise_mult2", N=2, H=4, W=5, Cin=3, Cout=6, K=(3, 2), stride=1, padding=(1, 0), op=0,
         dilation=1, groups=3),
    dict(id="depthwise_dil_asym", N=1, H=5, W=5, Cin=4, Cout=4, K=(3, 3), stride=(2, 1),
         padding=((2, 0), (1, 2)), op=(1, 0), dilation=(1, 2), groups=4),
    dict(id="pointwise_s1", N=2, H=4, W=5, Cin=5, Cout=4, K=(1, 1), stride=1, padding=0, op=0, dilation=1,
         groups=1),
    dict(id="pointwise_s2_op1", N=2, H=3, W=4, Cin=4, Cout=3, K=(1, 1), stride=2, padding=0, op=1, dilation=1,
         groups=1),
    dict(id="same_s2_k3", N=2, H=4, W=5, Cin=2, Cout=3, K=(3, 3), stride=2, padding="same", op=0, dilation=1,
         groups=1),
    dict(id="SAME_s3_k2", N=1, H=3, W=3, Cin=2, Cout=2, K=(2, 2), stride=3, padding="SAME", op=0, dilation=1,
         groups=1),
    dict(id="same_dil2_k4", N=1, H=4, W=3, Cin=3, Cout=2, K=(4, 2), stride=(2, 1), padding="Same", op=0,
         dilation=2, groups=1),
    dict(id="valid_s2_k3", N=2, H=3, W=4, Cin=2, Cout=3, K=(3, 3), stride=2, padding="valid", op=0, dilation=1,
         groups=1),
    dict(id="VALID_s3_k2", N=1, H=3, W=4, Cin=3, Cout=2, K=(2, 1), stride=3, padding="VALID", op=0, dilation=1,
         groups=1),
    dict(id="gemm_tiles", N=2, H=5, W=6, Cin=20, Cout=35, K=(3, 3), stride=2, padding=1, op=1, dilation=1,
         groups=1),
    dict(id="crop_to_small", N=2, H=3, W=3, Cin=2, Cout=2, K=(3, 3), stride=1, padding=(2, 1), op=0, dilation=1,
         groups=1),
]
BY_ID = {c["id"]: c for c in CASES}
TWO_THREAD_CASES = ("gemm_tiles",)   # the rest run on one thread: tiny sizes, and a shared CI box


@pytest.fixture(autouse=True, scope="module")
def _one_thread_each():
    """One torch and one cconv thread by default: two thread pools spinning against each other on tiny
    problems cost far more than the work (num_threads=2 is exercised explicitly)."""
    saved = (torch.get_num_threads() if torch else None), cconv.get_num_threads()
    if torch:
        torch.set_num_threads(1)
    cconv.set_num_threads(1)
    yield
    if torch:
        torch.set_num_threads(saved[0])
    cconv.set_num_threads(saved[1])

TOL = {np.float32: 3e-6, np.float64: 1e-13}   # max |error| relative to max |reference| (and at least 1)


# ---------------------------------------------------------------------------
# the oracle's own resolution of sizes (from the PyTorch / Keras definitions)
# ---------------------------------------------------------------------------
def resolve(case):
    """((top, bottom), (left, right)) crops, (oph, opw) and (Hout, Wout) for a case."""
    H, W, (KH, KW) = case["H"], case["W"], case["K"]
    s, d, op, padding = pair(case["stride"]), pair(case["dilation"]), pair(case["op"]), case["padding"]
    span = ((KH - 1) * d[0] + 1, (KW - 1) * d[1] + 1)
    full = [(n - 1) * s[i] + span[i] for i, n in enumerate((H, W))]   # uncropped, no output_padding
    if isinstance(padding, str):
        if padding.lower() == "same":   # Keras: out = n * stride; conv2d "same" on that size is the adjoint
            out = [n * s[i] for i, n in enumerate((H, W))]
            pads = tuple(same_pads_1d(out[i], (KH, KW)[i], s[i], d[i]) for i in range(2))
        else:                           # Keras "valid": out = n * stride + max(span - stride, 0)
            out = [n * s[i] + max(span[i] - s[i], 0) for i, n in enumerate((H, W))]
            pads = ((0, 0), (0, 0))
        op = tuple(out[i] - full[i] + sum(pads[i]) for i in range(2))
    elif isinstance(padding, int):
        pads = ((padding, padding), (padding, padding))
    elif isinstance(padding[0], int):
        pads = ((padding[0], padding[0]), (padding[1], padding[1]))
    else:
        pads = padding
    out = tuple(full[i] + op[i] - sum(pads[i]) for i in range(2))
    return pads, op, out


def loop_transpose_all(x, w, b, gy, case, layout):
    """(y, grad_x, grad_w, grad_b) in float64 and ``layout`` from the direct definition."""
    pads, _, out_hw = resolve(case)
    geo = dict(stride=case["stride"], crop_before=(pads[0][0], pads[1][0]), dilation=case["dilation"],
               groups=case["groups"])
    x64 = act_to_nhwc(np.asarray(x, np.float64), layout)
    w64 = weight_to_hwio(np.asarray(w, np.float64), layout)    # the same axis moves: (KH, KW, C_out//g, C_in)
    y = conv_transpose2d_loop(x64, w64, b, out_hw=out_hw, **geo)
    gx, gw, gb = conv_transpose2d_backward_loop(act_to_nhwc(np.asarray(gy, np.float64), layout), x64, w64, **geo)
    return act_from_nhwc(y, layout), act_from_nhwc(gx, layout), weight_from_hwio(gw, layout), gb


def torch_transpose_all(x, w, b, gy, case, layout):
    """(y, grad_x, grad_w, grad_b) in float64 and ``layout`` from PyTorch autograd.

    An unbatched x (and gy) goes to PyTorch unbatched, as (C, H, W).
    """
    pads, op, (Hout, Wout) = resolve(case)
    s, d = pair(case["stride"]), pair(case["dilation"])
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    # channels-last activations to torch's channels-first order and back, with or without N
    to_torch = (lambda a: a.transpose(0, 3, 1, 2)) if x.ndim == 4 else (lambda a: a.transpose(2, 0, 1))
    from_torch = (lambda a: a.transpose(0, 2, 3, 1)) if x.ndim == 4 else (lambda a: a.transpose(1, 2, 0))
    if layout == "NHWC":
        x, w = to_torch(x), w.transpose(3, 2, 0, 1)
    xt = torch.tensor(np.ascontiguousarray(x), requires_grad=True)
    wt = torch.tensor(np.ascontiguousarray(w), requires_grad=True)
    bt = None if b is None else torch.tensor(np.asarray(b, np.float64), requires_grad=True)
    yt = _torch_forward(xt, wt, bt, pads, op, (Hout, Wout), s, d, case["groups"])
    gyt = None
    if gy is not None:
        gy = np.asarray(gy, np.float64)
        gyt = torch.tensor(np.ascontiguousarray(to_torch(gy) if layout == "NHWC" else gy))
        yt.backward(gyt)
    back = from_torch if layout == "NHWC" else (lambda a: a)
    y = back(yt.detach().numpy())
    if gy is None:
        return y, None, None, None
    gw = wt.grad.numpy()
    return (y, back(xt.grad.numpy()), gw.transpose(2, 3, 1, 0) if layout == "NHWC" else gw,
            None if bt is None else bt.grad.numpy())


def _torch_forward(xt, wt, bt, pads, op, out_hw, s, d, groups, force_crop=False):
    (pt, pb), (pl, pr) = pads
    legal_op = all(op[i] < max(s[i], d[i]) for i in range(2))
    if pt == pb and pl == pr and legal_op and not force_crop:
        return F.conv_transpose2d(xt, wt, bt, stride=s, padding=(pt, pl), output_padding=op, groups=groups,
                                  dilation=d)
    full = F.conv_transpose2d(xt, wt, None, stride=s, padding=0, groups=groups, dilation=d)
    full = F.pad(full, (0, out_hw[1] + pl, 0, out_hw[0] + pt))      # zeros beyond the scattered rows
    y = full[..., pt:pt + out_hw[0], pl:pl + out_hw[1]]   # batched or unbatched alike
    return y if bt is None else y + bt[:, None, None]


def make(case, layout, dtype, seed=0, N=None, bias=True):
    """Random x, w, b, gy for a case in ``layout`` and ``dtype``, plus keyword arguments."""
    rng = np.random.default_rng(seed)
    n = case["N"] if N is None else N
    KH, KW = case["K"]
    _, _, (Hout, Wout) = resolve(case)
    x = rng.standard_normal((n, case["H"], case["W"], case["Cin"]))
    w = rng.standard_normal((KH, KW, case["Cout"] // case["groups"], case["Cin"]))
    gy = rng.standard_normal((n, Hout, Wout, case["Cout"]))
    b = rng.standard_normal(case["Cout"]).astype(dtype) if bias else None
    if layout == "NCHW":
        x, w, gy = x.transpose(0, 3, 1, 2), w.transpose(3, 2, 0, 1), gy.transpose(0, 3, 1, 2)
    kw = dict(stride=case["stride"], padding=case["padding"], output_padding=case["op"],
              dilation=case["dilation"], groups=case["groups"], layout=layout)
    as_dtype = lambda a: np.ascontiguousarray(a, dtype=dtype)  # noqa: E731
    return as_dtype(x), as_dtype(w), b, as_dtype(gy), kw


def rel_err(a, ref):
    return float(np.max(np.abs(np.asarray(a, np.float64) - ref), initial=0.0) / max(1.0, np.max(np.abs(ref),
                                                                                        initial=0.0)))


# ---------------------------------------------------------------------------
# against the definition, and PyTorch when it is installed
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_forward_and_gradients_match_definition_and_torch(case, layout, dtype):
    # every other case (and the other half in the other layout) runs without bias
    bias = (CASES.index(case) + (layout == "NCHW")) % 2 == 0
    x, w, b, gy, kw = make(case, layout, dtype, bias=bias)
    oracles = [("definition", *loop_transpose_all(x, w, b, gy, case, layout))]
    if torch is not None:
        oracles.append(("torch", *torch_transpose_all(x, w, b, gy, case, layout)))
    out_shape = cconv.conv_transpose2d_output_shape(x.shape, w.shape, **kw)
    kw["num_threads"] = 2 if case["id"] in TWO_THREAD_CASES else None
    y = cconv.conv_transpose2d(x, w, b, **kw)
    gx, gw, gb = cconv.conv_transpose2d_backward(gy, x, w, **kw)
    assert y.dtype == dtype and y.flags.c_contiguous
    assert gx.shape == x.shape and gw.shape == w.shape and gb.shape == (case["Cout"],)
    assert gx.dtype == gw.dtype == gb.dtype == dtype
    for name, y_ref, gx_ref, gw_ref, gb_ref in oracles:
        assert out_shape == y.shape == y_ref.shape, name
        assert rel_err(y, y_ref) <= TOL[dtype], f"y vs {name}"
        assert rel_err(gx, gx_ref) <= TOL[dtype], f"grad_x vs {name}"
        assert rel_err(gw, gw_ref) <= TOL[dtype], f"grad_weight vs {name}"
        gb_ref = np.asarray(gy, np.float64).sum(axis=(0, 1, 2) if layout == "NHWC" else (0, 2, 3)) \
            if gb_ref is None else gb_ref
        assert rel_err(gb, gb_ref) <= TOL[dtype], f"grad_bias vs {name}"


NUMERIC_PAD_CASES = [c for c in CASES if not isinstance(c["padding"], str)][:6]


@pytest.mark.parametrize("case", NUMERIC_PAD_CASES, ids=lambda c: c["id"])
def test_oracle_sizes_follow_pytorch_formula(case):
    # The sizes ``resolve`` gives (and the definition's output) follow PyTorch's formula with per-side padding.
    x, w, b, _, _ = make(case, "NHWC", np.float64)
    pads, op, out_hw = resolve(case)
    s, d = pair(case["stride"]), pair(case["dilation"])
    assert out_hw == tuple((n - 1) * s[i] - sum(pads[i]) + d[i] * (case["K"][i] - 1) + op[i] + 1
                           for i, n in enumerate((case["H"], case["W"])))
    y = conv_transpose2d_loop(x, w, b, out_hw=out_hw, stride=s, crop_before=(pads[0][0], pads[1][0]), dilation=d,
                              groups=case["groups"])
    assert y.shape == (case["N"], *out_hw, case["Cout"])


def test_string_padding_output_sizes_follow_keras():
    # "same": out = H * stride; "valid": out = H * stride + max(span - stride, 0)
    w = np.zeros((3, 2, 4, 2))                         # NHWC weight: KH=3, KW=2, C_out=4, C_in=2
    shape = (1, 5, 7, 2)
    assert cconv.conv_transpose2d_output_shape(shape, w.shape, stride=(2, 3), padding="same") == (1, 10, 21, 4)
    assert cconv.conv_transpose2d_output_shape(shape, w.shape, stride=(2, 3), padding="valid") == (1, 11, 21, 4)
    assert cconv.conv_transpose2d_output_shape(shape, w.shape, stride=1, dilation=2, padding="valid") == \
        (1, 9, 9, 4)


# ---------------------------------------------------------------------------
# independent identities
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("case_id", ["basic3x3", "s2_p1_op1", "asym_pad_s2", "groups2_s2", "depthwise_dil_asym",
                                     "same_s2_k3", "s3_rect_op2"])
def test_adjoint_of_conv2d(case_id, layout):
    """<conv2d(z, w), x> == <z, conv_transpose2d(x, w)> with the same weight and parameters."""
    case = BY_ID[case_id]
    x, w, _, z, kw = make(case, layout, np.float64, seed=3)
    pads, _, _ = resolve(case)
    conv_kw = dict(stride=kw["stride"], padding=pads, dilation=kw["dilation"], groups=kw["groups"], layout=layout)
    cz = cconv.conv2d(z, w, **conv_kw)
    assert cz.shape == x.shape
    lhs = float(np.sum(cz * x))
    rhs = float(np.sum(z * cconv.conv_transpose2d(x, w, **kw)))
    assert abs(lhs - rhs) <= 1e-12 * max(1.0, abs(lhs), float(np.abs(cz).sum()))


@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
def test_finite_differences(layout):
    """Directional derivatives of L = <gy, conv_transpose2d(x, w, b)> match the returned gradients."""
    case = BY_ID["dil_rect_op_ge_stride_asym"]
    x, w, b, gy, kw = make(case, layout, np.float64, seed=5)
    gx, gw, gb = cconv.conv_transpose2d_backward(gy, x, w, **kw)
    loss = lambda x_, w_, b_: float(np.sum(gy * cconv.conv_transpose2d(x_, w_, b_, **kw)))  # noqa: E731
    rng = np.random.default_rng(11)
    h = 1e-6
    for _ in range(3):
        dx, dw, db = rng.standard_normal(x.shape), rng.standard_normal(w.shape), rng.standard_normal(b.shape)
        numeric = (loss(x + h * dx, w + h * dw, b + h * db) - loss(x - h * dx, w - h * dw, b - h * db)) / (2 * h)
        analytic = float(np.sum(gx * dx) + np.sum(gw * dw) + np.sum(gb * db))
        assert abs(numeric - analytic) <= 1e-6 * max(1.0, abs(analytic))
    # one coordinate of each, exactly where the output_padding >= stride rows reach
    for arr, grad, idx in ((x, gx, (0,) + ((2, 3, 1) if layout == "NHWC" else (1, 2, 3))), (w, gw, (1, 2, 0, 1) if layout == "NHWC" else (1, 0, 1, 2))):
        e = np.zeros_like(arr)
        e[idx] = 1.0
        args_p = (x + h * e, w, b) if arr is x else (x, w + h * e, b)
        args_m = (x - h * e, w, b) if arr is x else (x, w - h * e, b)
        assert abs((loss(*args_p) - loss(*args_m)) / (2 * h) - grad[idx]) <= 1e-6 * max(1.0, abs(grad[idx]))


def test_empty_batch(layout, dtype):
    case = BY_ID["s2_p1_op1"]
    x, w, b, gy, kw = make(case, layout, dtype, N=0)
    _, _, (Hout, Wout) = resolve(case)
    y = cconv.conv_transpose2d(x, w, b, **kw)
    assert y.shape == ((0, Hout, Wout, case["Cout"]) if layout == "NHWC" else (0, case["Cout"], Hout, Wout))
    gx, gw, gb = cconv.conv_transpose2d_backward(gy, x, w, **kw)
    assert gx.shape == x.shape and gw.shape == w.shape and gb.shape == (case["Cout"],)
    assert not gw.any() and not gb.any()


# ---------------------------------------------------------------------------
# dtype rules (as conv2d), immutability and memory order
# ---------------------------------------------------------------------------
def test_dtype_rules():
    case = BY_ID["groups2_s2"]
    x, w, b, gy, kw = make(case, "NHWC", np.float64)
    y64 = cconv.conv_transpose2d(x, w, b, **kw)
    # float16: computed in float32, returned as float16
    x16, w16, b16 = x.astype(np.float16), w.astype(np.float16), b.astype(np.float16)
    y16 = cconv.conv_transpose2d(x16, w16, b16, **kw)
    assert y16.dtype == np.float16
    y_from16 = cconv.conv_transpose2d(x16.astype(np.float64), w16.astype(np.float64), b16.astype(np.float64), **kw)
    np.testing.assert_allclose(y16.astype(np.float64), y_from16, rtol=2e-3, atol=2e-3 * np.abs(y_from16).max())
    assert all(g.dtype == np.float16 for g in cconv.conv_transpose2d_backward(gy.astype(np.float16), x16, w16, **kw))
    # integers: float64 results equal to the float64 computation on the same values
    xi, wi = np.round(3 * x).astype(np.int32), np.round(3 * w).astype(np.int64)
    yi = cconv.conv_transpose2d(xi, wi, **kw)
    assert yi.dtype == np.float64
    np.testing.assert_array_equal(yi, cconv.conv_transpose2d(xi.astype(np.float64), wi.astype(np.float64), **kw))
    # mixed float32 / float64: float64
    assert cconv.conv_transpose2d(x.astype(np.float32), w, **kw).dtype == np.float64
    assert cconv.conv_transpose2d(x.astype(np.float32), w.astype(np.float32), b, **kw).dtype == np.float64
    # longdouble is refused, naming the dtype
    with pytest.raises(TypeError, match="dtype .*not supported"):
        cconv.conv_transpose2d(x.astype(np.longdouble), w, **kw)
    with pytest.raises(TypeError, match="dtype .*not supported"):
        cconv.conv_transpose2d_backward(gy.astype(np.longdouble), x, w, **kw)


@pytest.mark.parametrize("case_id", ["asym_pad_s2", "dil2_op_ge_stride", "depthwise_s2"])
def test_inputs_unmodified_and_any_memory_order(case_id, layout):
    case = BY_ID[case_id]
    x, w, b, gy, kw = make(case, layout, np.float32)
    # Fortran-ordered and strided views of the same values
    xf, wf = np.asfortranarray(x), np.asfortranarray(w)
    gy_strided = np.repeat(gy, 2, axis=-1)[..., ::2]
    assert not gy_strided.flags.c_contiguous
    before = [a.copy() for a in (xf, wf, b, gy_strided)]
    y = cconv.conv_transpose2d(xf, wf, b, **kw)
    grads = cconv.conv_transpose2d_backward(gy_strided, xf, wf, **kw)
    for a, a0 in zip((xf, wf, b, gy_strided), before):
        np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(y, cconv.conv_transpose2d(x, w, b, **kw))
    for g, g_c in zip(grads, cconv.conv_transpose2d_backward(gy, x, w, **kw)):
        np.testing.assert_array_equal(g, g_c)


def test_num_threads_gives_the_same_result():
    case = BY_ID["gemm_tiles"]
    x, w, b, _, kw = make(case, "NHWC", np.float64)
    np.testing.assert_allclose(cconv.conv_transpose2d(x, w, b, num_threads=1, **kw),
                               cconv.conv_transpose2d(x, w, b, num_threads=2, **kw), rtol=1e-13, atol=1e-13)


# ---------------------------------------------------------------------------
# bad input: ValueError / TypeError naming the argument, expected and actual
# ---------------------------------------------------------------------------
X = np.zeros((1, 4, 4, 4))           # NHWC, C_in = 4
W = np.zeros((3, 3, 2, 4))           # (KH, KW, C_out//groups, C_in)

BAD = [
    ("op_ge_stride", dict(stride=2, output_padding=2), ValueError,
     r"output_padding must be < max\(stride, dilation\).*got 2 in the height axis with stride 2 and dilation 1"),
    ("op_ge_dilation", dict(stride=1, dilation=(1, 3), output_padding=(0, 3)), ValueError,
     r"output_padding .*got 3 in the width axis with stride 1 and dilation 3"),
    ("op_negative", dict(output_padding=-1), ValueError, r"output_padding must be >= 0 .*got -1"),
    ("op_float", dict(output_padding=0.5), TypeError, r"output_padding must be an int or a pair"),
    ("op_with_string_padding", dict(stride=2, padding="same", output_padding=1), ValueError,
     r"output_padding must be 0 when padding is a string .*got output_padding=1"),
    ("padding_bad_string", dict(padding="full"), ValueError, r"padding string must be 'valid' or 'same'.*'full'"),
    ("padding_negative", dict(padding=(1, -1)), ValueError, r"padding must be non-negative; got \(1, -1\)"),
    ("padding_crops_all", dict(padding=(3, 0)), ValueError,
     r"padding \(3, 0\) crops more than .*output would be 0x6"),
    ("stride_zero", dict(stride=0), ValueError, r"stride must be >= 1 .*got 0"),
    ("dilation_bad", dict(dilation="2"), TypeError, r"dilation must be an int or a pair"),
    ("groups_not_dividing", dict(groups=3), ValueError, r"groups=3 must divide the input channels C_in=4"),
    ("groups_zero", dict(groups=0), ValueError, r"groups must be >= 1; got 0"),
    ("layout_bad", dict(layout="NWHC"), ValueError, r"layout must be one of .*'NWHC'"),
    ("num_threads_zero", dict(num_threads=0), ValueError, r"num_threads must be None or .*got 0"),
]


@pytest.mark.parametrize("kwargs, exc, pattern", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_parameters(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        cconv.conv_transpose2d(X, W, **kwargs)
    gy = np.zeros((1, 6, 6, 2))
    with pytest.raises(exc, match=pattern):
        cconv.conv_transpose2d_backward(gy, X, W, **kwargs)


def test_bad_arrays():
    with pytest.raises(ValueError, match=r"channel mismatch: weight's last axis holds C_in=3 .*x has C_in=4"):
        cconv.conv_transpose2d(X, np.zeros((3, 3, 2, 3)))
    with pytest.raises(ValueError, match=r"channel mismatch: weight's first axis holds C_in=3 .*x has C_in=4"):
        cconv.conv_transpose2d(X.transpose(0, 3, 1, 2), np.zeros((3, 2, 3, 3)), layout="NCHW")
    with pytest.raises(ValueError, match=r"x must have 3 \(unbatched\) or 4 \(batched\) dimensions for layout "
                                         r"'NHWC'; got 2 \(shape \(4, 4\)\)"):
        cconv.conv_transpose2d(X[0, 0], W)
    with pytest.raises(ValueError, match=r"weight must have 4 dimensions; got 2"):
        cconv.conv_transpose2d(X, W[0, 0])
    with pytest.raises(TypeError, match=r"weight must have a real numeric dtype .*complex128"):
        cconv.conv_transpose2d(X, W.astype(complex))
    with pytest.raises(ValueError, match=r"weight kernel size must be >= 1 .*got 0x3"):
        cconv.conv_transpose2d(X, np.zeros((0, 3, 2, 4)))
    with pytest.raises(ValueError, match=r"x must have spatial size >= 1x1; got H=0, W=4"):
        cconv.conv_transpose2d(np.zeros((1, 0, 4, 4)), W)
    with pytest.raises(ValueError, match=r"bias must have shape \(C_out,\) = \(2,\); got \(4,\)"):
        cconv.conv_transpose2d(X, W, np.zeros(4))
    with pytest.raises(ValueError, match=r"grad_out must have the forward output's shape \(1, 6, 6, 2\) "
                                         r"\(NHWC\); got \(1, 6, 5, 2\)"):
        cconv.conv_transpose2d_backward(np.zeros((1, 6, 5, 2)), X, W)
    with pytest.raises(TypeError, match=r"x must be array-like of numbers|x must have a real numeric dtype"):
        cconv.conv_transpose2d([[1, "a"]], W)


# ---------------------------------------------------------------------------
# the ConvTranspose2D layer
# ---------------------------------------------------------------------------
def test_layer_matches_definition_and_torch_module(layout):
    layer = cconv.ConvTranspose2D(4, 6, (3, 2), stride=2, padding=1, output_padding=1, groups=2, layout=layout,
                                  dtype=np.float64, rng=np.random.default_rng(0))
    assert layer.weight.shape == ((3, 2, 3, 4) if layout == "NHWC" else (4, 3, 3, 2))
    assert layer.bias.shape == (6,) and not layer.bias.any()
    layer.bias[:] = np.arange(6.0)
    rng = np.random.default_rng(1)
    x_nchw = rng.standard_normal((2, 4, 3, 5))
    to_layout = (lambda a: a.transpose(0, 2, 3, 1)) if layout == "NHWC" else (lambda a: a)
    # PyTorch's size: out = (n - 1) * stride - 2 * padding + (k - 1) + output_padding + 1
    out_hw = ((3 - 1) * 2 - 2 + 2 + 1 + 1, (5 - 1) * 2 - 2 + 1 + 1 + 1)
    gy_nchw = rng.standard_normal((2, 6) + out_hw)
    y = layer(to_layout(x_nchw))
    gx = layer.backward(to_layout(gy_nchw))
    geo = dict(stride=2, crop_before=(1, 1), dilation=1, groups=2)
    w_hwio = weight_to_hwio(layer.weight, layout)
    y_def = conv_transpose2d_loop(act_to_nhwc(x_nchw, "NCHW"), w_hwio, layer.bias, out_hw=out_hw, **geo)
    gx_def, gw_def, gb_def = conv_transpose2d_backward_loop(act_to_nhwc(gy_nchw, "NCHW"),
                                                            act_to_nhwc(x_nchw, "NCHW"), w_hwio, **geo)
    oracles = [("definition", act_from_nhwc(y_def, layout), act_from_nhwc(gx_def, layout),
                weight_from_hwio(gw_def, layout), gb_def)]
    if torch is not None:
        module = torch.nn.ConvTranspose2d(4, 6, (3, 2), stride=2, padding=1, output_padding=1, groups=2,
                                          dtype=torch.float64)
        with torch.no_grad():
            module.weight.copy_(torch.tensor(layer.weight if layout == "NCHW"
                                             else layer.weight.transpose(3, 2, 0, 1)))
            module.bias.copy_(torch.tensor(layer.bias))
        xt = torch.tensor(x_nchw, requires_grad=True)
        yt = module(xt)
        yt.backward(torch.tensor(gy_nchw))
        gw_t = module.weight.grad.numpy()
        oracles.append(("torch", to_layout(yt.detach().numpy()), to_layout(xt.grad.numpy()),
                        gw_t if layout == "NCHW" else gw_t.transpose(2, 3, 1, 0), module.bias.grad.numpy()))
    for name, y_ref, gx_ref, gw_ref, gb_ref in oracles:
        assert y.shape == y_ref.shape, name
        np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-12, err_msg=f"y vs {name}")
        np.testing.assert_allclose(gx, gx_ref, rtol=1e-12, atol=1e-12, err_msg=f"grad_x vs {name}")
        np.testing.assert_allclose(layer.grad_weight, gw_ref, rtol=1e-12, atol=1e-12,
                                   err_msg=f"grad_weight vs {name}")
        np.testing.assert_allclose(layer.grad_bias, gb_ref, rtol=1e-12, atol=1e-12, err_msg=f"grad_bias vs {name}")
    assert "ConvTranspose2D(4, 6" in repr(layer) and "output_padding=1" in repr(layer)


def test_layer_init_std_bias_false_and_errors():
    layer = cconv.ConvTranspose2D(16, 48, 3, groups=2, bias=False, rng=np.random.default_rng(42))
    assert layer.bias is None and layer.weight.dtype == np.float32
    target = np.sqrt(2.0 / (48 // 2 * 9))          # fan_in = C_out // groups * KH * KW, as PyTorch counts it
    assert 0.85 * target < layer.weight.astype(np.float64).std() < 1.15 * target
    with pytest.raises(RuntimeError, match="backward called before forward"):
        layer.backward(np.zeros((1, 3, 3, 48)))
    y = layer(np.ones((1, 2, 2, 16), np.float32))
    layer.backward(np.ones_like(y))
    assert layer.grad_bias is None and layer.grad_weight.shape == layer.weight.shape
    with pytest.raises(ValueError, match=r"groups=3 must divide in_channels=16"):
        cconv.ConvTranspose2D(16, 48, 3, groups=3)
    with pytest.raises(TypeError, match=r"dtype must be float32 or float64; got float16"):
        cconv.ConvTranspose2D(2, 2, 3, dtype=np.float16)
