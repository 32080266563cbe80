"""conv_call_geometry remembers the geometries of plain calls.

Validating a call's arguments is about 20 us of Python, more than half of a
small layer's call, so ``cconv._params.conv_call_geometry`` reuses the geometry
of an earlier call with equal plain arguments (exact ints, strings and tuples of
them). What must not change: an argument that validation rejects is rejected
however often an equal-comparing accepted one was seen (``1.0 == 1``,
``True == 1``), a bad call raises every time, and every spelling of an argument
gives the same geometry and the same result.
"""
import numpy as np
import pytest

import cconv
from cconv import _params
from _oracle import assert_close, conv2d_loop


def _xw(rng):
    return rng.standard_normal((2, 7, 8, 3)), rng.standard_normal((3, 3, 3, 4))


@pytest.mark.parametrize("arg, bad", [
    ("stride", 1.0), ("stride", True), ("stride", np.float64(1.0)), ("dilation", 1.0), ("dilation", True),
    ("groups", True), ("groups", 1.0), ("padding", 1.0), ("padding", True), ("padding", (1.0, 1)),
])
def test_a_rejected_argument_stays_rejected_after_an_equal_accepted_one(arg, bad):
    x, w = _xw(np.random.default_rng(0))
    good = {"stride": 1, "dilation": 1, "groups": 1, "padding": 1}[arg]
    for _ in range(3):
        cconv.conv2d(x, w, **{arg: good})
        with pytest.raises((TypeError, ValueError), match=arg):
            cconv.conv2d(x, w, **{arg: bad})


def test_a_bad_call_raises_every_time():
    x, w = _xw(np.random.default_rng(1))
    for _ in range(3):
        with pytest.raises(ValueError, match="channel mismatch"):
            cconv.conv2d(x[..., :2], w)
        with pytest.raises(ValueError, match="larger than the padded input"):
            cconv.conv2d(x[:, :2], w)


def test_plain_calls_share_one_geometry_and_other_spellings_agree():
    x, w = _xw(np.random.default_rng(2))
    batch = _params.batch_iv(x.shape, "x", "NHWC")
    plain = dict(stride=(2, 1), padding=((1, 0), (2, 1)), dilation=1, groups=1)
    first = _params.conv_call_geometry(batch, w.shape, **plain)
    assert _params.conv_call_geometry(batch, w.shape, **plain) is first
    spelled = dict(stride=[np.int64(2), 1], padding=[[1, 0], [2, 1]], dilation=np.int32(1), groups=np.int8(1))
    assert not _params._plain(tuple(spelled.values()))
    other = _params.conv_call_geometry(batch, w.shape, **spelled)
    assert other == first and other is not first
    y_ref = conv2d_loop(x, w, stride=(2, 1), pads=((1, 0), (2, 1)))
    assert_close(cconv.conv2d(x, w, **plain), y_ref, np.float64, what="plain arguments")
    assert_close(cconv.conv2d(x, w, **spelled), y_ref, np.float64, what="the same, spelled otherwise")


def test_the_memory_is_bounded():
    assert _params._call_geometry.cache_info().maxsize == _params.GEOMETRY_CACHE_SIZE
    x = np.ones((1, 5, 5, 1))
    for k in range(1, 4):
        for s in range(1, 120):
            cconv.conv2d(x, np.ones((k, k, 1, 1)), stride=s)
    assert _params._call_geometry.cache_info().currsize == _params.GEOMETRY_CACHE_SIZE


def test_transposed_calls_are_remembered_and_checked_alike():
    """cconv.conv_transpose2d builds its geometry through the same remembering."""
    from cconv import _transpose
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((1, 4, 5, 3)), rng.standard_normal((3, 3, 2, 3))
    y = cconv.conv_transpose2d(x, w, stride=2)
    hits = _transpose._remembered_geometry.cache_info().hits
    np.testing.assert_array_equal(cconv.conv_transpose2d(x, w, stride=2), y)
    assert _transpose._remembered_geometry.cache_info().hits == hits + 1
    for bad in (2.0, True):
        with pytest.raises(TypeError, match="stride"):
            cconv.conv_transpose2d(x, w, stride=bad)
    np.testing.assert_array_equal(cconv.conv_transpose2d(x, w, stride=[2, np.int64(2)]), y)
