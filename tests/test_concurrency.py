"""Concurrency: cconv releases the GIL while it computes, is safe to call from many
Python threads at once (bit-identical to a serial call), agrees across OpenMP
thread counts 1..4, and never changes the thread settings of other libraries
(NumPy's BLAS, OpenMP runtimes), even when called from several threads at once.

(tests/test_threads.py covers thread-count control and 1 vs 2-3 threads on
every entry point; this file adds the multi-threaded callers.)
"""
import threading
import time

import numpy as np
import pytest

import cconv

threadpoolctl = pytest.importorskip("threadpoolctl")

# layers that reach the different kernels: GEMM (NHWC), grouped GEMM, depthwise
# (NHWC and native NCHW planes), 1x1 stride 1 (NHWC rows and native NCHW GEMM)
LAYERS = [
    dict(id="gemm3x3_nhwc", layout="NHWC", x=(4, 20, 20, 16), w=(3, 3, 16, 24), kw=dict(padding=1)),
    dict(id="grouped_strided_nchw", layout="NCHW", x=(3, 15, 12, 17), w=(12, 5, 3, 2),
         kw=dict(stride=(2, 1), padding="same", groups=3)),
    dict(id="depthwise_nhwc", layout="NHWC", x=(2, 18, 18, 40), w=(3, 3, 1, 40), kw=dict(padding=1, groups=40)),
    dict(id="depthwise_nchw", layout="NCHW", x=(2, 24, 18, 18), w=(24, 1, 3, 3), kw=dict(padding=1, groups=24)),
    dict(id="pointwise_nchw", layout="NCHW", x=(3, 32, 14, 14), w=(48, 32, 1, 1), kw={}),
    dict(id="pointwise_nhwc", layout="NHWC", x=(3, 14, 14, 32), w=(1, 1, 32, 48), kw={}),
]


def _arrays(layer, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(layer["x"]).astype(dtype)
    w = rng.standard_normal(layer["w"]).astype(dtype)
    kw = dict(layer["kw"], layout=layer["layout"])
    y_shape = cconv.output_shape(x.shape, w.shape, **kw)
    gy = rng.standard_normal(y_shape).astype(dtype)
    return x, w, gy, kw


def _everything(x, w, gy, kw, num_threads):
    kw = dict(kw, num_threads=num_threads)
    return (cconv.conv2d(x, w, **kw),) + tuple(cconv.conv2d_backward(gy, x, w, **kw))


# ---------------------------------------------------------------------------
# the GIL is released during compute
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("what", ["conv2d", "conv2d_backward"])
@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
def test_gil_is_released_during_compute(what, layout):
    """While one thread runs a long convolution on 1 OpenMP thread, the main thread keeps
    counting. With the GIL held, the counter would stall for the whole call: the longest
    gap between two of its iterations would be about the call's duration."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 64, 64, 64)).astype(np.float32)
    w = rng.standard_normal((3, 3, 64, 64)).astype(np.float32)
    if layout == "NCHW":
        x, w = np.ascontiguousarray(x.transpose(0, 3, 1, 2)), np.ascontiguousarray(w.transpose(3, 2, 0, 1))
    kw = dict(padding=1, layout=layout, num_threads=1)
    gy = np.ones(cconv.output_shape(x.shape, w.shape, padding=1, layout=layout), np.float32)
    call = (lambda: cconv.conv2d(x, w, **kw)) if what == "conv2d" else (
        lambda: cconv.conv2d_backward(gy, x, w, **kw))

    t0 = time.perf_counter()
    call()
    alone = time.perf_counter() - t0

    done = threading.Event()
    span = {}

    def worker():
        span["start"] = time.perf_counter()
        call()
        span["end"] = time.perf_counter()
        done.set()

    thread = threading.Thread(target=worker)
    stamps = []
    thread.start()
    while not done.is_set():
        stamps.append(time.perf_counter())
    thread.join()
    inside = np.array([t for t in stamps if span["start"] <= t <= span["end"]])
    duration = span["end"] - span["start"]
    gaps = np.diff(np.concatenate([[span["start"]], inside, [span["end"]]]))
    # the counter made progress during the call, and never stalled for most of it
    assert len(inside) > 1000, (len(inside), duration)
    assert gaps.max() < 0.5 * duration, (gaps.max(), duration, alone)


# ---------------------------------------------------------------------------
# many Python threads at once
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("num_threads", [1, 2, None])
@pytest.mark.parametrize("layer", LAYERS, ids=[lay["id"] for lay in LAYERS])
def test_eight_python_threads_match_a_serial_call_bit_for_bit(layer, num_threads):
    x, w, gy, kw = _arrays(layer)
    serial = _everything(x, w, gy, kw, num_threads)
    n_callers, repeats = 8, 3
    barrier = threading.Barrier(n_callers)
    results, errors = [None] * n_callers, []

    def caller(i):
        try:
            barrier.wait()
            out = [_everything(x, w, gy, kw, num_threads) for _ in range(repeats)]
            results[i] = out
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(n_callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for i, per_thread in enumerate(results):
        for rep in per_thread:
            for name, got, want in zip(("y", "grad_x", "grad_weight", "grad_bias"), rep, serial):
                assert got.dtype == want.dtype and got.shape == want.shape
                assert np.array_equal(got, want), f"caller {i}: {name} differs from the serial call"


@pytest.mark.parametrize("layer", LAYERS, ids=[lay["id"] for lay in LAYERS])
def test_thread_counts_1_to_4_repeatable_and_agreeing(layer):
    """Bit-identical on repeated calls at each thread count; within float32 rounding across counts."""
    x, w, gy, kw = _arrays(layer)
    x64, w64, gy64 = (a.astype(np.float64) for a in (x, w, gy))
    exact = _everything(x64, w64, gy64, kw, 1)          # float64: the yardstick for float32 rounding
    for n in (1, 2, 3, 4):
        first = _everything(x, w, gy, kw, n)
        again = _everything(x, w, gy, kw, n)
        for got, rep, ref in zip(first, again, exact):
            assert np.array_equal(got, rep), f"threads={n}: repeated call differs"
            scale = np.abs(ref).max() + 1
            np.testing.assert_allclose(got, ref, rtol=0, atol=2e-5 * scale, err_msg=f"threads={n}")


# ---------------------------------------------------------------------------
# other libraries' thread settings are left alone
# ---------------------------------------------------------------------------
def _foreign_thread_settings():
    """(filepath, user_api, num_threads) for every BLAS/OpenMP library that is not cconv's controller."""
    return sorted((d["filepath"], d["user_api"], d["num_threads"]) for d in threadpoolctl.threadpool_info()
                  if d["user_api"] in ("blas", "openmp") and d.get("internal_api") != "cconv")


def _exercise(seed):
    for layer in LAYERS:
        x, w, gy, kw = _arrays(layer, seed=seed)
        _everything(x, w, gy, kw, None)
        _everything(x, w, gy, kw, 2)
    cconv.col2im(cconv.im2col(x, 3, padding=1, layout=kw["layout"]), x.shape, 3, padding=1, layout=kw["layout"])


def test_foreign_thread_settings_unchanged_with_concurrent_callers():
    _exercise(0)                                   # load everything cconv loads lazily
    before = _foreign_thread_settings()
    assert any(api == "blas" for _, api, _ in before) or pytest.skip("no BLAS visible to threadpoolctl")
    stop = threading.Event()
    errors = []

    def caller(seed):
        try:
            while not stop.is_set():
                _exercise(seed)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=caller, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    try:
        snapshots = []
        deadline = time.perf_counter() + 2.0
        while time.perf_counter() < deadline:     # observed while the calls are running
            snapshots.append(_foreign_thread_settings())
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors
    assert len(snapshots) >= 3
    for snap in snapshots:
        assert snap == before
    assert _foreign_thread_settings() == before
    # and a user's explicit BLAS limit survives concurrent cconv calls too
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        inside = _foreign_thread_settings()
        threads = [threading.Thread(target=_exercise, args=(s,)) for s in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert _foreign_thread_settings() == inside
    assert _foreign_thread_settings() == before
