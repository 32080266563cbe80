"""``padding_mode``: borders that hold the input's own samples.

Oracles, none of them cconv's code:

* the forward: ``numpy.pad`` in the mode, then the direct loop definition
  (``_oracle.conv2d_loop``) with no padding;
* the gradients: the loop definition's gradients on the padded input, with
  the padded samples' gradient added back by hand onto the samples their value
  came from (``_source``, written from the modes' definitions, not numpy's);
  and the adjoint identity <conv(x), dy> == <x, grad_input(dy)>;
* PyTorch: ``F.pad(mode=...)`` + ``F.conv2d``/``F.conv1d``/``F.conv3d`` through
  autograd (reflect, replicate, circular), in tests/test_torch_oracle.py.
"""
import numpy as np
import pytest

import cconv
from _oracle import assert_close, conv2d_backward_loop, conv2d_loop

MODES = ["reflect", "replicate", "circular", "symmetric"]
NUMPY_NAME = {"reflect": "reflect", "replicate": "edge", "circular": "wrap", "symmetric": "symmetric"}


def _source(mode, i, n):
    """The input index whose value padded index i (of an axis of n samples) holds, by definition."""
    if 0 <= i < n:
        return i
    if mode == "replicate":
        return 0 if i < 0 else n - 1
    if mode == "circular":
        return i % n
    if mode == "reflect":          # mirrored about the edge sample (pads < n)
        return -i if i < 0 else 2 * (n - 1) - i
    j = i % (2 * n)                # symmetric: mirrored with the edge repeated, period 2n
    return j if j < n else 2 * n - 1 - j


def _fold(gxp, mode, pads, shape):
    """The gradient of x (NHWC) from that of its padded copy: each padded pixel's gradient
    goes to its source pixel."""
    (pt, _), (pl, _) = pads
    gx = np.zeros(shape)
    H, W = shape[1], shape[2]
    for hp in range(gxp.shape[1]):
        for wp in range(gxp.shape[2]):
            gx[:, _source(mode, hp - pt, H), _source(mode, wp - pl, W)] += gxp[:, hp, wp]
    return gx


def _oracle(x, w, gy, mode, pads, stride=1, dilation=1, groups=1):
    """(y, grad_x, grad_w) of the NHWC convolution with a padding mode, by the definitions."""
    xp = np.pad(x, ((0, 0),) + tuple(pads) + ((0, 0),), mode=NUMPY_NAME[mode])
    y = conv2d_loop(xp, w, stride=stride, dilation=dilation, groups=groups)
    gxp, gw, _ = conv2d_backward_loop(gy, xp, w, stride=stride, dilation=dilation, groups=groups)
    return y, _fold(gxp, mode, pads, x.shape), gw


def test_source_index_agrees_with_numpy_pad():
    """The tests' own definition of each mode is numpy.pad's."""
    for mode in MODES:
        for n in (1, 2, 3, 5):
            for pad in range(0, 2 * n + 3):
                if mode == "reflect" and pad >= n or mode == "circular" and pad > n:
                    continue
                expected = np.pad(np.arange(n), pad, mode=NUMPY_NAME[mode])
                assert [_source(mode, i, n) for i in range(-pad, n + pad)] == list(expected), (mode, n, pad)


# (N, H, W, C, O, K, stride, padding, dilation, groups); the padding forms include asymmetric
# pads, pads wider than the kernel, "same", a grouped and a depthwise layer, a 1-channel layer and
# an im2col row longer than one GEMM K block (C=160, 3x3: the "gemm" forward, not the implicit one).
CASES = [
    (2, 6, 7, 3, 4, 3, 1, 1, 1, 1),
    (1, 7, 6, 4, 6, 3, 2, ((2, 0), (1, 2)), 1, 2),
    (2, 8, 9, 2, 3, 3, 1, 3, 1, 1),
    (1, 9, 8, 3, 2, 3, 1, 2, 2, 1),
    (1, 6, 6, 4, 4, 3, 1, "same", 1, 4),
    (2, 5, 6, 1, 3, 3, 1, 1, 1, 1),
    (1, 4, 5, 160, 2, 3, 1, 1, 1, 1),
]


def _explicit(padding, H, W, K, stride, dilation):
    if padding == "same":
        def side(n):
            out = -(-n // stride)
            total = max((out - 1) * stride + (K - 1) * dilation + 1 - n, 0)
            return (total // 2, total - total // 2)
        return (side(H), side(W))
    if isinstance(padding, int):
        return ((padding, padding),) * 2
    return padding


@pytest.mark.parametrize("case", CASES, ids=lambda c: "x".join(map(str, c[:6])) + f"-s{c[6]}-p{c[7]}-d{c[8]}-g{c[9]}")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
def test_conv2d_and_gradients_match_the_definition(case, mode, layout):
    N, H, W, C, O, K, stride, padding, dilation, groups = case
    pads = _explicit(padding, H, W, K, stride, dilation)
    if mode == "reflect" and max(max(p) for p in pads) >= min(H, W):
        pytest.skip("reflect needs pads smaller than the image")
    rng = np.random.default_rng(hash((case, mode)) % 2**32)
    x = rng.standard_normal((N, H, W, C))
    w = rng.standard_normal((K, K, C // groups, O))
    y_ref = conv2d_loop(np.pad(x, ((0, 0),) + tuple(pads) + ((0, 0),), mode=NUMPY_NAME[mode]), w,
                        stride=stride, dilation=dilation, groups=groups)
    gy = rng.standard_normal(y_ref.shape)
    _, gx_ref, gw_ref = _oracle(x, w, gy, mode, pads, stride, dilation, groups)
    to = (lambda a: a) if layout == "NHWC" else (lambda a: a.transpose(0, 3, 1, 2))
    wl = w if layout == "NHWC" else w.transpose(3, 2, 0, 1)
    kw = dict(stride=stride, padding=padding, padding_mode=mode, dilation=dilation, groups=groups, layout=layout)
    for dtype in (np.float64, np.float32):
        xd, wd, gyd = to(x).astype(dtype), wl.astype(dtype), to(gy).astype(dtype)
        before = xd.copy()
        assert_close(cconv.conv2d(xd, wd, **kw), to(y_ref), dtype, what="forward")
        gx, gw, gb = cconv.conv2d_backward(gyd, xd, wd, **kw)
        assert_close(gx, to(gx_ref), dtype, what="grad_input")
        assert_close(gw, gw_ref if layout == "NHWC" else gw_ref.transpose(3, 2, 0, 1), dtype, what="grad_weight")
        assert_close(gb, gy.sum(axis=(0, 1, 2)), dtype, what="grad_bias")
        assert_close(cconv.conv2d_grad_input(gyd, wd, xd.shape, **kw), gx, dtype, what="conv2d_grad_input")
        assert_close(cconv.conv2d_grad_weight(gyd, xd, wd.shape, **kw), gw, dtype, what="conv2d_grad_weight")
        np.testing.assert_array_equal(xd, before)


@pytest.mark.parametrize("mode", MODES + ["zeros"])
def test_grad_input_is_the_adjoint_of_the_forward(mode):
    """<conv(x), dy> == <x, grad_input(dy)> for a layer big enough for many col2im blocks and both
    threads (the border gradient's fold must not race or drop a block)."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 37, 41, 8))
    w = rng.standard_normal((5, 5, 8, 8))
    kw = dict(padding=((4, 3), (2, 4)), padding_mode=mode)
    y = cconv.conv2d(x, w, **kw)
    dy = rng.standard_normal(y.shape)
    for threads in (1, 2):
        dx = cconv.conv2d_grad_input(dy, w, x.shape, num_threads=threads, **kw)
        assert abs(np.vdot(y, dy) - np.vdot(x, dx)) <= 1e-10 * abs(np.vdot(y, dy))


def test_results_are_reproducible_and_agree_across_thread_counts():
    """The same call gives the same bits again; 1 and 2 threads agree to rounding (their
    tiles, and so the order of the sums, differ)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 30, 30, 16)).astype(np.float32)
    w = rng.standard_normal((3, 3, 16, 16)).astype(np.float32)
    gy = rng.standard_normal((3, 30, 30, 16)).astype(np.float32)
    kw = dict(padding=1, padding_mode="circular")

    def run(threads):
        return [cconv.conv2d(x, w, num_threads=threads, **kw),
                *cconv.conv2d_backward(gy, x, w, num_threads=threads, **kw)]

    one, two, again = run(1), run(2), run(2)
    for a, b, c in zip(one, two, again):
        np.testing.assert_array_equal(b, c)
        assert_close(b, a, np.float32)


@pytest.mark.parametrize("mode", MODES)
def test_conv1d_matches_the_definition(mode):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 9, 3))           # NWC
    w = rng.standard_normal((4, 3, 5))           # WIO
    pads = ((0, 0), (3, 2))
    y_ref = conv2d_loop(np.pad(x[:, None], ((0, 0),) + pads + ((0, 0),), mode=NUMPY_NAME[mode]), w[None], stride=2)
    gy = rng.standard_normal(y_ref.shape)
    _, gx_ref, gw_ref = _oracle(x[:, None], w[None], gy, mode, pads, stride=2)
    kw = dict(stride=2, padding=(3, 2), padding_mode=mode)
    assert_close(cconv.conv1d(x, w, **kw), y_ref[:, 0])
    gx, gw, _ = cconv.conv1d_backward(gy[:, 0], x, w, **kw)
    assert_close(gx, gx_ref[:, 0], what="grad_input")
    assert_close(gw, gw_ref[0], what="grad_weight")
    # unbatched NCW, as PyTorch takes it
    y = cconv.conv1d(x[0].T, w.transpose(2, 1, 0), layout="NCW", **kw)
    assert_close(y, y_ref[0, 0].T)


@pytest.mark.parametrize("mode", MODES)
def test_reference_module_agrees(mode):
    ref = pytest.importorskip("cconv.reference")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 7, 6))          # NCHW
    w = rng.standard_normal((4, 3, 3, 3))
    kw = dict(stride=(1, 2), padding=((2, 1), (1, 2)), padding_mode=mode, layout="NCHW")
    y = ref.conv2d(x, w, **kw)
    gy = rng.standard_normal(y.shape)
    assert_close(cconv.conv2d(x, w, **kw), y)
    for got, expected in zip(cconv.conv2d_backward(gy, x, w, **kw), ref.conv2d_backward(gy, x, w, **kw)):
        assert_close(got, expected)
    s, k = rng.standard_normal((8, 2)), rng.standard_normal((3, 2, 2))     # unbatched NWC
    assert_close(cconv.conv1d(s, k, padding="same", padding_mode=mode), ref.conv1d(s, k, padding="same",
                                                                                 padding_mode=mode))


def test_numpy_pad_names_are_aliases():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 5, 5, 2)), rng.standard_normal((3, 3, 2, 2))
    for alias, mode in (("edge", "replicate"), ("wrap", "circular"), ("constant", "zeros"), ("REFLECT", "reflect")):
        np.testing.assert_array_equal(cconv.conv2d(x, w, padding=2 if mode != "reflect" else 1, padding_mode=alias),
                                      cconv.conv2d(x, w, padding=2 if mode != "reflect" else 1, padding_mode=mode))
    np.testing.assert_array_equal(cconv.conv2d(x, w, padding=1, padding_mode="zeros"), cconv.conv2d(x, w, padding=1))


def test_replicate_and_symmetric_take_pads_wider_than_the_input():
    x = np.arange(3.0).reshape(1, 1, 3, 1)
    w = np.ones((1, 1, 1, 1))
    for mode in ("replicate", "symmetric"):
        y = cconv.conv2d(x, w, padding=((0, 0), (5, 4)), padding_mode=mode)
        np.testing.assert_array_equal(y.ravel(), np.pad(np.arange(3.0), (5, 4), mode=NUMPY_NAME[mode]))


def test_routes_of_a_bordered_layer():
    """A padded layer with a mode runs on the GEMM routes; unpadded, the mode changes nothing."""
    x_shape, w_shape = (1, 32, 32, 32), (3, 3, 32, 32)
    assert cconv.select_algorithm(x_shape, w_shape, padding=1)["forward"].startswith("winograd")
    routes = cconv.select_algorithm(x_shape, w_shape, padding=1, padding_mode="reflect")
    assert routes["forward"] == "gemm-implicit" and routes["grad_input"] == routes["grad_weight"] == "gemm"
    assert cconv.select_algorithm(x_shape, w_shape, padding=0, padding_mode="reflect")["forward"].startswith("winograd")
    depthwise = cconv.select_algorithm((1, 8, 8, 4), (3, 3, 1, 4), padding=1, groups=4, padding_mode="circular")
    assert set(depthwise.values()) - {"avx512", "avx2", "baseline"} <= {"gemm", "gemm-implicit"}


@pytest.mark.parametrize("algorithm", ["winograd", "direct"])
def test_kernels_that_assume_zeros_refuse_a_mode(algorithm):
    x, w = np.zeros((1, 8, 8, 4)), np.zeros((3, 3, 1 if algorithm == "direct" else 4, 4))
    groups = 4 if algorithm == "direct" else 1
    with pytest.raises(ValueError, match="padding_mode='reflect'.*GEMM"):
        cconv.conv2d(x, w, padding=1, groups=groups, padding_mode="reflect", algorithm=algorithm)
    cconv.conv2d(x, w, padding=1, groups=groups, algorithm=algorithm)     # zeros: served


@pytest.mark.parametrize("mode,pad,message", [
    ("reflect", 4, "padding_mode='reflect' needs each pad smaller than the axis.*padding \\(4, 4\\) on H=4"),
    ("circular", 5, "padding_mode='circular' needs each pad no larger than the axis.*padding \\(5, 5\\) on H=4"),
])
def test_a_pad_the_mode_cannot_fill_is_a_value_error(mode, pad, message):
    x, w = np.zeros((1, 4, 9, 1)), np.zeros((3, 3, 1, 1))
    with pytest.raises(ValueError, match=message):
        cconv.conv2d(x, w, padding=((pad, pad), (1, 1)), padding_mode=mode)
    cconv.conv2d(x, w, padding=((pad - 1, pad - 1), (1, 1)), padding_mode=mode)   # the widest it fills


def test_bad_padding_mode_values():
    x, w = np.zeros((1, 4, 4, 1)), np.zeros((3, 3, 1, 1))
    with pytest.raises(ValueError, match="padding_mode must be one of .*'zeros'.*got 'mirror'"):
        cconv.conv2d(x, w, padding=1, padding_mode="mirror")
    with pytest.raises(TypeError, match="padding_mode must be a string.*got int 0"):
        cconv.conv2d(x, w, padding=1, padding_mode=0)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        cconv.Conv2D(1, 1, 3, padding=1, padding_mode="mirror")
    with pytest.raises(ValueError, match="needs a non-empty x axis W"):
        cconv.conv2d(np.zeros((1, 4, 0, 1)), np.zeros((1, 1, 1, 1)), padding=((0, 0), (1, 1)),
                     padding_mode="replicate")


@pytest.mark.parametrize("mode", MODES)
def test_layers_take_the_mode(mode):
    rng = np.random.default_rng(2)
    layer = cconv.Conv2D(3, 4, 3, padding=1, padding_mode=mode, layout="NCHW", dtype=np.float64, rng=0)
    assert f"padding_mode={mode!r}" in repr(layer)
    x = rng.standard_normal((2, 3, 6, 5))
    y = layer(x)
    gy = rng.standard_normal(y.shape)
    gx = layer.backward(gy)
    kw = dict(padding=1, padding_mode=mode, layout="NCHW")
    np.testing.assert_allclose(y, cconv.conv2d(x, layer.weight, layer.bias, **kw))
    ex, ew, eb = cconv.conv2d_backward(gy, x, layer.weight, **kw)
    np.testing.assert_allclose(gx, ex)
    np.testing.assert_allclose(layer.grad_weight, ew)
    layer1 = cconv.Conv1D(2, 3, 3, padding=1, padding_mode=mode, dtype=np.float64, rng=0)
    s = rng.standard_normal((7, 2))
    np.testing.assert_allclose(layer1(s), cconv.conv1d(s, layer1.weight, layer1.bias, padding=1, padding_mode=mode))


# ---------------------------------------------------------------------------
# Dask: the mode at the array's outer border only
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_dask_matches_in_memory(mode):
    da = pytest.importorskip("dask.array")
    import cconv.dask as cdask
    rng = np.random.default_rng(17)
    x = rng.standard_normal((3, 13, 11, 4))
    w = rng.standard_normal((3, 3, 4, 5))
    xd = da.from_array(x, chunks=(2, 5, 4, 4))
    kw = dict(stride=2, padding=((2, 1), (1, 2)), padding_mode=mode)
    y = cconv.conv2d(x, w, **kw)
    np.testing.assert_allclose(cdask.conv2d(xd, w, **kw).compute(), y, atol=1e-12)
    gy = rng.standard_normal(y.shape)
    gx_d, gw_d, gb_d = cdask.conv2d_backward(da.from_array(gy, chunks=2), xd, w, **kw)
    assert gx_d.chunks == xd.chunks
    for got, expected in zip((gx_d, gw_d, gb_d), cconv.conv2d_backward(gy, x, w, **kw)):
        np.testing.assert_allclose(got.compute(), expected, atol=1e-12)
    s = rng.standard_normal((2, 3, 40))            # NCW
    k = rng.standard_normal((4, 3, 5))
    kw1 = dict(padding="same", padding_mode=mode, layout="NCW")
    sd = da.from_array(s, chunks=(1, 3, 7))
    np.testing.assert_allclose(cdask.conv1d(sd, k, **kw1).compute(), cconv.conv1d(s, k, **kw1), atol=1e-12)
    g1 = rng.standard_normal(cconv.conv1d(s, k, **kw1).shape)
    for got, expected in zip(cdask.conv1d_backward(g1, sd, k, **kw1), cconv.conv1d_backward(g1, s, k, **kw1)):
        np.testing.assert_allclose(got.compute(), expected, atol=1e-12)



# ---------------------------------------------------------------------------
# 3-D: the same modes on volumes
# ---------------------------------------------------------------------------
def _fold3(gxp, mode, pads, shape):
    """As _fold, with the depth axis: each padded voxel's gradient goes to its source voxel."""
    (pf, _), (pt, _), (pl, _) = pads
    gx = np.zeros(shape)
    D, H, W = shape[1:4]
    for dp in range(gxp.shape[1]):
        for hp in range(gxp.shape[2]):
            for wp in range(gxp.shape[3]):
                gx[:, _source(mode, dp - pf, D), _source(mode, hp - pt, H), _source(mode, wp - pl, W)] += gxp[:, dp, hp, wp]
    return gx


CASES_3D = [
    (2, 4, 5, 6, 3, 4, 3, 1, 1, 1, 1),
    (1, 5, 4, 4, 4, 6, (3, 2, 3), (2, 1, 1), ((2, 1), (1, 0), (0, 2)), 1, 2),
    (1, 4, 4, 5, 16, 8, 3, 1, 2, (2, 1, 1), 1),
    (2, 4, 4, 4, 4, 4, 3, 1, 1, 1, 4),
]


@pytest.mark.parametrize("case", CASES_3D, ids=lambda c: "x".join(map(str, c[:6])))
@pytest.mark.parametrize("mode", MODES)
def test_conv3d_and_gradients_match_the_definition(case, mode):
    from test_conv3d import _conv3d_backward_loop, _conv3d_loop, _pads, _triple
    N, D, H, W, C, O, k, stride, padding, dilation, groups = case
    kernel, strides, dilations = _triple(k), _triple(stride), _triple(dilation)
    pads = _pads(padding, (D, H, W), kernel, strides, dilations)
    if mode == "reflect" and any(max(p) >= n for p, n in zip(pads, (D, H, W))):
        pytest.skip("reflect needs pads smaller than the volume")
    rng = np.random.default_rng(abs(hash((case, mode))) % 2**32)
    x = rng.standard_normal((N, D, H, W, C))
    w = rng.standard_normal((*kernel, C // groups, O))
    xp = np.pad(x, ((0, 0),) + tuple(pads) + ((0, 0),), mode=NUMPY_NAME[mode])
    zero = ((0, 0),) * 3
    y_ref = _conv3d_loop(xp, w, None, strides, zero, dilations, groups)
    gy = rng.standard_normal(y_ref.shape)
    gxp, gw_ref, _ = _conv3d_backward_loop(gy, xp, w, strides, zero, dilations, groups)
    gx_ref = _fold3(gxp, mode, pads, x.shape)
    kw = dict(stride=stride, padding=padding, padding_mode=mode, dilation=dilation, groups=groups)
    for threads in (1, 2):
        assert_close(cconv.conv3d(x, w, num_threads=threads, **kw), y_ref)
        gx, gw, _ = cconv.conv3d_backward(gy, x, w, num_threads=threads, **kw)
        assert_close(gx, gx_ref, what="grad_input")
        assert_close(gw, gw_ref, what="grad_weight")
    ref = pytest.importorskip("cconv.reference")
    assert_close(ref.conv3d(x, w, **kw), y_ref)
    assert_close(ref.conv3d_backward(gy, x, w, **kw)[0], gx_ref)


