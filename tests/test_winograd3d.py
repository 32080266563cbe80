"""The 3-D Winograd route (cconv._winograd.winograd_conv3d: F(m x m, 3 x 3) over
(H, W), the depth taps summed in the transform domain, and its transpose
winograd_grad_weight3d) against the float64 direct definition of a 3-D
convolution and of its weight gradient, forward, grad_input and grad_weight, with the
2-D Winograd accuracy contract: float32 within 1e-4 and float64 within 1e-10
of the float64 result, relative to its largest magnitude."""
from __future__ import annotations

import numpy as np
import pytest

import cconv
from cconv._winograd import TILES, winograd_conv3d, winograd_grad_weight3d

TOL = {np.float32: 1e-4, np.float64: 1e-10}


def direct_f64(x, w, bias, pads6):
    """float64 direct stride-1 3-D convolution as KD*KH*KW shifted products per
    group (the definition; independent of cconv). ``pads6`` = (front, back,
    top, bottom, left, right); a negative amount crops."""
    x = np.asarray(x, np.float64)
    pads = [(p, q) for p, q in zip(pads6[0::2], pads6[1::2])]
    crop = tuple(slice(max(-p, 0), x.shape[i + 1] - max(-q, 0)) for i, (p, q) in enumerate(pads))
    x = x[(slice(None),) + crop]
    x = np.pad(x, [(0, 0)] + [(max(p, 0), max(q, 0)) for p, q in pads] + [(0, 0)])
    w = np.asarray(w, np.float64)
    KD, KH, KW, Cg, O = w.shape
    N, Dp, Hp, Wp, C = x.shape
    G = C // Cg
    Og = O // G
    Do, Ho, Wo = Dp - KD + 1, Hp - KH + 1, Wp - KW + 1
    y = np.zeros((N, max(Do, 0), Ho, Wo, O))
    for g in range(G):
        for kd in range(KD):
            for kh in range(KH):
                for kw in range(KW):
                    y[..., g * Og:(g + 1) * Og] += (
                        x[:, kd:kd + Do, kh:kh + Ho, kw:kw + Wo, g * Cg:(g + 1) * Cg]
                        @ w[kd, kh, kw, :, g * Og:(g + 1) * Og])
    if bias is not None:
        y += np.asarray(bias, np.float64)
    return y


def direct_grad_weight_f64(x, dy, KD, groups, pads6):
    """float64 weight gradient of a KD x 3 x 3 stride-1 layer, one tap at a time:
    dw[kd, kh, kw] = sum over output voxels of the tap's input window^T @ dy."""
    x = np.pad(np.asarray(x, np.float64), [(0, 0)] + [(p, q) for p, q in zip(pads6[0::2], pads6[1::2])] + [(0, 0)])
    dy = np.asarray(dy, np.float64)
    N, Do, Ho, Wo, O = dy.shape
    C = x.shape[4]
    Cg, Og = C // groups, O // groups
    dw = np.zeros((KD, 3, 3, Cg, O))
    for g in range(groups):
        e = dy[..., g * Og:(g + 1) * Og].reshape(-1, Og)
        for kd in range(KD):
            for kh in range(3):
                for kw in range(3):
                    win = x[:, kd:kd + Do, kh:kh + Ho, kw:kw + Wo, g * Cg:(g + 1) * Cg].reshape(-1, Cg)
                    dw[kd, kh, kw, :, g * Og:(g + 1) * Og] = win.T @ e
    return dw


def rel_err(a, ref):
    return float(np.max(np.abs(np.asarray(a, np.float64) - ref)) / max(np.max(np.abs(ref)), 1e-300))


# (N, D, H, W, C, O, KD, groups, pads6): uneven and wide depth padding (output slices that
# read no input slice get the bias alone), KD of 1, 2 and 3, groups, images whose sides
# are not multiples of the tile, and crops (negative padding, as grad_input uses).
CASES = [
    (2, 7, 9, 10, 5, 6, 3, 1, (1, 1, 1, 1, 1, 1)),
    (1, 5, 6, 7, 8, 6, 2, 2, (0, 2, 1, 0, 2, 1)),
    (2, 4, 5, 5, 3, 4, 1, 1, (0, 0, 0, 0, 0, 0)),
    (1, 3, 8, 8, 4, 4, 3, 1, (3, 2, 1, 1, 1, 1)),
    (1, 6, 13, 11, 16, 16, 3, 1, (1, 1, 1, 1, 1, 1)),
    (1, 6, 9, 9, 6, 3, 3, 3, (-1, 0, 0, -1, 1, 0)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("tile", TILES)
@pytest.mark.parametrize("case", CASES)
def test_forward_matches_the_direct_definition(case, tile, dtype):
    N, D, H, W, C, O, KD, groups, pads6 = case
    rng = np.random.default_rng(sum(case[:7]) + tile)
    x = rng.standard_normal((N, D, H, W, C)).astype(dtype)
    w = rng.standard_normal((KD, 3, 3, C // groups, O)).astype(dtype)
    b = rng.standard_normal(O).astype(dtype)
    ref = direct_f64(x, w, b, pads6)
    # Blocks of one tile, of 7 (straddling the output slices) and the default.
    for block_tiles in (1, 7, None):
        y = winograd_conv3d(x, w, b, pads6, 2, tile, block_tiles=block_tiles)
        assert y.dtype == dtype and y.shape == ref.shape
        assert rel_err(y, ref) <= TOL[dtype], (block_tiles, rel_err(y, ref))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("tile", TILES)
@pytest.mark.parametrize("case", [c for c in CASES if min(c[8]) >= 0])
def test_grad_weight_matches_the_direct_definition(case, tile, dtype):
    N, D, H, W, C, O, KD, groups, pads6 = case
    rng = np.random.default_rng(sum(case[:7]) + 3 * tile)
    x = rng.standard_normal((N, D, H, W, C)).astype(dtype)
    Do = D + pads6[0] + pads6[1] - KD + 1
    dy = rng.standard_normal((N, Do, H + pads6[2] + pads6[3] - 2, W + pads6[4] + pads6[5] - 2, O)).astype(dtype)
    ref = direct_grad_weight_f64(x, dy, KD, groups, pads6)
    ref_db = dy.astype(np.float64).reshape(-1, O).sum(axis=0)
    for block_tiles in (1, 7, None):
        dw, db = winograd_grad_weight3d(dy, x, (KD, 3, 3, C // groups, O), pads6, 2, tile, block_tiles=block_tiles)
        assert dw.dtype == dtype and dw.shape == ref.shape
        assert rel_err(dw, ref) <= TOL[dtype], (block_tiles, rel_err(dw, ref))
        assert rel_err(db, ref_db) <= TOL[dtype]
    dw_only, no_db = winograd_grad_weight3d(dy, x, (KD, 3, 3, C // groups, O), pads6, 1, tile, with_bias=False)
    assert no_db is None and rel_err(dw_only, ref) <= TOL[dtype]


@pytest.mark.parametrize("tile", [2, 4])
@pytest.mark.parametrize("groups", [1, 2])
def test_thread_count_does_not_change_the_result(tile, groups):
    # The weight gradient's two halves of positions are drained by even and
    # odd threads and stolen by whoever is idle: any thread count, even or
    # odd, must give the bits of one thread (which drains both halves).
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 6, 12, 12, 16)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 16 // groups, 16)).astype(np.float32)
    one = winograd_conv3d(x, w, None, (1,) * 6, 1, tile, block_tiles=5)
    two = winograd_conv3d(x, w, None, (1,) * 6, 2, tile, block_tiles=5)
    np.testing.assert_array_equal(one, two)
    dw1, db1 = winograd_grad_weight3d(one, x, w.shape, (1,) * 6, 1, tile, block_tiles=9)
    for threads in (2, 3, 7):
        dw, db = winograd_grad_weight3d(one, x, w.shape, (1,) * 6, threads, tile, block_tiles=9)
        np.testing.assert_array_equal(dw, dw1)
        np.testing.assert_array_equal(db, db1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["NDHWC", "NCDHW"])
def test_conv3d_and_its_grad_input_through_winograd(dtype, layout):
    """The public functions with algorithm="winograd": the forward against the
    definition, grad_input against the adjoint identity <y, g> = <x, grad_input(g)>
    of the bias-free layer and against the GEMM route; grad_weight (Winograd too)
    against the definition, and the bias gradient against the GEMM route's."""
    rng = np.random.default_rng(11)
    N, D, H, W, C, O = 2, 5, 10, 9, 16, 24
    x = rng.standard_normal((N, D, H, W, C)).astype(dtype)
    w = rng.standard_normal((3, 3, 3, C, O)).astype(dtype)
    b = rng.standard_normal(O).astype(dtype)
    padding = ((1, 0), (1, 1), (0, 2))
    ref = direct_f64(x, w, b, (1, 0, 1, 1, 0, 2))
    xl, wl = x, w
    if layout == "NCDHW":
        xl, wl = x.transpose(0, 4, 1, 2, 3), w.transpose(4, 3, 0, 1, 2)
    kw = dict(padding=padding, layout=layout)
    y = cconv.conv3d(xl, wl, b, algorithm="winograd", **kw)
    y_ndhwc = y if layout == "NDHWC" else y.transpose(0, 2, 3, 4, 1)
    assert rel_err(y_ndhwc, ref) <= TOL[dtype]
    g = rng.standard_normal(y.shape).astype(dtype)
    gx, gw, gb = cconv.conv3d_backward(g, xl, wl, algorithm="winograd", **kw)
    gx_gemm, gw_gemm, gb_gemm = cconv.conv3d_backward(g, xl, wl, algorithm="gemm", **kw)
    assert rel_err(gx, np.asarray(gx_gemm, np.float64)) <= TOL[dtype]
    g_ndhwc = g if layout == "NDHWC" else g.transpose(0, 2, 3, 4, 1)
    gw_ref = direct_grad_weight_f64(x, g_ndhwc, 3, 1, (1, 0, 1, 1, 0, 2))
    gw_dhwio = gw if layout == "NDHWC" else gw.transpose(2, 3, 4, 1, 0)
    assert rel_err(gw_dhwio, gw_ref) <= TOL[dtype]
    assert rel_err(gb, np.asarray(gb_gemm, np.float64)) <= TOL[dtype]
    y0 = direct_f64(x, w, None, (1, 0, 1, 1, 0, 2))
    gx_ndhwc = gx if layout == "NDHWC" else gx.transpose(0, 2, 3, 4, 1)
    lhs, rhs = np.vdot(y0, g_ndhwc.astype(np.float64)), np.vdot(x.astype(np.float64), gx_ndhwc)
    assert abs(lhs - rhs) <= 10 * TOL[dtype] * np.abs(y0).max() * np.abs(g).sum()


def _routes3d(shape, channels_in, channels_out, algorithm="auto", **kw):
    chosen = cconv.select_algorithm((2,) + shape + (channels_in,), (3, 3, 3, channels_in, channels_out),
                                    padding=1, layout="NDHWC", algorithm=algorithm, **kw)
    return {p: chosen[p] for p in ("forward", "grad_input", "grad_weight")}


def test_auto_routes_of_3d_layers():
    """F(4x4) from slices of 16 up at >= 16 channels; F(2x2) on smaller slices only with
    >= 48 channels; the GEMM routes below (cconv/_routes.py); grad_weight by Winograd
    from 16 channels at any side, F(4x4) from 8-voxel sides."""
    assert _routes3d((16, 16, 16), 32, 32) == {"forward": "winograd-f4", "grad_input": "winograd-f4",
                                               "grad_weight": "winograd-f4"}
    assert _routes3d((8, 8, 8), 64, 64) == {"forward": "winograd-f2", "grad_input": "winograd-f2",
                                            "grad_weight": "winograd-f4"}
    assert _routes3d((6, 6, 6), 128, 128)["grad_weight"] == "winograd-f2"
    assert _routes3d((12, 12, 12), 32, 32) == {"forward": "gemm-implicit", "grad_input": "gemm-implicit",
                                               "grad_weight": "winograd-f4"}
    assert _routes3d((16, 16, 16), 8, 32) == {"forward": "gemm-implicit", "grad_input": "gemm",
                                              "grad_weight": "gemm"}
    assert _routes3d((16, 16, 16), 32, 32, stride=(1, 2, 2))["forward"] == "gemm-implicit"
    assert _routes3d((12, 12, 12), 32, 32, algorithm="winograd") == {
        "forward": "winograd-f2", "grad_input": "winograd-f2", "grad_weight": "winograd-f4"}
    assert _routes3d((16, 16, 16), 32, 32, algorithm="gemm")["forward"] == "gemm-implicit"
