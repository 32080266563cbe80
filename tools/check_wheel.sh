#!/usr/bin/env bash
# Build cconv's sdist and wheel, install each into a fresh virtual environment
# (no system site-packages) and check them:
#   * the wheel: run the whole test suite against the installed wheel, from a
#     copy of tests/ outside the source tree (so the source cconv/ cannot be
#     imported by accident);
#   * the sdist: pip builds it from source in a second venv; import it and run
#     one convolution;
#   * `auditwheel show` on the wheel (the OpenMP runtime dependency).
#
# Usage: bash tools/check_wheel.sh [--torch] [--keep]
#   --torch  also install torch==2.13.0 (CPU) in the wheel venv for the PyTorch cross-checks
#   --keep   keep the temporary directory (printed at the end)
# Builds from `git archive HEAD` (the committed tree), not from uncommitted files;
# set CHECK_WHEEL_WORKTREE=1 to build from the working tree instead.
# Needs: python3 with the `build` package, network access to the package index,
# a C compiler with OpenMP. auditwheel is optional (skipped when missing).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
WITH_TORCH=0
KEEP=0
for arg in "$@"; do
    case "$arg" in
        --torch) WITH_TORCH=1 ;;
        --keep) KEEP=1 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cconv-check-wheel.XXXXXX")"
cleanup() { if [ "$KEEP" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
START=$(date +%s)
stamp() { echo "[$(( $(date +%s) - START ))s] $*"; }

# 1. source to build from
mkdir -p "$WORK/src" "$WORK/dist"
if [ "${CHECK_WHEEL_WORKTREE:-0}" = 1 ]; then
    stamp "copying the working tree"
    (cd "$ROOT" && tar --exclude=./build --exclude=./.git --exclude='*.so' -cf - .) \
        | tar -xf - -C "$WORK/src"
else
    stamp "exporting git HEAD ($(git -C "$ROOT" rev-parse --short HEAD))"
    git -C "$ROOT" archive --format=tar HEAD | tar -xf - -C "$WORK/src"
fi

# 2. sdist, then the wheel built from that sdist (proves the sdist is complete)
stamp "python -m build"
"$PY" -m build --outdir "$WORK/dist" "$WORK/src" > "$WORK/build.log" 2>&1 \
    || { tail -50 "$WORK/build.log"; exit 1; }
SDIST=$(ls "$WORK"/dist/*.tar.gz)
WHEEL=$(ls "$WORK"/dist/*.whl)
stamp "built:"
ls -l "$WORK/dist" | tail -n +2

echo "--- wheel contents (typing files and compiled modules)"
"$PY" - "$WHEEL" <<'PYEOF'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
stubs = sorted(n for n in names if n.endswith(".pyi"))
exts = sorted(n for n in names if n.endswith(".so") or n.endswith(".pyd"))
print(f"{len(names)} files; {len(exts)} compiled modules; {len(stubs)} stubs; py.typed:",
      "cconv/py.typed" in names)
missing = [e for e in exts if e.split(".")[0] + ".pyi" not in stubs]
if missing or "cconv/py.typed" not in names:
    sys.exit(f"wheel lacks type information for {missing or 'py.typed'}")
PYEOF
echo "--- sdist: typing files"
tar -tzf "$SDIST" | grep -E '\.pyi$|py\.typed$' | sed 's/^/  /'

# 3. auditwheel (reports the external shared libraries the wheel needs)
echo "--- auditwheel show"
if "$PY" -m auditwheel --version > /dev/null 2>&1; then
    "$PY" -m auditwheel show "$WHEEL" || true
else
    echo "auditwheel not installed: skipped"
fi

# 4. the wheel in a fresh venv, tests from outside the source tree
stamp "wheel venv"
"$PY" -m venv "$WORK/venv-wheel"
VW="$WORK/venv-wheel/bin/python"
"$VW" -m pip install -q --upgrade pip
"$VW" -m pip install -q "$WHEEL" pytest hypothesis threadpoolctl
if [ "$WITH_TORCH" = 1 ]; then
    "$VW" -m pip install -q torch==2.13.0
fi
mkdir -p "$WORK/run"
cp -r "$WORK/src/tests" "$WORK/run/tests"  # the tests of the tree that was built
rm -rf "$WORK/run/tests/__pycache__"
stamp "pytest against the installed wheel"
(cd "$WORK/run" && "$VW" -c "import cconv, os; print('cconv from', os.path.dirname(cconv.__file__))")
RC=0
(cd "$WORK/run" && "$VW" -m pytest -q -p no:cacheprovider -rs tests > "$WORK/pytest-wheel.log" 2>&1) || RC=$?
tail -25 "$WORK/pytest-wheel.log"
if [ "$RC" != 0 ]; then echo "wheel tests FAILED (pytest exit $RC)"; exit 1; fi

# 5. the sdist in another fresh venv: pip compiles it, then import and convolve
stamp "sdist venv"
"$PY" -m venv "$WORK/venv-sdist"
VS="$WORK/venv-sdist/bin/python"
"$VS" -m pip install -q --upgrade pip
"$VS" -m pip install -q "$SDIST"
(cd "$WORK/run" && "$VS" - <<'PYEOF'
import os
import numpy as np
import cconv
x = np.arange(2 * 5 * 5 * 3, dtype=np.float32).reshape(2, 5, 5, 3)
w = np.ones((3, 3, 3, 4), dtype=np.float32)
y = cconv.conv2d(x, w)
# y[0, 0, 0, o] is the sum of the 3x3x3 window at the origin
expected = x[0, :3, :3, :].sum()
assert y.shape == (2, 3, 3, 4) and np.allclose(y[0, 0, 0], expected), (y.shape, y[0, 0, 0], expected)
print("sdist install OK: cconv", cconv.__version__, "from", os.path.dirname(cconv.__file__),
      "openmp", cconv.openmp_enabled())
PYEOF
)
stamp "done"
