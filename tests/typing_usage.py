"""Typed use of cconv's public API, checked by ``mypy --strict`` in test_typing.py.

It is never run by pytest (no ``test_`` prefix); it exists so that mypy proves
a strictly typed caller can use every public function without ``Any`` leaks
or ``type: ignore`` comments. Each call matches the documented signature.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

import cconv  # cconv.reference is reached as an attribute (loaded on first access)


def forward_and_backward() -> tuple[NDArray[np.floating], float]:
    """One NHWC layer through every public function; returns y and a checksum."""
    rng = np.random.default_rng(0)
    x: NDArray[np.float32] = rng.standard_normal((2, 8, 8, 3), dtype=np.float32)
    w: NDArray[np.float32] = rng.standard_normal((3, 3, 3, 4), dtype=np.float32)
    b: NDArray[np.float32] = np.zeros(4, dtype=np.float32)

    shape: tuple[int, ...] = cconv.output_shape(x.shape, w.shape, stride=2, padding="same")
    y = cconv.conv2d(x, w, b, stride=(2, 2), padding="same", dilation=1, groups=1, layout="NHWC",
                     num_threads=None)
    assert y.shape == shape
    gx, gw, gb = cconv.conv2d_backward(np.ones_like(y), x, w, stride=2, padding="same")
    gx2 = cconv.conv2d_grad_input(np.ones_like(y), w, x.shape, stride=2, padding="same")
    gw2 = cconv.conv2d_grad_weight(np.ones_like(y), x, w.shape, stride=2, padding="same")
    cols = cconv.im2col(x, 3, padding=((1, 1), (1, 1)), num_threads=1)
    back = cconv.col2im(cols, x.shape, (3, 3), padding=1)
    ref = cconv.reference.conv2d(x, w, b, stride=2, padding="same")
    checksum = float(np.abs(y - ref).max() + gx.sum() + gw.sum() + gb.sum() + gx2.sum() + gw2.sum()
                     + back.sum())
    return y, checksum


def layer_and_threads() -> int:
    """The Conv2D layer and the thread controls."""
    layer = cconv.Conv2D(3, 4, 3, padding=1, layout="NCHW", dtype=np.float64, rng=0)
    x = np.zeros((1, 3, 5, 5))
    y = layer(x)
    gx = layer.backward(np.ones_like(y))
    grad_w: NDArray[np.floating] | None = layer.grad_weight
    assert grad_w is not None and gx.shape == x.shape
    enabled: bool = cconv.openmp_enabled()
    cconv.set_num_threads(1)
    n: int = cconv.get_num_threads()
    cconv.set_num_threads(None)
    return n + int(enabled)


def transposed() -> tuple[int, ...]:
    """conv_transpose2d and its output shape."""
    x = np.zeros((1, 4, 4, 2), dtype=np.float32)
    w = np.zeros((3, 3, 5, 2), dtype=np.float32)
    y = cconv.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
    gx, gw, gb = cconv.conv_transpose2d_backward(np.ones_like(y), x, w, stride=2, padding=1, output_padding=1)
    assert gx.shape == x.shape and gw.shape == w.shape and gb.shape == (5,)
    return cconv.conv_transpose2d_output_shape(x.shape, w.shape, stride=2, padding=1, output_padding=1)


def one_dimensional() -> tuple[int, ...]:
    """The 1-D functions and layers, channels first as PyTorch has them."""
    x = np.zeros((2, 3, 16), dtype=np.float32)
    w = np.zeros((8, 3, 5), dtype=np.float32)
    y = cconv.conv1d(x, w, None, stride=(2,), padding="causal", dilation=2, layout="NCW", algorithm="auto")
    gx, gw, gb = cconv.conv1d_backward(np.ones_like(y), x, w, stride=2, padding="causal", dilation=2, layout="NCW")
    gx2 = cconv.conv1d_grad_input(np.ones_like(y), w, x.shape, stride=2, padding="causal", dilation=2, layout="NCW")
    gw2 = cconv.conv1d_grad_weight(np.ones_like(y), x, w.shape, stride=2, padding="causal", dilation=2,
                                   layout="NCW")
    ref = cconv.reference.conv1d(x, w, stride=2, padding=(8, 0), dilation=2, layout="NCW")
    t = cconv.conv_transpose1d(y, w.transpose(0, 1, 2), stride=2, padding=((1, 1),), layout="NCW")
    tx, tw, tb = cconv.conv_transpose1d_backward(np.ones_like(t), y, w, stride=2, padding=((1, 1),), layout="NCW")
    layer = cconv.Conv1D(3, 8, 5, padding="same", layout="NCW")
    back = cconv.ConvTranspose1D(8, 3, 5, stride=2, layout="NCW")
    z = back(layer(x))
    routes: dict[str, str] = cconv.select_algorithm(x.shape, w.shape, layout="NCW")
    assert gx.shape == gx2.shape and gw.shape == gw2.shape and gb.shape == (8,) and ref.shape == y.shape
    assert tx.shape == y.shape and tw.shape == w.shape and tb.shape == (3,) and z.ndim == 3 and routes
    return cconv.conv1d_output_shape(x.shape, w.shape, stride=2, padding="causal", dilation=2, layout="NCW")
