"""The single-channel forward at every count of output channels.

The single-channel kernel (src/kernels/single_channel/nhwc.h) accumulates eight
output channels at a time and stores each block of eight pixels by transposing
its accumulators. The last block of a layer whose O is not a multiple of eight
stores only its ob = O % 8 channels per pixel, as pieces of 4, 2 and 1 floats,
so every ob from 1 to 7 (alone, O < 8, and after full blocks, O > 8) takes its
own combination of pieces. Each is checked against the float64 direct
definition (tests/_oracle.py), with rows long enough for several vector blocks
and padding for the scalar edge columns.
"""
import numpy as np
import pytest

import cconv
from _oracle import assert_close, conv2d_loop


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("O", list(range(1, 18)) + [24])
def test_single_channel_forward_for_every_channel_tail(O, dtype):
    rng = np.random.default_rng(O)
    x = rng.standard_normal((2, 5, 37, 1)).astype(dtype)
    w = rng.standard_normal((3, 3, 1, O)).astype(dtype)
    b = rng.standard_normal(O).astype(dtype)
    kw = dict(padding=1, algorithm="direct")
    assert cconv.select_algorithm(x.shape, w.shape, **kw)["forward"] == "direct-single-channel"
    kept = [a.copy() for a in (x, w, b)]
    y = cconv.conv2d(x, w, b, **kw)
    y_ref = conv2d_loop(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64),
                        pads=((1, 1), (1, 1)))
    assert y.shape == (2, 5, 37, O)
    assert_close(y, y_ref, dtype, what=f"single-channel forward, O={O}")
    for a, k in zip((x, w, b), kept):
        np.testing.assert_array_equal(a, k)
