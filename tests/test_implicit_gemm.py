"""The "gemm-implicit" forward: the GEMM reads each output pixel's receptive
field where it lies in the input, through a table of run pointers, and writes
the im2col row of a border pixel only. Checked against the float64 loop
definition (tests/_oracle.py) on the shapes that reach each of its paths, at
whatever ISA level the kernel table runs (``.ci/run`` repeats this file under
every ``CCONV_ISA`` level the machine has), and where the route ends."""
import numpy as np
import pytest

import cconv
from cconv import _kernels, _routes
from _oracle import assert_close, conv2d_loop, explicit_padding

# (id, N, H, W, C, O, (KH, KW), stride, padding, dilation, groups)
SHAPES = [
    # LeNet's second layer in small: no padding, so every pixel reads x in place,
    # one run of KW*C values per kernel row; 16 output channels (one vector at avx512).
    ("lenet_interior", 3, 14, 14, 6, 16, (5, 5), 1, 0, 1, 1),
    # Padding on every side and an odd stride: border pixels go through the edge rows,
    # the interior ones through x, in the same micro-tile.
    ("padded_mixed_rows", 2, 9, 11, 5, 70, (3, 3), (2, 1), ((1, 2), (0, 1)), 1, 1),
    # kw dilation and groups: one run per tap (Cg channels), not per kernel row.
    ("runs_per_tap", 1, 9, 11, 4, 6, (3, 2), (1, 2), ((1, 1), (2, 0)), (2, 3), 2),
    # A 7x7/2 RGB stem in small: 3-channel runs of 21 values, mostly border pixels.
    ("stem_like", 3, 8, 8, 3, 33, (7, 7), 2, 3, 1, 1),
    # Whole 6-row tiles, several 64-wide panels and a ragged one (130 = 2*64 + 2).
    ("wide_output", 1, 9, 9, 8, 130, (3, 3), 1, 1, (2, 1), 1),
    # A 1x1 layer with padding is not pointwise: its padded pixels are all edge rows.
    ("padded_1x1", 2, 5, 5, 2, 1, (1, 1), 1, ((1, 0), (0, 2)), 1, 1),
    # Panels at most two vectors wide run two 6-row tiles at once where the ISA has that kernel
    # (AVX-512): 169 rows = a 144-row block and 25 more, so pairs, a lone tile and a partial one;
    # 32 and 24 columns (two vectors, one and a half at float32).
    ("narrow_two_tiles", 1, 13, 13, 5, 32, (3, 3), 1, 1, 1, 1),
    ("narrow_ragged_two_tiles", 1, 13, 13, 3, 24, (3, 3), 1, 1, 1, 1),
    # A B panel over 64 KiB (K = 400 by 64 columns of float32): the AVX-512 kernel's variant that
    # prefetches B's rows.
    ("large_b_panel", 1, 9, 9, 16, 64, (5, 5), 1, 2, 1, 1),
    # One output pixel: a table of one real row and five repeats of it.
    ("single_pixel", 1, 3, 3, 4, 5, (3, 3), 1, 0, 1, 1),
]


def _case(shape_id, N, H, W, C, O, k, stride, padding, dilation, groups, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, H, W, C)).astype(dtype)
    w = rng.standard_normal((*k, C // groups, O)).astype(dtype)
    b = rng.standard_normal(O).astype(dtype)
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return x, w, b, kw


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("num_threads", [1, 2])
@pytest.mark.parametrize("shape", SHAPES, ids=[s[0] for s in SHAPES])
def test_matches_the_definition(shape, num_threads, dtype):
    x, w, b, kw = _case(*shape, dtype=dtype)
    routes = cconv.select_algorithm(x.shape, w.shape, **kw)
    assert routes["forward"] == "gemm-implicit", routes
    pads = explicit_padding(kw["padding"], x.shape[1:3], w.shape[:2], kw["stride"], kw["dilation"])
    ref_kw = dict(stride=kw["stride"], pads=pads, dilation=kw["dilation"], groups=kw["groups"])
    x_before = x.copy()
    for bias in (b, None):
        y = cconv.conv2d(x, w, bias, num_threads=num_threads, **kw)
        assert_close(y, conv2d_loop(x, w, bias, **ref_kw), dtype, what=f"{shape[0]} bias={bias is not None}")
    assert np.array_equal(x, x_before)


def test_the_route_ends_where_the_im2col_row_outgrows_one_k_block():
    """KH*KW*C/groups up to the kernel row's K block is implicit; one channel more is im2col, and
    both give the definition's answer."""
    kc = min(_kernels.row_info()[t]["kc"] for t in ("float32", "float64"))
    assert _routes._IMPLICIT_MAX_K == kc
    C = kc // 9
    for c, route in ((C, "gemm-implicit"), (C + 1, "gemm")):
        x, w, b, kw = _case("k_block", 1, 5, 6, c, 7, (3, 3), 1, 1, 1, 1, np.float64, seed=c)
        assert cconv.select_algorithm(x.shape, w.shape, padding=1)["forward"] == route
        y = cconv.conv2d(x, w, b, padding=1)
        assert_close(y, conv2d_loop(x, w, b, pads=((1, 1), (1, 1))), np.float64, what=route)


def test_the_backward_of_an_implicit_forward_stays_on_im2col():
    routes = cconv.select_algorithm((64, 14, 14, 6), (5, 5, 6, 16))
    assert routes["forward"] == "gemm-implicit"
    assert routes["grad_input"] == routes["grad_weight"] == "gemm"


def test_nchw_and_unbatched_inputs_take_the_same_route():
    x, w, b, kw = _case("layouts", 2, 9, 10, 5, 12, (3, 3), 2, 1, 1, 1, np.float32)
    y = cconv.conv2d(x, w, b, **kw)
    y_nchw = cconv.conv2d(np.ascontiguousarray(x.transpose(0, 3, 1, 2)),
                          np.ascontiguousarray(w.transpose(3, 2, 0, 1)), b, layout="NCHW", **kw)
    np.testing.assert_allclose(y_nchw.transpose(0, 2, 3, 1), y, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(cconv.conv2d(x[0], w, b, **kw), y[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape, forward", [
    ((2, 28, 28, 1), "direct-single-channel"),     # LeNet's first layer: unpadded, 24-pixel rows, 6 channels
])
def test_one_input_channel_takes_the_direct_forward_only_where_it_was_measured_faster(shape, forward):
    w_shape = (5, 5, 1, 6)
    assert cconv.select_algorithm(shape, w_shape)["forward"] == forward
    assert cconv.select_algorithm(shape, w_shape, padding=2)["forward"] == "gemm-implicit"
    assert cconv.select_algorithm(shape, (3, 3, 1, 32), padding=1)["forward"] == "gemm-implicit"
    assert cconv.select_algorithm((2, 27, 27, 1), w_shape)["forward"] == "gemm-implicit"   # 23-pixel rows
    assert cconv.select_algorithm(shape, w_shape, padding=2, algorithm="direct")["forward"] == forward
    x, w, b, kw = _case("gray", 2, 12, 13, 1, 32, (3, 3), 1, 1, 1, 1, np.float32)
    assert_close(cconv.conv2d(x, w, b, **kw), conv2d_loop(x, w, b, pads=((1, 1), (1, 1))), np.float32)


# (id, N, H, W, C, O, (KH, KW), padding, dilation, groups): stride 1, >= 16 channels per group.
GRAD_INPUT_SHAPES = [
    ("5x5_same", 2, 9, 10, 32, 8, (5, 5), 2, 1, 1),
    ("asym_pad_dilated_groups", 1, 8, 9, 32, 12, (3, 2), ((1, 2), (0, 1)), (2, 1), 2),
    ("unpadded", 1, 7, 7, 16, 5, (3, 3), 0, 1, 1),
    ("wide_gradient", 1, 6, 7, 20, 128, (3, 3), 1, 1, 1),     # K' = 9 * 128 = 1152, one K block
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", GRAD_INPUT_SHAPES, ids=[s[0] for s in GRAD_INPUT_SHAPES])
def test_grad_input_as_the_implicit_forward_of_grad_out(shape, dtype):
    from _oracle import conv2d_backward_loop
    _, N, H, W, C, O, k, padding, dilation, groups = shape
    x, w, _, kw = _case(*shape[:7], 1, padding, dilation, groups, dtype=dtype)
    routes = cconv.select_algorithm(x.shape, w.shape, algorithm="gemm", **kw)
    assert routes["grad_input"] == "gemm-implicit", routes
    pads = explicit_padding(padding, (H, W), k, 1, dilation)
    gy = np.random.default_rng(3).standard_normal(cconv.conv2d(x, w, **kw).shape).astype(dtype)
    ex, ew, _ = conv2d_backward_loop(gy, x, w, stride=1, pads=pads, dilation=dilation, groups=groups)
    for num_threads in (1, 2):
        gx = cconv.conv2d_grad_input(gy, w, x.shape, algorithm="gemm", num_threads=num_threads, **kw)
        assert_close(gx, ex, dtype, what=f"{shape[0]} grad_input")
    gx, gw, _ = cconv.conv2d_backward(gy, x, w, algorithm="gemm", **kw)
    assert_close(gx, ex, dtype, what=f"{shape[0]} backward grad_input")
    assert_close(gw, ew, dtype, what=f"{shape[0]} backward grad_weight")


def test_grad_input_stays_on_col2im_where_the_implicit_forward_does_not_pay_or_serve():
    assert cconv.select_algorithm((64, 14, 14, 6), (5, 5, 6, 16))["grad_input"] == "gemm"          # C = 6
    assert cconv.select_algorithm((8, 28, 28, 32), (5, 5, 32, 32), padding=2,
                                  stride=2)["grad_input"] == "gemm"                                  # stride 2
    assert cconv.select_algorithm((8, 9, 9, 32), (2, 2, 32, 8), padding=3)["grad_input"] == "gemm"  # pad > extent
    assert cconv.select_algorithm((8, 28, 28, 32), (5, 5, 32, 64), padding=2)["grad_input"] == "gemm"  # K' = 1600
