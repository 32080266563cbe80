"""The numbers printed in the seed documents, typed in from the seed text."""
import numpy as np
import pytest

import cconv

# seed 003: x2 = arange(1, 97).reshape(2, 3, 4, 4) (NCHW), k2 = arange(1, 25).reshape(2, 3, 2, 2) (OIHW)
SEED003_Y = np.array(
    [[[[2060, 2138, 2216],
       [2372, 2450, 2528],
       [2684, 2762, 2840]],
      [[4868, 5090, 5312],
       [5756, 5978, 6200],
       [6644, 6866, 7088]]],
     [[[5804, 5882, 5960],
       [6116, 6194, 6272],
       [6428, 6506, 6584]],
      [[15524, 15746, 15968],
       [16412, 16634, 16856],
       [17300, 17522, 17744]]]])

_GX_ONE_SAMPLE = [[[14, 30, 30, 16],
                   [32, 68, 68, 36],
                   [32, 68, 68, 36],
                   [18, 38, 38, 20]],
                  [[22, 46, 46, 24],
                   [48, 100, 100, 52],
                   [48, 100, 100, 52],
                   [26, 54, 54, 28]],
                  [[30, 62, 62, 32],
                   [64, 132, 132, 68],
                   [64, 132, 132, 68],
                   [34, 70, 70, 36]]]
SEED003_GX = np.array([_GX_ONE_SAMPLE, _GX_ONE_SAMPLE])          # (2, 3, 4, 4) NCHW

_GW_ONE_FILTER = [[[540, 558],
                   [612, 630]],
                  [[828, 846],
                   [900, 918]],
                  [[1116, 1134],
                   [1188, 1206]]]
SEED003_GW = np.array([_GW_ONE_FILTER, _GW_ONE_FILTER])          # (2, 3, 2, 2) OIHW

# seed 003, 2-D part: x1 = arange(1, 17).reshape(4, 4), k1 = arange(1, 5).reshape(2, 2), grad = ones
SEED003_2D_GX = np.array([[1, 3, 3, 2], [4, 10, 10, 6], [4, 10, 10, 6], [3, 7, 7, 4]])
SEED003_2D_GW = np.array([[54, 63], [90, 99]])

# seed 004: SAME padding, 2x2 ones kernel, 2 channels
SEED004_X0 = np.array([[2, 1, 1.5], [3, 2.2, 5], [5, 3, 2]])
SEED004_X1 = np.array([[7.3, 4, 2], [4, 3, 2], [0.8, 2.7, 3.9]])
SEED004_Y = np.array([[26.5, 20.7, 10.5], [23.7, 23.8, 12.9], [11.5, 11.6, 5.9]])


def _seed003_inputs(layout, dtype):
    x2 = np.arange(1, 97, 1).reshape([2, 3, 4, 4]).astype(dtype)
    k2 = np.arange(1, 25, 1).reshape([2, 3, 2, 2]).astype(dtype)
    if layout == "NHWC":
        return x2.transpose(0, 2, 3, 1), k2.transpose(2, 3, 1, 0)   # as seed 003 does (x3, k3)
    return x2, k2


def _to_nchw(a, layout):
    return a.transpose(0, 3, 1, 2) if layout == "NHWC" else a


# integers stay exact in float64; in float32 every partial sum here is an integer < 2**24, also exact
@pytest.mark.parametrize("dtype", [np.int64, np.float32, np.float64], ids=["int64", "f32", "f64"])
def test_seed003_forward(layout, dtype):
    x, k = _seed003_inputs(layout, dtype)
    y = cconv.conv2d(x, k, layout=layout)
    assert y.dtype == (np.float64 if dtype is np.int64 else dtype)
    np.testing.assert_array_equal(_to_nchw(y, layout), SEED003_Y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_seed003_backward_with_ones(layout, dtype):
    x, k = _seed003_inputs(layout, dtype)
    out_shape = (2, 3, 3, 2) if layout == "NHWC" else (2, 2, 3, 3)
    gx, gw, gb = cconv.conv2d_backward(np.ones(out_shape, dtype), x, k, layout=layout)
    np.testing.assert_array_equal(_to_nchw(gx, layout), SEED003_GX)
    gw_oihw = gw.transpose(3, 2, 0, 1) if layout == "NHWC" else gw
    np.testing.assert_array_equal(gw_oihw, SEED003_GW)
    # grad_bias of a ones grad_out is the count N*Ho*Wo = 2*3*3 for every channel (definition)
    np.testing.assert_array_equal(gb, [18, 18])


def test_seed003_2d_example(layout):
    x1 = np.arange(1, 17, 1).reshape([4, 4]).astype(np.float64)
    k1 = np.arange(1, 5, 1).reshape([2, 2]).astype(np.float64)
    x = x1[None, :, :, None] if layout == "NHWC" else x1[None, None]
    k = k1[:, :, None, None] if layout == "NHWC" else k1[None, None]
    gy = np.ones((1, 3, 3, 1) if layout == "NHWC" else (1, 1, 3, 3))
    gx, gw, _ = cconv.conv2d_backward(gy, x, k, layout=layout)
    np.testing.assert_array_equal(gx.reshape(4, 4), SEED003_2D_GX)
    np.testing.assert_array_equal(gw.reshape(2, 2), SEED003_2D_GW)


@pytest.mark.parametrize("padding", ["SAME", "same", "Same"])
def test_seed004_same_padding(layout, padding):
    x = np.zeros((1, 3, 3, 2))
    x[0, :, :, 0] = SEED004_X0
    x[0, :, :, 1] = SEED004_X1
    w = np.ones((2, 2, 2, 1))
    if layout == "NCHW":
        x, w = x.transpose(0, 3, 1, 2), w.transpose(3, 2, 0, 1)
    assert cconv.output_shape(x.shape, w.shape, padding=padding, layout=layout) == \
        ((1, 3, 3, 1) if layout == "NHWC" else (1, 1, 3, 3))
    y = cconv.conv2d(x, w, padding=padding, layout=layout)
    assert y.shape == ((1, 3, 3, 1) if layout == "NHWC" else (1, 1, 3, 3))
    np.testing.assert_allclose(y.reshape(3, 3), SEED004_Y, rtol=1e-12, atol=1e-12)


def test_seed004_same_2x2_pads_only_bottom_right(layout):
    """The same result as explicit ((0, 1), (0, 1)) padding."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 6, 3) if layout == "NHWC" else (2, 3, 5, 6))
    w = rng.standard_normal((2, 2, 3, 4) if layout == "NHWC" else (4, 3, 2, 2))
    a = cconv.conv2d(x, w, padding="same", layout=layout)
    b = cconv.conv2d(x, w, padding=((0, 1), (0, 1)), layout=layout)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
