"""Memory: absurd but valid requests fail with MemoryError/ValueError instead of
crashing, inputs are never written, no leak over many calls, and working memory
beyond inputs and outputs stays bounded however large the batch."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import cconv
from cconv._params import MAX_THREADS

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _run_child(code, env=None, timeout=300):
    """Run ``code`` in a fresh interpreter (cconv importable); return the CompletedProcess."""
    full_env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=full_env, timeout=timeout, cwd=HERE)


# ---------------------------------------------------------------------------
# absurd thread counts. Finding: num_threads=100000 on a layer with enough tiles
# segfaulted inside libgomp (GOMP_parallel keeps per-thread start data on the
# caller's stack), and num_threads >= 2**31 raised OverflowError from the
# Cython int conversion. Both are now a ValueError naming num_threads.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("num_threads", [MAX_THREADS + 1, 100_000, 2**31, 2**63, 2**80])
def test_absurd_num_threads_is_a_value_error(num_threads):
    x = np.ones((1, 64, 64, 1), np.float32)
    w = np.ones((1, 1, 1, 1), np.float32)
    with pytest.raises(ValueError, match=rf"num_threads.*{MAX_THREADS}.*{num_threads}"):
        cconv.conv2d(x, w, num_threads=num_threads)
    with pytest.raises(ValueError, match=r"num_threads"):
        cconv.set_num_threads(num_threads)


def test_largest_allowed_thread_count_runs_without_crash():
    """The regression the cap fixes, in a child: MAX_THREADS threads on a layer with more
    tiles than threads really starts the team, and the result is still exact."""
    child = _run_child(f"""
        import numpy as np, cconv
        x = np.arange(1 * 200 * 200 * 1, dtype=np.float32).reshape(1, 200, 200, 1) % 7
        y = cconv.conv2d(x, np.full((1, 1, 1, 1), 2, np.float32), num_threads={MAX_THREADS})
        assert np.array_equal(y, 2 * x)
        print("ok")
    """)
    assert child.returncode == 0 and "ok" in child.stdout, child.stderr[-2000:]


def test_huge_omp_num_threads_default_is_capped():
    """OMP_NUM_THREADS=100000 crashed the first call (the default followed it); the default is capped."""
    child = _run_child("""
        import numpy as np, cconv
        print(cconv.get_num_threads())
        x = np.ones((1, 200, 200, 1), np.float32)
        assert np.array_equal(cconv.conv2d(x, np.ones((1, 1, 1, 1), np.float32)), x)
        print("ok")
    """, env={"OMP_NUM_THREADS": "100000"})
    assert child.returncode == 0 and "ok" in child.stdout, child.stderr[-2000:]
    # A build without OpenMP (e.g. Apple clang without libomp) runs on one thread whatever the variable says.
    assert int(child.stdout.split()[0]) == (MAX_THREADS if cconv.openmp_enabled() else 1)


# ---------------------------------------------------------------------------
# absurd sizes: the allocation fails cleanly
# ---------------------------------------------------------------------------
def test_impossible_output_is_a_memory_error_not_a_crash():
    """An output of 2**47 float32 (512 TiB, beyond the address space) from a tiny
    zero-stride view: the allocation fails and numpy raises MemoryError."""
    x = np.broadcast_to(np.float32(1), (2**20, 2**13, 2**14, 1))      # 2**47 elements, 4 bytes of memory
    w = np.ones((1, 1, 1, 1), np.float32)
    with pytest.raises(MemoryError):
        cconv.conv2d(x, w)
    with pytest.raises(MemoryError):
        cconv.im2col(x, 1)


def test_shape_whose_size_overflows_int64_is_rejected():
    with pytest.raises((ValueError, MemoryError)):
        cconv.conv2d_grad_input(np.ones((1, 1, 1, 1)), np.ones((1, 1, 1, 1)), (2**40, 2**20, 2**20, 1),
                                stride=(2**20, 2**20))


# ---------------------------------------------------------------------------
# no leak
# ---------------------------------------------------------------------------
LEAK_CHILD = """
import json, os, sys, tracemalloc
import numpy as np, cconv

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

rng = np.random.default_rng(0)
def small_calls(i):
    n = 1 + i % 3
    x = rng.standard_normal((n, 6, 7, 4)).astype(np.float32 if i % 2 else np.float64)
    w = rng.standard_normal((3, 3, 2, 6)).astype(x.dtype)
    # 1 OpenMP thread mostly: on a loaded machine every 2-thread region of a tiny call waits
    # for the second thread to be scheduled (~25 ms), which would make 10,000 calls take minutes
    y = cconv.conv2d(x, w, np.ones(6), padding=1, groups=2, num_threads=2 if i % 100 == 0 else 1)
    k = i % 6
    if k == 0:
        cconv.conv2d_backward(y, x, w, padding=1, groups=2, num_threads=1)
    elif k == 1:
        cconv.conv2d_grad_input(y, w, x.shape, padding=1, groups=2, num_threads=1)
    elif k == 2:
        cconv.conv2d_grad_weight(y, x, w.shape, padding=1, groups=2, num_threads=1)
    elif k == 3:
        xc = x.transpose(0, 3, 1, 2)                       # NCHW, non-contiguous
        cconv.col2im(cconv.im2col(xc, 2, layout="NCHW", num_threads=1), xc.shape, 2, layout="NCHW",
                     num_threads=1)
    elif k == 4:
        cconv.conv2d(x.transpose(0, 3, 1, 2), np.ones((4, 1, 3, 3)), groups=4, layout="NCHW",
                     num_threads=1)                        # depthwise on NCHW planes
    else:
        try:                                                # the error paths must not leak either
            cconv.conv2d(x, w, stride=0)
        except ValueError:
            pass

x_big = rng.standard_normal((4, 32, 32, 32)).astype(np.float32)
w_big = rng.standard_normal((3, 3, 32, 32)).astype(np.float32)
def large_call(i):
    if i % 2:
        cconv.conv2d(x_big, w_big, padding=1)
    else:
        cconv.conv2d_backward(np.ones((4, 32, 32, 32), np.float32), x_big, w_big, padding=1)

out = {}
for name, fn, count in (("small", small_calls, int(sys.argv[1])), ("large", large_call, int(sys.argv[2]))):
    tracemalloc.start()
    # warm-up: caches, lazily loaded modules, OpenMP pool. Traced memory grows by ~86 KB over the
    # first ~1000 small calls (caches filling; measured flat afterwards), hence 1000 warm-up calls
    for i in range(max(count // 10, 20)):
        fn(i)
    t0, r0 = tracemalloc.get_traced_memory()[0], rss()
    for i in range(count):
        fn(i)
    t1, r1 = tracemalloc.get_traced_memory()[0], rss()
    tracemalloc.stop()
    out[name] = dict(rss_before=r0, rss_after=r1, traced_before=t0, traced_after=t1)
print(json.dumps(out))
"""


def test_no_leak_over_10000_small_and_200_large_calls():
    """Flat means: traced (NumPy and Python) memory grows by < 64 KiB over 10,000 calls, i.e. less
    than 7 bytes a call, so even one leaked 32-byte object per call (320 KB) fails; RSS grows by
    < 8 MiB over the 10,000 small calls (a leaked small output, >= 336 bytes a call, is 3.4 MB plus
    allocator overhead; 8 MiB allows for malloc arena growth) and by < 16 MiB over the 200 large
    calls (one leaked large output is 512 KiB, 200 are 100 MiB)."""
    import json

    child = subprocess.run(
        [sys.executable, "-c", LEAK_CHILD, "10000", "200"], capture_output=True, text=True, timeout=600,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])), cwd=HERE)
    assert child.returncode == 0, child.stderr[-3000:]
    res = json.loads(child.stdout.strip().splitlines()[-1])
    print(res)
    # Under AddressSanitizer (tools/sanitize.sh) freed memory sits in ASan's quarantine (256 MB by
    # default), so RSS grows without a leak; the traced-memory criterion still applies there.
    sanitized = os.environ.get("CCONV_SANITIZED", "") not in ("", "0")
    for name, rss_limit in (("small", 8 * 2**20), ("large", 16 * 2**20)):
        r = res[name]
        assert r["traced_after"] - r["traced_before"] < 64 * 2**10, (name, r)
        if not sanitized:
            assert r["rss_after"] - r["rss_before"] < rss_limit, (name, r)


# ---------------------------------------------------------------------------
# bounded working memory (issue 3): extra memory beyond inputs and outputs
# <= 32 MiB whatever N, H, W, on a batch whose full im2col would be 1.2 GB
# ---------------------------------------------------------------------------
BOUND_CHILD = """
import json, os, sys, tracemalloc
import numpy as np, cconv

op, threads, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
rng = np.random.default_rng(0)
if mode.startswith("3d"):   # volumes, 3x3x3 padding 1: vol2col would be N*D*H*W x 27*C floats
    # "3d-winograd": 32 channels each way take the Winograd route in every pass, on slices of
    # 8 x 512 tiles, wider than one block's tiles
    N, D, H, W, C, O = (2, 8, 32, 2048, 32, 32) if mode == "3d-winograd" else (2, 16, 64, 64, 96, 8)
    x = rng.standard_normal((N, D, H, W, C), dtype=np.float32)
    w = rng.standard_normal((3, 3, 3, C, O), dtype=np.float32)
    gy = rng.standard_normal((N, D, H, W, O), dtype=np.float32)
    kw = dict(padding=1, padding_mode=mode[3:] if mode == "3d-circular" else "zeros", num_threads=threads)
    conv, grad_input, grad_weight = cconv.conv3d, cconv.conv3d_grad_input, cconv.conv3d_grad_weight
    if mode == "3d-winograd":
        routes = cconv.select_algorithm(x.shape, w.shape, padding=1, layout="NDHWC")
        assert all(routes[p] == "winograd-f4" for p in ("forward", "grad_input", "grad_weight")), routes
    small = (x[:1, :4, :8, :8], w, gy[:1, :4, :8, :8])
    cols_bytes = N * D * H * W * 27 * C * 4
else:              # 3x3, padding 1: cols would be N*H*W x 9*C floats
    N, H, W, C, O = 16, 128, 128, 128, 8
    x = rng.standard_normal((N, H, W, C), dtype=np.float32)
    w = rng.standard_normal((3, 3, C, O), dtype=np.float32)
    gy = rng.standard_normal((N, H, W, O), dtype=np.float32)
    kw = dict(padding=1, padding_mode=mode, num_threads=threads)
    conv, grad_input, grad_weight = cconv.conv2d, cconv.conv2d_grad_input, cconv.conv2d_grad_weight
    small = (x[:1, :8, :8], w, gy[:1, :8, :8])
    cols_bytes = N * H * W * 9 * C * 4
# warm-up on a small batch: loads modules and starts the OpenMP threads (their stacks count once)
conv(small[0], w, **kw); grad_input(small[2], w, small[0].shape, **kw)
grad_weight(small[2], small[0], w.shape, **kw)
with open("/proc/self/clear_refs", "w") as f:     # reset the peak (VmHWM) to the current RSS
    f.write("5")
base = status("VmRSS")
tracemalloc.start()
if op == "forward":
    out = conv(x, w, **kw)
elif op == "grad_input":
    out = grad_input(gy, w, x.shape, **kw)
else:
    out = grad_weight(gy, x, w.shape, **kw)
traced_peak = tracemalloc.get_traced_memory()[1]
peak = status("VmHWM")
print(json.dumps(dict(cols_bytes=cols_bytes, out_bytes=out.nbytes, rss_base=base, rss_peak=peak,
                      traced_peak=traced_peak)))
"""


@pytest.mark.parametrize("threads,mode", [(1, "zeros"), (2, "zeros"), (2, "reflect"), (2, "3d"), (2, "3d-circular"),
                                          (2, "3d-winograd")])
@pytest.mark.parametrize("op", ["forward", "grad_input", "grad_weight"])
def test_working_memory_is_bounded_on_a_batch_whose_im2col_would_exceed_1_gib(op, threads, mode):
    """Peak memory of one call minus the output: NumPy allocations by tracemalloc, C and every
    other allocation by the peak RSS (VmHWM reset just before the call). Both stay <= 32 MiB
    while a full im2col of this batch would take 1.2 GB. With a padding_mode, no padded copy is
    made either (grad_input's border gradient follows the perimeter: 4 MiB here); a batch of
    volumes ("3d") whose vol2col would take 1.3 GB is bounded alike, and so are the 3-D
    Winograd passes ("3d-winograd", vol2col 3.6 GB) on slices wider than one block."""
    import json

    if not os.path.exists("/proc/self/clear_refs"):
        pytest.skip("needs Linux /proc to measure peak RSS")
    child = subprocess.run([sys.executable, "-c", BOUND_CHILD, op, str(threads), mode], capture_output=True, text=True,
                           timeout=600, cwd=HERE,
                           env=dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])))
    assert child.returncode == 0, child.stderr[-3000:]
    r = json.loads(child.stdout.strip().splitlines()[-1])
    print(op, threads, r)
    assert r["cols_bytes"] > 2**30
    limit = 32 * 2**20
    assert r["traced_peak"] - r["out_bytes"] <= limit, r
    assert r["rss_peak"] - r["rss_base"] - r["out_bytes"] <= limit, r
