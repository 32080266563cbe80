"""Shared fixtures and the parametrisation table for the cconv test suite.

Any test (or fixture) that asks for one of these names is parametrised
automatically by ``pytest_generate_tests``:

* ``case``      every entry of ``CASES`` (shape/parameter dicts, below);
* ``case_g1``   the ``CASES`` with groups == 1 (for im2col @ W checks);
* ``fd_case``   a handful of small ``CASES`` for finite differences;
* ``case_sympad`` the ``CASES`` whose padding resolves to symmetric (torch.nn.grad takes only that);
* ``layout``    "NHWC", "NCHW";
* ``dtype``     float32, float64.

``problem`` builds random inputs for (case, layout, dtype) plus float64 NHWC
copies for the oracles, so one table sweeps layouts x dtypes x parameters
without a combinatorial product of every parameter.
"""
from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass, field

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _oracle as orc  # noqa: E402
import cconv._conv  # noqa: E402

# cconv runs calls of less than ~5 MFLOP per thread on fewer threads. The
# tests' shapes are small on purpose, so lift that floor here: every test call
# then runs its kernels on the threads it asks for, and the parallel paths
# (partial sums, col2im row blocks) stay under test.
# tests/test_threads.py::test_small_calls_use_fewer_threads checks the floor itself.
cconv._conv.MIN_FLOPS_PER_THREAD = 0

# ---------------------------------------------------------------------------
# hypothesis profiles ("ci" by default; `--hypothesis-profile=long` for a long
# fuzzing run) and the `slow` marker (skipped unless --run-slow or CCONV_RUN_SLOW=1)
# ---------------------------------------------------------------------------
try:
    from hypothesis import HealthCheck, settings as _hyp_settings

    _hyp_settings.register_profile(
        "ci", max_examples=60, deadline=None, database=None, derandomize=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                               HealthCheck.function_scoped_fixture])
    _hyp_settings.register_profile(
        "long", max_examples=5000, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                               HealthCheck.function_scoped_fixture])
    _hyp_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
except ImportError:  # pragma: no cover - hypothesis is a test dependency
    pass

# how many fuzz cases ran, by outcome; tests/test_fuzz.py adds to it
FUZZ_COUNTS: dict = {}


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="run tests marked slow (also CCONV_RUN_SLOW=1)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow") or os.environ.get("CCONV_RUN_SLOW", "") not in ("", "0"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow or CCONV_RUN_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    if FUZZ_COUNTS:
        total = sum(FUZZ_COUNTS.values())
        parts = ", ".join(f"{k}: {v}" for k, v in sorted(FUZZ_COUNTS.items()))
        terminalreporter.write_line(f"cconv fuzz cases run: {total} ({parts})")

# ---------------------------------------------------------------------------
# the case table.  Sizes are NHWC terms: x (N, H, W, C), weight (KH, KW, C//groups, O)
# ---------------------------------------------------------------------------
CASES = [
    dict(id="basic3x3", N=2, H=5, W=6, C=3, O=4, K=(3, 3), stride=1, padding=0, dilation=1, groups=1),
    dict(id="stride2_pad1", N=2, H=7, W=7, C=2, O=3, K=(3, 3), stride=2, padding=1, dilation=1, groups=1),
    dict(id="rect_kernel_stride_dil_pairpad", N=1, H=6, W=9, C=3, O=2, K=(2, 4), stride=(2, 1),
         padding=(1, 2), dilation=(1, 2), groups=1),
    dict(id="asym_pad", N=2, H=5, W=4, C=2, O=3, K=(3, 2), stride=(1, 2),
         padding=((0, 2), (1, 0)), dilation=1, groups=1),
    dict(id="same_stride2", N=2, H=7, W=8, C=2, O=3, K=(3, 2), stride=2, padding="same", dilation=1, groups=1),
    dict(id="SAME_upper_dilated", N=1, H=6, W=5, C=2, O=2, K=(3, 3), stride=1, padding="SAME", dilation=2,
         groups=1),
    dict(id="Same_stride3_k1x2", N=2, H=7, W=4, C=2, O=2, K=(1, 2), stride=(3, 3), padding="Same", dilation=1,
         groups=1),
    dict(id="same_2x2_even", N=1, H=5, W=4, C=2, O=2, K=(2, 2), stride=1, padding="same", dilation=1, groups=1),
    dict(id="valid_1x3", N=2, H=4, W=6, C=3, O=2, K=(1, 3), stride=1, padding="valid", dilation=1, groups=1),
    dict(id="VALID_stride2", N=2, H=6, W=7, C=2, O=2, K=(2, 3), stride=2, padding="VALID", dilation=1, groups=1),
    dict(id="groups2", N=2, H=5, W=5, C=4, O=6, K=(3, 3), stride=1, padding=1, dilation=1, groups=2),
    dict(id="depthwise", N=2, H=6, W=5, C=3, O=3, K=(3, 3), stride=1, padding=1, dilation=1, groups=3),
    dict(id="depthwise_mult2_same_s2", N=1, H=7, W=7, C=4, O=8, K=(3, 3), stride=2, padding="same",
         dilation=1, groups=4),
    dict(id="pointwise_stride2", N=2, H=5, W=6, C=5, O=3, K=(1, 1), stride=2, padding=0, dilation=1, groups=1),
    dict(id="kernel_fills_input", N=3, H=3, W=4, C=2, O=2, K=(3, 4), stride=1, padding=0, dilation=1, groups=1),
    dict(id="dil_asym_pad_groups", N=2, H=6, W=7, C=4, O=4, K=(2, 3), stride=(1, 2),
         padding=((1, 2), (3, 0)), dilation=(2, 3), groups=2),
    dict(id="many_channels", N=2, H=6, W=6, C=16, O=8, K=(3, 3), stride=1, padding=1, dilation=1, groups=1),
    dict(id="stride3_uneven", N=2, H=8, W=7, C=2, O=2, K=(3, 3), stride=3, padding=0, dilation=1, groups=1),
    # Shapes that reach the full (not edge-tile) paths of the compiled kernels:
    # whole 6x16 GEMM micro-tiles, more than one K block (K > 1152), and whole
    # 32-channel register blocks of the depthwise kernel.
    dict(id="gemm_full_tiles", N=2, H=6, W=7, C=20, O=35, K=(3, 3), stride=1, padding=1, dilation=1, groups=1),
    dict(id="gemm_two_k_blocks", N=1, H=4, W=5, C=130, O=17, K=(3, 3), stride=1, padding=1, dilation=1,
         groups=1),
    # Winograd F(4x4,3x3) under "auto" (3x3 stride 1, >= 16 channels, output
    # side >= 20), with ragged edge tiles and asymmetric padding; the two cases
    # above take F(2x2,3x3).
    dict(id="winograd_f4_edges", N=1, H=22, W=21, C=17, O=18, K=(3, 3), stride=1,
         padding=((1, 0), (2, 1)), dilation=1, groups=1),
    # A 1x1 depthwise layer is depthwise, not pointwise: the fuzzer found the
    # NCHW 1x1 kernel (which needs groups == 1) taking it, reading out of bounds.
    dict(id="depthwise_1x1", N=2, H=3, W=4, C=3, O=3, K=(1, 1), stride=1, padding=0, dilation=1, groups=3),
    # One input channel, stride 1: the direct single-channel forward, with whole
    # 8-pixel vectors, edge pixels, a scalar tail and an 11 = 8 + 3 channel block.
    dict(id="single_channel", N=2, H=7, W=21, C=1, O=11, K=(3, 3), stride=1,
         padding=((1, 2), (2, 0)), dilation=(1, 2), groups=1),
    # LeNet's first layer in small: dilation 1, so grad_input's dot products
    # run over whole kernel rows (5 taps x 6 channels), clipped at each edge.
    dict(id="single_channel_lenet", N=2, H=9, W=13, C=1, O=6, K=(5, 5), stride=1,
         padding=((2, 1), (0, 3)), dilation=1, groups=1),
    # Few input channels and a 25-pixel output row (once the "gemm-band" forward, now
    # "gemm-implicit", as most forwards are),
    # with row dilation, a column stride and padding on both sides.
    dict(id="band_small_c", N=2, H=9, W=50, C=3, O=20, K=(3, 5), stride=(1, 2),
         padding=((1, 0), (2, 1)), dilation=(2, 1), groups=1),
    dict(id="pointwise_stride1", N=2, H=5, W=6, C=20, O=18, K=(1, 1), stride=1, padding=0, dilation=1, groups=1),
    dict(id="depthwise_wide", N=2, H=5, W=6, C=40, O=40, K=(3, 3), stride=1, padding=1, dilation=1, groups=40),
    # Depthwise with every channel path at once: a 4-vector block, single
    # vectors and a scalar tail (45 = 32 + 8 + 5 in float32, 16+16+4+4+4+1 in float64).
    dict(id="depthwise_channel_tails", N=1, H=6, W=7, C=45, O=45, K=(3, 3), stride=1,
         padding=((2, 1), (0, 2)), dilation=(1, 2), groups=45),
    dict(id="depthwise_strided_dilated", N=2, H=9, W=10, C=5, O=5, K=(3, 2), stride=(2, 3),
         padding=((2, 0), (1, 2)), dilation=(2, 1), groups=5),
    dict(id="pad_wider_than_kernel", N=1, H=3, W=5, C=2, O=3, K=(2, 2), stride=1, padding=(3, 1), dilation=1,
         groups=1),
]

FD_CASE_IDS = ("basic3x3", "asym_pad", "same_stride2", "dil_asym_pad_groups", "depthwise_mult2_same_s2",
               "stride3_uneven")

CASE_SETS = {
    "case": CASES,
    "case_g1": [c for c in CASES if c["groups"] == 1],
    "fd_case": [c for c in CASES if c["id"] in FD_CASE_IDS],
    "case_sympad": [c for c in CASES
                    if (lambda p: p[0][0] == p[0][1] and p[1][0] == p[1][1])(
                        orc.explicit_padding(c["padding"], (c["H"], c["W"]), c["K"], c["stride"], c["dilation"]))],
}
LAYOUTS = ("NHWC", "NCHW")
DTYPES = (np.float32, np.float64)


def _explicitly_parametrized(metafunc, name):
    for mark in metafunc.definition.iter_markers("parametrize"):
        argnames = mark.args[0]
        if isinstance(argnames, str):
            argnames = [a.strip() for a in argnames.split(",")]
        if name in argnames:
            return True
    return False


def pytest_generate_tests(metafunc):
    names = metafunc.fixturenames
    for key, cases in CASE_SETS.items():
        if key in names and not _explicitly_parametrized(metafunc, key):
            metafunc.parametrize(key, cases, ids=[c["id"] for c in cases])
    if "layout" in names and not _explicitly_parametrized(metafunc, "layout"):
        metafunc.parametrize("layout", LAYOUTS)
    if "dtype" in names and not _explicitly_parametrized(metafunc, "dtype"):
        metafunc.parametrize("dtype", DTYPES, ids=["f32", "f64"])


# ---------------------------------------------------------------------------
# problems: random inputs in a layout plus float64 NHWC copies for the oracles
# ---------------------------------------------------------------------------
@dataclass
class Problem:
    case: dict
    layout: str
    dtype: type
    x: np.ndarray          # in layout, dtype
    w: np.ndarray          # HWIO or OIHW, dtype
    b: np.ndarray          # (O,), dtype
    gy: np.ndarray         # grad_out in layout, dtype
    pads: tuple            # explicit ((t, b), (l, r)) from the oracle's own rules
    out_hw: tuple
    kw: dict = field(default_factory=dict)   # keyword arguments for cconv calls

    # float64 canonical copies (exactly the values of x, w, b, gy)
    @property
    def x64(self):
        return orc.act_to_nhwc(self.x.astype(np.float64), self.layout)

    @property
    def w64(self):
        return orc.weight_to_hwio(self.w.astype(np.float64), self.layout)

    @property
    def gy64(self):
        return orc.act_to_nhwc(self.gy.astype(np.float64), self.layout)

    @property
    def geo(self):
        c = self.case
        return dict(stride=c["stride"], pads=self.pads, dilation=c["dilation"])

    @property
    def kernel_size(self):
        return self.case["K"]

    @property
    def output_shape(self):
        c = self.case
        Ho, Wo = self.out_hw
        n = self.x.shape[0]
        return (n, Ho, Wo, c["O"]) if self.layout == "NHWC" else (n, c["O"], Ho, Wo)

    def oracle_forward(self, bias=True):
        y = _cached_oracle(self, ("forward", bias), lambda: orc.conv2d_loop(
            self.x64, self.w64, self.b.astype(np.float64) if bias else None, groups=self.case["groups"],
            **self.geo))
        return orc.act_from_nhwc(y, self.layout)

    def oracle_backward(self):
        gx, gw, gb = _cached_oracle(self, ("backward",), lambda: orc.conv2d_backward_loop(
            self.gy64, self.x64, self.w64, groups=self.case["groups"], **self.geo))
        return orc.act_from_nhwc(gx, self.layout), orc.weight_from_hwio(gw, self.layout), gb


# The loop oracle is slow Python, and many tests ask it about the same inputs (every algorithm, both
# layouts: the NHWC float64 copies are the same values). Its results are kept, keyed on the exact input
# values and geometry, and handed out as fresh copies, so no test can alter another's reference.
_ORACLE_CACHE: dict = {}


def _cached_oracle(p, what, compute):
    h = hashlib.sha256(repr((what, p.geo, p.case["groups"])).encode())
    for a in (p.x64, p.w64, p.b, p.gy64):
        a = np.ascontiguousarray(a, dtype=np.float64)
        h.update(repr(a.shape).encode())
        h.update(a.tobytes())
    key = h.digest()
    if key not in _ORACLE_CACHE:
        _ORACLE_CACHE[key] = compute()
    got = _ORACLE_CACHE[key]
    return tuple(a.copy() for a in got) if isinstance(got, tuple) else got.copy()


def build_problem(case, layout="NHWC", dtype=np.float64, seed=0, N=None):
    rng = np.random.default_rng(seed)
    c = case
    n = c["N"] if N is None else N
    KH, KW = c["K"]
    x = rng.standard_normal((n, c["H"], c["W"], c["C"])).astype(dtype)
    w = rng.standard_normal((KH, KW, c["C"] // c["groups"], c["O"])).astype(dtype)
    b = rng.standard_normal(c["O"]).astype(dtype)
    pads = orc.explicit_padding(c["padding"], (c["H"], c["W"]), (KH, KW), c["stride"], c["dilation"])
    Ho, Wo = orc.out_hw((c["H"], c["W"]), (KH, KW), c["stride"], pads, c["dilation"])
    assert Ho >= 1 and Wo >= 1, f"test bug: case {c['id']} has an empty output"
    gy = rng.standard_normal((n, Ho, Wo, c["O"])).astype(dtype)
    kw = dict(stride=c["stride"], padding=c["padding"], dilation=c["dilation"], groups=c["groups"],
              layout=layout)
    return Problem(case=c, layout=layout, dtype=dtype,
                   x=np.ascontiguousarray(orc.act_from_nhwc(x, layout)),
                   w=np.ascontiguousarray(orc.weight_from_hwio(w, layout)),
                   b=b,
                   gy=np.ascontiguousarray(orc.act_from_nhwc(gy, layout)),
                   pads=pads, out_hw=(Ho, Wo), kw=kw)


@pytest.fixture
def problem(case, layout, dtype):
    return build_problem(case, layout, dtype)


@pytest.fixture
def make_problem():
    return build_problem


@pytest.fixture
def case_by_id():
    def get(case_id):
        return next(c for c in CASES if c["id"] == case_id)
    return get


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def torch_or_none():
    """PyTorch if it is importable, else None.

    Correctness tests check against the float64 direct definition (tests/_oracle.py) always, and
    against PyTorch as a second, independent oracle when this is not None.
    """
    try:
        import torch
    except ImportError:
        yield None
        return
    # the oracle's convolutions are tiny: one torch thread avoids two thread pools contending with cconv's
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(saved)


@pytest.fixture
def restore_threads():
    """Save cconv's thread count and restore it after the test."""
    import cconv

    saved = cconv.get_num_threads()
    yield saved
    cconv.set_num_threads(saved)
