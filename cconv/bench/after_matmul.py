"""``--after-matmul``: cconv right after a numpy matmul against cconv back to back.

Per layer and pass, AFTER_MATMUL_REPEATS calls issued each right after a
numpy ``a @ b`` on 1024x1024 float32 matrices, against as many calls issued
back to back (interleaved in blocks of 5; a back-to-back block starts after
a 0.12 s pause and WARM_AFTER_PAUSE_S of untimed calls); the table shows both medians and their
ratio. numpy's BLAS keeps its own thread count in this mode (nothing is
limited; the header shows the count threadpoolctl reads). OpenBLAS's workers
spin for a while after a call; a statically scheduled OpenMP loop that needs
the core they hold waits for it, which this ratio measures (target: <= 1.5).
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from typing import Any, Callable

import numpy as np

import cconv

from .impl import module_impl
from .inputs import make_inputs, to_layout
from .machine import blas_thread_counts
from .report import fmt_ms, progress, render_table
from .schema import document, write_document
from .suite import PASSES, Layer
from .timing import SETTLE_BLAS_S, WARM_AFTER_PAUSE_S, timed, warm

AFTER_MATMUL_REPEATS = 15
AFTER_MATMUL_SIZE = 1024
AFTER_MATMUL_BLOCK = 5


def openblas_thread_timeout() -> str | None:
    """``OPENBLAS_THREAD_TIMEOUT`` as this process has it, or None if unset.
    OpenBLAS reads it once, when numpy loads it: log2 of the timestamp-counter
    ticks its workers spin after a call before they sleep (28 by default,
    clamped to 4..30), which is what a call right after a matmul meets."""
    return os.environ.get("OPENBLAS_THREAD_TIMEOUT")


def time_after_matmul(fn: Callable[[], object], matmul: Callable[[], object],
                      repeats: int = AFTER_MATMUL_REPEATS) -> tuple[list[float], list[float]]:
    """Milliseconds of ``fn`` called back to back, and of ``fn`` called right
    after ``matmul``, ``repeats`` of each, interleaved in blocks of
    AFTER_MATMUL_BLOCK.

    A back-to-back block starts after SETTLE_BLAS_S of sleep (OpenBLAS's
    workers from the previous matmul stop spinning) and WARM_AFTER_PAUSE_S of
    untimed calls of ``fn`` (its thread pool and the machine's idle cores wake
    up; one call was not enough on a VM, which made back-to-back look slow and
    the ratio small); in an after-matmul block each timed
    call of ``fn`` follows a call of ``matmul`` at once.
    """
    back: list[float] = []
    after: list[float] = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        while len(back) < repeats or len(after) < repeats:
            block = min(AFTER_MATMUL_BLOCK, repeats - len(back))
            if block > 0:
                time.sleep(SETTLE_BLAS_S)
                warm(fn, WARM_AFTER_PAUSE_S)
                back += [timed(fn) * 1e3 for _ in range(block)]
            for _ in range(min(AFTER_MATMUL_BLOCK, repeats - len(after))):
                matmul()
                after.append(timed(fn) * 1e3)
    finally:
        if gc_was_enabled:
            gc.enable()
    time.sleep(SETTLE_BLAS_S)
    return back, after


def run_after_matmul(layers: list[Layer], args: argparse.Namespace, threads: int,
                     meta: dict[str, Any]) -> int:
    """Time cconv right after a numpy matmul against cconv back to back, per
    layer and pass; print the medians and their ratio (and write ``--json``); return 0."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((AFTER_MATMUL_SIZE, AFTER_MATMUL_SIZE), dtype=np.float32)
    b = rng.standard_normal((AFTER_MATMUL_SIZE, AFTER_MATMUL_SIZE), dtype=np.float32)
    out = np.empty_like(a)

    def matmul() -> object:
        return np.matmul(a, b, out=out)

    matmul()
    matmul_ms = statistics.median(timed(matmul) * 1e3 for _ in range(5))
    time.sleep(SETTLE_BLAS_S)
    blas = blas_thread_counts()
    blas_text = "/".join(map(str, blas)) if blas else "unknown (threadpoolctl missing)"
    print(f"  after-matmul: numpy matmul {AFTER_MATMUL_SIZE}x{AFTER_MATMUL_SIZE} float32 a @ b "
          f"({matmul_ms:.2f} ms, BLAS threads "
          f"{blas_text}, numpy's own setting), then at once one cconv call; against cconv called back "
          f"to back; median of {AFTER_MATMUL_REPEATS} each", flush=True)
    timeout = openblas_thread_timeout()
    print(f"  OPENBLAS_THREAD_TIMEOUT={timeout if timeout is not None else 'unset'} "
          f"({'OpenBLAS default: its workers spin about 2^28 ticks after a call' if timeout is None else 'as set'}; "
          f"4 makes them sleep at once, the README's Threads section)", flush=True)
    rows: list[list[str] | None] = []
    out_records = []
    for index, layer in enumerate(layers, 1):
        progress(f"[{index}/{len(layers)}] {layer.name}  ({layer.spec()})")
        native = to_layout(make_inputs(layer, args.dtype), args.layout)
        impl = module_impl("cconv", cconv, layer, native, args.layout)
        for pass_ in PASSES:
            fn = impl.pass_fn(pass_)
            fn()
            back, after = time_after_matmul(fn, matmul)
            ms_back, ms_after = statistics.median(back), statistics.median(after)
            ratio = ms_after / ms_back
            out_records.append({"name": layer.name, "pass": pass_, "threads": threads,
                                "ms_back_to_back": ms_back, "ms_after_matmul": ms_after, "ratio": ratio,
                                "samples_back_to_back_ms": back, "samples_after_matmul_ms": after})
            rows.append([layer.name, pass_, layer.route(pass_, args.layout), fmt_ms(ms_back),
                         fmt_ms(ms_after), f"{ratio:.2f}"])
    print()
    print(render_table(["layer", "pass", "route", "back-to-back ms", "after matmul ms", "ratio"],
                       rows, {3, 4, 5}))
    if args.json:
        meta["after_matmul"] = {"repeats": AFTER_MATMUL_REPEATS, "matmul_size": AFTER_MATMUL_SIZE,
                                "matmul_dtype": "float32", "matmul_ms": matmul_ms, "blas_threads": blas,
                                "openblas_thread_timeout": timeout}
        write_document(args.json, document(meta, [], {}, after_matmul=out_records), allow_nan=True)
        progress(f"wrote {args.json}")
    return 0
