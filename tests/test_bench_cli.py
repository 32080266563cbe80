"""``python -m cconv.bench``: a tiny real run writes the documented JSON (so a
schema change has to be deliberate) and the --plot PNG, and a saved JSON can
be drawn later."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

META_KEYS = {"cconv_version", "numpy_version", "torch_version", "python_version", "platform", "cpu_model",
             "cpu_count", "threads", "blas_threads_limited", "dtype", "layout", "openmp_enabled", "quick",
             "repeat", "implementations", "timestamp", "gemm_gflops"}
RECORD_KEYS = {"name", "params", "pass", "route", "flops", "ms", "samples_ms", "gflops", "speedup_vs_reference",
               "cconv_over_torch", "fraction_of_gemm", "check", "errors"}
PARAM_KEYS = {"N", "H", "W", "C", "O", "KH", "KW", "stride", "padding", "dilation", "groups", "Ho", "Wo"}


def _bench(*args):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "cconv.bench", *args], capture_output=True, text=True,
                          timeout=300, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    pytest.importorskip("matplotlib")
    d = tmp_path_factory.mktemp("bench")
    out = _bench("--quick", "--layers", "lenet-conv2,depthwise", "--repeat", "1", "--no-torch",
                 "--json", str(d / "r.json"), "--plot", str(d / "r.png"))
    return out, d


def test_json_follows_the_documented_schema(run):
    _, d = run
    doc = json.loads((d / "r.json").read_text())
    assert doc["schema"] == "cconv-bench/1"
    assert set(doc["metadata"]) == META_KEYS
    assert doc["metadata"]["implementations"] == ["cconv", "reference"]
    assert doc["metadata"]["gemm_gflops"] > 0
    assert len(doc["results"]) == 4
    for r in doc["results"]:
        assert set(r) == RECORD_KEYS
        assert set(r["params"]) == PARAM_KEYS
        assert r["pass"] in ("fwd", "bwd")
        assert r["check"]["ok"] is True, r["check"]
        assert r["ms"]["cconv"] > 0 and r["gflops"]["cconv"] > 0
        assert 0 < r["fraction_of_gemm"]
    routes = {(r["name"], r["pass"]): r["route"] for r in doc["results"]}
    assert routes[("depthwise-3x3", "fwd")] == "direct-depthwise"
    assert routes[("lenet-conv2", "fwd")] == "gemm"
    assert set(doc["summary"]) == {"geomean_speedup_vs_reference", "geomean_cconv_over_torch"}


def test_table_shows_routes_and_gemm_share(run):
    out, _ = run
    assert "route" in out and "% gemm" in out and "direct-depthwise" in out
    assert "machine GEMM (numpy matmul 2048^3" in out


def test_plot_is_a_png_and_a_saved_run_can_be_drawn(run, tmp_path):
    _, d = run
    with open(d / "r.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    again = tmp_path / "again.png"
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "cconv._bench_plot", str(d / "r.json"), str(again)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert again.stat().st_size > 10_000


def test_scaling_mode_prints_speedup_and_spread():
    out = _bench("--quick", "--layers", "pointwise", "--scaling", "--threads", "2")
    assert "speedup" in out and "max/min of 20" in out and "gemm-pointwise" in out
