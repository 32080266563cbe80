"""Winograd F(2x2,3x3) and F(4x4,3x3) kernels (cconv._winograd) against the
float64 direct definition of convolution (forward, grad_input and
grad_weight), with the accuracy contract of issue 4: float32 within 1e-4 and float64 within 1e-10 of the float64 direct
result, relative to its largest magnitude."""
from __future__ import annotations

import zlib

import numpy as np
import pytest

import _oracle as orc
from cconv._params import conv_geometry
from cconv._winograd import TILES, winograd_conv2d, winograd_grad_input, winograd_grad_weight, winograd_supported
from cconv import _winograd as wg

TOL = {np.float32: 1e-4, np.float64: 1e-10}


def direct_f64(x, w, bias, pads4):
    """float64 direct 3x3 stride-1 convolution as nine shifted products per
    group (the definition; independent of cconv). ``pads4`` = (t, b, l, r) >= 0."""
    pt, pb, pl, pr = pads4
    x = np.pad(np.asarray(x, np.float64), ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    w = np.asarray(w, np.float64)
    N, Hp, Wp, C = x.shape
    Cg, O = w.shape[2], w.shape[3]
    G = C // Cg
    Og = O // G
    Ho, Wo = Hp - 2, Wp - 2
    y = np.zeros((N, Ho, Wo, O))
    for g in range(G):
        for kh in range(3):
            for kw in range(3):
                y[..., g * Og:(g + 1) * Og] += (
                    x[:, kh:kh + Ho, kw:kw + Wo, g * Cg:(g + 1) * Cg] @ w[kh, kw, :, g * Og:(g + 1) * Og]
                )
    if bias is not None:
        y += np.asarray(bias, np.float64)
    return y


def grad_input_f64(gy, w, input_shape, pads4):
    """float64 grad_input by its definition: the adjoint of the direct convolution,
    scattered tap by tap into the padded input and cropped."""
    pt, pb, pl, pr = pads4
    N, H, W, C = input_shape
    Cg, O = w.shape[2], w.shape[3]
    G = C // Cg
    Og = O // G
    gy = np.asarray(gy, np.float64)
    w = np.asarray(w, np.float64)
    Ho, Wo = gy.shape[1], gy.shape[2]
    gxp = np.zeros((N, H + pt + pb, W + pl + pr, C))
    for g in range(G):
        for kh in range(3):
            for kw in range(3):
                gxp[:, kh:kh + Ho, kw:kw + Wo, g * Cg:(g + 1) * Cg] += (
                    gy[..., g * Og:(g + 1) * Og] @ w[kh, kw, :, g * Og:(g + 1) * Og].T
                )
    return gxp[:, pt:pt + H, pl:pl + W, :]


def grad_weight_f64(gy, x, weight_shape, pads4):
    """float64 grad_weight by its definition: per group and tap, the shifted
    padded input's pixels (as rows) transposed times grad_out's pixels."""
    pt, pb, pl, pr = pads4
    _, _, Cg, O = weight_shape
    x = np.pad(np.asarray(x, np.float64), ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    gy = np.asarray(gy, np.float64)
    G = x.shape[3] // Cg
    Og = O // G
    Ho, Wo = gy.shape[1], gy.shape[2]
    dw = np.zeros(weight_shape)
    for g in range(G):
        dyg = gy[..., g * Og:(g + 1) * Og].reshape(-1, Og)
        for kh in range(3):
            for kw in range(3):
                xs = x[:, kh:kh + Ho, kw:kw + Wo, g * Cg:(g + 1) * Cg].reshape(-1, Cg)
                dw[kh, kw, :, g * Og:(g + 1) * Og] = xs.T @ dyg
    return dw


def seeded(*key):
    """A generator seeded from ``key`` the same way in every process."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def rel_err(got, ref):
    scale = np.abs(ref).max()
    return np.abs(got - ref).max() / (scale if scale > 0 else 1.0)


# (N, H, W, C, O, groups, (top, bottom, left, right))
SHAPES = [
    (1, 5, 7, 3, 4, 1, (1, 1, 1, 1)),
    (2, 9, 6, 17, 19, 1, (0, 2, 1, 0)),      # asymmetric, edge tiles
    (1, 1, 1, 1, 1, 1, (1, 1, 1, 1)),        # 1x1 image, C = O = 1
    (3, 2, 3, 5, 1, 1, (2, 2, 2, 2)),        # padding 2, O = 1
    (1, 3, 3, 1, 7, 1, (0, 0, 0, 0)),        # tiny, no padding, C = 1
    (2, 8, 8, 8, 12, 4, (1, 1, 1, 1)),       # grouped
    (1, 7, 10, 6, 6, 6, (1, 1, 1, 1)),       # depthwise
    (1, 6, 5, 5, 3, 1, (3, 0, 2, 4)),        # padding > 2 and 0 mixed
    (2, 13, 11, 33, 24, 1, (1, 1, 0, 2)),    # C, O not multiples of 8 / 16
    (1, 12, 12, 40, 70, 2, (1, 1, 1, 1)),    # grouped, wide O, several GEMM panels
]


def _problem(shape, dtype, rng, scale=1.0, mixed=False):
    N, H, W, C, O, G, pads = shape
    x = rng.standard_normal((N, H, W, C)) * scale
    w = rng.standard_normal((3, 3, C // G, O))
    if mixed:  # large positive values with sign flips: cancellation-heavy
        x = scale * rng.random((N, H, W, C)) * rng.choice([-1.0, 1.0], (N, H, W, C))
        w = rng.random((3, 3, C // G, O)) - 0.5
    b = rng.standard_normal(O) * scale
    return x.astype(dtype), w.astype(dtype), b.astype(dtype), pads


@pytest.mark.parametrize("tile", TILES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s[:6])) + f"-p{s[6]}")
def test_forward_matches_direct(shape, dtype, tile):
    rng = seeded(shape, tile)
    x, w, b, pads = _problem(shape, dtype, rng)
    x0, w0, b0 = x.copy(), w.copy(), b.copy()
    y = winograd_conv2d(x, w, b, pads, 2, tile=tile)
    ref = direct_f64(x, w, b, pads)
    assert y.dtype == dtype and y.shape == ref.shape
    assert rel_err(y, ref) < TOL[dtype]
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)
    np.testing.assert_array_equal(b, b0)


@pytest.mark.parametrize("tile", TILES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s[:6])) + f"-p{s[6]}")
def test_grad_input_matches_direct(shape, dtype, tile):
    rng = seeded(shape, tile, "grad_input")
    x, w, _, pads = _problem(shape, dtype, rng)
    ref_y = direct_f64(x, w, None, pads)
    gy = rng.standard_normal(ref_y.shape).astype(dtype)
    gy0, w0 = gy.copy(), w.copy()
    gx = winograd_grad_input(gy, w, x.shape, pads, 2, tile=tile)
    ref = grad_input_f64(gy, w, x.shape, pads)
    assert gx.dtype == dtype and gx.shape == x.shape
    assert rel_err(gx, ref) < TOL[dtype]
    np.testing.assert_array_equal(gy, gy0)
    np.testing.assert_array_equal(w, w0)


def test_grad_input_oracle_is_the_adjoint():
    # <conv(x), gy> == <x, grad_input(gy)> for the test's own oracles.
    rng = np.random.default_rng(5)
    x, w, _, pads = _problem((2, 6, 5, 4, 6, 2, (2, 0, 1, 3)), np.float64, rng)
    y = direct_f64(x, w, None, pads)
    gy = rng.standard_normal(y.shape)
    assert np.isclose((y * gy).sum(), (x * grad_input_f64(gy, w, x.shape, pads)).sum())


@pytest.mark.parametrize("tile", TILES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s[:6])) + f"-p{s[6]}")
def test_grad_weight_matches_direct(shape, dtype, tile):
    rng = seeded(shape, tile, "grad_weight")
    x, w, _, pads = _problem(shape, dtype, rng)
    ref_y = direct_f64(x, w, None, pads)
    gy = rng.standard_normal(ref_y.shape).astype(dtype)
    gy0, x0 = gy.copy(), x.copy()
    gw, gb = winograd_grad_weight(gy, x, w.shape, pads, 2, tile=tile)
    ref = grad_weight_f64(gy, x, w.shape, pads)
    assert gw.dtype == gb.dtype == dtype and gw.shape == w.shape and gb.shape == (w.shape[3],)
    assert rel_err(gw, ref) < TOL[dtype]
    assert rel_err(gb, gy.astype(np.float64).sum(axis=(0, 1, 2))) < TOL[dtype]
    np.testing.assert_array_equal(gy, gy0)
    np.testing.assert_array_equal(x, x0)
    gw_alone, none = winograd_grad_weight(gy, x, w.shape, pads, 2, tile=tile, with_bias=False)
    assert none is None
    np.testing.assert_array_equal(gw_alone, gw)


def test_grad_weight_oracle_is_the_adjoint():
    # <conv(x, w), gy> == <w, grad_weight(gy, x)> for the test's own oracles.
    rng = np.random.default_rng(15)
    x, w, _, pads = _problem((2, 6, 5, 4, 6, 2, (2, 0, 1, 3)), np.float64, rng)
    y = direct_f64(x, w, None, pads)
    gy = rng.standard_normal(y.shape)
    assert np.isclose((y * gy).sum(), (w * grad_weight_f64(gy, x, w.shape, pads)).sum())


def test_direct_oracle_agrees_with_loop_oracle():
    rng = np.random.default_rng(6)
    x, w, b, pads = _problem((2, 5, 6, 4, 6, 2, (1, 2, 0, 1)), np.float64, rng)
    ref = orc.conv2d_loop(x, w, b, pads=((pads[0], pads[1]), (pads[2], pads[3])), groups=2)
    np.testing.assert_allclose(direct_f64(x, w, b, pads), ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("tile", TILES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mixed", [False, True], ids=["normal_x1e4", "mixed_sign_x1e4"])
def test_accuracy_contract_large_magnitude(dtype, tile, mixed):
    # A ResNet-like layer (many channels: long sums) at magnitude 1e4.
    rng = np.random.default_rng(7)
    x, w, b, pads = _problem((2, 14, 14, 96, 64, 1, (1, 1, 1, 1)), dtype, rng, scale=1e4, mixed=mixed)
    y = winograd_conv2d(x, w, b, pads, 2, tile=tile)
    assert rel_err(y, direct_f64(x, w, b, pads)) < TOL[dtype]
    gy = (1e4 * rng.standard_normal(y.shape)).astype(dtype)
    gx = winograd_grad_input(gy, w, x.shape, pads, 2, tile=tile)
    assert rel_err(gx, grad_input_f64(gy, w, x.shape, pads)) < TOL[dtype]
    gw, _ = winograd_grad_weight(gy, x, w.shape, pads, 2, tile=tile)
    assert rel_err(gw, grad_weight_f64(gy, x, w.shape, pads)) < TOL[dtype]


@pytest.mark.parametrize("tile", TILES)
def test_thread_count_does_not_change_bits(tile):
    rng = np.random.default_rng(8)
    x, w, b, pads = _problem((3, 17, 15, 24, 40, 1, (1, 1, 1, 1)), np.float32, rng)
    y1 = winograd_conv2d(x, w, b, pads, 1, tile=tile)
    y2 = winograd_conv2d(x, w, b, pads, 2, tile=tile)
    np.testing.assert_array_equal(y1, y2)
    gy = rng.standard_normal(y1.shape).astype(np.float32)
    np.testing.assert_array_equal(winograd_grad_input(gy, w, x.shape, pads, 1, tile=tile),
                                  winograd_grad_input(gy, w, x.shape, pads, 2, tile=tile))
    gw1, gb1 = winograd_grad_weight(gy, x, w.shape, pads, 1, tile=tile)
    for threads in (2, 3, 7):
        gw, gb = winograd_grad_weight(gy, x, w.shape, pads, threads, tile=tile)
        np.testing.assert_array_equal(gw, gw1)
        np.testing.assert_array_equal(gb, gb1)


@pytest.mark.parametrize("block_tiles", [1, 5, 6, 7, 1000])
def test_block_size_does_not_change_bits(block_tiles):
    rng = np.random.default_rng(9)
    x, w, b, pads = _problem((2, 11, 9, 20, 30, 1, (1, 1, 1, 1)), np.float32, rng)
    ref = winograd_conv2d(x, w, b, pads, 1, tile=4)
    np.testing.assert_array_equal(winograd_conv2d(x, w, b, pads, 2, tile=4, block_tiles=block_tiles), ref)


@pytest.mark.parametrize("tile", TILES)
@pytest.mark.parametrize("block_tiles", [1, 5, 1000])
def test_grad_weight_block_size_keeps_the_result(block_tiles, tile):
    # The sum over tiles is split into blocks: another split may round
    # differently, but stays within the accuracy contract.
    rng = np.random.default_rng(19)
    x, w, _, pads = _problem((2, 11, 9, 20, 30, 1, (1, 1, 1, 1)), np.float32, rng)
    gy = rng.standard_normal((2, 11, 9, 30)).astype(np.float32)
    gw, gb = winograd_grad_weight(gy, x, w.shape, pads, 2, tile=tile, block_tiles=block_tiles)
    assert rel_err(gw, grad_weight_f64(gy, x, w.shape, pads)) < TOL[np.float32]
    assert rel_err(gb, gy.astype(np.float64).sum(axis=(0, 1, 2))) < TOL[np.float32]


def test_empty_batch_and_channels():
    w = np.ones((3, 3, 4, 5), np.float32)
    y = winograd_conv2d(np.ones((0, 6, 6, 4), np.float32), w, None, (1, 1, 1, 1), 2)
    assert y.shape == (0, 6, 6, 5)
    y = winograd_conv2d(np.ones((1, 6, 6, 0), np.float32), np.ones((3, 3, 0, 5), np.float32),
                        np.arange(5, dtype=np.float32), (1, 1, 1, 1), 2)
    np.testing.assert_array_equal(y, np.broadcast_to(np.arange(5, dtype=np.float32), (1, 6, 6, 5)))
    gx = winograd_grad_input(np.ones((1, 6, 6, 0), np.float32), np.ones((3, 3, 4, 0), np.float32),
                             (1, 6, 6, 4), (1, 1, 1, 1), 2)
    np.testing.assert_array_equal(gx, np.zeros((1, 6, 6, 4), np.float32))
    gw, gb = winograd_grad_weight(np.ones((0, 6, 6, 5), np.float32), np.ones((0, 6, 6, 4), np.float32),
                                  (3, 3, 4, 5), (1, 1, 1, 1), 2)
    np.testing.assert_array_equal(gw, np.zeros((3, 3, 4, 5), np.float32))
    np.testing.assert_array_equal(gb, np.zeros(5, np.float32))
    gw, gb = winograd_grad_weight(np.ones((1, 6, 6, 5), np.float32), np.ones((1, 6, 6, 0), np.float32),
                                  (3, 3, 0, 5), (1, 1, 1, 1), 2)
    assert gw.shape == (3, 3, 0, 5)
    np.testing.assert_array_equal(gb, np.full(5, 36, np.float32))


def test_bad_tile_names_the_argument():
    x = np.ones((1, 4, 4, 2), np.float32)
    w = np.ones((3, 3, 2, 2), np.float32)
    with pytest.raises(ValueError, match="tile must be one of"):
        winograd_conv2d(x, w, None, (1, 1, 1, 1), 1, tile=3)


def _geom(k=3, stride=1, dilation=1):
    return conv_geometry((1, 8, 8, 4), (k, k), out_channels=4, weight_cin=4, stride=stride, padding=1,
                         dilation=dilation, groups=1, layout="NHWC", input_name="x")


def test_supported_says_why_not():
    assert winograd_supported(_geom()) == (True, "")
    ok, why = winograd_supported(_geom(k=5))
    assert not ok and "3x3" in why
    ok, why = winograd_supported(_geom(stride=2))
    assert not ok and "stride" in why
    ok, why = winograd_supported(_geom(dilation=2))
    assert not ok and "dilation" in why


@pytest.mark.parametrize("m", TILES)
@pytest.mark.parametrize("C, O, groups", [(16, 16, 1), (64, 64, 1), (128, 128, 1), (256, 256, 1), (256, 64, 1),
                                          (512, 512, 1), (64, 64, 64)])
@pytest.mark.parametrize("n_tiles", [1, 7, 128, 392, 1568, 100000])
@pytest.mark.parametrize("threads", [1, 2, 3, 8])
def test_forward_block_size_rule(m, C, O, groups, n_tiles, threads):
    # The forward's block: a multiple of the 6-row micro-tile, at least
    # _MIN_TILES, V and M within _MAX_BLOCK_BYTES (unless that is below
    # _MIN_TILES); at least the cache rule's size, and one tile per
    # _WEIGHT_BYTES_PER_TILE of the transformed weight, before evening out;
    # evening out never gives the busiest thread more tiles.
    itemsize = 4
    weight = (m + 2) ** 2 * (C // groups) * O
    per_tile = (m + 2) ** 2 * (C + O) * itemsize
    uneven = wg.tiles_per_block(m, C, O, itemsize, weight_elems=weight, n_tiles=n_tiles, threads=1)
    t = wg.tiles_per_block(m, C, O, itemsize, weight_elems=weight, n_tiles=n_tiles, threads=threads)
    for size in (uneven, t):
        assert size % 6 == 0 and size >= wg._MIN_TILES
        assert size * per_tile <= wg._MAX_BLOCK_BYTES or size == wg._MIN_TILES
    cache = wg.tiles_per_block(m, C, O, itemsize)
    assert uneven >= cache
    want = min(weight * itemsize // wg._WEIGHT_BYTES_PER_TILE, wg._MAX_BLOCK_BYTES // per_tile)
    assert uneven >= want // 6 * 6

    def busiest(size: int) -> int:
        return -(-(-(-n_tiles // size)) // threads) * size

    assert busiest(t) <= busiest(uneven)
    if -(-n_tiles // uneven) >= wg._BALANCED_BLOCKS_PER_THREAD * threads:
        assert t == uneven


@pytest.mark.parametrize("m, C, O, n_tiles, expected", [
    (4, 128, 128, 392, 102),   # 28^2 x 128 -> 128, batch 8: 4 blocks, not 5 or 22
    (2, 256, 256, 392, 198),   # 14^2 x 256 -> 256: 2 blocks
    (4, 256, 64, 392, 102),    # 28^2 x 256 -> 64
    (4, 64, 64, 1568, 42),     # 56^2 x 64 -> 64: U fits L2, the cache rule alone
])
def test_forward_block_size_of_the_measured_layers(m, C, O, n_tiles, expected):
    # The sizes the comment beside _WEIGHT_BYTES_PER_TILE was measured at (2 threads).
    t = wg.tiles_per_block(m, C, O, 4, weight_elems=(m + 2) ** 2 * C * O, n_tiles=n_tiles, threads=2)
    assert t == expected
    assert -(-n_tiles // t) % 2 == 0 or n_tiles <= t
