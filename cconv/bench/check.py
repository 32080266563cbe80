"""The correctness check that comes with every timing.

The warm-up call's result is the check: cconv's output (and each of its three
gradients) must agree with the oracle, the reference (else PyTorch under
``--no-reference``, else ORT's forward without both), to
``max|a - b| <= tol * max|b|``, with ``tol`` 1e-3 for float32 and 1e-9 for
float64. ORT's output is compared with the same oracle. A disagreement is
flagged in the table; it does not stop the run.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

TOLERANCE = {"float32": 1e-3, "float64": 1e-9}
GRAD_NAMES = ("grad_x", "grad_weight", "grad_bias")
#: The implementations that can be the oracle, most trusted first.
ORACLES = ("reference", "torch", "ort")


def relative_error(actual: Any, expected: Any) -> float:
    """``max|actual - expected| / max|expected|`` (inf on a shape mismatch)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        return math.inf
    if actual.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(expected))), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(actual - expected))) / scale


def check_against_oracle(results: dict[str, Any], pass_: str, dtype: str) -> dict[str, Any]:
    """Compare cconv's warm-up result, and ORT's, with the oracle's: the
    reference's, else torch's, else ORT's.

    Returns
    -------
    dict
        The JSON ``check`` object: ok, max_rel_err, against, worst (cconv's),
        and ort: ``{"ok", "max_rel_err"}`` of ORT's output, or None when ORT
        did not run this pass or is the oracle.
    """
    oracle = next((name for name in ORACLES if name in results), None)
    ort_check = None
    if "ort" in results and oracle not in (None, "ort") and pass_ == "fwd":
        err = relative_error(results["ort"], results[oracle])
        ort_check = {"ok": err <= TOLERANCE[dtype], "max_rel_err": err}
    if "cconv" not in results or oracle is None:
        return {"ok": None, "max_rel_err": None, "against": None, "worst": None, "ort": ort_check}
    if pass_ == "fwd":
        pairs = [("y", results["cconv"], results[oracle])]
    else:
        pairs = list(zip(GRAD_NAMES, results["cconv"], results[oracle]))
    errors = {name: relative_error(actual, expected) for name, actual, expected in pairs}
    worst = max(errors, key=lambda name: errors[name])
    return {"ok": errors[worst] <= TOLERANCE[dtype], "max_rel_err": errors[worst],
            "against": oracle, "worst": worst, "ort": ort_check}
