"""Result dtypes: float32 and float64 native, result_type of the inputs, ints/bools -> float64,
float16 -> float16, complex/object/str -> TypeError naming the argument."""
import numpy as np
import pytest

import cconv
from _oracle import assert_close, conv2d_backward_loop, conv2d_loop

RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 5, 6, 3))
W = RNG.standard_normal((3, 2, 3, 4))
B = RNG.standard_normal(4)
GY = RNG.standard_normal((2, 3, 5, 4))
PADS = ((0, 0), (0, 0))


@pytest.mark.parametrize("xdt,wdt,bdt,expected", [
    (np.float32, np.float32, np.float32, np.float32),
    (np.float64, np.float64, np.float64, np.float64),
    (np.float32, np.float64, None, np.float64),
    (np.float64, np.float32, None, np.float64),
    (np.float32, np.float32, np.float64, np.float64),   # bias is an input too
    (np.float16, np.float16, None, np.float16),
    (np.float16, np.float16, np.float16, np.float16),
    (np.float16, np.float32, None, np.float32),
], ids=lambda v: getattr(v, "__name__", str(v)))
def test_float_result_dtype_and_values(xdt, wdt, bdt, expected):
    x, w = X.astype(xdt), W.astype(wdt)
    b = None if bdt is None else B.astype(bdt)
    y = cconv.conv2d(x, w, b)
    assert y.dtype == expected
    assert y.dtype == np.result_type(*[a for a in (x, w, b) if a is not None])
    ref = conv2d_loop(x, w, b, pads=PADS)    # exact values of the (cast) inputs, in float64
    assert_close(y, ref, expected, what=f"{xdt.__name__}/{wdt.__name__}")


@pytest.mark.parametrize("xdt,wdt", [
    (np.int64, np.int64), (np.int32, np.int64), (np.int64, np.int32), (np.uint8, np.int16),
    (np.bool_, np.bool_), (np.int64, np.float32), (np.bool_, np.int64), (np.int64, np.float64),
], ids=lambda v: v.__name__)
def test_integer_and_bool_inputs_promote_to_float64(xdt, wdt):
    xi = (np.abs(X) * 3).astype(xdt) if xdt is not np.bool_ else X > 0
    wi = (np.abs(W) * 3).astype(wdt) if wdt is not np.bool_ else W > 0
    if wdt is np.float32:
        wi = W.astype(np.float32)
    y = cconv.conv2d(xi, wi)
    assert y.dtype == np.float64
    assert_close(y, conv2d_loop(xi.astype(np.float64), wi.astype(np.float64), pads=PADS), np.float64)


def test_integer_inputs_backward_and_im2col_are_float64():
    xi = (np.abs(X) * 3).astype(np.int64)
    wi = (np.abs(W) * 3).astype(np.int64)
    gyi = (np.abs(GY) * 3).astype(np.int64)
    gx, gw, gb = cconv.conv2d_backward(gyi, xi, wi)
    assert gx.dtype == gw.dtype == gb.dtype == np.float64
    ex, ew, eb = conv2d_backward_loop(gyi, xi, wi, pads=PADS)
    assert_close(gx, ex)
    assert_close(gw, ew)
    assert_close(gb, eb)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16], ids=["f32", "f64", "f16"])
def test_backward_keeps_uniform_float_dtype(dtype):
    gx, gw, gb = cconv.conv2d_backward(GY.astype(dtype), X.astype(dtype), W.astype(dtype))
    assert gx.dtype == gw.dtype == gb.dtype == dtype
    ex, ew, eb = conv2d_backward_loop(GY.astype(dtype), X.astype(dtype), W.astype(dtype), pads=PADS)
    assert_close(gx, ex, dtype, what="grad_x")
    assert_close(gw, ew, dtype, what="grad_weight")
    assert_close(gb, eb, dtype, what="grad_bias")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_im2col_col2im_keep_dtype(dtype, layout):
    x = X.astype(dtype) if layout == "NHWC" else X.astype(dtype).transpose(0, 3, 1, 2)
    cols = cconv.im2col(x, (3, 2), layout=layout)
    assert cols.dtype == dtype
    assert cconv.col2im(cols, x.shape, (3, 2), layout=layout).dtype == dtype


BAD_DTYPES = [
    ("complex128", lambda a: a.astype(np.complex128)),
    ("complex64", lambda a: a.astype(np.complex64)),
    ("object", lambda a: a.astype(object)),
    ("str", lambda a: a.astype(str)),
]


@pytest.mark.parametrize("kind,make", BAD_DTYPES, ids=[k for k, _ in BAD_DTYPES])
@pytest.mark.parametrize("which", ["x", "weight", "bias"])
def test_conv2d_rejects_non_real_dtypes(kind, make, which):
    args = {"x": X, "weight": W, "bias": B}
    args[which] = make(args[which])
    with pytest.raises(TypeError, match=rf"\b{which}\b"):
        cconv.conv2d(args["x"], args["weight"], args["bias"])


@pytest.mark.parametrize("kind,make", BAD_DTYPES, ids=[k for k, _ in BAD_DTYPES])
def test_other_functions_reject_non_real_dtypes(kind, make):
    with pytest.raises(TypeError, match=r"\bgrad_out\b"):
        cconv.conv2d_backward(make(GY), X, W)
    with pytest.raises(TypeError, match=r"\bx\b"):
        cconv.conv2d_backward(GY, make(X), W)
    with pytest.raises(TypeError, match=r"\bweight\b"):
        cconv.conv2d_backward(GY, X, make(W))
    with pytest.raises(TypeError, match=r"\bgrad_out\b"):
        cconv.conv2d_grad_input(make(GY), W, X.shape)
    with pytest.raises(TypeError, match=r"\bx\b"):
        cconv.conv2d_grad_weight(GY, make(X), W.shape)
    with pytest.raises(TypeError, match=r"\bx\b"):
        cconv.im2col(make(X), (3, 2))
    cols = np.ones((2 * 3 * 5, 3 * 2 * 3))
    with pytest.raises(TypeError, match=r"\bcols\b"):
        cconv.col2im(make(cols), X.shape, (3, 2))


def test_array_likes_are_accepted():
    y = cconv.conv2d(X.tolist(), W.tolist(), B.tolist())
    assert_close(y, conv2d_loop(X, W, B, pads=PADS))
