"""Thread control: agreement across thread counts, determinism, get/set, OMP_NUM_THREADS,
threadpoolctl, and BLAS thread settings left alone."""
import os
import subprocess
import sys

import numpy as np
import pytest

import cconv
from _oracle import assert_close

threadpoolctl = pytest.importorskip("threadpoolctl")

# big enough that 2-3 threads really split the work
MEDIUM = [
    dict(id="resnetish", N=4, H=12, W=12, C=8, O=8, K=(3, 3), stride=1, padding=1, dilation=1, groups=1),
    dict(id="strided_grouped", N=3, H=13, W=11, C=6, O=9, K=(3, 2), stride=(2, 1), padding="same",
         dilation=(1, 2), groups=3),
    dict(id="many_tiles", N=8, H=16, W=16, C=16, O=16, K=(3, 3), stride=1, padding=1, dilation=1, groups=1),
]


@pytest.fixture(params=MEDIUM, ids=[c["id"] for c in MEDIUM])
def medium(request, layout, dtype, make_problem):
    return make_problem(request.param, layout, dtype, seed=11)


def _all_outputs(p, num_threads):
    kw = dict(p.kw, num_threads=num_threads)
    geo = dict(stride=p.case["stride"], padding=p.case["padding"], dilation=p.case["dilation"], layout=p.layout,
               num_threads=num_threads)
    cols = cconv.im2col(p.x, p.kernel_size, **geo)
    return {
        "y": cconv.conv2d(p.x, p.w, p.b, **kw),
        **dict(zip(("grad_x", "grad_weight", "grad_bias"), cconv.conv2d_backward(p.gy, p.x, p.w, **kw))),
        "grad_input": cconv.conv2d_grad_input(p.gy, p.w, p.x.shape, **kw),
        "grad_weight_only": cconv.conv2d_grad_weight(p.gy, p.x, p.w.shape, **kw),
        "cols": cols,
        "col2im": cconv.col2im(cols, p.x.shape, p.kernel_size, **geo),
    }


def test_thread_counts_agree(medium):
    base = _all_outputs(medium, 1)
    # different partitions may sum in a different order: tolerance, not equality
    rtol = {np.float32: 1e-5, np.float64: 1e-12}[medium.dtype]
    for n in (2, 3):
        other = _all_outputs(medium, n)
        for k, v in base.items():
            assert other[k].dtype == v.dtype
            assert_close(other[k], v.astype(np.float64), rtol=rtol, what=f"{k} threads=1 vs {n}")
    np.testing.assert_array_equal(_all_outputs(medium, 3)["cols"], base["cols"])


@pytest.mark.parametrize("num_threads", [None, 1, 2, 3])
def test_repeated_calls_are_bit_identical(medium, num_threads):
    first = _all_outputs(medium, num_threads)
    for _ in range(2):
        again = _all_outputs(medium, num_threads)
        for k, v in first.items():
            assert np.array_equal(again[k], v), k


def test_get_and_set_num_threads(restore_threads):
    n = cconv.get_num_threads()
    assert isinstance(n, int) and n >= 1
    for k in (1, 2, 3):
        cconv.set_num_threads(k)
        assert cconv.get_num_threads() == k
    cconv.set_num_threads(restore_threads)
    assert cconv.get_num_threads() == restore_threads


@pytest.mark.parametrize("bad", [0, -1])
def test_set_num_threads_rejects_non_positive(bad, restore_threads):
    with pytest.raises(ValueError):
        cconv.set_num_threads(bad)
    assert cconv.get_num_threads() == restore_threads


def test_per_call_num_threads_does_not_change_global(restore_threads):
    x = np.ones((2, 6, 6, 3))
    w = np.ones((3, 3, 3, 2))
    cconv.conv2d(x, w, num_threads=1)
    cconv.conv2d_backward(np.ones((2, 4, 4, 2)), x, w, num_threads=3)
    assert cconv.get_num_threads() == restore_threads


def test_openmp_enabled_is_bool():
    assert isinstance(cconv.openmp_enabled(), bool)


def _child_num_threads(env_overrides):
    env = dict(os.environ)
    env.pop("OMP_NUM_THREADS", None)
    env.update(env_overrides)
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(cconv.__file__)))
    out = subprocess.run([sys.executable, "-c", "import cconv; print(cconv.get_num_threads())"],
                         cwd=pkg_parent, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return int(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not cconv.openmp_enabled(), reason="serial build")
def test_default_threads_respect_omp_num_threads():
    assert _child_num_threads({"OMP_NUM_THREADS": "1"}) == 1
    assert _child_num_threads({"OMP_NUM_THREADS": "3"}) == 3


@pytest.mark.skipif(not cconv.openmp_enabled(), reason="serial build")
@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no sched_getaffinity")
def test_default_threads_are_the_available_cores():
    assert _child_num_threads({}) == len(os.sched_getaffinity(0))


_LIMITS_CHILD = """
import numpy as np, threadpoolctl, cconv
{setup}
x = np.random.default_rng(0).standard_normal((2, 8, 8, 4))
w = np.random.default_rng(1).standard_normal((3, 3, 4, 4))
y_ref = cconv.conv2d(x, w, num_threads=1)
before = cconv.get_num_threads()
with threadpoolctl.threadpool_limits(limits=1):
    inside = cconv.get_num_threads()
    y = cconv.conv2d(x, w)
with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
    inside_openmp = cconv.get_num_threads()
after = cconv.get_num_threads()
err = float(np.max(np.abs(y - y_ref)) / np.max(np.abs(y_ref)))
print(before, inside, inside_openmp, after, err)
"""


def _run_limits_child(setup):
    env = dict(os.environ)
    env.pop("OMP_NUM_THREADS", None)
    env["OMP_NUM_THREADS"] = "2"
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(cconv.__file__)))
    out = subprocess.run([sys.executable, "-c", _LIMITS_CHILD.format(setup=setup)], cwd=pkg_parent, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    before, inside, inside_openmp, after, err = out.stdout.split()
    return int(before), int(inside), int(inside_openmp), int(after), float(err)


@pytest.mark.skipif(not cconv.openmp_enabled(), reason="serial build")
def test_threadpool_limits_limits_cconv_default():
    """Fresh process (no explicit setting): threadpool_limits(1) brings cconv to 1 thread, then back."""
    before, inside, inside_openmp, after, err = _run_limits_child("")
    assert before == 2
    assert inside == 1 and inside_openmp == 1
    assert after == 2
    assert err <= 1e-12


@pytest.mark.skipif(not cconv.openmp_enabled(), reason="serial build")
def test_threadpool_limits_overrides_set_num_threads():
    """After an explicit set_num_threads(3), threadpool_limits(1) still limits cconv, and restores 3."""
    before, inside, inside_openmp, after, err = _run_limits_child("cconv.set_num_threads(3)")
    assert before == 3
    assert inside == 1 and inside_openmp == 1
    assert after == 3
    assert err <= 1e-12


def _blas_threads():
    return {d["filepath"]: d["num_threads"] for d in threadpoolctl.threadpool_info() if d["user_api"] == "blas"}


def _numpy_blas(state):
    paths = [p for p in state if "numpy" in p]
    if not paths:
        pytest.skip("numpy's BLAS is not visible to threadpoolctl")
    return paths


def _exercise_cconv():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 16, 16, 8)).astype(np.float32)
    w = rng.standard_normal((3, 3, 8, 16)).astype(np.float32)
    y = cconv.conv2d(x, w, padding=1)
    cconv.conv2d_backward(y, x, w, padding=1)
    cconv.conv2d(x.astype(np.float64), w.astype(np.float64), padding=1, num_threads=2)
    cconv.col2im(cconv.im2col(x, 3, padding=1), x.shape, 3, padding=1)
    layer = cconv.Conv2D(8, 16, 3, padding=1)
    layer.backward(layer(x))


def test_numpy_blas_threads_unchanged_after_cconv_calls():
    _exercise_cconv()                       # load everything cconv loads lazily
    before = _blas_threads()
    paths = _numpy_blas(before)
    _exercise_cconv()
    after = _blas_threads()
    for p in paths:
        assert after[p] == before[p], p
    # and with a user's explicit BLAS setting in force
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        inside = _blas_threads()
        _exercise_cconv()
        assert {p: _blas_threads()[p] for p in paths} == {p: inside[p] for p in paths}
    assert {p: _blas_threads()[p] for p in paths} == {p: before[p] for p in paths}


def test_all_blas_libraries_restored_after_cconv_calls():
    """BLAS is held to one thread only *while* cconv runs; every BLAS library is restored afterwards."""
    _exercise_cconv()
    before = _blas_threads()
    _exercise_cconv()
    after = _blas_threads()
    assert {p: after[p] for p in before} == before


def test_small_calls_use_fewer_threads(monkeypatch):
    """Below MIN_FLOPS_PER_THREAD of work per thread a call goes less parallel
    (waking a thread costs more than such a call); large calls keep them all."""
    import cconv._conv as cc
    from cconv._params import conv_geometry

    monkeypatch.setattr(cc, "MIN_FLOPS_PER_THREAD", 5_000_000)
    tiny = conv_geometry((32, 4, 4, 16), (3, 3), out_channels=32, weight_cin=16, padding=1)   # 4.7 MFLOP
    big = conv_geometry((8, 56, 56, 64), (3, 3), out_channels=64, weight_cin=64, padding=1)   # 3.7 GFLOP
    assert cc._threads_for(tiny, 2) == 1
    assert cc._threads_for(big, 2) == 2
    assert cc._threads_for(big, 64) == 64
    assert cc._threads_for(tiny, 1) == 1
