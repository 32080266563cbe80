"""conv3d and its gradients, the Conv3D layer and cconv.reference's 3-D functions.

Oracles: the direct definition written here as float64 loops over output voxels and kernel taps
(``_conv3d_loop``, ``_conv3d_backward_loop``); PyTorch's ``F.conv3d`` and ``F.conv_transpose3d``
through autograd are in tests/test_torch_oracle.py.
"""
import itertools

import numpy as np
import pytest

import cconv
from _oracle import assert_close


def _pads(padding, size, kernel, stride, dilation):
    """Any accepted padding -> ((front, back), (top, bottom), (left, right)), from the spec."""
    if padding == "valid":
        return ((0, 0),) * 3
    if padding == "same":
        out = []
        for n, k, s, d in zip(size, kernel, stride, dilation):
            total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
            out.append((total // 2, total - total // 2))
        return tuple(out)
    if isinstance(padding, int):
        return ((padding, padding),) * 3
    if all(isinstance(p, int) for p in padding):
        return tuple((p, p) for p in padding)
    return tuple(tuple(p) for p in padding)


def _triple(v):
    return (v,) * 3 if isinstance(v, int) else tuple(v)


def _taps(x_shape, w_shape, stride, pads, dilation):
    """(do, ho, wo, kd, kh, kw, di, hi, wi) of every tap that lands inside the NDHWC input."""
    N, D, H, W, _ = x_shape
    KD, KH, KW = w_shape[:3]
    sizes, ks = (D, H, W), (KD, KH, KW)
    outs = [(n + p0 + p1 - d * (k - 1) - 1) // s + 1
            for n, (p0, p1), k, s, d in zip(sizes, pads, ks, stride, dilation)]
    for o in itertools.product(*(range(m) for m in outs)):
        for k in itertools.product(*(range(m) for m in ks)):
            i = [o[a] * stride[a] - pads[a][0] + k[a] * dilation[a] for a in range(3)]
            if all(0 <= i[a] < sizes[a] for a in range(3)):
                yield (*o, *k, *i)


def _out_shape(x_shape, w_shape, stride, pads, dilation):
    sizes, ks = x_shape[1:4], w_shape[:3]
    return tuple((n + p0 + p1 - d * (k - 1) - 1) // s + 1
                 for n, (p0, p1), k, s, d in zip(sizes, pads, ks, stride, dilation))


def _conv3d_loop(x, w, b, stride, pads, dilation, groups):
    """y[n, do, ho, wo, o] = b[o] + sum over taps and the group's channels (NDHWC, DHWIO)."""
    Cg, O = w.shape[3], w.shape[4]
    Og = O // groups
    y = np.zeros((x.shape[0], *_out_shape(x.shape, w.shape, stride, pads, dilation), O))
    if b is not None:
        y += b
    for do, ho, wo, kd, kh, kw, di, hi, wi in _taps(x.shape, w.shape, stride, pads, dilation):
        for g in range(groups):
            y[:, do, ho, wo, g * Og:(g + 1) * Og] += x[:, di, hi, wi, g * Cg:(g + 1) * Cg] @ w[kd, kh, kw, :, g * Og:(g + 1) * Og]
    return y


def _conv3d_backward_loop(gy, x, w, stride, pads, dilation, groups):
    Cg, O = w.shape[3], w.shape[4]
    Og = O // groups
    gx, gw = np.zeros_like(x), np.zeros_like(w)
    for do, ho, wo, kd, kh, kw, di, hi, wi in _taps(x.shape, w.shape, stride, pads, dilation):
        for g in range(groups):
            go = gy[:, do, ho, wo, g * Og:(g + 1) * Og]
            gx[:, di, hi, wi, g * Cg:(g + 1) * Cg] += go @ w[kd, kh, kw, :, g * Og:(g + 1) * Og].T
            gw[kd, kh, kw, :, g * Og:(g + 1) * Og] += x[:, di, hi, wi, g * Cg:(g + 1) * Cg].T @ go
    return gx, gw, gy.sum(axis=(0, 1, 2, 3))


# (N, D, H, W, C, O, kernel, stride, padding, dilation, groups): per-axis kernels, strides,
# dilations and pads, "same", a grouped, a depthwise and a 1x1x1 layer, and one whose receptive
# field (3x3x3x48 = 1296 values) is longer than one GEMM K block (the plain "gemm" forward).
CASES = [
    (2, 4, 5, 6, 3, 4, 3, 1, 1, 1, 1),
    (1, 6, 5, 4, 4, 6, (3, 2, 1), (2, 1, 1), ((1, 0), (2, 1), (0, 2)), 1, 2),
    (1, 6, 6, 6, 2, 3, 3, 1, "same", (2, 1, 2), 1),
    (2, 4, 4, 4, 6, 6, 3, 2, 1, 1, 6),
    (2, 3, 4, 5, 6, 7, 1, 1, 0, 1, 1),
    (1, 3, 4, 4, 48, 2, 3, 1, 1, 1, 1),
    (1, 5, 6, 7, 16, 8, (3, 2, 3), 1, ((2, 1), (1, 0), (0, 2)), (1, 2, 1), 1),
    (2, 4, 5, 4, 32, 16, 3, 1, 1, 1, 2),
]


def _ids(case):
    return "x".join(map(str, case[:6])) + f"-k{case[6]}-s{case[7]}-p{case[8]}-d{case[9]}-g{case[10]}"


def _to(layout, a):
    return a if layout == "NDHWC" else a.transpose(0, 4, 1, 2, 3)


def _w_to(layout, w):
    return w if layout == "NDHWC" else w.transpose(4, 3, 0, 1, 2)


@pytest.mark.parametrize("case", CASES, ids=_ids)
@pytest.mark.parametrize("layout", ["NDHWC", "NCDHW"])
def test_conv3d_and_gradients_match_the_definition(case, layout):
    N, D, H, W, C, O, k, stride, padding, dilation, groups = case
    kernel, stride, dilation = _triple(k), _triple(stride), _triple(dilation)
    pads = _pads(padding, (D, H, W), kernel, stride, dilation)
    rng = np.random.default_rng(abs(hash(case)) % 2**32)
    x = rng.standard_normal((N, D, H, W, C))
    w = rng.standard_normal((*kernel, C // groups, O))
    b = rng.standard_normal(O)
    y_ref = _conv3d_loop(x, w, b, stride, pads, dilation, groups)
    gy = rng.standard_normal(y_ref.shape)
    gx_ref, gw_ref, gb_ref = _conv3d_backward_loop(gy, x, w, stride, pads, dilation, groups)
    kw = dict(stride=case[7], padding=padding, dilation=case[9], groups=groups, layout=layout)
    for dtype in (np.float64, np.float32):
        xd, wd, gyd = _to(layout, x).astype(dtype), _w_to(layout, w).astype(dtype), _to(layout, gy).astype(dtype)
        before = xd.copy()
        y = cconv.conv3d(xd, wd, b.astype(dtype), **kw)
        assert y.dtype == dtype
        assert_close(y, _to(layout, y_ref), dtype, what="forward")
        assert cconv.conv3d_output_shape(xd.shape, wd.shape, **kw) == y.shape
        gx, gw, gb = cconv.conv3d_backward(gyd, xd, wd, **kw)
        assert_close(gx, _to(layout, gx_ref), dtype, what="grad_input")
        assert_close(gw, _w_to(layout, gw_ref), dtype, what="grad_weight")
        assert_close(gb, gb_ref, dtype, what="grad_bias")
        assert_close(cconv.conv3d_grad_input(gyd, wd, xd.shape, **kw), gx, dtype, what="conv3d_grad_input")
        assert_close(cconv.conv3d_grad_weight(gyd, xd, wd.shape, **kw), gw, dtype, what="conv3d_grad_weight")
        np.testing.assert_array_equal(xd, before)
    ref = pytest.importorskip("cconv.reference")
    assert_close(ref.conv3d(_to(layout, x), _w_to(layout, w), b, **kw), _to(layout, y_ref))
    for got, expected in zip(ref.conv3d_backward(_to(layout, gy), _to(layout, x), _w_to(layout, w), **kw),
                             (_to(layout, gx_ref), _w_to(layout, gw_ref), gb_ref)):
        assert_close(got, expected)


def test_routes_and_threads():
    """3-D runs on the GEMM routes; col2im's blocks of depth planes give the same result on 1 and 2
    threads (to rounding) on a volume with many blocks."""
    routes = cconv.select_algorithm((1, 16, 16, 16, 8), (3, 3, 3, 8, 32), padding=1, layout="NDHWC")
    assert routes["forward"] == "gemm-implicit" and routes["grad_input"] == routes["grad_weight"] == "gemm"
    assert cconv.select_algorithm((1, 4, 4, 4, 8), (1, 1, 1, 8, 8), layout="NDHWC")["forward"] == "gemm-pointwise"
    assert cconv.select_algorithm((1, 4, 4, 4, 200), (3, 3, 3, 200, 8), layout="NDHWC")["forward"] == "gemm"
    wide = cconv.select_algorithm((1, 8, 8, 8, 32), (3, 3, 3, 32, 32), padding=1, layout="NDHWC")
    assert wide["grad_input"] == "gemm-implicit"    # stride 1, >= 16 channels: the flipped forward of grad_out
    depthwise = cconv.select_algorithm((1, 4, 4, 4, 8), (3, 3, 3, 1, 8), groups=8, layout="NDHWC")
    assert depthwise["forward"] == depthwise["grad_input"] == depthwise["grad_weight"] == "direct-depthwise"
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 20, 9, 8, 8))
    w = rng.standard_normal((3, 3, 3, 8, 8))
    gy = rng.standard_normal((2, 20, 9, 8, 8))
    one = cconv.conv3d_backward(gy, x, w, padding=1, num_threads=1)
    two = cconv.conv3d_backward(gy, x, w, padding=1, num_threads=2)
    for a, b in zip(one, two):
        assert_close(a, b)
    y = cconv.conv3d(x, w, padding=1)
    assert abs(np.vdot(y, gy) - np.vdot(x, two[0])) <= 1e-10 * abs(np.vdot(y, gy))


def test_algorithms_that_cannot_serve_3d_say_why():
    with pytest.raises(ValueError, match=r"winograd needs a KD x 3 x 3 kernel in 3-D; got 3x5x3"):
        cconv.conv3d(np.zeros((1, 4, 6, 4, 2)), np.zeros((3, 5, 3, 2, 2)), algorithm="winograd")
    with pytest.raises(ValueError, match=r"winograd needs stride 1; got stride \(2, 1, 1\)"):
        cconv.conv3d(np.zeros((1, 4, 4, 4, 2)), np.zeros((3, 3, 3, 2, 2)), stride=(2, 1, 1), algorithm="winograd")
    with pytest.raises(ValueError, match=r"winograd needs dilation 1; got dilation \(1, 1, 2\)"):
        cconv.conv3d(np.zeros((1, 4, 4, 6, 2)), np.zeros((3, 3, 3, 2, 2)), dilation=(1, 1, 2), algorithm="winograd")
    with pytest.raises(ValueError, match="'direct' needs a depthwise convolution"):
        cconv.conv3d(np.zeros((1, 4, 4, 4, 2)), np.zeros((3, 3, 3, 2, 2)), algorithm="direct")


# Depthwise 3-D layers, on the direct kernels and on the grouped GEMM: strides, dilations, uneven
# per-side pads, a (3, 2, 3) kernel, and front padding wider than the kernel's depth reach (output
# planes that read no input plane get the bias alone).
DEPTHWISE = [
    (2, 6, 5, 7, 8, 8, (3, 2, 3), (1, 2, 1), ((1, 2), (0, 1), (2, 0)), (2, 1, 2), 8),
    (1, 3, 5, 6, 4, 4, (1, 3, 2), 1, ((2, 1), (1, 1), (0, 1)), 1, 4),
    (1, 5, 6, 5, 3, 3, 3, 2, 1, 1, 3),
    (2, 4, 4, 4, 16, 16, 3, 1, 1, 1, 16),
    # enough channels for the four-pixel by four-vector block of 64-byte vectors (64 float32 or 32
    # float64 channels), with vector and scalar channels left over; and at stride 2 along W
    (1, 3, 4, 10, 83, 83, 3, 1, 1, 1, 83),
    (1, 3, 3, 13, 64, 64, 3, (1, 1, 2), 1, 1, 64),
]


@pytest.mark.parametrize("case", DEPTHWISE, ids=_ids)
@pytest.mark.parametrize("algorithm", ["direct", "gemm"])
def test_depthwise_3d_on_both_routes(case, algorithm):
    N, D, H, W, C, O, k, stride, padding, dilation, groups = case
    kernel, strides, dilations = _triple(k), _triple(stride), _triple(dilation)
    pads = _pads(padding, (D, H, W), kernel, strides, dilations)
    rng = np.random.default_rng(abs(hash(case)) % 2**32)
    x = rng.standard_normal((N, D, H, W, C))
    w = rng.standard_normal((*kernel, 1, O))
    b = rng.standard_normal(O)
    y_ref = _conv3d_loop(x, w, b, strides, pads, dilations, groups)
    gy = rng.standard_normal(y_ref.shape)
    gx_ref, gw_ref, gb_ref = _conv3d_backward_loop(gy, x, w, strides, pads, dilations, groups)
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, algorithm=algorithm)
    route = "direct-depthwise" if algorithm == "direct" else None
    if route:
        assert cconv.select_algorithm(x.shape, w.shape, layout="NDHWC", **kw)["forward"] == route
    for layout in ("NDHWC", "NCDHW"):
        for dtype in (np.float64, np.float32):
            xd, wd, gyd = _to(layout, x).astype(dtype), _w_to(layout, w).astype(dtype), _to(layout, gy).astype(dtype)
            assert_close(cconv.conv3d(xd, wd, b.astype(dtype), layout=layout, **kw), _to(layout, y_ref), dtype)
            gx, gw, gb = cconv.conv3d_backward(gyd, xd, wd, layout=layout, **kw)
            assert_close(gx, _to(layout, gx_ref), dtype, what="grad_input")
            assert_close(gw, _w_to(layout, gw_ref), dtype, what="grad_weight")
            assert_close(gb, gb_ref, dtype, what="grad_bias")


def test_unbatched_and_layers():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 5, 6, 4))           # (C, D, H, W), unbatched NCDHW
    layer = cconv.Conv3D(3, 2, (3, 1, 3), padding=(1, 0, 1), layout="NCDHW", dtype=np.float64, rng=0)
    y = layer(x)
    assert y.shape == (2, 5, 6, 4)
    np.testing.assert_allclose(y, cconv.conv3d(x[None], layer.weight, layer.bias, padding=(1, 0, 1),
                                               layout="NCDHW")[0])
    gy = rng.standard_normal(y.shape)
    gx = layer.backward(gy)
    ex, ew, eb = cconv.conv3d_backward(gy[None], x[None], layer.weight, padding=(1, 0, 1), layout="NCDHW")
    np.testing.assert_allclose(gx, ex[0])
    np.testing.assert_allclose(layer.grad_weight, ew)
    np.testing.assert_allclose(layer.grad_bias, eb)
    assert cconv.conv3d_output_shape((5, 6, 4, 3), (3, 1, 3, 3, 2), padding=(1, 0, 1)) == (5, 6, 4, 2)


@pytest.mark.parametrize("call,message", [
    (lambda: cconv.conv3d(np.zeros((1, 4, 4, 4, 2)), np.zeros((3, 3, 2, 2))), "weight must have 5 dimensions"),
    (lambda: cconv.conv3d(np.zeros((1, 4, 4, 4, 2)), np.zeros((3, 3, 3, 2, 2)), stride=(1, 2)),
     r"stride must be an int or a 3-tuple of ints \(d, h, w\); got \(1, 2\)"),
    (lambda: cconv.conv3d(np.zeros((1, 4, 4, 4, 2)), np.zeros((3, 3, 3, 2, 2)), padding=((1, 1), (1, 1))),
     r"padding must be an int, \(pd, ph, pw\), \(\(front, back\), \(top, bottom\), \(left, right\)\)"),
    (lambda: cconv.conv3d(np.zeros((1, 4, 4, 4, 2)), np.zeros((3, 3, 3, 2, 2)), layout="NHWC"),
     r"layout must be one of \('NDHWC', 'NCDHW'\)"),
    (lambda: cconv.conv3d(np.zeros((1, 2, 4, 4, 2)), np.zeros((3, 3, 3, 2, 2)), padding=2, padding_mode="reflect"),
     r"padding_mode='reflect' needs each pad smaller than the axis it pads; got padding \(2, 2\) on D=2 of x"),
    (lambda: cconv.conv3d(np.zeros((1, 2, 4, 4, 2)), np.zeros((3, 3, 3, 2, 2))),
     r"kernel \(dilated extent 3x3x3\) is larger than the padded input \(2x4x4\) of x"),
    (lambda: cconv.conv3d(np.zeros((4, 4, 4)), np.zeros((3, 3, 3, 2, 2))),
     "x must have 4 \\(unbatched\\) or 5 \\(batched\\) dimensions"),
])
def test_errors_name_the_argument(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


# ---------------------------------------------------------------------------
# conv_transpose3d: the scatter definition, PyTorch, and the adjoint of conv3d
# ---------------------------------------------------------------------------
def _conv_transpose3d_loop(x, w, b, stride, crops, output_padding, dilation, groups):
    """NDHWC x, (KD, KH, KW, C_out//groups, C_in) w: each input voxel scatters x[n, i] @ w[k]^T
    into the full output at i*stride + k*dilation, then crops (before, after) per axis."""
    N, sizes, C_in = x.shape[0], x.shape[1:4], x.shape[4]
    kernel, Cog = w.shape[:3], w.shape[3]
    Cig = C_in // groups
    full = [(n - 1) * s + d * (k - 1) + 1 + op for n, s, d, k, op in zip(sizes, stride, dilation, kernel,
                                                                          output_padding)]
    y = np.zeros((N, *full, Cog * groups))
    for i in itertools.product(*(range(n) for n in sizes)):
        for k in itertools.product(*(range(m) for m in kernel)):
            o = tuple(i[a] * stride[a] + k[a] * dilation[a] for a in range(3))
            for g in range(groups):
                y[(slice(None), *o, slice(g * Cog, (g + 1) * Cog))] += (
                    x[(slice(None), *i, slice(g * Cig, (g + 1) * Cig))] @ w[(*k, slice(None), slice(g * Cig, (g + 1) * Cig))].T)
    index = (slice(None),) + tuple(slice(c0, f - c1) for (c0, c1), f in zip(crops, full)) + (slice(None),)
    y = y[index]
    return y + b if b is not None else y


# (N, D, H, W, C_in, C_out, kernel, stride, padding, output_padding, dilation, groups)
TRANSPOSED = [
    (2, 3, 4, 5, 4, 6, 3, 2, 1, 1, 1, 2),
    (1, 4, 3, 3, 3, 2, (2, 3, 1), (1, 2, 2), (0, 1, 0), (0, 1, 1), 1, 1),
    (1, 3, 3, 4, 4, 4, 3, 1, ((1, 0), (0, 2), (1, 1)), 0, (2, 1, 1), 4),
]


@pytest.mark.parametrize("case", TRANSPOSED, ids=lambda c: "x".join(map(str, c[:6])))
@pytest.mark.parametrize("layout", ["NDHWC", "NCDHW"])
def test_conv_transpose3d_matches_the_scatter_definition(case, layout):
    N, D, H, W, C_in, C_out, k, stride, padding, output_padding, dilation, groups = case
    kernel, strides, dilations, ops = _triple(k), _triple(stride), _triple(dilation), _triple(output_padding)
    crops = _pads(padding, (D, H, W), kernel, strides, dilations) if not isinstance(padding, str) else None
    rng = np.random.default_rng(abs(hash(case)) % 2**32)
    x = rng.standard_normal((N, D, H, W, C_in))
    w = rng.standard_normal((*kernel, C_out // groups, C_in))
    b = rng.standard_normal(C_out)
    y_ref = _conv_transpose3d_loop(x, w, b, strides, crops, ops, dilations, groups)
    gy = rng.standard_normal(y_ref.shape)
    wl = w if layout == "NDHWC" else w.transpose(4, 3, 0, 1, 2)
    kw = dict(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation, groups=groups,
              layout=layout)
    y = cconv.conv_transpose3d(_to(layout, x), wl, b, **kw)
    assert_close(y, _to(layout, y_ref))
    assert cconv.conv_transpose3d_output_shape(_to(layout, x).shape, wl.shape, **kw) == y.shape
    # The backward: grad_x and grad_weight through the adjoint identities, grad_bias by its definition.
    gx, gw, gb = cconv.conv_transpose3d_backward(_to(layout, gy), _to(layout, x), wl, **kw)
    y0 = _conv_transpose3d_loop(x, w, None, strides, crops, ops, dilations, groups)
    assert abs(np.vdot(y0, gy) - np.vdot(x, _to(layout, gx) if layout == "NDHWC" else gx.transpose(0, 2, 3, 4, 1))
               ) <= 1e-10 * abs(np.vdot(y0, gy))
    dw = rng.standard_normal(w.shape)
    dy0 = _conv_transpose3d_loop(x, dw, None, strides, crops, ops, dilations, groups)
    gw_ndhwc = gw if layout == "NDHWC" else gw.transpose(2, 3, 4, 1, 0)
    assert abs(np.vdot(dy0, gy) - np.vdot(dw, gw_ndhwc)) <= 1e-10 * max(abs(np.vdot(dy0, gy)), 1)
    assert_close(gb, gy.sum(axis=(0, 1, 2, 3)))


