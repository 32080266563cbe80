"""Large-index safety: offsets past 2**31 elements must not wrap.

All index arithmetic in the kernels is 64-bit (Py_ssize_t / ptrdiff_t). These
tests put the only non-zero data of an input of more than 2**31 float32
elements *after* element 2**31, and check the outputs that read it against
``cconv.reference`` on that tail alone: an offset computed in 32 bits would
read the zero region instead (or fault).

Why not a broadcast view: the compiled kernels take C-contiguous memory, so
cconv copies a zero-stride view before computing and a > 2**31-element
broadcast would materialise ~8.6 GB. The cheap test instead uses
``np.zeros``, which maps untouched pages to the shared zero page: the input
has 2**31 + 2**24 elements of address space, but only its written tail
(64 MiB) and the outputs cost physical memory.

The ``slow`` tests fill the whole input with data (8.6 GB, and 17.2 GB for the
input gradient). Run them with ``--run-slow`` or ``CCONV_RUN_SLOW=1``:

    CCONV_RUN_SLOW=1 python -m pytest tests/test_large_index.py
"""
import numpy as np
import pytest

import cconv
import cconv.reference as ref

# x: (1, H, W, C) float32. Row h starts at element h * W * C = h * 2**15, so
# row TAIL0 = 2**16 starts at element 2**31 exactly.
H, W, C = 2**16 + 64, 2**13, 4
TAIL0 = 2**16
S = 4                           # stride of the slow test: keeps the outputs small
CHEAP_STRIDE = (16, 64)         # the cheap test: 525k output pixels, 4 output rows in the tail
N_ELEMENTS = H * W * C
assert N_ELEMENTS > 2**31 and TAIL0 * W * C == 2**31 and TAIL0 % S == 0 and TAIL0 % CHEAP_STRIDE[0] == 0


def _mem_available_gib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def _need_memory(gib):
    avail = _mem_available_gib()
    if avail is not None and avail < gib:
        pytest.skip(f"needs {gib} GiB of available memory; {avail:.1f} GiB available")


def _lazy_input(rng):
    """The big input: zero pages everywhere except rows >= TAIL0 (past element 2**31)."""
    try:
        x = np.zeros((1, H, W, C), np.float32)
    except MemoryError:
        pytest.skip("the address space for an 8.6 GB lazily-zeroed array is not available")
    x[:, TAIL0:] = rng.standard_normal((1, H - TAIL0, W, C), dtype=np.float32)
    return x




@pytest.mark.parametrize("groups,O", [(1, 2), (C, C)], ids=["gemm", "depthwise"])
def test_forward_and_grad_weight_read_past_element_2_31(groups, O):
    _need_memory(2)
    rng = np.random.default_rng(0)
    x = _lazy_input(rng)
    w = rng.standard_normal((3, 3, C // groups, O), dtype=np.float32)
    kw = dict(stride=CHEAP_STRIDE, groups=groups)
    y = cconv.conv2d(x, w, **kw)
    first_tail_row = TAIL0 // CHEAP_STRIDE[0]
    tail = slice(first_tail_row, y.shape[1])
    assert y.shape[1] - first_tail_row == 4
    # outputs entirely inside the zero region are exactly zero; the tail matches the reference
    assert not np.any(y[:, :first_tail_row])
    expected = ref.conv2d(x[:, TAIL0:], w, **kw)
    np.testing.assert_allclose(y[:, tail], expected, rtol=1e-5, atol=1e-5)
    assert np.abs(expected).max() > 1          # the check really compares non-zero data

    # grad_weight: only the tail of grad_out is non-zero, so only the tail of x contributes
    gy = np.zeros_like(y)
    gy[:, tail] = rng.standard_normal(gy[:, tail].shape, dtype=np.float32)
    gw = cconv.conv2d_grad_weight(gy, x, w.shape, **kw)
    gw_expected = ref.conv2d_grad_weight(np.ascontiguousarray(gy[:, tail]), x[:, TAIL0:], w.shape, **kw)
    np.testing.assert_allclose(gw, gw_expected, rtol=1e-4, atol=1e-3)


@pytest.mark.slow
def test_full_input_past_2_31_forward_grad_weight_and_grad_input():
    """Every element real: forward and grad_weight on 8.6 GB of data, grad_input producing 8.6 GB.

    Outputs are checked at sampled pixels spread over the whole image against the
    direct definition; grad_weight and grad_input use a grad_out that is non-zero
    only at those pixels, so their exact values are sums over a few patches.
    """
    _need_memory(20)
    rng = np.random.default_rng(1)
    x = np.empty((1, H, W, C), np.float32)
    for h0 in range(0, H, 4096):                       # fill in chunks: no 8.6 GB temporary
        x[:, h0:h0 + 4096] = rng.standard_normal(x[:, h0:h0 + 4096].shape, dtype=np.float32)
    w = rng.standard_normal((3, 3, C, 2), dtype=np.float32)
    b = rng.standard_normal(2).astype(np.float32)
    y = cconv.conv2d(x, w, b, stride=S)
    Ho, Wo = y.shape[1:3]
    # sampled output pixels: first, last, and random ones (many past element 2**31)
    hos = np.concatenate([[0, Ho - 1, TAIL0 // S], rng.integers(0, Ho, 60)])
    wos = np.concatenate([[0, Wo - 1, Wo // 2], rng.integers(0, Wo, 60)])
    for ho, wo in zip(hos, wos):
        patch = x[0, ho * S:ho * S + 3, wo * S:wo * S + 3, :].astype(np.float64)
        direct = np.einsum("hwc,hwco->o", patch, w.astype(np.float64)) + b
        np.testing.assert_allclose(y[0, ho, wo], direct, rtol=1e-4, atol=1e-4)
    del y

    gy = np.zeros((1, Ho, Wo, 2), np.float32)
    pix = sorted(set(zip(hos.tolist(), wos.tolist())))
    for ho, wo in pix:
        gy[0, ho, wo] = rng.standard_normal(2)
    gw = cconv.conv2d_grad_weight(gy, x, w.shape, stride=S)
    gw_direct = np.zeros(w.shape)
    for ho, wo in pix:
        patch = x[0, ho * S:ho * S + 3, wo * S:wo * S + 3, :].astype(np.float64)
        gw_direct += np.einsum("hwc,o->hwco", patch, gy[0, ho, wo].astype(np.float64))
    np.testing.assert_allclose(gw, gw_direct, rtol=1e-4, atol=1e-3)
    del x

    gx = cconv.conv2d_grad_input(gy, w, (1, H, W, C), stride=S)
    assert gx.shape == (1, H, W, C)
    for ho, wo in pix:      # stride 4 > kernel 3: the sampled patches never overlap
        expected = np.einsum("hwco,o->hwc", w.astype(np.float64), gy[0, ho, wo].astype(np.float64))
        np.testing.assert_allclose(gx[0, ho * S:ho * S + 3, wo * S:wo * S + 3, :], expected, rtol=1e-5,
                                   atol=1e-5)
    # and nothing else was written: the sum of gx is the sum of those patches
    total = sum(float(np.einsum("hwco,o->", w.astype(np.float64), gy[0, ho, wo].astype(np.float64)))
                for ho, wo in pix)
    np.testing.assert_allclose(gx.sum(dtype=np.float64), total, rtol=1e-4, atol=1e-3)

