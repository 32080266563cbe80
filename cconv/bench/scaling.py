"""``--scaling``: cconv alone at 1 thread and at ``--threads``.

For the layers selected, each pass is timed SCALING_REPEATS times at each
thread count, interleaved in rounds of 5 calls, and the table shows the
speedup and the slowest over the fastest run at ``--threads``: a stall from
two thread pools spinning against each other would show there.
"""
from __future__ import annotations

import argparse
import statistics
from typing import Any

import cconv

from .impl import module_impl
from .inputs import make_inputs, to_layout
from .report import fmt_ms, progress, render_table
from .schema import document, write_document
from .suite import PASSES, Layer
from .timing import timed

SCALING_REPEATS = 20


def run_scaling(layers: list[Layer], args: argparse.Namespace, threads: int, meta: dict[str, Any]) -> int:
    """Time cconv alone at 1 thread and at ``threads``; print the speedup and
    the slowest/fastest spread of the runs (and write ``--json``); return 0."""
    rows: list[list[str] | None] = []
    out = []
    for index, layer in enumerate(layers, 1):
        progress(f"[{index}/{len(layers)}] {layer.name}  ({layer.spec()})")
        native = to_layout(make_inputs(layer, args.dtype), args.layout)
        for pass_ in PASSES:
            impls = {n: module_impl("cconv", cconv, layer, native, args.layout, threads=n)
                     for n in (1, threads)}
            fns = {n: impl.pass_fn(pass_) for n, impl in impls.items()}
            for fn in fns.values():
                fn()
            samples: dict[int, list[float]] = {1: [], threads: []}
            for _ in range(SCALING_REPEATS // 5):       # interleaved rounds of 5 calls each
                for n, fn in fns.items():
                    samples[n] += [timed(fn) * 1e3 for _ in range(5)]
            ms_1, ms_n = statistics.median(samples[1]), statistics.median(samples[threads])
            spread = max(samples[threads]) / min(samples[threads])
            out.append({"name": layer.name, "pass": pass_, "threads": threads, "ms_1": ms_1, "ms_n": ms_n,
                        "speedup": ms_1 / ms_n, "max_over_min": spread})
            rows.append([layer.name, pass_, layer.route(pass_, args.layout), fmt_ms(ms_1), fmt_ms(ms_n),
                         f"{ms_1 / ms_n:.2f}x", f"{spread:.2f}"])
    print()
    print(render_table(["layer", "pass", "route", "1 thread ms", f"{threads} threads ms", "speedup",
                        f"max/min of {SCALING_REPEATS}"], rows, {3, 4, 5, 6}))
    if args.json:
        meta["scaling_repeats"] = SCALING_REPEATS
        write_document(args.json, document(meta, [], {}, scaling=out), allow_nan=True)
        progress(f"wrote {args.json}")
    return 0
