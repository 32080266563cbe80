"""The kernel table at run time: what the CPU can run, which ISA level cconv
uses (the best one, or a lower one named by the environment variable
``CCONV_ISA``), and the row of kernels every compiled module reads.

The level is chosen once, when this module is imported, and never changes in
the process. All of cconv's ISA-dependent C (src/kernels/) is compiled into
this one module; the other modules reach it through the row.
"""
import os
import time

import numpy as np

from cpython.pycapsule cimport PyCapsule_New
from cython.parallel cimport parallel, prange, threadid
from _kernel_row cimport cck_row

cdef extern from "kernels/cpu.h" nogil:
    enum: CCK_F_COUNT
    const char* cck_feature_names[]
    int cck_cpu_features()
    int cck_max_level(int features)

cdef extern from "kernels/table.h" nogil:
    const cck_row* cck_row_for(int level)

cdef extern from *:
    """
    #if defined(__clang__)
    #define CCK_COMPILER "clang " __clang_version__
    #elif defined(__GNUC__)
    #define CCK_COMPILER "gcc " __VERSION__
    #elif defined(_MSC_VER)
    #define CCK_COMPILER "msvc"
    #else
    #define CCK_COMPILER "unknown"
    #endif
    #ifdef _OPENMP
    #define CCK_OPENMP_VERSION _OPENMP
    #else
    #define CCK_OPENMP_VERSION 0
    #endif
    """
    const char* CCK_COMPILER
    int CCK_OPENMP_VERSION

#: The ISA levels of the kernel table, lowest first.
LEVELS = ("baseline", "avx2", "avx512")
#: The environment variable that picks a lower level than the best.
ENV_VAR = "CCONV_ISA"

cdef int _FEATURES = cck_cpu_features()
cdef int _MAX_LEVEL = cck_max_level(_FEATURES)


def cpu_features():
    """Return ``{feature: bool}`` for the CPU features the detector checks."""
    return {cck_feature_names[i].decode(): bool(_FEATURES & (1 << i)) for i in range(CCK_F_COUNT)}


def available_levels():
    """Return the ISA levels this CPU (and this build) can run, lowest first."""
    return LEVELS[:_MAX_LEVEL + 1]


def level_from_env(value, max_level=None):
    """Return the level index ``CCONV_ISA=value`` asks for (None or "" or
    "auto": the best available). Raise ValueError naming the variable, the
    accepted values and what the CPU has, for anything else. ``max_level``
    (default: what this CPU runs) is the highest level allowed."""
    if max_level is None:
        max_level = _MAX_LEVEL
    if value is None or value.strip().lower() in ("", "auto"):
        return max_level
    name = value.strip().lower()
    if name not in LEVELS:
        raise ValueError(f"{ENV_VAR} must be one of {', '.join(LEVELS)} (or empty for the best this CPU "
                         f"runs); got {value!r}")
    level = LEVELS.index(name)
    if level > max_level:
        has = [f for f, on in cpu_features().items() if on]
        raise ValueError(f"{ENV_VAR}={value!r} asks for an ISA level this CPU cannot run: it can run "
                         f"{', '.join(LEVELS[:max_level + 1])}; its features are "
                         f"{', '.join(has) if has else 'none that cconv checks'}")
    return level


cdef const cck_row* _ACTIVE = cck_row_for(level_from_env(os.environ.get(ENV_VAR)))


def isa():
    """Return the name of the ISA level in use (e.g. ``"avx512"``)."""
    return _ACTIVE.isa.decode()


def _active_row_capsule():
    """The active row for the other compiled modules (src/_kernel_row.pxd)."""
    return PyCapsule_New(<void*>_ACTIVE, b"cconv._kernels.row", NULL)


cdef const cck_row* _row(level) except NULL:
    if level is None:
        return _ACTIVE
    if level not in available_levels():
        raise ValueError(f"level must be one of {available_levels()} (the levels this CPU runs); got {level!r}")
    return cck_row_for(LEVELS.index(level))


def row_info(level=None):
    """Return the sizes of a row (default: the active one) as a dict: its
    name, compiler target, vector width and each dtype's GEMM micro-tile
    (mr, nr), K-block depth, rows per block and vector lanes."""
    cdef const cck_row* r = _row(level)
    return {
        "isa": r.isa.decode(),
        "target": r.target.decode(),
        "vector_bytes": r.vector_bytes,
        "float32": {"mr": r.s.mr, "nr": r.s.nr, "kc": r.s.kc, "mc": r.s.mc, "lanes": r.s.lanes},
        "float64": {"mr": r.d.mr, "nr": r.d.nr, "kc": r.d.kc, "mc": r.d.mc, "lanes": r.d.lanes},
    }


def build_info():
    """Return the compiler and OpenMP version (0: none) this module was built with."""
    return {"compiler": CCK_COMPILER.decode(), "openmp_version": CCK_OPENMP_VERSION}


def gemm(level, const float[:, ::1] A, const float[:, ::1] B, float[:, ::1] C, bint beta,
         const float[::1] bias, bint a_transposed=False):
    """C[:M, :N] = A @ B (+ C if beta) (+ bias) by one row's packed GEMM,
    single-threaded; C may be larger than (M, N) (its row length is the
    GEMM's ldc), and the rest of it must stay untouched. With
    ``a_transposed``, ``A`` holds A^T (K, M), read in place with a row
    stride of 1, as the weight gradients pass it. For testing every ISA's
    micro-kernel in one process; float32 only."""
    cdef const cck_row* r = _row(level)
    cdef int M = A.shape[1] if a_transposed else A.shape[0]
    cdef int K = A.shape[0] if a_transposed else A.shape[1]
    cdef int N = B.shape[1]
    cdef Py_ssize_t rsa = 1 if a_transposed else K
    cdef Py_ssize_t csa = M if a_transposed else 1
    if B.shape[0] != K or C.shape[0] < M or C.shape[1] < N:
        raise ValueError(f"shapes do not match: A ({A.shape[0]}, {A.shape[1]}){' transposed' if a_transposed else ''}, "
                         f"B ({B.shape[0]}, {B.shape[1]}), C ({C.shape[0]}, {C.shape[1]})")
    if bias is not None and bias.shape[0] != N:
        raise ValueError(f"bias must have {N} elements; got {bias.shape[0]}")
    packed = np.zeros(max(r.s.packb_size(K, N), 1), np.float32)
    abuf = np.zeros(max(r.s.abuf_size(K), 1), np.float32)
    cdef float[::1] Bp = packed
    cdef float[::1] ab = abuf
    cdef const float* ap = &A[0, 0] if A.size else NULL
    cdef const float* bp = &B[0, 0] if B.size else NULL
    cdef const float* biasp = &bias[0] if bias is not None else NULL
    if M == 0 or N == 0:
        return
    with nogil:
        if K:
            r.s.pack_b(K, N, bp, N, 1, &Bp[0])
        r.s.gemm(M, N, K, ap, rsa, csa, &Bp[0], &C[0, 0], C.shape[1], beta, biasp, &ab[0])


def peak_gflops(dtype="float32", int n_threads=1, double seconds=0.2, level=None):
    """The cores' peak floating-point rate at an ISA level (default: the one
    in use), in GFLOP/s: ``n_threads`` threads each run a register-only
    multiply-add loop for about ``seconds``."""
    cdef const cck_row* r = _row(level)
    cdef int is_double = np.dtype(dtype) == np.float64
    cdef long long iters = 1 << 16
    cdef double flops = 0
    cdef int t
    while True:                                  # calibrate on one thread
        start = time.perf_counter()
        with nogil:
            r.peak_loop(is_double, iters)
        if time.perf_counter() - start > seconds / 4 or iters > (1 << 40):
            break
        iters *= 2
    iters = <long long>(iters * 4)
    start = time.perf_counter()
    with nogil, parallel(num_threads=n_threads):
        for t in prange(n_threads, schedule='static'):
            flops += r.peak_loop(is_double, iters)
    return flops / (time.perf_counter() - start) / 1e9
