"""cconv.dask.conv1d / conv1d_backward against the in-memory cconv.conv1d, on
sequences chunked every way (batch, W, uneven, channels split, chunks shorter
than the kernel's halo), both layouts, every padding form including "causal",
on the threaded scheduler and on a two-process dask.distributed LocalCluster.
"""
from __future__ import annotations

import importlib

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

import cconv  # noqa: E402
import cconv.dask as cdask  # noqa: E402

# x is (N, W, C) = (3, 23, 4) in NWC terms; (KW, O, kwargs)
CASES = [
    ("causal_dilated", 3, 5, dict(padding="causal", dilation=2)),
    ("causal_strided", 4, 3, dict(padding="causal", stride=3)),
    ("per_side_groups", 3, 6, dict(padding=(3, 1), stride=2, groups=2)),
    ("same_s3", 4, 2, dict(padding="same", stride=3)),
    ("valid_pointwise", 1, 3, dict(padding="valid")),
    ("depthwise", 5, 4, dict(padding=((2, 2),), groups=4)),
]
# chunks in NWC terms
CHUNKINGS = {"batch_only": (1, -1, -1), "w_only": (-1, 6, -1), "uneven_channels_split": (2, (3, 9, 11), (1, 3)),
             "shorter_than_halo": (2, 2, -1)}


def _problem(case, layout, seed=0):
    _, KW, O, kw = case
    rng = np.random.default_rng(seed)
    groups = kw.get("groups", 1)
    x = rng.standard_normal((3, 23, 4))
    w = rng.standard_normal((KW, 4 // groups, O))
    b = rng.standard_normal(O)
    if layout == "NCW":
        x, w = x.transpose(0, 2, 1).copy(), w.transpose(2, 1, 0).copy()
    kw = dict(kw, layout=layout)
    gy = rng.standard_normal(cconv.conv1d_output_shape(x.shape, w.shape, **kw))
    return x, w, b, gy, kw


def _chunked(a, nwc_chunks, layout):
    return da.from_array(a, chunks=nwc_chunks if layout == "NWC" else (nwc_chunks[0], nwc_chunks[2], nwc_chunks[1]))


def _close(got, want):
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * max(1.0, float(np.abs(want).max())))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("chunking", list(CHUNKINGS))
@pytest.mark.parametrize("layout", ["NWC", "NCW"])
def test_conv1d_matches_in_memory(case, chunking, layout):
    x, w, b, gy, kw = _problem(case, layout)
    xd, gyd = _chunked(x, CHUNKINGS[chunking], layout), _chunked(gy, (CHUNKINGS[chunking][0], -1, -1), layout)
    y = cdask.conv1d(xd, w, b, **kw)
    assert isinstance(y, da.Array)
    _close(y.compute(scheduler="threads"), cconv.conv1d(x, w, b, **kw))
    gx, gw, gb = cdask.conv1d_backward(gyd, xd, w, **kw)
    assert gx.chunks == xd.chunks                     # grad_x keeps x's chunks, as in 2-D
    for got, want in zip((gx, gw, gb), cconv.conv1d_backward(gy, x, w, **kw)):
        _close(got.compute(scheduler="threads"), want)


def test_unbatched_and_numpy_input():
    x, w, b, gy, kw = _problem(CASES[0], "NCW")
    y = cdask.conv1d(x[0], w, b, **kw)
    assert y.shape == gy.shape[1:]
    _close(y.compute(), cconv.conv1d(x[0], w, b, **kw))
    gx, gw, gb = cdask.conv1d_backward(da.from_array(gy[0], chunks=(-1, 7)), da.from_array(x[0], chunks=(-1, 5)),
                                       w, **kw)
    for got, want in zip((gx, gw, gb), cconv.conv1d_backward(gy[0], x[0], w, **kw)):
        _close(got.compute(), want)


def test_bad_input_is_named_in_1d_terms_before_computing():
    x = da.ones((2, 10, 4), chunks=(1, 5, 4))
    with pytest.raises(ValueError, match=r"layout must be one of \('NWC', 'NCW'\)"):
        cdask.conv1d(x, np.ones((3, 4, 2)), layout="NHWC")
    with pytest.raises(ValueError, match=r"kernel \(dilated extent 21\) is larger than the padded input \(10\)"):
        cdask.conv1d(x, np.ones((3, 4, 2)), dilation=10)
    with pytest.raises(ValueError, match=r"weight must have 3 dimensions"):
        cdask.conv1d(x, np.ones((1, 3, 4, 2)))
    with pytest.raises(ValueError, match=r"grad_out must have the forward output's shape \(2, 8, 2\) \(NWC\)"):
        cdask.conv1d_backward(da.ones((2, 9, 2)), x, np.ones((3, 4, 2)))
    with pytest.raises(ValueError, match=r"pass layout=\"NCW\""):
        cdask.conv1d(da.ones((2, 3, 8)), np.ones((16, 3, 3)))


def test_docstrings_speak_1d():
    for func in (cdask.conv1d, cdask.conv1d_backward):
        assert "unbatched" in func.__doc__ and "NWC" in func.__doc__ and "causal" in func.__doc__


def test_local_cluster_matches_in_memory():
    distributed = pytest.importorskip("distributed")
    x, w, b, gy, kw = _problem(CASES[2], "NWC", seed=3)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        client.run(importlib.import_module, "cconv.dask")
        xd = _chunked(x, (2, (7, 8, 8), -1), "NWC")
        got = client.gather(client.compute([cdask.conv1d(xd, w, b, num_threads=1, **kw),
                                            *cdask.conv1d_backward(gy, xd, w, num_threads=1, **kw)]))
    for g, r in zip(got, (cconv.conv1d(x, w, b, **kw), *cconv.conv1d_backward(gy, x, w, **kw))):
        _close(g, r)
