"""Every ValueError/TypeError names the argument, states what was expected and
shows the actual value. Extends tests/test_bad_input_errors.py (which checks
the type and the argument name) with the full message content, for every
public function that takes the argument."""
import re

import numpy as np
import pytest

import cconv
from conftest import CASES, build_problem
from test_bad_input_errors import FUNCS, NO_GROUPS, NO_THREADS, X, W, GY, COLS, invoke

# (id, kwargs, argument name, expected (regex), actual value as it must appear)
PARAM_MESSAGES = [
    ("stride0", dict(stride=0), "stride", r">= ?1", "0"),
    ("stride_pair0", dict(stride=(1, 0)), "stride", r">= ?1", "(1, 0)"),
    ("stride_neg", dict(stride=-2), "stride", r">= ?1", "-2"),
    ("stride_float", dict(stride=1.5), "stride", r"int or a pair of ints", "1.5"),
    ("dilation0", dict(dilation=0), "dilation", r">= ?1", "0"),
    ("dilation_pair0", dict(dilation=(0, 1)), "dilation", r">= ?1", "(0, 1)"),
    ("pad_neg_int", dict(padding=-1), "padding", r"non-negative", "-1"),
    ("pad_neg_pair", dict(padding=(0, -1)), "padding", r"non-negative", "(0, -1)"),
    ("pad_neg_asym", dict(padding=((0, 0), (-1, 0))), "padding", r"non-negative", "((0, 0), (-1, 0))"),
    ("pad_string_full", dict(padding="full"), "padding", r"'valid' or 'same'", "'full'"),
    ("pad_string_empty", dict(padding=""), "padding", r"'valid' or 'same'", "''"),
    ("pad_causal", dict(padding="causal"), "padding", r"conv1d only.*'valid', 'same'", "'causal'"),
    ("pad_float", dict(padding=1.5), "padding", r"an int, \(ph, pw\)", "1.5"),
    ("pad_triple", dict(padding=(1, 2, 3)), "padding", r"an int, \(ph, pw\)", "(1, 2, 3)"),
    ("layout_unknown", dict(layout="NWHC"), "layout", r"NHWC.*NCHW", "'NWHC'"),
    ("layout_not_str", dict(layout=3), "layout", r"string", "3"),
    ("groups0", dict(groups=0), "groups", r">= ?1", "0"),
    ("groups_neg", dict(groups=-1), "groups", r">= ?1", "-1"),
    ("groups_float", dict(groups=2.0), "groups", r"int", "2.0"),
    ("threads0", dict(num_threads=0), "num_threads", r">= ?1|\[1, \d+\]", "0"),
    ("threads_neg", dict(num_threads=-1), "num_threads", r">= ?1|\[1, \d+\]", "-1"),
    ("threads_huge", dict(num_threads=10**6), "num_threads", r"\[1, \d+\]", "1000000"),
    ("threads_str", dict(num_threads="2"), "num_threads", r"int", "'2'"),
    ("mode_unknown", dict(padding=1, padding_mode="mirror"), "padding_mode", r"one of \('zeros', 'reflect'", "'mirror'"),
    ("mode_not_str", dict(padding=1, padding_mode=0), "padding_mode", r"a string", "0"),
    ("mode_reflect_wide", dict(padding=50, padding_mode="reflect"), "padding_mode", r"pad smaller than the axis",
     "(50, 50)"),
    ("mode_circular_wide", dict(padding=50, padding_mode="circular"), "padding_mode", r"pad no larger than the axis",
     "(50, 50)"),
]
# im2col and col2im have no padding_mode.
NO_PADDING_MODE = {"im2col", "col2im"}


def _param_cases():
    for name in FUNCS:
        for pid, kw, arg, expected, actual in PARAM_MESSAGES:
            if "groups" in kw and name in NO_GROUPS:
                continue
            if "num_threads" in kw and name in NO_THREADS:
                continue
            if "padding_mode" in kw and name in NO_PADDING_MODE:
                continue
            yield pytest.param(name, kw, arg, expected, actual, id=f"{name}-{pid}")


def _check(message, arg, expected, actual):
    assert re.search(rf"\b{re.escape(arg)}\b", message), f"argument {arg!r} not named: {message}"
    assert re.search(expected, message), f"expected value ({expected}) not stated: {message}"
    assert actual in message, f"actual value {actual!r} not shown: {message}"


@pytest.mark.parametrize("name,kw,arg,expected,actual", list(_param_cases()))
def test_parameter_error_message(name, kw, arg, expected, actual):
    with pytest.raises((ValueError, TypeError)) as info:
        invoke(name, **kw)
    _check(str(info.value), arg, expected, actual)


def _nchw(s):
    return (s[0], s[3], s[1], s[2])


# (id, call, argument, expected, actual)
SHAPE_MESSAGES = [
    ("x_ndim", lambda: cconv.conv2d(np.ones((5, 4)), W), "x", r"3 \(unbatched\) or 4 \(batched\) dimensions "
     r"for layout 'NHWC'", "got 2 (shape (5, 4))"),
    ("x_ndim5", lambda: cconv.conv2d(np.ones((1, 2, 5, 5, 4)), W), "x", r"3 \(unbatched\) or 4 \(batched\)",
     "got 5"),
    ("weight_ndim", lambda: cconv.conv2d(X, np.ones((3, 3, 4))), "weight", "4 dimensions", "3"),
    ("channel_mismatch", lambda: cconv.conv2d(np.ones((2, 5, 5, 3)), W), "x", "4", "C=3"),
    ("groups_not_dividing_C", lambda: cconv.conv2d(np.ones((2, 5, 5, 3)), np.ones((3, 3, 1, 2)), groups=2),
     "groups", "divide", "C=3"),
    ("groups_not_dividing_O", lambda: cconv.conv2d(X, np.ones((3, 3, 2, 3)), groups=2), "groups", "divide", "O=3"),
    ("kernel_too_large", lambda: cconv.conv2d(np.ones((1, 3, 3, 1)), np.ones((5, 5, 1, 1))), "kernel",
     "5x5", "3x3"),
    ("bias_shape", lambda: cconv.conv2d(X, W, np.ones(7)), "bias", r"\(6,\)", "(7,)"),
    ("grad_out_shape", lambda: cconv.conv2d_backward(np.ones((2, 9, 3, 6)), X, W), "grad_out",
     r"\(2, 3, 3, 6\)", "(2, 9, 3, 6)"),
    ("grad_out_shape_nchw", lambda: cconv.conv2d_grad_input(np.ones((2, 6, 9, 3)), W.transpose(3, 2, 0, 1),
                                                            _nchw(X.shape), layout="NCHW"),
     "grad_out", r"\(2, 6, 3, 3\)", "(2, 6, 9, 3)"),
    ("cols_shape", lambda: cconv.col2im(np.ones((19, 36)), X.shape, 3), "cols", r"\(18, 36\)", "(19, 36)"),
    ("input_shape_ndim", lambda: cconv.conv2d_grad_input(GY, W, (5, 5)), "input_shape",
     r"3 \(unbatched\) or 4 \(batched\) dimensions", "got 2"),
    ("weight_shape_ndim", lambda: cconv.conv2d_grad_weight(GY, X, (3, 3, 4)), "weight_shape", "4 dimensions", "3"),
    ("complex_x", lambda: cconv.conv2d(X.astype(np.complex64), W), "x", "real numeric", "complex64"),
    ("string_x", lambda: cconv.im2col(np.full((1, 3, 3, 1), "a"), 1), "x", "real numeric", "<U1"),
    ("kernel_size_zero", lambda: cconv.im2col(X, 0), "kernel_size", r">= ?1", "0"),
    ("layer_channels", lambda: cconv.Conv2D(0, 4, 3), "in_channels", r">= ?1", "0"),
    ("layer_dtype", lambda: cconv.Conv2D(4, 4, 3, dtype=np.int32), "dtype", "float32 or float64", "int32"),
    ("set_num_threads", lambda: cconv.set_num_threads(0), "num_threads|n\\b", r">= ?1|\[1, \d+\]", "0"),
    ("float128", lambda: cconv.conv2d(X.astype(np.longdouble), W), "dtype", "float32 or float64",
     str(np.dtype(np.longdouble))),
    ("output_shape_neg", lambda: cconv.output_shape((2, -5, 5, 4), W.shape), "input_shape", "non-negative", "-5"),
    ("transposed_causal", lambda: cconv.conv_transpose2d(X, np.ones((3, 3, 2, 4)), padding="causal"), "padding",
     r"conv1d only", "'causal'"),
]


@pytest.mark.parametrize("call,arg,expected,actual", [pytest.param(*c[1:], id=c[0]) for c in SHAPE_MESSAGES])
def test_shape_and_type_error_message(call, arg, expected, actual):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    message = str(info.value)
    assert re.search(rf"\b({arg})\b" if "|" in arg else rf"\b{re.escape(arg)}\b", message), (arg, message)
    assert re.search(expected, message), (expected, message)
    assert actual in message, (actual, message)


# ---------------------------------------------------------------------------
# unbatched input: the accepted ranks, and grad_out batched exactly as x is
# ---------------------------------------------------------------------------
def _in(layout, nhwc):
    """An NHWC shape (batched or not) in ``layout``'s order."""
    if layout == "NHWC":
        return nhwc
    return (nhwc[0], nhwc[3], nhwc[1], nhwc[2]) if len(nhwc) == 4 else (nhwc[2], nhwc[0], nhwc[1])


def _w(layout, hwio):
    return hwio if layout == "NHWC" else (hwio[3], hwio[2], hwio[0], hwio[1])


XU, GYU = np.ones((5, 5, 4)), np.ones((3, 3, 6))   # the baseline's unbatched x and grad_out (NHWC)
TW = np.ones((3, 3, 2, 4))                         # a transposed-convolution weight taking X's 4 channels

# (function, call taking (layout, x or input_shape of the given rank), argument named)
RANK_CALLS = [
    ("conv2d", lambda L, a: cconv.conv2d(a, np.ones(_w(L, W.shape)), layout=L), "x"),
    ("conv2d_backward", lambda L, a: cconv.conv2d_backward(np.ones((1,) * a.ndim), a, np.ones(_w(L, W.shape)),
                                                           layout=L), "x"),
    ("conv2d_grad_input", lambda L, a: cconv.conv2d_grad_input(GY, np.ones(_w(L, W.shape)), a.shape, layout=L),
     "input_shape"),
    ("conv2d_grad_weight", lambda L, a: cconv.conv2d_grad_weight(GY, a, _w(L, W.shape), layout=L), "x"),
    ("output_shape", lambda L, a: cconv.output_shape(a.shape, _w(L, W.shape), layout=L), "input_shape"),
    ("select_algorithm", lambda L, a: cconv.select_algorithm(a.shape, _w(L, W.shape), layout=L), "input_shape"),
    ("conv_transpose2d", lambda L, a: cconv.conv_transpose2d(a, np.ones(_w(L, TW.shape)), layout=L), "x"),
    ("conv_transpose2d_backward", lambda L, a: cconv.conv_transpose2d_backward(
        np.ones((1,) * a.ndim), a, np.ones(_w(L, TW.shape)), layout=L), "x"),
    ("conv_transpose2d_output_shape", lambda L, a: cconv.conv_transpose2d_output_shape(
        a.shape, _w(L, TW.shape), layout=L), "input_shape"),
    ("im2col", lambda L, a: cconv.im2col(a, 3, layout=L), "x"),
    ("col2im", lambda L, a: cconv.col2im(COLS, a.shape, 3, layout=L), "input_shape"),
    ("Conv2D", lambda L, a: cconv.Conv2D(4, 6, 3, layout=L)(a), "x"),
    ("ConvTranspose2D", lambda L, a: cconv.ConvTranspose2D(4, 6, 3, layout=L)(a), "x"),
    ("reference.conv2d", lambda L, a: cconv.reference.conv2d(a, np.ones(_w(L, W.shape)), layout=L), "x"),
    ("reference.conv2d_grad_input", lambda L, a: cconv.reference.conv2d_grad_input(
        GY, np.ones(_w(L, W.shape)), a.shape, layout=L), "input_shape"),
]


@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
@pytest.mark.parametrize("shape", [(5, 4), (1, 2, 5, 5, 4)], ids=["2d", "5d"])
@pytest.mark.parametrize("name,call,arg", RANK_CALLS, ids=[c[0] for c in RANK_CALLS])
def test_rank_error_names_the_accepted_ranks_and_the_layout(name, call, arg, shape, layout):
    with pytest.raises(ValueError) as info:
        call(layout, np.ones(shape))
    message = str(info.value)
    expected = (f"{arg} must have 3 (unbatched) or 4 (batched) dimensions for layout '{layout}'; "
                f"got {len(shape)} (shape {shape})")
    assert expected in message, message


@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
@pytest.mark.parametrize("name,call", [
    ("conv2d_backward", lambda L, g, x: cconv.conv2d_backward(g, x, np.ones(_w(L, W.shape)), layout=L)),
    ("conv2d_grad_input", lambda L, g, x: cconv.conv2d_grad_input(g, np.ones(_w(L, W.shape)), x.shape, layout=L)),
    ("conv2d_grad_weight", lambda L, g, x: cconv.conv2d_grad_weight(g, x, _w(L, W.shape), layout=L)),
    ("reference.conv2d_backward", lambda L, g, x: cconv.reference.conv2d_backward(
        g, x, np.ones(_w(L, W.shape)), layout=L)),
])
def test_grad_out_batched_unlike_x_names_both(name, call, layout):
    x_arg = "input_shape" if name.endswith("grad_input") else "x"
    xu, gyu = np.ones(_in(layout, XU.shape)), np.ones(_in(layout, GYU.shape))
    call(layout, gyu, xu)                      # both unbatched: fine
    call(layout, gyu[None], xu[None])          # both batched: fine
    for g, x, g_kind, x_kind in ((gyu[None], xu, "batched", "unbatched"), (gyu, xu[None], "unbatched", "batched")):
        with pytest.raises(ValueError) as info:
            call(layout, g, x)
        message = str(info.value)
        assert (f"grad_out is {g_kind} ({g.ndim} dimensions, shape {g.shape}) but {x_arg} is {x_kind} "
                f"({x.ndim} dimensions, shape {x.shape})") in message, message
        assert "both with the batch axis or both without" in message
    with pytest.raises(ValueError, match=rf"grad_out must have 3 dimensions for layout '{layout}', unbatched as "
                                         rf"{x_arg} \(shape {re.escape(str(xu.shape))}\) is; got 2"):
        call(layout, gyu[0], xu)


def test_transposed_grad_out_batched_unlike_x_names_both():
    xu = X[0]
    y = cconv.conv_transpose2d(xu, TW)
    with pytest.raises(ValueError, match=r"grad_out is batched \(4 dimensions, shape \(1, 7, 7, 2\)\) but x is "
                                         r"unbatched \(3 dimensions, shape \(5, 5, 4\)\)"):
        cconv.conv_transpose2d_backward(y[None], xu, TW)


@pytest.mark.parametrize("layout,order", [("NHWC", "HWC"), ("NCHW", "CHW")])
def test_unbatched_grad_out_shape_message_shows_the_unbatched_shapes(layout, order):
    xu = np.ones(_in(layout, XU.shape))
    expected = _in(layout, GYU.shape)
    wrong = np.ones(_in(layout, (3, 2, 6)))
    with pytest.raises(ValueError) as info:
        cconv.conv2d_backward(wrong, xu, np.ones(_w(layout, W.shape)), layout=layout)
    assert (f"grad_out must have the forward output's shape {expected} ({order}, unbatched {layout}); "
            f"got {wrong.shape}") in str(info.value)


# ---------------------------------------------------------------------------
# errors that name the layout: a layout mix-up is explained, with the likely fix
# ---------------------------------------------------------------------------
X_NCHW, X_NHWC = np.ones((2, 3, 8, 8)), np.ones((2, 8, 8, 3))      # N=2, C=3, 8x8 in each layout
W_OIHW, W_HWIO = np.ones((16, 3, 3, 3)), np.ones((3, 3, 3, 16))    # O=16, C=3, 3x3 in each layout
TW_IOHW = np.ones((3, 16, 3, 3))                                   # PyTorch's transposed weight: C_in=3, C_out=16
ANY_GY = np.ones((1, 1, 1, 1))                                     # the geometry fails before grad_out is read

READ_TORCH_AS_NHWC = ["Layout 'NHWC' assumed", "x (2, 3, 8, 8) read as NHWC: N=2, H=3, W=8, C=8",
                      "weight (16, 3, 3, 3) read as HWIO: KH=16, KW=3, C=3, O=3"]
FIX_LAYOUT_NCHW = ["the shapes fit layout 'NCHW' (x as NCHW, weight as OIHW, PyTorch's order)",
                   'pass layout="NCHW"']
FIX_OIHW_WEIGHT = ["weight fits as OIHW, PyTorch's order (O=16, C=3, KH=3, KW=3): for layout 'NHWC' "
                   "pass weight.transpose(2, 3, 1, 0)"]

# (id, call, substrings the message must hold)
LAYOUT_MIXUPS = [
    # the first example: PyTorch data and weight with the default layout
    ("torch_data_and_weight", lambda: cconv.conv2d(X_NCHW, W_OIHW),
     ["channel mismatch: weight expects C//groups=3 input channels per group, but x has C=8"]
     + READ_TORCH_AS_NHWC + FIX_LAYOUT_NCHW),
    ("torch_data_and_weight_backward", lambda: cconv.conv2d_backward(ANY_GY, X_NCHW, W_OIHW),
     READ_TORCH_AS_NHWC + FIX_LAYOUT_NCHW),
    ("torch_data_and_weight_reference", lambda: cconv.reference.conv2d(X_NCHW, W_OIHW),
     READ_TORCH_AS_NHWC + FIX_LAYOUT_NCHW),
    ("unbatched_torch_image", lambda: cconv.conv2d(X_NCHW[0], W_OIHW),
     ["x (3, 8, 8) read as HWC: H=3, W=8, C=8", "(x as CHW, weight as OIHW", 'pass layout="NCHW"']),
    # the second example: an OIHW weight with NHWC data
    ("oihw_weight", lambda: cconv.conv2d(X_NHWC, W_OIHW),
     ["Layout 'NHWC' assumed", "weight (16, 3, 3, 3) read as HWIO: KH=16, KW=3, C=3, O=3"] + FIX_OIHW_WEIGHT),
    ("oihw_weight_grad_input", lambda: cconv.conv2d_grad_input(ANY_GY, W_OIHW, X_NHWC.shape),
     ["input_shape (2, 8, 8, 3) read as NHWC"] + FIX_OIHW_WEIGHT),
    ("oihw_weight_shape", lambda: cconv.output_shape(X_NHWC.shape, W_OIHW.shape),
     ["weight_shape (16, 3, 3, 3) read as HWIO", "pass weight_shape in HWIO order, (3, 3, 3, 16)"]),
    ("oihw_weight_shape_grad_weight", lambda: cconv.conv2d_grad_weight(ANY_GY, X_NHWC, W_OIHW.shape),
     ["pass weight_shape in HWIO order, (3, 3, 3, 16)"]),
    ("nchw_data_hwio_weight", lambda: cconv.conv2d(X_NCHW, W_HWIO),
     ["x (2, 3, 8, 8) read as NHWC: N=2, H=3, W=8, C=8",
      "x fits as NCHW, PyTorch's order (N=2, C=3, H=8, W=8): for layout 'NHWC' pass x.transpose(0, 2, 3, 1)"]),
    ("layer_with_nchw_data", lambda: cconv.Conv2D(3, 16, 3)(X_NCHW), ["x.transpose(0, 2, 3, 1)"]),
    # the reverse: channels-last arrays with layout="NCHW"
    ("nhwc_arrays_as_nchw", lambda: cconv.conv2d(X_NHWC, W_HWIO, layout="NCHW"),
     ["Layout 'NCHW' assumed", "x (2, 8, 8, 3) read as NCHW: N=2, C=8, H=8, W=3",
      "the shapes fit layout 'NHWC' (x as NHWC, weight as HWIO)", 'pass layout="NHWC"']),
    ("hwio_weight_as_nchw", lambda: cconv.conv2d(X_NCHW, W_HWIO, layout="NCHW"),
     ["weight fits as HWIO (KH=3, KW=3, C=3, O=16): for layout 'NCHW' pass weight.transpose(3, 2, 0, 1)"]),
    ("grouped", lambda: cconv.conv2d(np.ones((2, 4, 8, 8)), np.ones((16, 2, 3, 3)), groups=2),
     ["weight (16, 2, 3, 3) read as HWIO: KH=16, KW=2, C//groups=3, O=3", 'pass layout="NCHW"']),
    # the transposed convolution, with PyTorch's (C_in, C_out//groups, KH, KW) weight
    ("transposed_torch", lambda: cconv.conv_transpose2d(X_NCHW, TW_IOHW),
     ["Layout 'NHWC' assumed", "x (2, 3, 8, 8) read as NHWC: N=2, H=3, W=8, C_in=8",
      "weight (3, 16, 3, 3) read as HWOI: KH=3, KW=16, C_out=3, C_in=3",
      "the shapes fit layout 'NCHW' (x as NCHW, weight as IOHW, PyTorch's order)", 'pass layout="NCHW"']),
    ("transposed_torch_weight", lambda: cconv.conv_transpose2d(np.ones((2, 8, 8, 4)), np.ones((4, 16, 3, 3))),
     ["weight fits as IOHW, PyTorch's order (C_in=4, C_out=16, KH=3, KW=3): for layout 'NHWC' "
      "pass weight.transpose(2, 3, 1, 0)"]),
    ("transposed_output_shape", lambda: cconv.conv_transpose2d_output_shape(X_NCHW.shape, TW_IOHW.shape),
     ["input_shape (2, 3, 8, 8) read as NHWC", 'pass layout="NCHW"']),
]


@pytest.mark.parametrize("call,parts", [pytest.param(c[1], c[2], id=c[0]) for c in LAYOUT_MIXUPS])
def test_layout_mixup_is_explained(call, parts):
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    for part in parts:
        assert part in message, f"{part!r} not in: {message}"


def test_layout_mixup_is_explained_on_dask_arrays():
    da = pytest.importorskip("dask.array")
    import cconv.dask as cdask

    with pytest.raises(ValueError) as info:
        cdask.conv2d(da.from_array(X_NCHW, chunks=1), W_OIHW)
    for part in READ_TORCH_AS_NHWC + FIX_LAYOUT_NCHW:
        assert part in str(info.value)


@pytest.mark.parametrize("call", [
    lambda: cconv.conv2d(np.ones((2, 5, 5, 3)), np.ones((3, 3, 4, 6))),              # C=3 against C=4: no mix-up
    lambda: cconv.conv2d(np.ones((1, 3, 3, 1)), np.ones((5, 5, 1, 1))),              # a kernel too large anyway
    lambda: cconv.conv2d(X_NCHW, W_OIHW, stride=0),                                  # a bad parameter
    lambda: cconv.conv2d(X_NCHW, W_OIHW, groups=5),                                  # groups fits no reading
    lambda: cconv.conv_transpose2d(X, np.zeros((3, 3, 2, 3))),
], ids=["channels", "kernel", "stride", "groups", "transposed"])
def test_errors_no_layout_mixup_explains_are_unchanged(call):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    message = str(info.value)
    assert "assumed" not in message and "Likely fix" not in message, message


def _mixups(case, unbatched):
    """(call, fix) for each way of handing over one valid case mixed up."""
    def arrays(layout):
        p = build_problem(case, layout, np.float64, N=1)
        return (p.x[0] if unbatched else p.x), p.w

    (x_nchw, w_oihw), (x_nhwc, w_hwio) = arrays("NCHW"), arrays("NHWC")
    kw = {k: v for k, v in case.items() if k in ("stride", "padding", "dilation", "groups")}
    return [
        (lambda: cconv.conv2d(x_nchw, w_oihw, **kw), 'pass layout="NCHW"'),                 # forgot layout="NCHW"
        (lambda: cconv.conv2d(x_nhwc, w_hwio, layout="NCHW", **kw), 'pass layout="NHWC"'),
        (lambda: cconv.conv2d(x_nhwc, w_oihw, **kw), "pass weight.transpose(2, 3, 1, 0)"),  # a PyTorch weight
        (lambda: cconv.conv2d(x_nchw, w_hwio, **kw), f"pass x.transpose{(1, 2, 0) if unbatched else (0, 2, 3, 1)}"),
    ]


def test_every_mixed_up_case_that_fails_says_the_fix():
    """Each valid case of the suite's table, batched and unbatched, handed over in each mixed-up
    way: either its shapes happen to fit the wrong reading too (no error), or the error names the
    fix that makes the call valid again. Most must fail, or the check would say little."""
    failed = tried = 0
    for case in CASES:
        for unbatched in (False, True):
            for call, fix in _mixups(case, unbatched):
                tried += 1
                try:
                    call()
                except ValueError as exc:
                    failed += 1
                    assert fix in str(exc) and "assumed" in str(exc), (case["id"], unbatched, str(exc))
    assert failed >= tried // 2, (failed, tried)


# ---------------------------------------------------------------------------
# the 1-D functions: the same rules, in 1-D terms (NWC/NCW, KW, one stride)
# ---------------------------------------------------------------------------
X1, W1, GY1 = np.ones((2, 5, 4)), np.ones((3, 4, 6)), np.ones((2, 3, 6))   # NWC: x, WIO weight, grad_out
TW1, TGY1 = np.ones((3, 2, 4)), np.ones((2, 7, 2))                        # transposed: (KW, C_out, C_in)

FUNCS_1D = {
    "conv1d": lambda **kw: cconv.conv1d(X1, W1, **kw),
    "conv1d_backward": lambda **kw: cconv.conv1d_backward(GY1, X1, W1, **kw),
    "conv1d_grad_input": lambda **kw: cconv.conv1d_grad_input(GY1, W1, X1.shape, **kw),
    "conv1d_grad_weight": lambda **kw: cconv.conv1d_grad_weight(GY1, X1, W1.shape, **kw),
    "conv1d_output_shape": lambda **kw: cconv.conv1d_output_shape(X1.shape, W1.shape, **kw),
    "conv_transpose1d": lambda **kw: cconv.conv_transpose1d(X1, TW1, **kw),
    "conv_transpose1d_backward": lambda **kw: cconv.conv_transpose1d_backward(TGY1, X1, TW1, **kw),
    "Conv1D": lambda **kw: cconv.Conv1D(4, 6, 3, **kw)(X1),
    "ConvTranspose1D": lambda **kw: cconv.ConvTranspose1D(4, 2, 3, **kw)(X1),
    "reference.conv1d": lambda **kw: cconv.reference.conv1d(X1, W1, **kw),
    "reference.conv1d_backward": lambda **kw: cconv.reference.conv1d_backward(GY1, X1, W1, **kw),
}
NO_THREADS_1D = {"conv1d_output_shape", "Conv1D", "ConvTranspose1D"}
TRANSPOSED_1D = {"conv_transpose1d", "conv_transpose1d_backward", "ConvTranspose1D"}

# (id, kwargs, argument name, expected (regex), actual value as it must appear)
PARAM_MESSAGES_1D = [
    ("stride0", dict(stride=0), "stride", r"must be >= 1; got", "0"),
    ("stride_pair", dict(stride=(1, 2)), "stride", r"an int or a 1-tuple of ints \(w,\)", "(1, 2)"),
    ("stride_float", dict(stride=1.5), "stride", r"an int or a 1-tuple", "1.5"),
    ("dilation0", dict(dilation=(0,)), "dilation", r">= 1", "(0,)"),
    ("pad_neg_int", dict(padding=-1), "padding", r"non-negative", "-1"),
    ("pad_neg_side", dict(padding=(0, -1)), "padding", r"non-negative", "(0, -1)"),
    ("pad_neg_axis", dict(padding=((-1, 0),)), "padding", r"non-negative", "((-1, 0),)"),
    ("pad_string", dict(padding="full"), "padding", r"'valid', 'same'|'valid' or 'same'", "'full'"),
    ("pad_triple", dict(padding=(1, 2, 3)), "padding", r"an int, \(left, right\), \(\(left, right\),\)", "(1, 2, 3)"),
    ("pad_2d_form", dict(padding=((0, 0), (1, 1))), "padding", r"\(left, right\)", "((0, 0), (1, 1))"),
    ("layout_2d", dict(layout="NHWC"), "layout", r"\('NWC', 'NCW'\)", "'NHWC'"),
    ("layout_not_str", dict(layout=3), "layout", r"string", "3"),
    ("groups0", dict(groups=0), "groups", r">= ?1", "0"),
    ("threads0", dict(num_threads=0), "num_threads", r"\[1, \d+\]", "0"),
    ("mode_unknown", dict(padding=1, padding_mode="mirror"), "padding_mode", r"one of \('zeros', 'reflect'", "'mirror'"),
    ("mode_reflect_wide", dict(padding=50, padding_mode="reflect"), "padding_mode", r"pad smaller than the axis.*W=",
     "(50, 50)"),
]

# Terms of the 2-D call that runs a 1-D one, which a 1-D message must not show.
LEAKS_2D = r"\bNHWC\b|\bNCHW\b|\bHWIO\b|\bOIHW\b|\bKH\b|\bH=|\(h, w\)|4 dimensions|\b\d+x\d+\b"


def _check_1d(message, arg, expected, actual):
    _check(message, arg, expected, actual)
    # (the caller's own value, such as layout="NHWC", may of course be quoted back)
    assert not re.search(LEAKS_2D, message.replace(actual, "")), f"2-D terms in a 1-D message: {message}"


def _param_cases_1d():
    for name in FUNCS_1D:
        for pid, kw, arg, expected, actual in PARAM_MESSAGES_1D:
            if "num_threads" in kw and name in NO_THREADS_1D:
                continue
            if "padding_mode" in kw and name in TRANSPOSED_1D:
                continue
            if pid == "layout_2d" and name.startswith("reference"):
                expected = r"'NWC', 'NCW'"
            yield pytest.param(name, kw, arg, expected, actual, id=f"{name}-{pid}")


@pytest.mark.parametrize("name,kw,arg,expected,actual", list(_param_cases_1d()))
def test_1d_parameter_error_message(name, kw, arg, expected, actual):
    FUNCS_1D[name]()                          # the baseline is valid
    with pytest.raises((ValueError, TypeError)) as info:
        FUNCS_1D[name](**kw)
    _check_1d(str(info.value), arg, expected, actual)


@pytest.mark.parametrize("name", sorted(FUNCS_1D))
def test_causal_padding_is_for_conv1d_only(name):
    if name in TRANSPOSED_1D:
        with pytest.raises(ValueError) as info:
            FUNCS_1D[name](padding="causal")
        _check_1d(str(info.value), "padding", r"conv1d only", "'causal'")
    else:  # accepted (the baseline's grad_out then has the wrong length: that is the only complaint)
        try:
            FUNCS_1D[name](padding="causal")
        except ValueError as exc:
            assert str(exc).startswith("grad_out must have the forward output's shape (2, 5, 6)"), str(exc)


SHAPE_MESSAGES_1D = [
    ("x_ndim", lambda: cconv.conv1d(np.ones(5), W1), "x",
     r"2 \(unbatched\) or 3 \(batched\) dimensions for layout 'NWC'", "got 1 (shape (5,))"),
    ("x_ndim_4", lambda: cconv.conv1d(np.ones((1, 2, 5, 4)), W1, layout="NCW"), "x",
     r"2 \(unbatched\) or 3 \(batched\) dimensions for layout 'NCW'", "got 4"),
    ("weight_ndim", lambda: cconv.conv1d(X1, np.ones((1, 3, 4, 6))), "weight", "3 dimensions", "got 4"),
    ("channel_mismatch", lambda: cconv.conv1d(np.ones((2, 5, 3)), W1), "x", "C//groups=4", "C=3"),
    ("kernel_too_large", lambda: cconv.conv1d(np.ones((1, 3, 1)), np.ones((5, 1, 1))), "kernel",
     r"dilated extent 5\)", "padded input (3)"),
    ("kernel0", lambda: cconv.conv1d(X1, np.ones((0, 4, 6))), "weight", r"kernel size must be >= 1", "KW=0"),
    ("bias_shape", lambda: cconv.conv1d(X1, W1, np.ones(7)), "bias", r"\(6,\)", "(7,)"),
    ("grad_out_shape", lambda: cconv.conv1d_backward(np.ones((2, 9, 6)), X1, W1), "grad_out",
     r"\(2, 3, 6\) \(NWC\)", "(2, 9, 6)"),
    ("grad_out_unbatched", lambda: cconv.conv1d_grad_weight(GY1, X1[0], W1.shape), "grad_out",
     r"but x is unbatched \(2 dimensions, shape \(5, 4\)\)", "grad_out is batched (3 dimensions"),
    ("grad_out_shape_unbatched", lambda: cconv.conv1d_grad_input(np.ones((4, 6)), W1, (5, 4)), "grad_out",
     r"\(3, 6\) \(WC, unbatched NWC\)", "(4, 6)"),
    ("input_shape_ndim", lambda: cconv.conv1d_grad_input(GY1, W1, (5,)), "input_shape",
     r"2 \(unbatched\) or 3 \(batched\)", "got 1"),
    ("weight_shape_ndim", lambda: cconv.conv1d_grad_weight(GY1, X1, (3, 4)), "weight_shape", "3 dimensions",
     "got 2"),
    ("output_shape_neg", lambda: cconv.conv1d_output_shape((2, -5, 4), W1.shape), "input_shape", "non-negative",
     "-5"),
    ("transposed_empty", lambda: cconv.conv_transpose1d(np.ones((2, 0, 4)), TW1), "x", r"spatial size >= 1;",
     "W=0"),
    ("transposed_channels", lambda: cconv.conv_transpose1d(np.ones((2, 5, 3)), TW1), "weight", "C_in=4",
     "C_in=3"),
    ("transposed_output_padding", lambda: cconv.conv_transpose1d(X1, TW1, output_padding=1), "output_padding",
     r"< max\(stride, dilation\); got 1 in the width axis", "output_padding=1"),
    ("transposed_crop", lambda: cconv.conv_transpose1d(X1, TW1, padding=(4, 4)), "padding",
     r"at least 1 of the uncropped 7", "would be -1"),
    ("transposed_grad_out", lambda: cconv.conv_transpose1d_backward(np.ones((2, 8, 2)), X1, TW1), "grad_out",
     r"\(2, 7, 2\)", "(2, 8, 2)"),
    ("layer_kernel_size", lambda: cconv.Conv1D(4, 6, (3, 3)), "kernel_size", r"1-tuple of ints", "(3, 3)"),
    ("layer_layout", lambda: cconv.ConvTranspose1D(4, 6, 3, layout="NCHW"), "layout", r"'NWC', 'NCW'", "'NCHW'"),
    ("layer_channels", lambda: cconv.Conv1D(4, 0, 3), "out_channels", r">= ?1", "0"),
    ("select_algorithm_1d", lambda: cconv.select_algorithm((2, 5, 3), W1.shape, layout="NWC"), "x|input_shape",
     "C//groups=4", "C=3"),
]


@pytest.mark.parametrize("call,arg,expected,actual", [pytest.param(*c[1:], id=c[0]) for c in SHAPE_MESSAGES_1D])
def test_1d_shape_error_message(call, arg, expected, actual):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    message = str(info.value)
    assert re.search(rf"\b({arg})\b" if "|" in arg else rf"\b{re.escape(arg)}\b", message), (arg, message)
    assert re.search(expected, message), (expected, message)
    assert actual in message, (actual, message)
    assert not re.search(LEAKS_2D, message.replace(actual, "")), f"2-D terms in a 1-D message: {message}"


X_NCW, W_OIW = np.ones((2, 3, 8)), np.ones((16, 3, 3))   # PyTorch's conv1d arrays: N=2, C=3, W=8; O=16, KW=3

LAYOUT_MIXUPS_1D = [
    ("torch_arrays", lambda: cconv.conv1d(X_NCW, W_OIW),
     ["Layout 'NWC' assumed", "x (2, 3, 8) read as NWC: N=2, W=3, C=8", "weight (16, 3, 3) read as WIO: KW=16",
      "the shapes fit layout 'NCW' (x as NCW, weight as OIW, PyTorch's order)", 'pass layout="NCW"']),
    ("oiw_weight", lambda: cconv.conv1d(np.ones((2, 8, 3)), W_OIW),
     ["weight fits as OIW, PyTorch's order (O=16, C=3, KW=3): for layout 'NWC' pass weight.transpose(2, 1, 0)"]),
    ("unbatched_torch", lambda: cconv.conv1d_backward(np.ones((1, 1)), X_NCW[0], W_OIW),
     ["x (3, 8) read as WC: W=3, C=8", 'pass layout="NCW"']),
    ("transposed_torch", lambda: cconv.conv_transpose1d(X_NCW, np.ones((3, 16, 3))),
     ["weight (3, 16, 3) read as WOI", 'pass layout="NCW"']),
    ("layer", lambda: cconv.Conv1D(3, 16, 3)(X_NCW), ["x.transpose(0, 2, 1)"]),
]


@pytest.mark.parametrize("call,parts", [pytest.param(c[1], c[2], id=c[0]) for c in LAYOUT_MIXUPS_1D])
def test_1d_layout_mixup_is_explained(call, parts):
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    for part in parts:
        assert part in message, f"{part!r} not in: {message}"
    assert not re.search(LEAKS_2D, message), message
