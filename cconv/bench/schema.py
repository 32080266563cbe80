"""The ``--json`` document, schema ``cconv-bench/1``, and how it is written.

tests/test_bench_cli.py pins these keys, so a change to the schema has to be
deliberate (and, if it breaks readers, get a new schema name)::

    {
      "schema": "cconv-bench/1",
      "metadata": {
        "cconv_version": str, "numpy_version": str,
        "torch_version": str | null,          # null: not installed or --no-torch
        "onnxruntime_version": str | null,    # null: not timed (not installed, unusable, --no-onnx)
        "onnx_version": str | null,           # the onnx package that built the model, null likewise
        "python_version": str, "platform": str, "cpu_model": str,
        "cpu_count": int,                     # logical CPUs available to the process
        "threads": int, "blas_threads_limited": bool,
        "dtype": "float32" | "float64", "layout": "NHWC" | "NCHW",
        "openmp_enabled": bool, "quick": bool, "repeat": int | null,
        "implementations": [str, ...],        # e.g. ["cconv", "reference", "torch", "ort"]
        "timestamp": str,                     # ISO 8601, UTC
        "gemm_gflops": float | null,          # numpy matmul 2048^3, this dtype and thread count
        "isa": str,                           # cconv's ISA level in use (cconv.show_config)
        "isa_available": [str, ...],          # the levels this CPU runs
        "peak_gflops": float | null           # the cores' peak at that ISA: register-only FMA loop
      },
      "results": [                            # one record per layer and pass
        {
          "name": str,
          "params": {"N": int, "H": int, "W": int, "C": int, "O": int,
                     "KH": int, "KW": int, "stride": [int, int],
                     "padding": [int, int],   # (ph, pw); [[top, bottom], [left, right]] when
                                              # a side differs: either is a conv2d padding
                     "dilation": [int, int],
                     "groups": int, "Ho": int, "Wo": int},
          "pass": "fwd" | "bwd",
          "route": str,                       # cconv's kernel(s), as in the table
          "flops": int,
          "ms": {impl: float | null},         # median; null: skipped, failed, or ort's bwd
          "samples_ms": {impl: [float, ...]}, # every timed repeat
          "gflops": {impl: float | null},
          "speedup_vs_reference": float | null,   # reference ms / cconv ms
          "cconv_over_torch": float | null,       # cconv ms / torch ms
          "cconv_over_ort": float | null,         # cconv ms / ort ms (fwd only)
          "fraction_of_gemm": float | null,       # cconv GFLOP/s / metadata.gemm_gflops
          "fraction_of_peak": float | null,       # cconv GFLOP/s / metadata.peak_gflops
          "check": {"ok": bool | null, "max_rel_err": float | null,   # cconv's
                    "against": "reference" | "torch" | "ort" | null,
                    "worst": str | null,      # "y", "grad_x", "grad_weight" or "grad_bias"
                    "ort": {"ok": bool, "max_rel_err": float | null} | null},
                                              # ort's y vs the oracle; null: not run or the oracle
          "errors": {impl: str}               # exceptions raised, if any
        }, ...
      ],
      "summary": {
        "geomean_speedup_vs_reference": {"fwd": float | null, "bwd": float | null},
        "geomean_cconv_over_torch": {"fwd": float | null, "bwd": float | null},
        "geomean_cconv_over_ort": {"fwd": float | null, "bwd": null}
      },
      "scaling": [                            # only with --scaling
        {"name": str, "pass": "fwd" | "bwd", "threads": int, "ms_1": float, "ms_n": float,
         "speedup": float, "max_over_min": float}, ...
      ],
      "after_matmul": [                       # only with --after-matmul (results and summary are
        {"name": str, "pass": "fwd" | "bwd",  # empty; metadata.after_matmul has repeats,
         "threads": int,                      # matmul_size, matmul_dtype, matmul_ms, blas_threads,
                                              # openblas_thread_timeout: str | null)
         "ms_back_to_back": float, "ms_after_matmul": float, "ratio": float,
         "samples_back_to_back_ms": [float, ...], "samples_after_matmul_ms": [float, ...]}, ...
      ]
    }
"""
from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

SCHEMA = "cconv-bench/1"


def document(meta: dict[str, Any], records: list[dict[str, Any]], summary: dict[str, Any],
             **extra: Any) -> dict[str, Any]:
    """The document of one run; ``extra`` adds a mode's own list (``scaling``, ``after_matmul``)."""
    return {"schema": SCHEMA, "metadata": meta, "results": records, "summary": summary, **extra}


def write_document(path: str, doc: dict[str, Any], allow_nan: bool = False) -> None:
    """Write ``doc`` to ``path`` as indented JSON; NumPy scalars become numbers.

    ``allow_nan=False`` (the suite's results) keeps the file strict JSON,
    after ``finite_or_none`` has replaced what is not finite.
    """
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, allow_nan=allow_nan, default=json_default)
        f.write("\n")


def json_default(value: object) -> Any:
    """JSON fallback for NumPy scalars."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {value!r}")


def finite_or_none(records: list[dict[str, Any]]) -> None:
    """Replace an infinite max_rel_err (shape mismatch) by None, for strict JSON."""
    for r in records:
        for check in (r["check"], r["check"].get("ort")):
            err = None if check is None else check["max_rel_err"]
            if err is not None and not math.isfinite(err):
                check["max_rel_err"] = None
