"""The text report: the header, the layer legend, the results table with its
geometric means, and the warnings under it.

The ``route`` column is the kernel ``algorithm="auto"`` chose for the pass
(``cconv.select_algorithm``); for bwd it is grad_input's route, then
grad_weight's. ``% gemm`` and ``% peak`` are cconv's GFLOP/s over the two
yardsticks that ``machine`` measures in the same run.
"""
from __future__ import annotations

import math
import sys
from typing import Any, Iterable

from .machine import GEMM_SIZE
from .suite import PASSES, Layer


def progress(message: str) -> None:
    """Print a progress line to stderr at once (stdout holds only the report)."""
    print(message, file=sys.stderr, flush=True)


def geomean(values: Iterable[float | None]) -> float | None:
    """Geometric mean of the positive values given (None values skipped)."""
    logs = [math.log(v) for v in values if v is not None and v > 0]
    return math.exp(sum(logs) / len(logs)) if logs else None


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON ``summary``: geometric means per pass."""
    summary: dict[str, Any] = {"geomean_speedup_vs_reference": {}, "geomean_cconv_over_torch": {},
                               "geomean_cconv_over_ort": {}}
    for pass_ in PASSES:
        rows = [r for r in records if r["pass"] == pass_]
        summary["geomean_speedup_vs_reference"][pass_] = geomean(r["speedup_vs_reference"] for r in rows)
        summary["geomean_cconv_over_torch"][pass_] = geomean(r["cconv_over_torch"] for r in rows)
        summary["geomean_cconv_over_ort"][pass_] = geomean(r["cconv_over_ort"] for r in rows)
    return summary


def fmt_ms(value: float | None) -> str:
    """Milliseconds with about four significant digits, or ``-``."""
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value:.0f}"
    if value >= 100:
        return f"{value:.1f}"
    if value >= 10:
        return f"{value:.2f}"
    return f"{value:.3f}"


def fmt_gflops(value: float | None) -> str:
    """GFLOP/s with one or two decimals, or ``-``."""
    if value is None:
        return "-"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def fmt_speedup(value: float | None) -> str:
    """A speedup such as ``12.3x``, or ``-``."""
    return "-" if value is None else f"{value:.1f}x"


def fmt_ratio(value: float | None) -> str:
    """A time ratio with two decimals, or ``-``."""
    return "-" if value is None else f"{value:.2f}"


def fmt_check(record: dict[str, Any]) -> str:
    """The check column: ``ok (err)``, ``unchecked``, or ``!!`` and the problems."""
    check = record["check"]
    problems = [f"{name} ERROR" for name in record["errors"]]
    ort = check.get("ort")
    if ort is not None and ort["ok"] is False:
        problems.insert(0, f"ort MISMATCH y rel={ort['max_rel_err']:.1e} vs {check['against']}")
    if check["ok"] is False:
        problems.insert(0, f"MISMATCH {check['worst']} rel={check['max_rel_err']:.1e} vs {check['against']}")
    if problems:
        return "!! " + "; ".join(problems)
    if check["ok"] is None:
        return "unchecked"
    return f"ok ({check['max_rel_err']:.0e})"


def render_table(headers: list[str], rows: list[list[str] | None], right_align: set[int]) -> str:
    """Render rows (lists of str, or None for a rule) as an aligned text table."""
    body = [row for row in rows if row is not None]
    widths = [max(len(headers[i]), *(len(row[i]) for row in body)) if body else len(headers[i])
              for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right_align else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    rule = "-" * len(line(["-" * w for w in widths]))
    out = [line(headers), rule]
    out += [rule if row is None else line(row) for row in rows]
    return "\n".join(out)


def format_header(meta: dict[str, Any], torch_wanted: bool, ort_text: str | None = None,
                  blas_text: str | None = None) -> str:
    """The lines printed above the table; ``ort_text`` says why ORT is not
    timed when it is not (default: ``"skipped (--no-onnx)"``)."""
    torch_text = meta["torch_version"] or ("not installed" if torch_wanted else "skipped (--no-torch)")
    ort_text = meta["onnxruntime_version"] or ort_text or "skipped (--no-onnx)"
    blas = blas_text or (f"held to {meta['threads']}" if meta["blas_threads_limited"]
                         else "not limited (threadpoolctl missing)")
    return "\n".join([
        "cconv benchmark",
        f"  cconv {meta['cconv_version']} | numpy {meta['numpy_version']} | torch {torch_text} "
        f"| onnxruntime {ort_text} | Python {meta['python_version']}",
        f"  threads {meta['threads']} | dtype {meta['dtype']} | layout {meta['layout']} "
        f"| OpenMP {'enabled' if meta['openmp_enabled'] else 'DISABLED (serial build)'} "
        f"| reference BLAS threads {blas}",
        f"  CPU: {meta['cpu_model']} ({meta['cpu_count']} logical CPUs available)",
        f"  machine GEMM (numpy matmul {GEMM_SIZE}^3, {meta['dtype']}, {meta['threads']} threads): "
        f"{fmt_gflops(meta['gemm_gflops'])} GFLOP/s; % gemm = cconv GFLOP/s / that",
        f"  cconv ISA {meta['isa']} (available: {', '.join(meta['isa_available'])}); peak at that ISA "
        f"(register-only FMA loop, {meta['threads']} threads): {fmt_gflops(meta['peak_gflops'])} GFLOP/s; "
        "% peak = cconv GFLOP/s / that",
        "  times: median ms of repeats interleaved in rounds, after one warm-up; "
        "bwd = grad_x + grad_weight + grad_bias",
        "  cconv/torch, cconv/ort < 1 mean cconv is faster (ort: forward only); "
        "check = cconv (and ort) vs reference (else torch, else ort), max rel err",
    ])


def format_results(records: list[dict[str, Any]], summary: dict[str, Any], impl_names: list[str]) -> str:
    """The results table, with geometric-mean rows at the bottom."""
    label = {"cconv": "cconv", "reference": "numpy-ref", "torch": "torch", "ort": "ort"}
    headers = (["layer", "pass", "route"]
               + [f"{label[n]} ms" for n in impl_names]
               + [f"{label[n]} GF/s" for n in impl_names]
               + ["% gemm", "% peak", "vs ref", "cconv/torch", "cconv/ort", "check"])
    rows: list[list[str] | None] = []
    for r in records:
        share, peak = r.get("fraction_of_gemm"), r.get("fraction_of_peak")
        rows.append([r["name"], r["pass"], r.get("route", "")]
                    + [fmt_ms(r["ms"][n]) for n in impl_names]
                    + [fmt_gflops(r["gflops"][n]) for n in impl_names]
                    + ["-" if share is None else f"{100 * share:.0f}%",
                       "-" if peak is None else f"{100 * peak:.0f}%",
                       fmt_speedup(r["speedup_vs_reference"]), fmt_ratio(r["cconv_over_torch"]),
                       fmt_ratio(r["cconv_over_ort"]), fmt_check(r)])
    rows.append(None)
    blanks = [""] * (2 * len(impl_names) + 2)
    for pass_ in PASSES:
        rows.append(["geomean", pass_, ""] + blanks
                    + [fmt_speedup(summary["geomean_speedup_vs_reference"][pass_]),
                       fmt_ratio(summary["geomean_cconv_over_torch"][pass_]),
                       fmt_ratio(summary["geomean_cconv_over_ort"][pass_]), ""])
    right = set(range(3, len(headers) - 1))
    return render_table(headers, rows, right)


def format_legend(layers: list[Layer]) -> str:
    """One line per layer with its parameters (usable as a ``--shape`` spec)."""
    width = max(len(layer.name) for layer in layers)
    lines = ["layers (GFLOP per forward pass; pass a spec to --shape to profile a variant):"]
    for layer in layers:
        lines.append(f"  {layer.name.ljust(width)}  {layer.spec()}  ({layer.flops('fwd') / 1e9:.3f})")
    return "\n".join(lines)


def format_warnings(records: list[dict[str, Any]]) -> str:
    """Warning lines for mismatches and errors, or an empty string."""
    lines = []
    for r in records:
        if r["check"]["ok"] is False:
            lines.append(f"WARNING: {r['name']} {r['pass']}: cconv differs from {r['check']['against']} "
                         f"in {r['check']['worst']} (max rel err {r['check']['max_rel_err']:.2e})")
        ort = r["check"].get("ort")
        if ort is not None and ort["ok"] is False:
            lines.append(f"WARNING: {r['name']} {r['pass']}: ort differs from {r['check']['against']} "
                         f"in y (max rel err {ort['max_rel_err']:.2e})")
        for name, message in r["errors"].items():
            lines.append(f"WARNING: {r['name']} {r['pass']}: {name} raised {message}")
    return "\n".join(lines)
