"""The build must not silently lose OpenMP: if the C compiler that builds Python
extensions can compile, link and run an OpenMP program, cconv must report
``openmp_enabled()`` and really run a parallel region on several threads.

On a platform without OpenMP set CCONV_ALLOW_NO_OPENMP=1 to skip this check.
"""
import os
import shutil
import subprocess
import sysconfig
import tempfile

import pytest

import cconv

PROBE = r"""
#include <omp.h>
#include <stdio.h>
int main(void) {
    int n = 0;
    #pragma omp parallel num_threads(2)
    {
        #pragma omp atomic
        n += 1;
    }
    printf("%d\n", n);
    return 0;
}
"""

pytestmark = pytest.mark.skipif(os.environ.get("CCONV_ALLOW_NO_OPENMP", "") not in ("", "0"),
                                reason="CCONV_ALLOW_NO_OPENMP is set")


def _compiler_has_openmp():
    """Compile and run a tiny OpenMP program with the compiler Python builds extensions with."""
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()
    if shutil.which(cc[0]) is None:
        pytest.skip(f"no C compiler {cc[0]!r} on PATH to probe OpenMP with")
    tmp = tempfile.mkdtemp(prefix="cconv-omp-probe-")
    try:
        src, exe = os.path.join(tmp, "probe.c"), os.path.join(tmp, "probe")
        with open(src, "w") as f:
            f.write(PROBE)
        build = subprocess.run(cc + ["-fopenmp", src, "-o", exe], capture_output=True, text=True)
        if build.returncode != 0:
            return False
        run = subprocess.run([exe], capture_output=True, text=True, timeout=60)
        return run.returncode == 0 and run.stdout.strip() == "2"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_openmp_is_compiled_in_when_the_compiler_supports_it():
    if not _compiler_has_openmp():
        pytest.skip("the C compiler has no usable -fopenmp")
    assert cconv.openmp_enabled(), (
        "cconv was built without OpenMP although the compiler supports it (the build lost -fopenmp); "
        "set CCONV_ALLOW_NO_OPENMP=1 to accept a serial build")


def test_openmp_runtime_is_linked_into_the_kernels():
    """The kernels' shared objects reference the OpenMP runtime (GOMP_parallel or __kmpc_fork_call)."""
    if not cconv.openmp_enabled():
        pytest.skip("serial build")
    import cconv._forward as fwd

    with open(fwd.__file__, "rb") as f:
        blob = f.read()
    assert b"GOMP_parallel" in blob or b"__kmpc_fork_call" in blob or b"vcomp" in blob
