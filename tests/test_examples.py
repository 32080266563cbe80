"""The examples run end to end, so they cannot rot: the digits CNN reaches its
accuracy, the pictures are written, and the edges are the convolution they
claim to be (checked against a plain NumPy sum of shifted slices)."""
import importlib.util
import os
import re
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")


def _run(script, *args, timeout=300):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, script), *args], capture_output=True, text=True,
                          timeout=timeout, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _assert_png(path, min_shape):
    import matplotlib.image

    with open(path, "rb") as f:
        assert f.read(8) == PNG_MAGIC
    image = matplotlib.image.imread(path)
    assert image.shape[0] >= min_shape[0] and image.shape[1] >= min_shape[1], image.shape
    assert image.std() > 0.01  # not a blank canvas


def test_train_digits_reaches_95_percent_and_plots(tmp_path):
    out = tmp_path / "digits.png"
    stdout = _run("train_digits.py", "--out", str(out))
    match = re.search(r"^test_accuracy=([0-9.]+) seconds=([0-9.]+)$", stdout, re.M)
    assert match, stdout
    accuracy, seconds = float(match.group(1)), float(match.group(2))
    assert accuracy >= 0.95, stdout
    assert seconds < 60, stdout
    _assert_png(out, (200, 300))


def test_edge_detection_writes_the_side_by_side_png(tmp_path):
    out = tmp_path / "edges.png"
    stdout = _run("edge_detection.py", "--out", str(out))
    assert "china.jpg" in stdout
    _assert_png(out, (200, 300))


def _load_example(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_edge_maps_equal_shifted_slice_sums_on_a_photograph_crop():
    edges = _load_example("edge_detection")
    _, rgb = edges.load_photographs()
    gray = edges.to_grayscale(rgb[:, 100:160, 200:290])  # (N, 60, 90, 1)
    maps = edges.edge_maps(gray)
    padded = np.pad(gray[..., 0].astype(np.float64), ((0, 0), (1, 1), (1, 1)), mode="edge")
    H, W = gray.shape[1:3]

    def correlate(kernel):
        return sum(kernel[i, j] * padded[:, i:i + H, j:j + W] for i in range(3) for j in range(3))

    for key, kernel in (("gx", edges.SOBEL_X), ("gy", edges.SOBEL_Y), ("laplacian", edges.LAPLACIAN)):
        np.testing.assert_allclose(maps[key], correlate(kernel.astype(np.float64)), atol=1e-5, err_msg=key)
    assert maps["magnitude"].max() > 0.5  # a real photograph has edges


def test_the_test_extra_covers_examples_bench_and_dask():
    """The README's one install (``.[test]``) must bring what the examples and plots need."""
    tomllib = pytest.importorskip("tomllib")
    path = os.path.join(ROOT, "pyproject.toml")
    if not os.path.exists(path):
        pytest.skip("no pyproject.toml (tests run outside the source tree)")
    with open(path, "rb") as f:
        extras = tomllib.load(f)["project"]["optional-dependencies"]
    test = set(extras["test"])
    for name in ("examples", "bench", "dask"):
        assert set(extras[name]) <= test, (name, sorted(set(extras[name]) - test))
