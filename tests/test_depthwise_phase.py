"""The depthwise forward at every channel phase of its input.

The depthwise rows align their loads to the input's first vector boundary
(ccdw_geom's ``ah`` in src/kernels/geometry.h): with stride 1 along W and C a
multiple of the vector, their interior blocks run channels [ah, C + ah) of each
pixel, the last ah being the next pixel's first ones. Which path runs depends on
where the input's data starts, so every case here places its arrays at chosen
byte offsets past a 64-byte boundary, and checks against the float64 direct
definition (tests/_oracle.py). The grad_input of stride 1 runs the same rows on
dy, and the 3-D forward runs them on planes of the volume.
"""
import itertools

import numpy as np
import pytest

import cconv
from _oracle import assert_close, conv2d_backward_loop, conv2d_loop


def _at_offset(a, offset):
    """A copy of a whose data starts offset bytes past a 64-byte boundary."""
    buf = np.empty(a.size * a.itemsize + 128, dtype=np.uint8)
    start = -buf.ctypes.data % 64 + offset
    out = buf[start:start + a.size * a.itemsize].view(a.dtype).reshape(a.shape)
    out[...] = a
    assert out.ctypes.data % 64 == offset
    return out


# (C, W, padding, dilation): several four-pixel blocks in a row and edge pixels on both sides; a
# row with exactly four interior pixels (the phase's blocks need a fifth); no padding; dilation 2.
GEOMETRIES = [(64, 13, 1, 1), (64, 6, 1, 1), (32, 11, 0, 1), (48, 12, 2, 2), (80, 9, 1, 1),
              (24, 10, 1, 1), (16, 7, 1, 1), (8, 9, 1, 1), (20, 9, 1, 1)]
OFFSETS = {np.float32: (0, 4, 16, 36, 60), np.float64: (0, 8, 16, 56)}
CASES = [(dt, off, *geo) for dt in (np.float32, np.float64) for off in OFFSETS[dt] for geo in GEOMETRIES]


def _ids(case):
    dt, off, C, W, pad, dil = case
    return f"{np.dtype(dt).name}-at{off}-C{C}-W{W}-pad{pad}-dil{dil}"


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_depthwise_forward_and_grad_input_at_any_phase(case):
    dt, off, C, W, pad, dil = case
    rng = np.random.default_rng(C * 1000 + W * 10 + off)
    x64 = rng.standard_normal((2, 3, W, C))
    w64 = rng.standard_normal((3, 3, 1, C))
    b64 = rng.standard_normal(C)
    pads = ((pad, pad), (pad, pad))
    x, w, b = _at_offset(x64.astype(dt), off), w64.astype(dt), _at_offset(b64.astype(dt), off)
    kept = [a.copy() for a in (x, w, b)]
    kw = dict(padding=pad, dilation=dil, groups=C, algorithm="direct")
    y_ref = conv2d_loop(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64),
                        pads=pads, dilation=dil, groups=C)
    assert_close(cconv.conv2d(x, w, b, **kw), y_ref, dt, what="forward with bias")
    assert_close(cconv.conv2d(x, w, None, **kw), y_ref - b.astype(np.float64), dt, what="forward")
    gy = _at_offset(rng.standard_normal(y_ref.shape).astype(dt), off)
    gx_ref = conv2d_backward_loop(gy.astype(np.float64), x.astype(np.float64), w.astype(np.float64),
                                  pads=pads, dilation=dil, groups=C)[0]
    assert_close(cconv.conv2d_grad_input(gy, w, x.shape, **kw), gx_ref, dt, what="grad_input")
    for a, k in zip((x, w, b), kept):
        np.testing.assert_array_equal(a, k)


@pytest.mark.parametrize("case", [c for c in CASES if c[2] in (64, 24, 16)], ids=_ids)
def test_depthwise_3d_forward_at_any_phase(case):
    """A 3-D depthwise layer is, per output plane, the sum over its depth taps of 2-D depthwise
    convolutions of the input planes they read: the oracle is built that way from the 2-D loops."""
    dt, off, C, W, pad, dil = case
    rng = np.random.default_rng(C * 1000 + W * 10 + off + 1)
    D, KD = 4, 3
    x64 = rng.standard_normal((1, D, 3, W, C))
    w64 = rng.standard_normal((KD, 3, 3, 1, C))
    b64 = rng.standard_normal(C)
    x, w, b = _at_offset(x64.astype(dt), off), w64.astype(dt), b64.astype(dt)
    xd, wd = x.astype(np.float64), w.astype(np.float64)
    pads = ((pad, pad), (pad, pad))
    Do = D + 2 * pad - dil * (KD - 1)
    planes = []
    for do in range(Do):
        acc = None
        for kd in range(KD):
            di = do - pad + kd * dil
            if 0 <= di < D:
                p = conv2d_loop(xd[:, di], wd[kd], None, pads=pads, dilation=dil, groups=C)
                acc = p if acc is None else acc + p
        planes.append(acc + b.astype(np.float64))
    y_ref = np.stack(planes, axis=1)
    y = cconv.conv3d(x, w, b, padding=pad, dilation=dil, groups=C, algorithm="direct")
    assert_close(y, y_ref, dt, what="3-D forward")


@pytest.mark.parametrize("off", [0, 4, 16])
def test_depthwise_stride_2_at_any_phase(off):
    """Stride 2 along W has no common phase across output pixels: the unaligned blocks serve it."""
    for C, dt in itertools.product((32, 64), (np.float32, np.float64)):
        rng = np.random.default_rng(C + off)
        x = _at_offset(rng.standard_normal((1, 4, 15, C)).astype(dt), off)
        w = rng.standard_normal((3, 3, 1, C)).astype(dt)
        y_ref = conv2d_loop(x.astype(np.float64), w.astype(np.float64), None, stride=(1, 2),
                            pads=((1, 1), (1, 1)), groups=C)
        y = cconv.conv2d(x, w, stride=(1, 2), padding=1, groups=C, algorithm="direct")
        assert_close(y, y_ref, dt, what=f"stride 2, C={C}")
