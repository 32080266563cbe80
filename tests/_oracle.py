"""Independent oracles for the cconv tests.

Nothing here imports cconv.  Everything is the direct definition of a 2-D
convolution (and of the transposed convolution) written as float64 Python loops over output pixels and kernel taps
(only the short channel sums are left to elementwise NumPy, never to BLAS), so
it is slow and only used on tiny sizes.

Conventions: the canonical form used by the oracle is NHWC input, HWIO weight
(KH, KW, C // groups, O) and explicit padding ((top, bottom), (left, right)).
"""
from __future__ import annotations

import math

import numpy as np


# ---------------------------------------------------------------------------
# parameter normalisation, written from the spec (not from cconv._params)
# ---------------------------------------------------------------------------
def pair(v):
    """int or (h, w) -> (h, w)."""
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    h, w = v
    return int(h), int(w)


def same_pads_1d(size, kernel, stride, dilation):
    """TensorFlow 'SAME': out = ceil(size / stride); smaller half of the total first."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    before = total // 2
    return before, total - before


def explicit_padding(padding, in_hw, k_hw, stride, dilation):
    """Any accepted padding form -> ((top, bottom), (left, right))."""
    sh, sw = pair(stride)
    dh, dw = pair(dilation)
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return (0, 0), (0, 0)
        if mode == "same":
            return (same_pads_1d(in_hw[0], k_hw[0], sh, dh),
                    same_pads_1d(in_hw[1], k_hw[1], sw, dw))
        raise AssertionError(f"test bug: padding {padding!r}")
    if isinstance(padding, (int, np.integer)):
        p = int(padding)
        return (p, p), (p, p)
    a, b = padding
    if isinstance(a, (int, np.integer)):
        return (int(a), int(a)), (int(b), int(b))
    return (int(a[0]), int(a[1])), (int(b[0]), int(b[1]))


def out_size(size, kernel, stride, dilation, before, after):
    """Ho = floor((H + top + bottom - d*(K-1) - 1) / s) + 1."""
    return (size + before + after - dilation * (kernel - 1) - 1) // stride + 1


def out_hw(in_hw, k_hw, stride, pads, dilation):
    sh, sw = pair(stride)
    dh, dw = pair(dilation)
    (pt, pb), (pl, pr) = pads
    return (out_size(in_hw[0], k_hw[0], sh, dh, pt, pb),
            out_size(in_hw[1], k_hw[1], sw, dw, pl, pr))


# ---------------------------------------------------------------------------
# layout conversions
# ---------------------------------------------------------------------------
def nchw_to_nhwc(a):
    return np.transpose(a, (0, 2, 3, 1))


def nhwc_to_nchw(a):
    return np.transpose(a, (0, 3, 1, 2))


def oihw_to_hwio(w):
    return np.transpose(w, (2, 3, 1, 0))


def hwio_to_oihw(w):
    return np.transpose(w, (3, 2, 0, 1))


def act_to_nhwc(a, layout):
    return a if layout == "NHWC" else nchw_to_nhwc(a)


def act_from_nhwc(a, layout):
    return a if layout == "NHWC" else nhwc_to_nchw(a)


def weight_to_hwio(w, layout):
    return w if layout == "NHWC" else oihw_to_hwio(w)


def weight_from_hwio(w, layout):
    return w if layout == "NHWC" else hwio_to_oihw(w)


# ---------------------------------------------------------------------------
# the direct definition (NHWC / HWIO, float64)
# ---------------------------------------------------------------------------
def _taps(n_out_h, n_out_w, KH, KW, H, W, stride, pads, dilation):
    """Yield (ho, wo, kh, kw, hi, wi) for every tap that lands inside the input."""
    sh, sw = pair(stride)
    dh, dw = pair(dilation)
    (pt, _), (pl, _) = pads
    for ho in range(n_out_h):
        for wo in range(n_out_w):
            for kh in range(KH):
                hi = ho * sh - pt + kh * dh
                if not 0 <= hi < H:
                    continue
                for kw in range(KW):
                    wi = wo * sw - pl + kw * dw
                    if 0 <= wi < W:
                        yield ho, wo, kh, kw, hi, wi


def conv2d_loop(x, w, b=None, *, stride=1, pads=((0, 0), (0, 0)), dilation=1, groups=1):
    """y[n, ho, wo, o] = b[o] + sum_{kh, kw, c in group(o)} x[n, hi, wi, c] * w[kh, kw, c', o]."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    N, H, W, C = x.shape
    KH, KW, Cg, O = w.shape
    assert C == Cg * groups and O % groups == 0
    Og = O // groups
    Ho, Wo = out_hw((H, W), (KH, KW), stride, pads, dilation)
    y = np.zeros((N, Ho, Wo, O))
    if b is not None:
        y += np.asarray(b, dtype=np.float64)
    for ho, wo, kh, kw, hi, wi in _taps(Ho, Wo, KH, KW, H, W, stride, pads, dilation):
        for g in range(groups):
            xs = x[:, hi, wi, g * Cg:(g + 1) * Cg]            # (N, Cg)
            ws = w[kh, kw, :, g * Og:(g + 1) * Og]            # (Cg, Og)
            y[:, ho, wo, g * Og:(g + 1) * Og] += (xs[:, :, None] * ws[None]).sum(axis=1)
    return y


def conv2d_backward_loop(gy, x, w, *, stride=1, pads=((0, 0), (0, 0)), dilation=1, groups=1):
    """The three gradients of sum(y * gy), each from its own definition."""
    gy = np.asarray(gy, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    N, H, W, C = x.shape
    KH, KW, Cg, O = w.shape
    Og = O // groups
    Ho, Wo = out_hw((H, W), (KH, KW), stride, pads, dilation)
    assert gy.shape == (N, Ho, Wo, O)
    gx = np.zeros_like(x)
    gw = np.zeros_like(w)
    for ho, wo, kh, kw, hi, wi in _taps(Ho, Wo, KH, KW, H, W, stride, pads, dilation):
        for g in range(groups):
            gys = gy[:, ho, wo, g * Og:(g + 1) * Og]          # (N, Og)
            ws = w[kh, kw, :, g * Og:(g + 1) * Og]            # (Cg, Og)
            xs = x[:, hi, wi, g * Cg:(g + 1) * Cg]            # (N, Cg)
            gx[:, hi, wi, g * Cg:(g + 1) * Cg] += (gys[:, None, :] * ws[None]).sum(axis=2)
            gw[kh, kw, :, g * Og:(g + 1) * Og] += (xs[:, :, None] * gys[:, None, :]).sum(axis=0)
    gb = gy.sum(axis=(0, 1, 2))
    return gx, gw, gb


def _transpose_taps(H, W, KH, KW, out_hw, stride, crop_before, dilation):
    """Yield (h, w, kh, kw, ho, wo): input pixel (h, w) through tap (kh, kw) scatters to output (ho, wo)."""
    sh, sw = pair(stride)
    dh, dw = pair(dilation)
    pt, pl = crop_before
    Ho, Wo = out_hw
    for h in range(H):
        for w in range(W):
            for kh in range(KH):
                ho = h * sh + kh * dh - pt
                if not 0 <= ho < Ho:
                    continue
                for kw in range(KW):
                    wo = w * sw + kw * dw - pl
                    if 0 <= wo < Wo:
                        yield h, w, kh, kw, ho, wo


def conv_transpose2d_loop(x, w, b=None, *, out_hw, stride=1, crop_before=(0, 0), dilation=1, groups=1):
    """Transposed convolution by its definition (NHWC input, weight (KH, KW, C_out // groups, C_in)).

    Every input pixel scatters x[n, h, w, c] * w[kh, kw, o', c] to the uncropped output position
    (h*sh + kh*dh, w*sw + kw*dw); the output is that grid shifted up/left by ``crop_before`` =
    (top, left) and cut to ``out_hw`` (rows past the scattered ones, from output_padding, are zero).
    y[n, ho, wo, o] = b[o] + that sum over the taps landing on (ho, wo), c in group(o).
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    N, H, W, C = x.shape
    KH, KW, Og, Cw = w.shape
    assert Cw == C and C % groups == 0
    Cg = C // groups
    y = np.zeros((N, out_hw[0], out_hw[1], Og * groups))
    if b is not None:
        y += np.asarray(b, dtype=np.float64)
    for h, wi, kh, kw, ho, wo in _transpose_taps(H, W, KH, KW, out_hw, stride, crop_before, dilation):
        for g in range(groups):
            xs = x[:, h, wi, g * Cg:(g + 1) * Cg]              # (N, Cg)
            ws = w[kh, kw, :, g * Cg:(g + 1) * Cg]             # (Og, Cg)
            y[:, ho, wo, g * Og:(g + 1) * Og] += (xs[:, None, :] * ws[None]).sum(axis=2)
    return y


def conv_transpose2d_backward_loop(gy, x, w, *, stride=1, crop_before=(0, 0), dilation=1, groups=1):
    """The three gradients of sum(conv_transpose2d_loop(x, w, b) * gy), each from its own definition."""
    gy = np.asarray(gy, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    N, H, W, C = x.shape
    KH, KW, Og, _ = w.shape
    Cg = C // groups
    assert gy.shape[0] == N and gy.shape[3] == Og * groups
    gx = np.zeros_like(x)
    gw = np.zeros_like(w)
    for h, wi, kh, kw, ho, wo in _transpose_taps(H, W, KH, KW, gy.shape[1:3], stride, crop_before, dilation):
        for g in range(groups):
            gys = gy[:, ho, wo, g * Og:(g + 1) * Og]           # (N, Og)
            ws = w[kh, kw, :, g * Cg:(g + 1) * Cg]             # (Og, Cg)
            xs = x[:, h, wi, g * Cg:(g + 1) * Cg]              # (N, Cg)
            gx[:, h, wi, g * Cg:(g + 1) * Cg] += (gys[:, :, None] * ws[None]).sum(axis=1)
            gw[kh, kw, :, g * Cg:(g + 1) * Cg] += (gys[:, :, None] * xs[:, None, :]).sum(axis=0)
    gb = gy.sum(axis=(0, 1, 2))
    return gx, gw, gb


def im2col_loop(x, k_hw, *, stride=1, pads=((0, 0), (0, 0)), dilation=1, layout="NHWC"):
    """Rows (n, ho, wo); NHWC column (kh*KW + kw)*C + c, NCHW column (c*KH + kh)*KW + kw."""
    x = np.asarray(x, dtype=np.float64)
    KH, KW = pair(k_hw)
    if layout == "NHWC":
        N, H, W, C = x.shape
    else:
        N, C, H, W = x.shape
    Ho, Wo = out_hw((H, W), (KH, KW), stride, pads, dilation)
    cols = np.zeros((N * Ho * Wo, KH * KW * C))
    for n in range(N):
        for ho, wo, kh, kw, hi, wi in _taps(Ho, Wo, KH, KW, H, W, stride, pads, dilation):
            row = (n * Ho + ho) * Wo + wo
            for c in range(C):
                if layout == "NHWC":
                    cols[row, (kh * KW + kw) * C + c] = x[n, hi, wi, c]
                else:
                    cols[row, (c * KH + kh) * KW + kw] = x[n, c, hi, wi]
    return cols


def col2im_loop(cols, input_shape, k_hw, *, stride=1, pads=((0, 0), (0, 0)), dilation=1, layout="NHWC"):
    """Scatter-add of the im2col_loop layout (its transpose)."""
    cols = np.asarray(cols, dtype=np.float64)
    KH, KW = pair(k_hw)
    if layout == "NHWC":
        N, H, W, C = input_shape
    else:
        N, C, H, W = input_shape
    Ho, Wo = out_hw((H, W), (KH, KW), stride, pads, dilation)
    assert cols.shape == (N * Ho * Wo, KH * KW * C)
    x = np.zeros(tuple(input_shape))
    for n in range(N):
        for ho, wo, kh, kw, hi, wi in _taps(Ho, Wo, KH, KW, H, W, stride, pads, dilation):
            row = (n * Ho + ho) * Wo + wo
            for c in range(C):
                if layout == "NHWC":
                    x[n, hi, wi, c] += cols[row, (kh * KW + kw) * C + c]
                else:
                    x[n, c, hi, wi] += cols[row, (c * KH + kh) * KW + kw]
    return x


# ---------------------------------------------------------------------------
# magnitude-scaled tolerances
# ---------------------------------------------------------------------------
RTOL = {
    np.dtype(np.float16): 2e-3,   # float16 eps is ~1e-3; result rounded once to float16
    np.dtype(np.float32): 1e-4,
    np.dtype(np.float64): 1e-10,
}


def assert_close(actual, expected, dtype=np.float64, rtol=None, what=""):
    """max |actual - expected| <= rtol * max|expected| + tiny atol, elementwise.

    The tolerance scales with the magnitude of the reference (not per element),
    which is the right model for rounding errors of long dot products.
    """
    actual = np.asarray(actual)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != expected {expected.shape}"
    if rtol is None:
        rtol = RTOL[np.dtype(dtype)]
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    atol = rtol * scale + rtol * 1e-3
    np.testing.assert_allclose(actual.astype(np.float64), expected, rtol=0, atol=atol, err_msg=what)
