"""cconv.dask against the in-memory functions, on arrays chunked every way.

Oracle: ``cconv.conv2d`` / ``cconv.conv2d_backward`` on the whole NumPy arrays
(themselves checked against loop oracles and PyTorch elsewhere), plus the pure
NumPy ``cconv.reference`` for one case. Chunkings cover batch only, spatial
only, both, uneven chunks (channel axis split too) and one-pixel chunks smaller
than the kernel's halo; parameters cover stride 1/2/3, dilation, every padding
form, groups, depthwise, 1x1, padding wider than the image, both layouts, with
and without bias. Computed with the threaded scheduler and with a real
``dask.distributed`` LocalCluster of two worker processes.
"""
from __future__ import annotations

import importlib
import os
import runpy
import subprocess
import sys
import time

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

import cconv  # noqa: E402
import cconv.dask as cdask  # noqa: E402
import cconv.reference as cref  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(REPO, "examples", "dask_large_stack.py")

# x is (N, H, W, C) = (3, 11, 13, 4) in NHWC terms; K is (KH, KW); O output channels.
CONV_CASES = [
    dict(id="s1_pad1_bias", K=(3, 3), O=5, stride=1, padding=1, dilation=1, groups=1, bias=True),
    dict(id="s2_same", K=(3, 3), O=3, stride=2, padding="same", dilation=1, groups=1, bias=False),
    dict(id="s3_valid_bias", K=(3, 2), O=2, stride=3, padding="valid", dilation=1, groups=1, bias=True),
    dict(id="dil2_int_pad", K=(3, 3), O=3, stride=1, padding=2, dilation=2, groups=1, bias=False),
    dict(id="asym_pad_s2_bias", K=(3, 3), O=4, stride=2, padding=((1, 2), (0, 1)), dilation=1, groups=1,
         bias=True),
    dict(id="groups2_pairpad", K=(2, 3), O=6, stride=(2, 1), padding=(1, 0), dilation=1, groups=2, bias=True),
    dict(id="depthwise_same", K=(3, 3), O=4, stride=1, padding="same", dilation=1, groups=4, bias=True),
    dict(id="pointwise_s2", K=(1, 1), O=3, stride=2, padding=0, dilation=1, groups=1, bias=True),
    dict(id="pad_wider_than_image", K=(3, 3), O=2, stride=2, padding=5, dilation=1, groups=1, bias=True),
    dict(id="k5x4_s3x2_dil2x3", K=(5, 4), O=2, stride=(3, 2), padding=(7, 1), dilation=(2, 3), groups=2,
         bias=False),
]

# Chunks in NHWC terms for x of shape (3, 11, 13, 4).
CHUNKINGS = {
    "batch_only": (1, -1, -1, -1),
    "spatial_only": (-1, 4, 5, -1),
    "batch_and_spatial": (2, 3, 4, -1),
    "uneven_and_channels": (2, (3, 4, 4), (5, 1, 7), (1, 3)),
    "smaller_than_halo": (2, 2, 3, -1),
}

SHAPE = (3, 11, 13, 4)
TOL = {np.float64: dict(rtol=1e-12, atol=1e-12), np.float32: dict(rtol=2e-4, atol=2e-4)}

# Largest |dask - in-memory| per chunking, printed at the end of the module (pytest -s).
MAX_DIFF: dict[str, float] = {}


def _nchw_chunks(chunks):
    n, h, w, c = chunks
    return (n, c, h, w)


def _problem(case, layout, dtype, seed=0):
    """Random x, weight, bias (or None) and grad_out in ``layout`` order."""
    rng = np.random.default_rng(seed)
    n, h, w, c = SHAPE
    kh, kw = case["K"]
    cg = c // case["groups"]
    x = rng.standard_normal((n, h, w, c)).astype(dtype)
    weight = rng.standard_normal((kh, kw, cg, case["O"])).astype(dtype)
    if layout == "NCHW":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        weight = np.ascontiguousarray(weight.transpose(3, 2, 0, 1))
    bias = rng.standard_normal(case["O"]).astype(dtype) if case["bias"] else None
    kw_ = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"], groups=case["groups"],
               layout=layout)
    gy = rng.standard_normal(cconv.output_shape(x.shape, weight.shape, **kw_)).astype(dtype)
    return x, weight, bias, gy, kw_


def _chunked(a, chunks_nhwc, layout):
    return da.from_array(a, chunks=chunks_nhwc if layout == "NHWC" else _nchw_chunks(chunks_nhwc))


def _record(label, *diffs):
    MAX_DIFF[label] = max(MAX_DIFF.get(label, 0.0), *[float(d) for d in diffs])


def _scale(a):
    return max(1.0, float(np.max(np.abs(a)))) if a.size else 1.0


@pytest.fixture(scope="module", autouse=True)
def _report_max_diffs():
    yield
    if MAX_DIFF:
        print("\ncconv.dask max |dask - in-memory| per chunking:")
        for label, diff in sorted(MAX_DIFF.items()):
            print(f"  {label:32s} {diff:.3g}")


# ---------------------------------------------------------------------------
# threaded scheduler: every case x chunking x layout, float64
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("conv_case", CONV_CASES, ids=[c["id"] for c in CONV_CASES])
@pytest.mark.parametrize("chunking", list(CHUNKINGS))
@pytest.mark.parametrize("lay", ["NHWC", "NCHW"])
def test_forward_and_backward_match_in_memory_float64(conv_case, chunking, lay):
    x, w, b, gy, kw = _problem(conv_case, lay, np.float64)
    xd = _chunked(x, CHUNKINGS[chunking], lay)

    y = cdask.conv2d(xd, w, b, **kw)
    assert isinstance(y, da.Array)
    assert y.chunks[0] == xd.chunks[0], "batch chunks must be kept"
    y_ref = cconv.conv2d(x, w, b, **kw)
    y_np = y.compute(scheduler="threads")
    assert y_np.shape == y_ref.shape and y_np.dtype == y_ref.dtype
    np.testing.assert_allclose(y_np, y_ref, **TOL[np.float64])

    gyd = da.from_array(gy, chunks=tuple(max(1, s // 2) for s in gy.shape))  # chunked unlike y on purpose
    gx, gw, gb = cdask.conv2d_backward(gyd, xd, w, **kw)
    assert all(isinstance(g, da.Array) for g in (gx, gw, gb))
    assert gx.chunks == xd.chunks, "grad_x must be chunked like x"
    gx_np, gw_np, gb_np = dask.compute(gx, gw, gb, scheduler="threads")
    rx, rw, rb = cconv.conv2d_backward(gy, x, w, **kw)
    for got, ref in ((gx_np, rx), (gw_np, rw), (gb_np, rb)):
        assert got.shape == ref.shape and got.dtype == ref.dtype
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12 * _scale(ref))
    _record(f"f64 {chunking} forward", np.max(np.abs(y_np - y_ref)))
    _record(f"f64 {chunking} backward", *(np.max(np.abs(g - r)) for g, r in ((gx_np, rx), (gw_np, rw), (gb_np, rb))))


@pytest.mark.parametrize("conv_case", CONV_CASES[:6], ids=[c["id"] for c in CONV_CASES[:6]])
@pytest.mark.parametrize("chunking", ["batch_and_spatial", "uneven_and_channels"])
def test_float32_matches_in_memory_loosely(conv_case, chunking):
    x, w, b, gy, kw = _problem(conv_case, "NHWC", np.float32)
    xd = _chunked(x, CHUNKINGS[chunking], "NHWC")
    y = cdask.conv2d(xd, w, b, **kw).compute(scheduler="threads")
    y_ref = cconv.conv2d(x, w, b, **kw)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, y_ref, **TOL[np.float32])
    got = dask.compute(*cdask.conv2d_backward(da.from_array(gy, chunks=(1, 2, 3, -1)), xd, w, **kw),
                       scheduler="threads")
    for g, r in zip(got, cconv.conv2d_backward(gy, x, w, **kw)):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, r, rtol=2e-4, atol=2e-4 * _scale(r))
    _record(f"f32 {chunking}", *(np.max(np.abs(g - r)) for g, r in zip(got, cconv.conv2d_backward(gy, x, w, **kw))))


def test_matches_pure_numpy_reference():
    """An oracle that shares no compiled code: cconv.reference, NCHW, uneven chunks."""
    case = CONV_CASES[4]  # asymmetric padding, stride 2, bias
    x, w, b, gy, kw = _problem(case, "NCHW", np.float64, seed=3)
    xd = _chunked(x, CHUNKINGS["uneven_and_channels"], "NCHW")
    np.testing.assert_allclose(cdask.conv2d(xd, w, b, **kw).compute(), cref.conv2d(x, w, b, **kw),
                               rtol=1e-12, atol=1e-12)
    got = dask.compute(*cdask.conv2d_backward(gy, xd, w, **kw))
    for g, r in zip(got, cref.conv2d_backward(gy, x, w, **kw)):
        np.testing.assert_allclose(g, r, rtol=1e-11, atol=1e-11)


def test_output_chunks_follow_input_chunks_through_the_stride():
    # H chunks (4, 4, 3) with stride 2 and padding 1: the output rows whose
    # windows start in each input chunk are [0, 3), [3, 5), [5, 6).
    x = da.zeros((1, 11, 13, 2), chunks=(1, 4, -1, -1))
    y = cdask.conv2d(x, np.ones((3, 3, 2, 1)), stride=2, padding=1)
    assert y.shape == (1, 6, 7, 1)
    assert y.chunks[1] == (3, 2, 1)
    assert y.chunks[2] == (7,)


def test_channel_chunks_are_merged_and_grad_x_keeps_the_input_chunks():
    x, w, b, gy, kw = _problem(CONV_CASES[0], "NCHW", np.float64)
    xd = da.from_array(x, chunks=(2, 1, 6, 7))  # C split in four
    y = cdask.conv2d(xd, w, b, **kw)
    assert len(y.chunks[1]) == 1  # O is one chunk
    gx, _, _ = cdask.conv2d_backward(gy, xd, w, **kw)
    assert gx.chunks == xd.chunks


def test_dtypes_follow_the_in_memory_rules():
    rng = np.random.default_rng(1)
    x = rng.integers(-3, 4, size=(2, 6, 7, 2)).astype(np.int32)
    w = rng.standard_normal((3, 3, 2, 2)).astype(np.float16)
    xd = da.from_array(x, chunks=(1, 3, 4, -1))
    y = cdask.conv2d(xd, w, padding=1)
    ref = cconv.conv2d(x, w, padding=1)
    assert y.dtype == ref.dtype
    np.testing.assert_allclose(y.compute(), ref, rtol=1e-12, atol=1e-12)
    xh = x.astype(np.float16)
    gy = rng.standard_normal(ref.shape).astype(np.float16)
    got = dask.compute(*cdask.conv2d_backward(gy, da.from_array(xh, chunks=(1, 3, 4, -1)), w, padding=1))
    for g, r in zip(got, cconv.conv2d_backward(gy, xh, w, padding=1)):
        assert g.dtype == r.dtype == np.float16
        np.testing.assert_allclose(g.astype(np.float64), r.astype(np.float64), rtol=2e-3, atol=2e-2)


def test_empty_batch_and_dask_weight_and_numpy_input():
    w = np.ones((3, 3, 2, 3))
    y = cdask.conv2d(da.zeros((0, 5, 5, 2), chunks=(1, 2, 2, 2)), w, padding=1)
    assert y.shape == (0, 5, 5, 3) and y.compute().shape == (0, 5, 5, 3)
    x = np.arange(2 * 5 * 6 * 2, dtype=np.float64).reshape(2, 5, 6, 2)
    y2 = cdask.conv2d(x, da.from_array(w, chunks=1), da.arange(3.0), padding="same")
    np.testing.assert_allclose(y2.compute(), cconv.conv2d(x, w, np.arange(3.0), padding="same"), rtol=1e-13)


def test_graph_is_lazy_and_inputs_untouched():
    x, w, b, gy, kw = _problem(CONV_CASES[1], "NHWC", np.float64)
    x0, w0 = x.copy(), w.copy()
    calls = []

    def spy(block):
        calls.append(block.shape)
        return block

    xd = da.from_array(x, chunks=(1, 4, 5, -1)).map_blocks(spy, meta=np.empty((0,) * 4, dtype=x.dtype))
    y = cdask.conv2d(xd, w, b, **kw)
    gx, gw, gb = cdask.conv2d_backward(gy, xd, w, **kw)
    assert calls == [], "building the graphs must not compute any chunk"
    dask.compute(y, gx, gw, gb, scheduler="threads")
    assert calls
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)


def test_grad_weight_is_a_tree_reduction_of_per_tile_partials():
    from dask.core import get_dependencies

    x, w, b, gy, kw = _problem(CONV_CASES[0], "NHWC", np.float64)
    xd = da.from_array(x, chunks=(1, 2, 2, -1))
    _, gw, _ = cdask.conv2d_backward(gy, xd, w, **kw)
    graph = dict(gw.__dask_graph__())

    def layer(key):
        return (key[0] if isinstance(key, tuple) else key).rsplit("-", 1)[0]

    # Padding 1, stride 1: input boundaries 2, 4, .., 10 map to output rows 3, 5, .., 11 = Ho, so the
    # output tiles are 5 (rows) x 6 (columns) per image, 90 in all.
    partial_tiles = [k for k in graph if layer(k) == "cconv-grad-weight-partial"]
    assert len(partial_tiles) == 3 * 5 * 6
    combine_tasks = [k for k in graph if layer(k) in ("sum-partial", "sum-aggregate")]
    # 90 partials -> 12 -> 2 -> 1 with fan-in 8: no task adds more than 8 inputs.
    assert len(combine_tasks) == 12 + 2 + 1
    assert max(len(get_dependencies(graph, k)) for k in combine_tasks) <= 8


@pytest.mark.parametrize("conv_case", [CONV_CASES[4], CONV_CASES[9]], ids=[CONV_CASES[4]["id"], CONV_CASES[9]["id"]])
def test_one_pixel_chunks(conv_case):
    """Every chunk 1 x 1 pixel: each tile stitches its window from many chunks."""
    x, w, b, gy, kw = _problem(conv_case, "NHWC", np.float64, seed=5)
    x, gy = x[:1], gy[:1]
    xd = da.from_array(x, chunks=(1, 1, 1, -1))
    got = dask.compute(cdask.conv2d(xd, w, b, **kw), *cdask.conv2d_backward(gy, xd, w, **kw), scheduler="threads")
    refs = (cconv.conv2d(x, w, b, **kw), *cconv.conv2d_backward(gy, x, w, **kw))
    for g, r in zip(got, refs):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12 * _scale(r))
    _record("f64 one_pixel", *(np.max(np.abs(g - r)) for g, r in zip(got, refs)))


def test_weight_is_stored_once_in_the_graph():
    """Tiles reference the weight by key: a big weight is not copied into every task."""
    import pickle

    x = da.zeros((4, 32, 32, 16), chunks=(1, 8, 8, -1))  # 64 tiles
    w = np.random.default_rng(0).standard_normal((3, 3, 16, 64))  # 72 KiB
    y = cdask.conv2d(x, w, np.zeros(64), padding=1)
    graph = dict(y.__dask_graph__())
    assert sum(1 for v in graph.values() if isinstance(v, np.ndarray) and v.shape == w.shape) == 1
    assert len(pickle.dumps(graph)) < 4 * w.nbytes


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------
def test_bad_inputs_raise_naming_the_argument():
    x = da.zeros((2, 5, 5, 2), chunks=2)
    w = np.ones((3, 3, 2, 3))
    with pytest.raises(TypeError, match="x must have a real numeric dtype"):
        cdask.conv2d(da.zeros((2, 5, 5, 2), dtype=complex), w)
    with pytest.raises(ValueError, match=r"x must have 3 \(unbatched\) or 4 \(batched\) dimensions for layout "
                                         r"'NHWC'; got 2"):
        cdask.conv2d(da.zeros((5, 2)), w)
    with pytest.raises(ValueError, match="channel mismatch"):
        cdask.conv2d(x, np.ones((3, 3, 3, 3)))
    with pytest.raises(ValueError, match=r"bias must have shape \(O,\) = \(3,\); got \(4,\)"):
        cdask.conv2d(x, w, np.ones(4))
    with pytest.raises(ValueError, match="layout must be one of"):
        cdask.conv2d(x, w, layout="NWHC")
    with pytest.raises(ValueError, match="num_threads must be None.*got 0"):
        cdask.conv2d(x, w, num_threads=0)
    with pytest.raises(TypeError, match="padding must be"):
        cdask.conv2d(x, w, padding=1.5)
    with pytest.raises(ValueError, match="kernel .* is larger than the padded input"):
        cdask.conv2d(x, np.ones((7, 7, 2, 1)))
    with pytest.raises(TypeError, match="weight must have a real numeric dtype"):
        cdask.conv2d(x, np.ones((3, 3, 2, 3), dtype=complex))
    unknown = x[x[:, 0, 0, 0] > 0]  # boolean indexing: NaN chunk sizes
    with pytest.raises(ValueError, match="x must have known chunk sizes"):
        cdask.conv2d(unknown, w)
    with pytest.raises(ValueError, match=r"grad_out must have the forward output's shape \(2, 3, 3, 3\)"):
        cdask.conv2d_backward(da.zeros((2, 4, 4, 3)), x, w)
    with pytest.raises(ValueError, match=r"grad_out is unbatched \(3 dimensions, shape \(3, 3, 3\)\) but x is "
                                         r"batched \(4 dimensions"):
        cdask.conv2d_backward(da.zeros((3, 3, 3)), x, w)
    with pytest.raises(ValueError, match=r"grad_out must have 4 dimensions for layout 'NHWC', batched as x"):
        cdask.conv2d_backward(da.zeros((3, 3)), x, w)


def test_import_error_names_the_extra():
    code = (
        "import sys\n"
        "sys.modules['dask'] = None\n"
        "sys.modules['dask.array'] = None\n"
        "try:\n"
        "    import cconv.dask\n"
        "except ImportError as e:\n"
        "    print('IMPORT-ERROR:', e)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([REPO, os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO,
                         timeout=120)
    assert 'IMPORT-ERROR: cconv.dask needs Dask\'s array module; install it with: pip install "cconv[dask]"' \
        in out.stdout, out.stdout + out.stderr


# ---------------------------------------------------------------------------
# dask.distributed: two worker processes on loopback
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster_client():
    distributed = pytest.importorskip("distributed")
    t0 = time.perf_counter()
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        client.run(importlib.import_module, "cconv.dask")  # workers import the kernels once, up front
        print(f"\nLocalCluster start (2 workers importing cconv.dask): {time.perf_counter() - t0:.2f} s")
        yield client
    print(f"LocalCluster fixture total (start, tests, close): {time.perf_counter() - t0:.2f} s")


@pytest.mark.parametrize("conv_case, lay", [(CONV_CASES[4], "NHWC"), (CONV_CASES[5], "NCHW"), (CONV_CASES[9], "NHWC")],
                         ids=[CONV_CASES[4]["id"] + "-NHWC", CONV_CASES[5]["id"] + "-NCHW",
                              CONV_CASES[9]["id"] + "-NHWC"])
def test_local_cluster_matches_in_memory(cluster_client, conv_case, lay):
    x, w, b, gy, kw = _problem(conv_case, lay, np.float64, seed=7)
    xd = _chunked(x, (2, (5, 6), (7, 6), (1, 3)), lay)  # uneven, 8 spatial/batch chunks, C split
    y = cdask.conv2d(xd, w, b, num_threads=1, **kw)
    grads = cdask.conv2d_backward(gy, xd, w, num_threads=1, **kw)
    futures = cluster_client.compute([y, *grads])
    got = cluster_client.gather(futures)
    assert len(cluster_client.scheduler_info()["workers"]) == 2
    refs = (cconv.conv2d(x, w, b, **kw), *cconv.conv2d_backward(gy, x, w, **kw))
    for g, r in zip(got, refs):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12 * _scale(r))
    _record("f64 LocalCluster uneven", *(np.max(np.abs(g - r)) for g, r in zip(got, refs)))


def test_local_cluster_ran_on_both_workers(cluster_client):
    from distributed import get_task_stream

    x = da.random.default_rng(0).random((8, 32, 32, 1), chunks=(1, 16, 16, 1))
    w = np.ones((3, 3, 1, 1))
    with get_task_stream(cluster_client) as stream:
        total = cluster_client.compute(cdask.conv2d(x, w, padding="same", num_threads=1).sum()).result()
    assert float(total) == pytest.approx(float(cconv.conv2d(x.compute(), w, padding="same").sum()), rel=1e-12)
    # (Dask fuses each tile's task with the first step of the sum: "cconv-sum-...".)
    conv_workers = {t["worker"] for t in stream.data if "cconv" in str(t["key"])}
    assert len(conv_workers) == 2, conv_workers


# ---------------------------------------------------------------------------
# the example
# ---------------------------------------------------------------------------
def test_large_stack_example_runs_small(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", [EXAMPLE, "--small"])
    runpy.run_path(EXAMPLE, run_name="__main__")
    out = capsys.readouterr().out
    assert "logical size" in out
    line = next(ln for ln in out.splitlines() if ln.startswith("check: max |dask - in-memory|"))
    assert float(line.split("=")[1].split()[0]) < 1e-5, line
    assert "mean edge magnitude" in out
