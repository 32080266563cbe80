"""The package namespace (SPEC 1): public submodules load on first attribute
access, ``import cconv`` imports neither them nor Dask, and ``dir(cconv)``
shows the public API without the private modules."""
import importlib
import json
import os
import subprocess
import sys

import pytest

import cconv

# The directory holding the cconv these tests import (source tree or
# site-packages), so the subprocesses import the same one.
CCONV_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(cconv.__file__)))
PRIVATE = ["_conv", "_layer", "_patches", "_transpose", "_params", "_routes", "_threading", "_config",
           "_types", "_winograd", "_threads", "_kernels", "_forward", "_backward", "_conv1d", "_unit_axis"]


def run_fresh(code, tmp_path):
    """Run ``code`` in a new interpreter (outside the tree) and return its stdout's last line as JSON."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in [CCONV_PARENT, os.environ.get("PYTHONPATH")] if p))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_cconv_loads_no_optional_submodule_and_no_dask(tmp_path):
    out = run_fresh(
        "import json, sys\n"
        "import cconv\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')\n"
        "                        or m in ('cconv.dask', 'cconv.reference', 'cconv.bench'))))\n",
        tmp_path)
    assert out == []


def test_reference_is_an_attribute_after_a_bare_import(tmp_path):
    out = run_fresh(
        "import json, sys\n"
        "import numpy as np\n"
        "import cconv\n"
        "x = np.arange(2 * 5 * 5 * 3, dtype=np.float64).reshape(2, 5, 5, 3)\n"
        "w = np.ones((3, 3, 3, 4))\n"
        "ref = cconv.reference.conv2d(x, w, padding=1)\n"
        "print(json.dumps([ref.shape, bool(np.allclose(ref, cconv.conv2d(x, w, padding=1))),\n"
        "                  'cconv.reference' in sys.modules, 'dask' in sys.modules]))\n",
        tmp_path)
    assert out == [[2, 5, 5, 4], True, True, False]


def test_dask_is_an_attribute_after_a_bare_import(tmp_path):
    pytest.importorskip("dask.array")
    out = run_fresh(
        "import json, sys\n"
        "import numpy as np\n"
        "import cconv\n"
        "import dask.array as da\n"
        "x = np.random.default_rng(0).standard_normal((2, 9, 9, 3))\n"
        "w = np.random.default_rng(1).standard_normal((3, 3, 3, 4))\n"
        "y = cconv.dask.conv2d(da.from_array(x, chunks=(1, 5, 5, 3)), w, padding='same').compute()\n"
        "print(json.dumps([y.shape, bool(np.allclose(y, cconv.conv2d(x, w, padding='same'))),\n"
        "                  cconv.dask.conv2d is sys.modules['cconv.dask'].conv2d]))\n",
        tmp_path)
    assert out == [[2, 9, 9, 4], True, True]


def test_submodule_attribute_is_the_module():
    assert cconv.reference is sys.modules["cconv.reference"]
    assert callable(cconv.reference.conv2d_backward)


def test_dir_lists_the_public_api_and_submodules_only():
    names = dir(cconv)
    assert set(cconv.__all__) <= set(names)
    assert {"reference", "dask", "bench", "__version__"} <= set(names)
    assert not [n for n in names if n.startswith("_") and n != "__version__"], names
    for name in PRIVATE:
        assert name not in names
    assert names == sorted(names)


def test_all_is_the_public_api():
    for name in cconv.__all__:
        assert not name.startswith("_")
        assert callable(getattr(cconv, name)), name
    # The submodules load on demand and stay out of __all__ (``from cconv import *`` must not import Dask).
    assert not {"reference", "dask", "bench"} & set(cconv.__all__)
    assert not set(PRIVATE) & set(cconv.__all__)


def test_public_functions_keep_their_public_names():
    # The implementation modules are private, the functions are not.
    assert cconv.conv2d.__module__ == "cconv._conv"
    assert cconv.Conv2D.__module__ == "cconv._layer"
    for old in ("conv", "layer", "patches", "transpose"):
        with pytest.raises(AttributeError):
            getattr(cconv, old)


def test_unknown_attribute_raises_attribute_error_naming_it():
    with pytest.raises(AttributeError, match="module 'cconv' has no attribute 'no_such_thing'"):
        cconv.no_such_thing  # noqa: B018
    assert not hasattr(cconv, "conv2d_typo")
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("cconv.conv")  # the old public-looking module name is gone
