"""Build cconv's Cython extensions, with OpenMP when the compiler has it.

Set CCONV_CYTHON_DEBUG=1 to build with bounds and initialisation checks on.
"""
import glob
import os
import shutil
import sys
import tempfile
import textwrap
import warnings

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

KERNELS = ["_threads", "_kernels", "_forward", "_backward", "_im2col", "_layout", "_depthwise_nchw",
           "_pointwise_nchw", "_winograd_kernel"]
# The C of the kernel table (src/kernels/), compiled once, into cconv._kernels
# only: one translation unit per ISA level, plus the CPU detector. The other
# modules reach these kernels through the table's row (src/_kernel_row.pxd).
KERNEL_TABLE_SOURCES = ["src/kernels/cpu.c", "src/kernels/isa_baseline.c", "src/kernels/isa_avx2.c",
                        "src/kernels/isa_avx512.c"]
# Cython's generated C goes here, not into src/.
CYTHON_BUILD_DIR = os.path.join("build", "cython")
# The kernel table's headers: an edit to one rebuilds cconv._kernels; the
# headers beside the .pyx files are included by the other modules.
KERNEL_TABLE_HEADERS = sorted(glob.glob("src/kernels/**/*.h", recursive=True))
MODULE_HEADERS = sorted(glob.glob("src/*.h"))
DEBUG = os.environ.get("CCONV_CYTHON_DEBUG", "") not in ("", "0")


def openmp_flags(compiler):
    """Return (compile_args, link_args) for OpenMP, or ([], []) with a warning
    when a small test program does not build and run with them."""
    if compiler.compiler_type == "msvc":
        candidates = [(["/openmp"], [])]
    else:
        candidates = [(["-fopenmp"], ["-fopenmp"]), (["-Xpreprocessor", "-fopenmp"], ["-lomp"])]
    source = textwrap.dedent(
        """
        #include <omp.h>
        #include <stdio.h>
        int main(void) {
            int n = 0;
            #pragma omp parallel reduction(+:n)
            n += 1;
            printf("%d", n > 0);
            return 0;
        }
        """
    )
    tmp = tempfile.mkdtemp(prefix="cconv-omp-")
    try:
        path = os.path.join(tmp, "probe.c")
        with open(path, "w") as f:
            f.write(source)
        for cflags, lflags in candidates:
            try:
                objs = compiler.compile([path], output_dir=tmp, extra_postargs=cflags)
                compiler.link_executable(objs, "probe", output_dir=tmp, extra_postargs=lflags)
                return cflags, lflags
            except Exception:
                continue
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    warnings.warn(
        "cconv: the C compiler has no usable OpenMP; building serial kernels. "
        "cconv.openmp_enabled() will return False."
    )
    return [], []


class BuildExtWithOpenMP(build_ext):
    """build_ext that adds the probed OpenMP and optimisation flags."""

    def build_extensions(self):
        cflags, lflags = openmp_flags(self.compiler)
        opt = [] if self.compiler.compiler_type == "msvc" else ["-O3"]
        if DEBUG and self.compiler.compiler_type != "msvc":
            opt = ["-O1", "-g"]
        for ext in self.extensions:
            ext.extra_compile_args = opt + cflags + ext.extra_compile_args
            ext.extra_link_args = lflags + ext.extra_link_args
        super().build_extensions()


def extensions():
    from Cython.Build import cythonize

    directives = {
        "language_level": 3,
        "boundscheck": DEBUG,
        "wraparound": False,
        "initializedcheck": DEBUG,
        "cdivision": True,
        "embedsignature": True,
    }
    exts = [
        Extension(f"cconv.{name}", [f"src/{name}.pyx"] + (KERNEL_TABLE_SOURCES if name == "_kernels" else []),
                  include_dirs=["src"], define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
                  depends=MODULE_HEADERS + (KERNEL_TABLE_HEADERS if name == "_kernels" else []))
        for name in KERNELS
    ]
    return cythonize(exts, include_path=["src"], compiler_directives=directives, build_dir=CYTHON_BUILD_DIR,
                     nthreads=int(os.environ.get("CCONV_BUILD_JOBS", "0")) or 0)


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExtWithOpenMP})
