#!/usr/bin/env bash
# Build cconv with AddressSanitizer + UndefinedBehaviorSanitizer in a throwaway
# clone of this repository and run the test suite under it.
#
# Usage:  bash tools/sanitize.sh [pytest arguments...]
#   default pytest arguments: -q -p no:cacheprovider tests --ignore=tests/test_dask.py
#
# Environment:
#   CCONV_SANITIZE_DIR   where to clone (default: a new temporary directory, removed at exit
#                        unless CCONV_SANITIZE_KEEP=1)
#   CCONV_SANITIZE_REF   commit to test (default: HEAD; uncommitted changes are NOT included)
#   CC                   compiler (default gcc; clang works too if its ASan runtime is installed)
#
# How it runs: the extension modules are compiled and linked with
# -fsanitize=address,undefined; Python itself is not instrumented, so the ASan
# runtime is LD_PRELOADed, leak detection is off (CPython keeps objects alive at
# exit by design), PYTHONMALLOC=malloc routes Python's small objects through the
# ASan allocator so that overruns into them are seen, and
# allocator_may_return_null=1 lets an impossible allocation come back as NULL
# (numpy then raises MemoryError, which the memory tests expect) instead of
# ASan aborting. UBSan halts on the first finding with a stack trace.
# Exit status: pytest's; any sanitizer report makes the process abort, so a
# non-zero status with "ERROR: AddressSanitizer" or "runtime error:" in the
# output is a finding.
set -euo pipefail

SRC_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CC="${CC:-gcc}"
REF="${CCONV_SANITIZE_REF:-HEAD}"
if [[ -n "${CCONV_SANITIZE_DIR:-}" ]]; then
    WORK="$CCONV_SANITIZE_DIR"
    rm -rf "$WORK"
else
    WORK="$(mktemp -d -t cconv-sanitize-XXXXXX)"
    if [[ "${CCONV_SANITIZE_KEEP:-0}" != "1" ]]; then
        trap 'rm -rf "$WORK"' EXIT
    fi
fi

echo "== cloning $SRC_REPO ($REF) into $WORK"
git clone -q "$SRC_REPO" "$WORK"
git -C "$WORK" checkout -q "$REF"

ASAN_LIB="$("$CC" -print-file-name=libasan.so)"
if [[ ! -e "$ASAN_LIB" ]]; then
    echo "no ASan runtime for $CC (gcc: install libasan; clang: libclang-rt-dev)" >&2
    exit 2
fi

SAN_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -g"
echo "== building with $CC $SAN_FLAGS"
(
    cd "$WORK"
    # The flags go into CC itself so that they reach compiling, linking the extensions
    # (setuptools derives LDSHARED from CC) and setup.py's OpenMP probe executable, which
    # otherwise fails to link and silently builds serial kernels. -O1 (setup.py's debug
    # build) keeps the build short; the sanitizers work at any optimisation level.
    CC="$CC $SAN_FLAGS" CCONV_CYTHON_DEBUG=1 CCONV_BUILD_JOBS=2 \
        python setup.py -q build_ext --inplace -j 2 >build.log 2>&1 || { tail -50 build.log; exit 1; }
)
if grep -q "no usable OpenMP" "$WORK/build.log"; then
    echo "the sanitizer build lost OpenMP (see $WORK/build.log)" >&2
    exit 1
fi
# every compiled module must really carry the instrumentation
for so in "$WORK"/cconv/*.so; do
    if [[ "$(nm -D "$so" | grep -c "__asan_report\|__asan_init")" == 0 ]]; then
        echo "$so is not instrumented" >&2
        exit 1
    fi
done

if [[ $# -eq 0 ]]; then
    # tests/test_dask.py is left out: distributed's LocalCluster worker processes never come up
    # under the preloaded ASan runtime and the run hangs. The dask wrappers are pure Python over
    # the same kernels, which every other test exercises.
    set -- -q -p no:cacheprovider tests --ignore=tests/test_dask.py
fi

echo "== running pytest $* under ASan+UBSan"
cd "$WORK"
export LD_PRELOAD="$ASAN_LIB"
export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:abort_on_error=1:halt_on_error=1:detect_stack_use_after_return=0:strict_string_checks=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
export PYTHONMALLOC=malloc
export CCONV_SANITIZED=1          # tests that cannot run under ASan skip themselves
status=0
python -m pytest "$@" || status=$?
echo "== pytest exit status under sanitizers: $status"
exit $status
