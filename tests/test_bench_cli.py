"""``python -m cconv.bench``: a tiny real run writes the documented JSON (so a
schema change has to be deliberate) and the --plot PNG, and a saved JSON can
be drawn later."""
import json
import os
import subprocess
import sys

import pytest

import cconv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

META_KEYS = {"cconv_version", "numpy_version", "torch_version", "onnxruntime_version", "onnx_version",
             "python_version", "platform", "cpu_model",
             "cpu_count", "threads", "blas_threads_limited", "dtype", "layout", "openmp_enabled", "quick",
             "repeat", "implementations", "timestamp", "gemm_gflops", "isa", "isa_available", "peak_gflops"}
RECORD_KEYS = {"name", "params", "pass", "route", "flops", "ms", "samples_ms", "gflops", "speedup_vs_reference",
               "cconv_over_torch", "cconv_over_ort", "fraction_of_gemm", "fraction_of_peak", "check",
               "errors"}
CHECK_KEYS = {"ok", "max_rel_err", "against", "worst", "ort"}
SUMMARY_KEYS = {"geomean_speedup_vs_reference", "geomean_cconv_over_torch", "geomean_cconv_over_ort"}
TINY = "N=1,H=8,C=4,O=4,k=3,pad=1"
# Asymmetric kernel, stride, padding and dilation, and groups: every Conv attribute ORT is given.
ODD = "N=2,H=9,W=11,C=4,O=6,k=3x2,stride=2x1,pad=1x0,dilation=1x2,groups=2,name=odd"
DEPTHWISE = "N=1,H=8,C=8,O=8,k=3,pad=1,groups=8,name=dw"
# pad=same with stride 2 on an odd width: the right side gets one more column than the left.
SAME_UNEVEN = "N=2,H=8,W=7,C=4,O=6,k=4,stride=2,pad=same,name=same-uneven"
PER_SIDE = "N=2,H=9,W=8,C=4,O=6,k=3,pad=2,0,1,3,name=per-side"


def _has_ort():
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except Exception:
        return False
    return True


needs_ort = pytest.mark.skipif(not _has_ort(), reason="needs onnxruntime and onnx")
PARAM_KEYS = {"N", "H", "W", "C", "O", "KH", "KW", "stride", "padding", "dilation", "groups", "Ho", "Wo"}


def _run_bench(*args, pythonpath=(), env_extra=None):
    path = os.pathsep.join([*pythonpath, ROOT, os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=path, **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "cconv.bench", *args], capture_output=True, text=True,
                          timeout=300, env=env, cwd=ROOT)


def _bench(*args, pythonpath=(), env_extra=None):
    proc = _run_bench(*args, pythonpath=pythonpath, env_extra=env_extra)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    pytest.importorskip("matplotlib")
    d = tmp_path_factory.mktemp("bench")
    out = _bench("--quick", "--layers", "lenet-conv2,depthwise", "--repeat", "1", "--no-torch", "--no-onnx",
                 "--json", str(d / "r.json"), "--plot", str(d / "r.png"))
    return out, d


def test_json_follows_the_documented_schema(run):
    _, d = run
    doc = json.loads((d / "r.json").read_text())
    assert doc["schema"] == "cconv-bench/1"
    assert set(doc["metadata"]) == META_KEYS
    assert doc["metadata"]["implementations"] == ["cconv", "reference"]
    assert doc["metadata"]["gemm_gflops"] > 0
    assert doc["metadata"]["peak_gflops"] > 0
    assert doc["metadata"]["isa"] == cconv.show_config("dicts")["isa"]
    assert doc["metadata"]["isa_available"] == cconv.show_config("dicts")["isa_available"]
    assert len(doc["results"]) == 4
    for r in doc["results"]:
        assert set(r) == RECORD_KEYS
        assert set(r["params"]) == PARAM_KEYS
        assert set(r["check"]) == CHECK_KEYS and r["check"]["ort"] is None
        assert r["pass"] in ("fwd", "bwd")
        assert r["check"]["ok"] is True, r["check"]
        assert r["ms"]["cconv"] > 0 and r["gflops"]["cconv"] > 0
        assert 0 < r["fraction_of_gemm"]
        assert 0 < r["fraction_of_peak"] < 1.5   # a pass cannot beat the cores' FMA rate (Winograd aside)
    routes = {(r["name"], r["pass"]): r["route"] for r in doc["results"]}
    assert routes[("depthwise-3x3", "fwd")] == "direct-depthwise"
    assert routes[("lenet-conv2", "fwd")] == "gemm-implicit"
    assert set(doc["summary"]) == SUMMARY_KEYS
    assert doc["metadata"]["onnxruntime_version"] is None


def test_table_shows_routes_and_gemm_share(run):
    out, _ = run
    assert "route" in out and "% gemm" in out and "% peak" in out and "direct-depthwise" in out
    assert "machine GEMM (numpy matmul 2048^3" in out
    assert f"cconv ISA {cconv.show_config('dicts')['isa']}" in out


def test_plot_is_a_png_and_a_saved_run_can_be_drawn(run, tmp_path):
    _, d = run
    with open(d / "r.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    again = tmp_path / "again.png"
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "cconv.bench", "plot", str(d / "r.json"), str(again)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert again.stat().st_size > 10_000


def test_scaling_mode_prints_speedup_and_spread():
    out = _bench("--quick", "--layers", "pointwise", "--scaling", "--threads", "2")
    assert "speedup" in out and "max/min of 20" in out and "gemm-pointwise" in out


def _table(out, last_header):
    """The rows (lists of cells split on whitespace) of the table whose header ends with ``last_header``."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("layer") and line.endswith(last_header))
    rows = []
    for line in lines[start + 2:]:
        if not line.strip() or line.startswith("WARNING"):
            break
        if not line.startswith("---"):
            rows.append(line.split())
    return lines[start], rows


@needs_ort
@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
def test_ort_baseline_times_the_forward_pass_and_is_checked(tmp_path, layout):
    import onnxruntime

    path = tmp_path / "ort.json"
    out = _bench("--shape", ODD, "--shape", DEPTHWISE, "--shape", SAME_UNEVEN, "--repeat", "2", "--no-torch",
                 "--layout", layout, "--json", str(path))
    header, rows = _table(out, "check")
    assert "ort ms" in header and "ort GF/s" in header and "cconv/ort" in header
    assert "onnxruntime " + onnxruntime.__version__ in out
    doc = json.loads(path.read_text())
    assert doc["metadata"]["implementations"] == ["cconv", "reference", "ort"]
    assert doc["metadata"]["onnxruntime_version"] == onnxruntime.__version__
    assert doc["metadata"]["onnx_version"]
    for r in doc["results"]:
        assert set(r) == RECORD_KEYS and set(r["check"]) == CHECK_KEYS
        assert r["check"]["ok"] is True and r["check"]["against"] == "reference", r["check"]
        assert r["errors"] == {}
        if r["pass"] == "fwd":
            assert r["ms"]["ort"] > 0 and r["gflops"]["ort"] > 0 and r["cconv_over_ort"] > 0
            assert r["check"]["ort"]["ok"] is True, r["check"]
        else:  # ORT has no backward pass
            assert r["ms"]["ort"] is None and r["samples_ms"]["ort"] == [] and r["cconv_over_ort"] is None
            assert r["check"]["ort"] is None
    assert doc["summary"]["geomean_cconv_over_ort"]["fwd"] > 0
    assert doc["summary"]["geomean_cconv_over_ort"]["bwd"] is None
    geomean_fwd = next(row for row in rows if row[:2] == ["geomean", "fwd"])
    assert float(geomean_fwd[-1]) > 0


@needs_ort
def test_ort_is_the_oracle_without_reference_and_torch(tmp_path):
    path = tmp_path / "ort.json"
    _bench("--shape", ODD, "--repeat", "1", "--no-torch", "--no-reference", "--json", str(path))
    fwd, bwd = json.loads(path.read_text())["results"]
    assert fwd["check"]["against"] == "ort" and fwd["check"]["ok"] is True and fwd["check"]["ort"] is None
    assert bwd["check"]["ok"] is None


@needs_ort
def test_ort_without_a_float64_conv_is_skipped_with_the_reason(tmp_path):
    path = tmp_path / "f64.json"
    out = _bench("--shape", TINY, "--repeat", "1", "--no-torch", "--dtype", "float64", "--json", str(path))
    assert "not usable here, skipped" in out
    assert json.loads(path.read_text())["metadata"]["implementations"] == ["cconv", "reference"]


def test_a_broken_onnxruntime_does_not_stop_the_bench(tmp_path):
    broken = tmp_path / "site"
    for name in ("onnxruntime", "onnx"):
        (broken / name).mkdir(parents=True)
        (broken / name / "__init__.py").write_text("raise OSError('libonnxruntime.so: cannot open')\n")
    out = _bench("--shape", TINY, "--repeat", "1", "--no-torch", pythonpath=[str(broken)])
    assert "onnxruntime not installed" in out
    header, rows = _table(out, "check")
    assert "ort ms" not in header and "cconv/ort" in header
    assert all(row[-1].startswith("(") or row[0] == "geomean" for row in rows), rows  # "ok (err)"


def test_after_matmul_mode_prints_both_medians_and_their_ratio(tmp_path):
    path = tmp_path / "am.json"
    out = _bench("--after-matmul", "--shape", TINY, "--threads", "2", "--json", str(path))
    assert "numpy's own setting" in out and "left as numpy has them" in out
    header, rows = _table(out, "ratio")
    assert header.split() == ["layer", "pass", "route", "back-to-back", "ms", "after", "matmul", "ms", "ratio"]
    assert [row[1] for row in rows] == ["fwd", "bwd"]
    for row in rows:
        back, after, ratio = (float(cell) for cell in row[-3:])
        assert back > 0 and after > 0 and ratio > 0
    doc = json.loads(path.read_text())
    assert doc["metadata"]["blas_threads_limited"] is False
    assert doc["metadata"]["after_matmul"]["repeats"] == 15
    spin = os.environ.get("OPENBLAS_THREAD_TIMEOUT")
    assert doc["metadata"]["after_matmul"]["openblas_thread_timeout"] == spin
    assert f"OPENBLAS_THREAD_TIMEOUT={spin if spin is not None else 'unset'} " in out
    for r in doc["after_matmul"]:
        assert len(r["samples_back_to_back_ms"]) == len(r["samples_after_matmul_ms"]) == 15
        assert abs(r["ratio"] - r["ms_after_matmul"] / r["ms_back_to_back"]) < 1e-9 and r["ratio"] > 0


def test_after_matmul_reports_the_openblas_spin_setting(tmp_path):
    """The header and the JSON say whether OpenBLAS's workers spin after a call
    (OPENBLAS_THREAD_TIMEOUT, read once when numpy loads OpenBLAS)."""
    path = tmp_path / "am.json"
    out = _bench("--after-matmul", "--shape", TINY, "--threads", "1", "--json", str(path),
                 env_extra={"OPENBLAS_THREAD_TIMEOUT": "4"})
    assert "OPENBLAS_THREAD_TIMEOUT=4 (as set;" in out
    assert json.loads(path.read_text())["metadata"]["after_matmul"]["openblas_thread_timeout"] == "4"


# --shape's pad=: each form and the conv2d padding it stands for, one-to-one.
PAD_FORMS = [
    ("1", 1),
    ("1x2", (1, 2)),
    ("2,0,1,3", ((2, 0), (1, 3))),
    ("same", "same"),
    ("SAME", "same"),
    ("valid", "valid"),
]


@pytest.mark.parametrize("pad, padding", PAD_FORMS)
def test_shape_pad_is_the_conv2d_padding_it_names(pad, padding):
    from cconv._params import conv_geometry
    from cconv.bench import parse_shape_spec

    layer = parse_shape_spec(f"N=2,H=9,W=8,C=4,O=6,k=4,stride=2,pad={pad},groups=2")
    assert layer.geometry == conv_geometry((2, 9, 8, 4), (4, 4), out_channels=6, stride=2, padding=padding,
                                           groups=2)
    # The legend's spec of the layer parses back to the same layer (same resolved to its sides).
    assert parse_shape_spec(layer.spec()).geometry == layer.geometry


def test_shape_pad_forms_run_and_are_recorded_as_conv2d_padding(tmp_path):
    path = tmp_path / "pad.json"
    shapes = [f"N=1,H=9,W=8,C=4,O=4,k=4,stride=2,pad={pad},name=pad{i}" for i, (pad, _) in enumerate(PAD_FORMS)]
    out = _bench(*(arg for shape in shapes for arg in ("--shape", shape)), "--repeat", "1", "--no-torch",
                 "--no-onnx", "--json", str(path))
    assert "pad=2,0,1,3," in out and "pad=1,2,1,1," in out   # per-side, and same resolved, in the legend
    records = [r for r in json.loads(path.read_text())["results"] if r["pass"] == "fwd"]
    assert [r["name"] for r in records] == [f"pad{i}" for i in range(len(PAD_FORMS))]
    assert [r["params"]["padding"] for r in records] == [
        [1, 1], [1, 2], [[2, 0], [1, 3]], [[1, 2], [1, 1]], [[1, 2], [1, 1]], [0, 0]]
    for (pad, padding), r in zip(PAD_FORMS, records):
        p = r["params"]
        # The recorded padding is itself a conv2d padding, giving the recorded output size.
        expected = cconv.output_shape((1, 9, 8, 4), (4, 4, 4, 4), stride=2, padding=padding)
        assert cconv.output_shape((1, 9, 8, 4), (4, 4, 4, 4), stride=2, padding=p["padding"]) == expected
        assert expected[1:3] == (p["Ho"], p["Wo"]), pad
        assert r["check"]["ok"] is True, (pad, r["check"])


@pytest.mark.parametrize("pad", ["1,2", "1,2,0", "1,2,0,1,5", "1,2,x,1", "1x2x3", "-1", "same-ish"])
def test_shape_bad_pad_names_the_argument_and_the_value(pad):
    proc = _run_bench("--shape", f"N=1,H=8,C=4,O=4,k=3,pad={pad},groups=2", "--repeat", "1")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = proc.stderr.strip().splitlines()[-1]
    assert "argument --shape" in err and f"pad={pad!r}" in err, err
    assert "pad=1,2,0,1 (top,bottom,left,right)" in err and "pad=same" in err, err


def test_help_documents_every_pad_form():
    out = " ".join(_bench("--help").split())  # argparse re-wraps the help
    assert "1, 1x2 (PHxPW), 1,2,0,1 (top,bottom,left,right), same, valid" in out, out


def test_torch_runs_unequal_padding_sides_and_agrees_with_cconv(tmp_path):
    # torch is the oracle here (no reference), so cconv agreeing with it checks
    # the padded-copy path of the torch baseline, gradients included. One test
    # for both layouts: without torch it is a single skip.
    pytest.importorskip("torch")
    for layout in ("NHWC", "NCHW"):
        path = tmp_path / f"torch-{layout}.json"
        _bench("--shape", SAME_UNEVEN, "--shape", PER_SIDE, "--repeat", "1", "--no-reference", "--no-onnx",
               "--layout", layout, "--json", str(path))
        results = json.loads(path.read_text())["results"]
        assert [r["params"]["padding"] for r in results[::2]] == [[[1, 1], [1, 2]], [[2, 0], [1, 3]]]
        for r in results:
            assert r["errors"] == {} and r["ms"]["torch"] > 0, (layout, r)
            assert r["check"]["against"] == "torch" and r["check"]["ok"] is True, (layout, r["check"])


# 1-D layers: a spec without H runs conv1d (and torch's conv1d, ORT's 1-D Conv).
ONE_D = ["N=2,W=37,C=4,O=6,k=3,stride=2,pad=2,1,dilation=2,groups=2,name=odd-1d",
         "N=1,W=40,C=3,O=5,k=4,pad=causal,name=causal-1d"]


@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
def test_1d_layers_run_through_conv1d_and_every_baseline_agrees(tmp_path, layout):
    path = tmp_path / "one-d.json"
    out = _bench(*(arg for shape in ONE_D for arg in ("--shape", shape)), "--repeat", "1", "--layout", layout,
                 "--json", str(path))
    assert "N=2,W=37,C=4,O=6,k=3,stride=2,pad=2,1,dilation=2,groups=2" in out   # the legend is a 1-D spec
    results = json.loads(path.read_text())["results"]
    assert [r["name"] for r in results] == ["odd-1d", "odd-1d", "causal-1d", "causal-1d"]
    assert [r["params"]["Wo"] for r in results[::2]] == [18, 40]
    for r in results:
        assert r["params"]["H"] == r["params"]["KH"] == 1 and r["params"]["padding"] in ([[0, 0], [3, 0]], [[0, 0], [2, 1]])
        assert r["errors"] == {}, r
        assert r["check"]["ok"] is True and r["check"]["against"] == "reference", r["check"]
        if r["pass"] == "fwd" and r["check"]["ort"] is not None:
            assert r["check"]["ort"]["ok"] is True, r["check"]
    if "torch" in json.loads(path.read_text())["metadata"]["implementations"]:
        torch_path = tmp_path / "one-d-torch.json"
        _bench(*(arg for shape in ONE_D for arg in ("--shape", shape)), "--repeat", "1", "--layout", layout,
               "--no-reference", "--no-onnx", "--json", str(torch_path))
        for r in json.loads(torch_path.read_text())["results"]:
            assert r["check"]["against"] == "torch" and r["check"]["ok"] is True, r["check"]


def test_suite_option_selects_the_built_in_layers():
    from cconv.bench.cli import build_parser, select_layers
    from cconv.bench.suite import SUITE, SUITE_1D, SUITE_3D
    parser = build_parser()
    assert select_layers(parser.parse_args([]), parser) == SUITE
    assert [layer.rank for layer in select_layers(parser.parse_args(["--suite", "1d"]), parser)] == [1] * len(SUITE_1D)
    assert [layer.rank for layer in select_layers(parser.parse_args(["--suite", "3d"]), parser)] == [3] * len(SUITE_3D)
    assert len(select_layers(parser.parse_args(["--suite", "all"]), parser)) == len(SUITE + SUITE_1D + SUITE_3D)
    for layer in SUITE_1D + SUITE_3D:
        from cconv.bench.shape import parse_shape_spec
        assert parse_shape_spec(layer.spec()).geometry == layer.geometry


@pytest.mark.parametrize("spec,message", [
    ("W=9,C=1,O=1,k=3x2", "takes one kernel number; got 3x2"),
    ("W=9,C=1,O=1,k=3,pad=1x2", "takes pad=p, pad=left,right, same, valid or causal"),
    ("N=1,H=8,C=4,O=4,k=3,pad=causal", "causal"),
])
def test_shape_1d_errors(spec, message):
    proc = _run_bench("--shape", spec, "--repeat", "1")
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr


THREE_D = ["N=2,D=5,H=6,W=7,C=4,O=6,k=3x1x3,stride=2x1x1,pad=1,0,2,1,0,1,groups=2,name=odd-3d",
           "N=1,D=4,H=4,W=4,C=8,O=4,k=1,name=pointwise-3d"]


@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
def test_3d_layers_run_through_conv3d_and_every_baseline_agrees(tmp_path, layout):
    path = tmp_path / "three-d.json"
    out = _bench(*(arg for shape in THREE_D for arg in ("--shape", shape)), "--repeat", "1", "--layout", layout,
                 "--json", str(path))
    assert "N=2,D=5,H=6,W=7,C=4,O=6,k=3x1x3,stride=2x1x1,pad=1,0,2,1,0,1,dilation=1,groups=2" in out
    doc = json.loads(path.read_text())
    records = doc["results"]
    assert [r["route"] for r in records] == ["gemm-implicit", "gemm", "gemm-pointwise", "gemm-pointwise"]
    assert records[0]["params"]["Do"] == 2 and records[0]["params"]["padding"] == [[1, 0], [2, 1], [0, 1]]
    for r in records:
        assert r["errors"] == {}, r
        assert r["check"]["ok"] is True and r["check"]["against"] == "reference", r["check"]
        if r["pass"] == "fwd" and r["check"]["ort"] is not None:
            assert r["check"]["ort"]["ok"] is True, r["check"]
    if "torch" in doc["metadata"]["implementations"]:
        torch_path = tmp_path / "three-d-torch.json"
        _bench(*(arg for shape in THREE_D for arg in ("--shape", shape)), "--repeat", "1", "--layout", layout,
               "--no-reference", "--no-onnx", "--json", str(torch_path))
        for r in json.loads(torch_path.read_text())["results"]:
            assert r["check"]["against"] == "torch" and r["check"]["ok"] is True, r["check"]
