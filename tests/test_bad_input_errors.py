"""The spec's bad-input list: each raises ValueError/TypeError naming the argument (and the bad value)."""

import numpy as np
import pytest

import cconv

# valid baseline (NHWC): x (2, 5, 5, 4), weight (3, 3, 4, 6) -> y (2, 3, 3, 6)
X = np.ones((2, 5, 5, 4))
W = np.ones((3, 3, 4, 6))
GY = np.ones((2, 3, 3, 6))
COLS = np.ones((2 * 3 * 3, 3 * 3 * 4))

FUNCS = ["conv2d", "conv2d_backward", "conv2d_grad_input", "conv2d_grad_weight", "im2col", "col2im",
         "output_shape", "Conv2D"]
NO_GROUPS = {"im2col", "col2im"}
NO_THREADS = {"output_shape", "Conv2D"}


def invoke(name, **kw):
    if name == "conv2d":
        return cconv.conv2d(X, W, **kw)
    if name == "conv2d_backward":
        return cconv.conv2d_backward(GY, X, W, **kw)
    if name == "conv2d_grad_input":
        return cconv.conv2d_grad_input(GY, W, X.shape, **kw)
    if name == "conv2d_grad_weight":
        return cconv.conv2d_grad_weight(GY, X, W.shape, **kw)
    if name == "im2col":
        return cconv.im2col(X, (3, 3), **kw)
    if name == "col2im":
        return cconv.col2im(COLS, X.shape, (3, 3), **kw)
    if name == "output_shape":
        return cconv.output_shape(X.shape, W.shape, **kw)
    if name == "Conv2D":
        layer = cconv.Conv2D(4, 6, 3, **kw)      # the error may come at construction or first call
        return layer(X.astype(np.float32))
    raise AssertionError(name)


def test_baseline_is_valid():
    for name in FUNCS:
        invoke(name)


PARAM_ERRORS = [
    # (id, kwargs, exception type(s), regex naming the argument)
    ("stride0", dict(stride=0), ValueError, r"\bstride\b"),
    ("stride_pair0", dict(stride=(1, 0)), ValueError, r"\bstride\b"),
    ("stride_neg", dict(stride=-2), ValueError, r"\bstride\b"),
    ("stride_float", dict(stride=1.5), TypeError, r"\bstride\b"),
    ("dilation0", dict(dilation=0), ValueError, r"\bdilation\b"),
    ("dilation_pair0", dict(dilation=(0, 1)), ValueError, r"\bdilation\b"),
    ("pad_neg_int", dict(padding=-1), ValueError, r"\bpadding\b"),
    ("pad_neg_pair", dict(padding=(0, -1)), ValueError, r"\bpadding\b"),
    ("pad_neg_asym", dict(padding=((0, 0), (-1, 0))), ValueError, r"\bpadding\b"),
    ("pad_string_full", dict(padding="full"), ValueError, r"\bpadding\b"),
    ("pad_string_empty", dict(padding=""), ValueError, r"\bpadding\b"),
    ("pad_float", dict(padding=1.5), TypeError, r"\bpadding\b"),
    ("pad_triple", dict(padding=(1, 2, 3)), (TypeError, ValueError), r"\bpadding\b"),
    ("layout_unknown", dict(layout="NWHC"), ValueError, r"\blayout\b"),
    ("layout_hwio", dict(layout="HWIO"), ValueError, r"\blayout\b"),
    ("layout_not_str", dict(layout=3), TypeError, r"\blayout\b"),
    ("groups0", dict(groups=0), ValueError, r"\bgroups\b"),
    ("groups_neg", dict(groups=-1), ValueError, r"\bgroups\b"),
    ("threads0", dict(num_threads=0), ValueError, r"\bnum_threads\b"),
    ("threads_neg", dict(num_threads=-1), ValueError, r"\bnum_threads\b"),
]


def _param_cases():
    for name in FUNCS:
        for pid, kw, exc, rx in PARAM_ERRORS:
            if "groups" in kw and name in NO_GROUPS:
                continue
            if "num_threads" in kw and name in NO_THREADS:
                continue
            yield pytest.param(name, kw, exc, rx, id=f"{name}-{pid}")


@pytest.mark.parametrize("name,kw,exc,rx", list(_param_cases()))
def test_bad_parameter_raises_naming_it(name, kw, exc, rx):
    with pytest.raises(exc, match=rx):
        invoke(name, **kw)


@pytest.mark.parametrize("name,kw,value", [
    ("conv2d", dict(stride=-7), "-7"),
    ("conv2d", dict(dilation=(1, -3)), "-3"),
    ("conv2d", dict(padding=-5), "-5"),
    ("conv2d", dict(padding="fulll"), "fulll"),
    ("conv2d", dict(layout="NWHC"), "NWHC"),
    ("conv2d", dict(groups=-4), "-4"),
])
def test_bad_parameter_message_shows_actual_value(name, kw, value):
    with pytest.raises((ValueError, TypeError)) as info:
        invoke(name, **kw)
    assert value in str(info.value)


# ---------------------------------------------------------------------------
# shape errors
# ---------------------------------------------------------------------------
def _nchw(shape):
    return (shape[0], shape[3], shape[1], shape[2])


def _oihw(shape):
    return (shape[3], shape[2], shape[0], shape[1])


SHAPE_ERRORS = [
    # (id, x shape NHWC, weight shape HWIO, kwargs, regex)
    ("x_ndim2", (5, 4), (3, 3, 4, 6), {}, r"\bx\b"),
    ("x_ndim5", (1, 2, 5, 5, 4), (3, 3, 4, 6), {}, r"\bx\b"),
    ("weight_ndim3", (2, 5, 5, 4), (3, 3, 4), {}, r"\bweight\b"),
    ("channel_mismatch", (2, 5, 5, 3), (3, 3, 4, 6), {}, r"\bweight\b|\bx\b"),
    ("channel_mismatch_groups", (2, 5, 5, 4), (3, 3, 4, 6), dict(groups=2), r"\bweight\b|\bx\b"),
    ("groups_not_dividing_C", (2, 5, 5, 3), (3, 3, 1, 2), dict(groups=2), r"\bgroups\b"),
    ("groups_not_dividing_O", (2, 5, 5, 4), (3, 3, 2, 3), dict(groups=2), r"\bgroups\b"),
    ("groups_larger_than_C", (2, 5, 5, 2), (3, 3, 1, 4), dict(groups=4), r"\bgroups\b"),
    ("kernel_too_large", (1, 3, 3, 1), (5, 5, 1, 1), {}, r"kernel|weight"),
    ("kernel_too_large_one_dim", (1, 3, 8, 1), (5, 2, 1, 1), dict(padding=(0, 1)), r"kernel|weight"),
    ("dilated_kernel_too_large", (1, 4, 4, 1), (3, 3, 1, 1), dict(dilation=2), r"kernel|weight"),
    ("kernel_too_large_valid", (1, 4, 6, 1), (5, 3, 1, 1), dict(padding="valid"), r"kernel|weight"),
]


def _shape_cases():
    for layout in ("NHWC", "NCHW"):
        for pid, xs, ws, kw, rx in SHAPE_ERRORS:
            yield pytest.param(layout, xs, ws, kw, rx, id=f"{layout}-{pid}")


@pytest.mark.parametrize("layout,xs,ws,kw,rx", list(_shape_cases()))
def test_shape_error_in_conv2d_and_backward(layout, xs, ws, kw, rx):
    if layout == "NCHW":
        xs = _nchw(xs) if len(xs) == 4 else xs
        ws = _oihw(ws) if len(ws) == 4 else ws
    x, w = np.ones(xs), np.ones(ws)
    with pytest.raises(ValueError, match=rx):
        cconv.conv2d(x, w, layout=layout, **kw)
    # output_shape takes shapes: its arguments are input_shape / weight_shape
    rx_shapes = rx.replace(r"\bx\b", r"\bx\b|input_shape").replace(r"\bweight\b", r"\bweight\b|weight_shape")
    with pytest.raises(ValueError, match=rx_shapes):
        cconv.output_shape(xs, ws, layout=layout, **kw)
    # no grad_out fits an invalid geometry; the geometry error must be the one reported
    gy = np.ones((1, 1, 1, 1))
    with pytest.raises(ValueError, match=rx):
        cconv.conv2d_backward(gy, x, w, layout=layout, **kw)


@pytest.mark.parametrize("xs,k,kw", [
    ((1, 3, 3, 1), (5, 5), {}),
    ((1, 4, 4, 1), (3, 3), dict(dilation=2)),
    ((1, 3, 8, 1), (5, 2), dict(padding=(0, 1))),
])
def test_im2col_kernel_larger_than_padded_input(xs, k, kw):
    with pytest.raises(ValueError, match=r"kernel"):
        cconv.im2col(np.ones(xs), k, **kw)
    with pytest.raises(ValueError, match=r"kernel|cols"):
        cconv.col2im(np.ones((1, k[0] * k[1] * xs[3])), xs, k, **kw)


@pytest.mark.parametrize("bshape", [(7,), (5,), (1, 6), (6, 1), ()])
@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
def test_wrong_bias_shape(bshape, layout):
    x = X if layout == "NHWC" else X.transpose(0, 3, 1, 2)
    w = W if layout == "NHWC" else W.transpose(3, 2, 0, 1)
    with pytest.raises(ValueError, match=r"\bbias\b") as info:
        cconv.conv2d(x, w, np.ones(bshape), layout=layout)
    if bshape == (7,):
        assert "7" in str(info.value) and "6" in str(info.value)


@pytest.mark.parametrize("gshape", [(2, 4, 3, 6), (2, 3, 2, 6), (2, 3, 3, 5), (3, 3, 3, 6), (2, 3, 3), (2, 9, 3, 6)],
                         ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
def test_grad_out_shape_mismatch(gshape, layout):
    x = X if layout == "NHWC" else X.transpose(0, 3, 1, 2)
    w = W if layout == "NHWC" else W.transpose(3, 2, 0, 1)
    gy = np.ones(gshape if layout == "NHWC" or len(gshape) != 4 else _nchw(gshape))
    for call in (lambda: cconv.conv2d_backward(gy, x, w, layout=layout),
                 lambda: cconv.conv2d_grad_input(gy, w, x.shape, layout=layout),
                 lambda: cconv.conv2d_grad_weight(gy, x, w.shape, layout=layout)):
        with pytest.raises(ValueError, match=r"\bgrad_out\b") as info:
            call()
        if gshape == (2, 9, 3, 6):
            assert "9" in str(info.value)


@pytest.mark.parametrize("cshape", [(19, 36), (18, 35), (17, 36), (18, 36, 1), (18 * 36,)],
                         ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
def test_col2im_cols_shape_mismatch(cshape, layout):
    shape = X.shape if layout == "NHWC" else _nchw(X.shape)
    with pytest.raises(ValueError, match=r"\bcols\b") as info:
        cconv.col2im(np.ones(cshape), shape, (3, 3), layout=layout)
    if cshape == (19, 36):
        assert "19" in str(info.value) and "18" in str(info.value)


def test_grad_input_weight_does_not_fit_input_shape():
    with pytest.raises(ValueError, match=r"\bweight\b|input_shape|\bx\b"):
        cconv.conv2d_grad_input(GY, np.ones((3, 3, 5, 6)), X.shape)


def test_grad_weight_shape_does_not_fit_x():
    with pytest.raises(ValueError, match=r"\bweight\b|weight_shape|\bx\b"):
        cconv.conv2d_grad_weight(GY, X, (3, 3, 5, 6))


def test_conv2d_layer_bad_construction_and_input():
    with pytest.raises(ValueError, match=r"\bgroups\b"):
        cconv.Conv2D(3, 4, 3, groups=2)(np.ones((1, 5, 5, 3), np.float32))
    layer = cconv.Conv2D(4, 6, 3)
    with pytest.raises(ValueError, match=r"\bx\b|in_channels|\bweight\b|channel"):
        layer(np.ones((1, 5, 5, 5), np.float32))
    with pytest.raises(ValueError, match=r"\bx\b"):
        layer(np.ones((5, 4), np.float32))


@pytest.mark.parametrize("fn", ["conv2d", "conv2d_backward", "conv2d_grad_input", "conv2d_grad_weight", "im2col",
                                "col2im"])
def test_options_are_keyword_only(fn):
    """stride etc. come after '*': passing them positionally is a TypeError."""
    with pytest.raises(TypeError):
        if fn == "conv2d":
            cconv.conv2d(X, W, None, 1)
        elif fn == "conv2d_backward":
            cconv.conv2d_backward(GY, X, W, 1)
        elif fn == "conv2d_grad_input":
            cconv.conv2d_grad_input(GY, W, X.shape, 1)
        elif fn == "conv2d_grad_weight":
            cconv.conv2d_grad_weight(GY, X, W.shape, 1)
        elif fn == "im2col":
            cconv.im2col(X, (3, 3), 1)
        else:
            cconv.col2im(COLS, X.shape, (3, 3), 1)
