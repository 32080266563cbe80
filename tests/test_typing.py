"""Type information: every compiled module has a stub, the stubs match the
compiled signatures, the package ships py.typed, and ``mypy --strict`` passes
on the cconv package and on a typed caller (tests/typing_usage.py).

The mypy checks need mypy and a source checkout (pyproject.toml holds the
[tool.mypy] configuration); from an installed wheel only the shipped-files
check runs.
"""
from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import cconv

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SOURCE_TREE = (ROOT / "setup.py").is_file() and (ROOT / "pyproject.toml").is_file() and (ROOT / "cconv").is_dir()
needs_source = pytest.mark.skipif(not SOURCE_TREE, reason="needs the cconv source checkout")
needs_mypy = pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed")


def setup_kernels() -> list[str]:
    """The KERNELS list of setup.py, read without running setup.py."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "KERNELS" for t in node.targets):
            return list(ast.literal_eval(node.value))
    raise AssertionError("setup.py has no KERNELS list")


def run_mypy(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m mypy`` from the repository root (so pyproject's [tool.mypy] applies)."""
    env = dict(os.environ, MYPY_FORCE_COLOR="0")
    return subprocess.run([sys.executable, "-m", "mypy", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)


@needs_source
def test_every_extension_in_setup_has_a_stub():
    kernels = setup_kernels()
    assert "_threads" in kernels and len(kernels) >= 7, kernels
    missing = [name for name in kernels if not (ROOT / "cconv" / f"{name}.pyi").is_file()]
    assert not missing, f"add cconv/<name>.pyi stubs for the compiled modules {missing} (see cconv/_forward.pyi)"


@needs_source
def test_every_cython_source_is_a_listed_extension():
    # A new src/*.pyx that is not in KERNELS would be neither built nor stubbed.
    sources = sorted(p.stem for p in (ROOT / "src").glob("*.pyx"))
    assert sources and set(sources) <= set(setup_kernels()), (sources, setup_kernels())


def test_installed_package_ships_stubs_and_py_typed():
    """Holds for the in-place build and for an installed wheel alike."""
    package = Path(cconv.__file__).resolve().parent
    assert (package / "py.typed").is_file()
    compiled = sorted({p.name.split(".")[0] for p in package.iterdir()
                       if any(p.name.endswith(s) for s in importlib.machinery.EXTENSION_SUFFIXES)})
    assert "_threads" in compiled, compiled
    missing = [name for name in compiled if not (package / f"{name}.pyi").is_file()]
    assert not missing, missing


@needs_source
@needs_mypy
def test_stubs_match_the_compiled_signatures(tmp_path):
    # stubtest imports each compiled module and compares every function's
    # parameter names, kinds and defaults with the stub (Cython embeds them).
    allow = tmp_path / "allowlist.txt"
    allow.write_text("cconv\\.\\w+\\.__test__\n")  # Cython's doctest dict
    modules = [f"cconv.{name}" for name in setup_kernels()]
    proc = subprocess.run([sys.executable, "-m", "mypy.stubtest", "--mypy-config-file", "pyproject.toml",
                           "--allowlist", str(allow), *modules],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


@pytest.fixture(scope="module")
def mypy_strict_run():
    """One ``mypy --strict`` run over the package and the typed usage file."""
    return run_mypy("--strict", "cconv", str(TESTS / "typing_usage.py"))


@needs_source
@needs_mypy
def test_package_passes_mypy_strict(mypy_strict_run):
    out = mypy_strict_run.stdout + mypy_strict_run.stderr
    package_errors = [line for line in out.splitlines() if line.startswith("cconv")]
    assert not package_errors, "\n".join(package_errors[:50])
    assert mypy_strict_run.returncode == 0, out[-4000:]
    assert "Success" in out


@needs_source
@needs_mypy
def test_typed_usage_passes_mypy_strict(mypy_strict_run):
    out = mypy_strict_run.stdout + mypy_strict_run.stderr
    usage_errors = [line for line in out.splitlines() if "typing_usage.py" in line]
    assert not usage_errors, "\n".join(usage_errors)


@needs_source
@needs_mypy
def test_mypy_rejects_misuse_of_the_api(tmp_path):
    # Proves the annotations are seen (not Any): each line below must be an error.
    bad = tmp_path / "misuse.py"
    bad.write_text(textwrap.dedent("""
        import numpy as np
        import cconv
        x = np.zeros((1, 4, 4, 1))
        w = np.zeros((3, 3, 1, 1))
        y: str = cconv.conv2d(x, w)
        cconv.conv2d(x, w, num_threads="2")
        cconv.set_num_threads(2.5)
        n: str = cconv.get_num_threads()
        cconv.im2col(x, 3, layout=1)
        shape: list[str] = cconv.output_shape(x.shape, w.shape)
        cconv.conv2d_typo(x, w)
        z: str = cconv.reference.conv2d(x, w)
    """))
    proc = run_mypy("--strict", str(bad))
    errors = sorted({int(line.split(":")[1]) for line in proc.stdout.splitlines() if ": error:" in line})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # 12: the lazy __getattr__ is hidden from mypy, so a misspelt name stays an error;
    # 13: cconv.reference, loaded on first access, is typed after a bare ``import cconv``.
    assert errors == [6, 7, 8, 9, 10, 11, 12, 13], proc.stdout
