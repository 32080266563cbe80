"""Every ValueError/TypeError names the argument, states what was expected and
shows the actual value. Extends tests/test_bad_input_errors.py (which checks
the type and the argument name) with the full message content, for every
public function that takes the argument."""
import re

import numpy as np
import pytest

import cconv
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
]


def _param_cases():
    for name in FUNCS:
        for pid, kw, arg, expected, actual in PARAM_MESSAGES:
            if "groups" in kw and name in NO_GROUPS:
                continue
            if "num_threads" in kw and name in NO_THREADS:
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

