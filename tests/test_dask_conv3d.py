"""cconv.dask.conv3d / conv3d_backward against the in-memory cconv.conv3d, on volumes chunked
along D, H and W (uneven, chunks thinner than the kernel's halo, channels split), both layouts,
strides, per-side and "same" padding, dilation, groups and depthwise (the direct kernels), on the
threaded scheduler and on a two-process dask.distributed LocalCluster.
"""
from __future__ import annotations

import importlib

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

import cconv  # noqa: E402
import cconv.dask as cdask  # noqa: E402

# x is (N, D, H, W, C) = (3, 9, 8, 7, 4) in NDHWC terms; (kernel, O, kwargs)
CASES = [
    ("strided_per_side", 3, 6, dict(stride=2, padding=((1, 0), (2, 1), (0, 2)))),
    ("same_dilated", (3, 2, 3), 5, dict(padding="same", dilation=(2, 1, 1))),
    ("groups", 3, 6, dict(padding=1, groups=2)),
    ("depthwise", 3, 4, dict(padding=1, groups=4)),
    ("pointwise", 1, 3, dict()),
]
# chunks in NDHWC terms
CHUNKINGS = {"d_only": (-1, 3, -1, -1, -1), "uneven_all": (2, (2, 3, 4), (5, 3), (1, 6), (1, 3)),
             "thinner_than_halo": (3, 1, 2, 2, -1)}


def _problem(case, layout, seed=0):
    _, k, O, kw = case
    kernel = (k,) * 3 if isinstance(k, int) else k
    rng = np.random.default_rng(seed)
    groups = kw.get("groups", 1)
    x = rng.standard_normal((3, 9, 8, 7, 4))
    w = rng.standard_normal((*kernel, 4 // groups, O))
    b = rng.standard_normal(O)
    if layout == "NCDHW":
        x, w = np.ascontiguousarray(x.transpose(0, 4, 1, 2, 3)), np.ascontiguousarray(w.transpose(4, 3, 0, 1, 2))
    y = cconv.conv3d(x, w, b, layout=layout, **kw)
    gy = rng.standard_normal(y.shape)
    return x, w, b, gy, dict(kw, layout=layout)


def _chunked(x, chunks, layout):
    if layout == "NCDHW":
        chunks = (chunks[0], chunks[4], *chunks[1:4])
    return da.from_array(x, chunks=chunks)


def _close(got, expected):
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-10, atol=1e-10 * max(1.0, np.abs(expected).max()))


@pytest.mark.parametrize("chunking", list(CHUNKINGS))
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("layout", ["NDHWC", "NCDHW"])
def test_matches_in_memory(case, chunking, layout):
    x, w, b, gy, kw = _problem(case, layout)
    xd = _chunked(x, CHUNKINGS[chunking], layout)
    y = cdask.conv3d(xd, w, b, **kw)
    _close(y.compute(), cconv.conv3d(x, w, b, **kw))
    gx, gw, gb = cdask.conv3d_backward(da.from_array(gy, chunks=2), xd, w, **kw)
    assert gx.chunks == xd.chunks
    for got, expected in zip((gx, gw, gb), cconv.conv3d_backward(gy, x, w, **kw)):
        _close(got.compute(), expected)


def test_unbatched_and_errors():
    x, w, b, gy, kw = _problem(CASES[0], "NDHWC")
    xd = da.from_array(x[0], chunks=(3, 4, 4, 4))
    _close(cdask.conv3d(xd, w, b, **kw).compute(), cconv.conv3d(x[0], w, b, **kw))
    with pytest.raises(ValueError, match="weight must have 5 dimensions"):
        cdask.conv3d(xd, w[0], **kw)
    with pytest.raises(ValueError, match="padding_mode='circular' needs each pad no larger than the axis"):
        cdask.conv3d(xd, w, padding=8, padding_mode="circular")


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "symmetric"])
def test_padding_modes_at_the_outer_border(mode):
    x, w, b, gy, kw = _problem(CASES[0], "NCDHW", seed=5)
    kw = dict(kw, padding_mode=mode)
    y = cconv.conv3d(x, w, b, **kw)
    gy = np.random.default_rng(2).standard_normal(y.shape)
    xd = _chunked(x, CHUNKINGS["uneven_all"], "NCDHW")
    _close(cdask.conv3d(xd, w, b, **kw).compute(), y)
    gx, gw, gb = cdask.conv3d_backward(gy, xd, w, **kw)
    assert gx.chunks == xd.chunks
    for got, expected in zip((gx, gw, gb), cconv.conv3d_backward(gy, x, w, **kw)):
        _close(got.compute(), expected)


def test_local_cluster_matches_in_memory():
    distributed = pytest.importorskip("distributed")
    x, w, b, gy, kw = _problem(CASES[2], "NDHWC", seed=3)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        client.run(importlib.import_module, "cconv.dask")
        xd = _chunked(x, (2, (4, 5), (3, 5), -1, -1), "NDHWC")
        got = client.gather(client.compute([cdask.conv3d(xd, w, b, num_threads=1, **kw),
                                            *cdask.conv3d_backward(gy, xd, w, num_threads=1, **kw)]))
    for g, r in zip(got, (cconv.conv3d(x, w, b, **kw), *cconv.conv3d_backward(gy, x, w, **kw))):
        _close(g, r)
