"""output_shape agrees with the spec's formula and with the arrays the functions return."""
import numpy as np
import pytest

import cconv


def test_output_shape_matches_formula_and_outputs(problem):
    kw = {k: v for k, v in problem.kw.items()}
    s = cconv.output_shape(problem.x.shape, problem.w.shape, **kw)
    assert isinstance(s, tuple) and len(s) == 4
    assert all(isinstance(v, (int, np.integer)) for v in s)
    assert s == problem.output_shape                      # oracle's own formula
    assert cconv.conv2d(problem.x, problem.w, **problem.kw).shape == s


@pytest.mark.parametrize("H,K,s,d,expected_pads", [
    (3, 2, 1, 1, (0, 1)),      # seed 004: 2x2 pads only bottom/right
    (7, 3, 2, 1, (1, 1)),
    (8, 3, 2, 1, (0, 1)),
    (6, 3, 1, 2, (2, 2)),
    (5, 4, 1, 1, (1, 2)),
    (7, 1, 3, 1, (0, 0)),
    (4, 2, 3, 1, (0, 1)),
    (1, 5, 1, 1, (2, 2)),
])
def test_same_padding_follows_tensorflow(H, K, s, d, expected_pads):
    """Ho = ceil(H/s), and the padding equals an explicit ((before, after)) in the results."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, H, H, 1))
    w = rng.standard_normal((K, K, 1, 1))
    shape = cconv.output_shape(x.shape, w.shape, stride=s, dilation=d, padding="same")
    Ho = -(-H // s)
    assert shape == (1, Ho, Ho, 1)
    a = cconv.conv2d(x, w, stride=s, dilation=d, padding="same")
    b = cconv.conv2d(x, w, stride=s, dilation=d, padding=(expected_pads, expected_pads))
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_output_shape_nchw():
    # weight OIHW (8, 3, 3, 2): KH=3, KW=2.  H: (10 + 1 + 0 - 3) // 2 + 1 = 5;  W: (9 + 0 + 2 - 4) // 1 + 1 = 8
    assert cconv.output_shape((2, 3, 10, 9), (8, 3, 3, 2), stride=(2, 1), padding=((1, 0), (0, 2)), dilation=(1, 3),
                              layout="NCHW") == (2, 8, 5, 8)


def test_output_shape_groups():
    assert cconv.output_shape((1, 8, 8, 6), (3, 3, 2, 9), groups=3, padding=1) == (1, 8, 8, 9)
