"""The kernel table: one CPU detector, the ISA level chosen once at import
(``CCONV_ISA`` picks a lower one), ``cconv.show_config``, and every level's
kernels checked against independent oracles.

The GEMM micro-kernel of every level this CPU runs is tested here, in one
process, over edge sizes (``cconv._kernels.gemm`` runs a given level's
packed GEMM). The convolution kernels of each level are tested by running
the correctness suite under ``CCONV_ISA=<level>`` (``.ci/run`` does), and
here by a short subprocess per level.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import cconv
from cconv import _kernels

LEVELS = list(_kernels.available_levels())


def run_python(code: str, isa: str | None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("CCONV_ISA", None)
    if isa is not None:
        env["CCONV_ISA"] = isa
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True,
                          text=True, timeout=300)


# --------------------------------------------------------------------------- the detector and CCONV_ISA


def test_levels_are_ordered_and_baseline_always_runs():
    assert _kernels.LEVELS == ("baseline", "avx2", "avx512")
    assert LEVELS[0] == "baseline"
    assert tuple(LEVELS) == _kernels.LEVELS[:len(LEVELS)]


def test_detector_agrees_with_the_levels():
    f = _kernels.cpu_features()
    avx2 = f["avx"] and f["avx2"] and f["fma"]
    avx512 = avx2 and all(f[k] for k in ("avx512f", "avx512bw", "avx512dq", "avx512vl"))
    assert ("avx2" in LEVELS) == avx2
    assert ("avx512" in LEVELS) == avx512


def test_detector_matches_proc_cpuinfo():
    try:
        with open("/proc/cpuinfo") as fh:
            flags = next(line for line in fh if line.startswith("flags")).split(":", 1)[1].split()
    except (OSError, StopIteration):
        pytest.skip("no /proc/cpuinfo flags on this system")
    for name, found in _kernels.cpu_features().items():
        assert found == (name in flags), name


def test_default_level_is_the_best_unless_overridden():
    if os.environ.get("CCONV_ISA"):
        assert _kernels.isa() == os.environ["CCONV_ISA"].strip().lower()
    else:
        assert _kernels.isa() == LEVELS[-1]


@pytest.mark.parametrize("level", LEVELS)
def test_cconv_isa_selects_each_level(level):
    out = run_python("import cconv; print(cconv.show_config('dicts')['isa'])", level)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == level


@pytest.mark.parametrize("value", ["AVX2 ", "auto", ""])
def test_cconv_isa_accepts_case_space_and_auto(value):
    expected = LEVELS[-1] if value.strip().lower() in ("", "auto") else value.strip().lower()
    if expected not in LEVELS:
        pytest.skip(f"this CPU cannot run {expected}")
    out = run_python("import cconv; print(cconv.show_config('dicts')['isa'])", value)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected


def test_unknown_cconv_isa_fails_at_import_naming_the_variable():
    out = run_python("import cconv", "sse9")
    assert out.returncode != 0
    assert "ValueError" in out.stderr and "CCONV_ISA" in out.stderr and "'sse9'" in out.stderr
    assert "baseline, avx2, avx512" in out.stderr


def test_a_level_the_cpu_lacks_is_refused_naming_what_it_has():
    with pytest.raises(ValueError, match=r"CCONV_ISA='avx512' asks for an ISA level this CPU cannot run: "
                                         r"it can run baseline, avx2; its features are"):
        _kernels.level_from_env("avx512", max_level=1)
    with pytest.raises(ValueError, match="it can run baseline;"):
        _kernels.level_from_env("avx2", max_level=0)
    assert _kernels.level_from_env("baseline", max_level=0) == 0
    assert _kernels.level_from_env(None, max_level=1) == 1


# --------------------------------------------------------------------------- show_config


def test_show_config_dicts_has_the_build_and_runtime_facts():
    cfg = cconv.show_config(mode="dicts")
    assert cfg is not None
    assert cfg["cconv"]["version"] == cconv.__version__
    assert cfg["build"]["openmp"] == cconv.openmp_enabled()
    assert cfg["build"]["compiler"]
    assert cfg["threads"]["default"] == cconv.get_num_threads()
    assert cfg["isa"] == _kernels.isa()
    assert cfg["isa_available"] == LEVELS
    assert set(cfg["cpu_features"]) >= {"avx2", "fma", "avx512f"}
    row = cfg["kernels"]
    assert row["isa"] == cfg["isa"]
    assert row["vector_bytes"] == {"baseline": 16, "avx2": 32, "avx512": 64}[cfg["isa"]]
    for dtype, size in (("float32", 4), ("float64", 8)):
        assert row[dtype]["lanes"] == row["vector_bytes"] // size
        assert row[dtype]["nr"] % row[dtype]["lanes"] == 0
        assert row[dtype]["mc"] % row[dtype]["mr"] == 0
    json.dumps(cfg)  # plain data


def test_show_config_prints(capsys):
    assert cconv.show_config() is None
    out = capsys.readouterr().out
    assert f"isa: {_kernels.isa()}" in out
    assert "isa_available: " + ", ".join(LEVELS) in out
    assert "compiler: " in out and "openmp: " in out


@pytest.mark.parametrize("mode, error", [("json", ValueError), (1, TypeError)])
def test_show_config_rejects_a_bad_mode(mode, error):
    with pytest.raises(error, match="mode must be"):
        cconv.show_config(mode=mode)


def test_select_algorithm_reports_the_isa():
    routes = cconv.select_algorithm((1, 8, 8, 3), (3, 3, 3, 4))
    assert routes["isa"] == _kernels.isa()
    assert routes["forward"] == "gemm-implicit"


@pytest.mark.parametrize("level", LEVELS)
def test_peak_rate_is_positive(level):
    assert _kernels.peak_gflops("float32", 1, 0.02, level) > 0
    assert _kernels.peak_gflops("float64", 1, 0.02, level) > 0


# --------------------------------------------------------------------------- every level's GEMM


def _gemm_cases(level):
    info = _kernels.row_info(level)["float32"]
    mr, nr, kc = info["mr"], info["nr"], info["kc"]
    ms = sorted({1, mr - 1, mr, mr + 1, 2 * mr + 3, info["mc"] + 1})
    ns = sorted({1, nr - 1, nr, nr + 1, 2 * nr + 5, 257})   # 257: A^T packed again
    ks = [0, 1, 7, 64, kc + 5]            # kc + 5: two K blocks
    for m in ms:
        for n in ns:
            for k in ks:
                yield m, n, k


@pytest.mark.parametrize("a_transposed", [False, True], ids=["A", "A^T"])
@pytest.mark.parametrize("level", LEVELS)
def test_gemm_of_every_level_matches_float64_over_edge_sizes(level, a_transposed):
    """Row-major A (read in place), and A^T (read in place for narrow B,
    packed for wide: the ns cross that line) as the weight gradients pass it."""
    rng = np.random.default_rng(7)
    for i, (m, n, k) in enumerate(_gemm_cases(level)):
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        beta = bool(i % 2)
        bias = rng.standard_normal(n).astype(np.float32) if i % 3 else None
        c0 = rng.standard_normal((m, n)).astype(np.float32)
        c = c0.copy()
        _kernels.gemm(level, np.ascontiguousarray(a.T) if a_transposed else a, b, c, beta, bias,
                      a_transposed=a_transposed)
        want = a.astype(np.float64) @ b.astype(np.float64)
        if beta:
            want += c0
        if bias is not None:
            want += bias
        scale = max(1.0, np.sqrt(k))
        np.testing.assert_allclose(c, want, rtol=0, atol=2e-5 * scale * 4,
                                   err_msg=f"{level} m={m} n={n} k={k} a_transposed={a_transposed}")


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("beta", [False, True])
def test_gemm_writes_only_its_output_rows_and_columns(level, beta):
    # C[:m, :n] of a larger array (ldc > n): edge tiles must not touch the rest.
    rng = np.random.default_rng(3)
    info = _kernels.row_info(level)["float32"]
    for m, n in ((info["mr"] + 1, info["nr"] + 3), (1, 1), (info["mr"] - 1, info["nr"] - 1)):
        k = 9
        big = np.full((m + 3, n + 5), 7.0, np.float32)
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        bias = rng.standard_normal(n).astype(np.float32)
        _kernels.gemm(level, a, b, big, beta, bias)
        want = a.astype(np.float64) @ b + bias + (7.0 if beta else 0.0)
        np.testing.assert_allclose(big[:m, :n], want, atol=1e-4)
        assert (big[m:] == 7.0).all() and (big[:, n:] == 7.0).all(), (level, m, n)


def test_gemm_checks_its_shapes():
    a = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match="shapes do not match"):
        _kernels.gemm(None, a, np.zeros((4, 2), np.float32), np.zeros((2, 2), np.float32), False, None)
    with pytest.raises(ValueError, match="level must be one of"):
        _kernels.gemm("sse9", a, np.zeros((3, 2), np.float32), np.zeros((2, 2), np.float32), False, None)


# --------------------------------------------------------------------------- every level's convolutions

_ROUTES_SCRIPT = """
import json, numpy as np, cconv
from cconv import reference
rng = np.random.default_rng(5)
out = {"isa": cconv.show_config("dicts")["isa"], "cases": []}
cases = [  # (x shape NHWC, weight HWIO, kwargs): one case per route
    ((2, 13, 11, 24), (3, 3, 24, 40), dict(padding=1, algorithm="winograd")),
    ((2, 30, 29, 16), (3, 3, 16, 20), dict(padding=1, algorithm="winograd")),
    ((2, 9, 10, 7), (2, 3, 7, 37), dict(stride=(2, 1), padding=((1, 0), (2, 1)), algorithm="gemm")),
    ((2, 9, 10, 12), (3, 3, 4, 9), dict(groups=3, dilation=2, padding=2)),
    ((2, 9, 10, 70), (3, 3, 1, 70), dict(groups=70, padding=1)),
    ((2, 9, 10, 70), (3, 3, 1, 70), dict(groups=70, padding=1, layout="NCHW")),
    ((2, 15, 21, 1), (5, 5, 1, 13), dict(padding=2)),
    ((2, 9, 50, 3), (3, 5, 3, 20), dict(stride=(1, 2), padding=((1, 0), (2, 1)), dilation=(2, 1))),
    ((3, 7, 9, 19), (1, 1, 19, 45), dict()),
    ((3, 7, 9, 19), (1, 1, 19, 45), dict(layout="NCHW")),
]
for dtype in (np.float32, np.float64):
    for xs, ws, kw in cases:
        x = rng.standard_normal(xs).astype(dtype)
        w = rng.standard_normal(ws).astype(dtype)
        b = rng.standard_normal(ws[3]).astype(dtype)
        if kw.get("layout") == "NCHW":
            x, w = x.transpose(0, 3, 1, 2).copy(), w.transpose(3, 2, 0, 1).copy()
        y = cconv.conv2d(x, w, b, **kw)
        yr = reference.conv2d(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64),
                              **{k: v for k, v in kw.items() if k != "algorithm"})
        g = rng.standard_normal(y.shape).astype(dtype)
        gx, gw, gb = cconv.conv2d_backward(g, x, w, **kw)
        rx, rw, rb = reference.conv2d_backward(g.astype(np.float64), x.astype(np.float64),
                                               w.astype(np.float64),
                                               **{k: v for k, v in kw.items() if k != "algorithm"})
        err = max(float(np.abs(a - r).max() / max(np.abs(r).max(), 1e-30))
                  for a, r in ((y, yr), (gx, rx), (gw, rw), (gb, rb)))
        out["cases"].append([str(np.dtype(dtype)), list(xs), list(ws), err])
print(json.dumps(out))
"""


@pytest.mark.parametrize("level", LEVELS)
def test_every_route_of_every_level_matches_the_float64_reference(level):
    out = run_python(_ROUTES_SCRIPT, level)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["isa"] == level
    for dtype, xs, ws, err in result["cases"]:
        assert err < (1e-4 if dtype == "float32" else 1e-10), (level, dtype, xs, ws, err)
