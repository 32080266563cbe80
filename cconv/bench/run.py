"""The suite run: for each layer, the line-up of implementations, then per
pass the warm-up (and its correctness check), the interleaved timing, and
one JSON record."""
from __future__ import annotations

import argparse
import statistics
from types import ModuleType
from typing import Any

import cconv

from .baseline_ort import OrtModules, ort_impl
from .baseline_reference import reference_impl
from .baseline_torch import torch_impl
from .check import check_against_oracle
from .impl import Impl, failing_impl, module_impl
from .inputs import Inputs, make_inputs, to_layout
from .report import progress
from .suite import PASSES, Layer
from .timing import FULL_POLICY, QUICK_POLICY, Runner, TimingPolicy, measure_interleaved, plan_repeats, warm_up


def make_impls(layer: Layer, inputs: Inputs, layout: str, reference: ModuleType | None, torch: Any,
               threads: int, ort: OrtModules | None = None) -> list[Impl]:
    """The implementations to time for one layer, cconv first.

    ``reference``, ``torch`` and ``ort`` are the modules, or None to skip them.
    """
    native = to_layout(inputs, layout)
    impls = [module_impl("cconv", cconv, layer, native, layout)]
    if reference is not None:
        impls.append(reference_impl(reference, layer, native, layout, threads))
    if torch is not None:
        impls.append(torch_impl(torch, layer, inputs, layout))
    if ort is not None:
        try:
            impls.append(ort_impl(ort, layer, inputs, layout, threads))
        except Exception as exc:  # the session could not be built: report it as ort's error
            impls.append(failing_impl("ort", f"session creation: {type(exc).__name__}: {exc}"))
    return impls


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator``, or None if either is missing."""
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def make_record(layer: Layer, pass_: str, samples: dict[str, Any], check: dict[str, Any], errors: dict[str, Any],
                impl_names: list[str], route: str = "", gemm_gflops: float | None = None,
                peak_gflops: float | None = None) -> dict[str, Any]:
    """Build the JSON record of one layer and pass from its timings."""
    ms = {name: (statistics.median(samples[name]) if samples.get(name) else None) for name in impl_names}
    flops = layer.flops(pass_)
    gflops = {name: (flops / (t * 1e6) if t else None) for name, t in ms.items()}
    return {
        "name": layer.name,
        "params": layer.params(),
        "pass": pass_,
        "route": route,
        "flops": flops,
        "ms": ms,
        "samples_ms": {name: samples.get(name, []) for name in impl_names},
        "gflops": gflops,
        "speedup_vs_reference": _ratio(ms.get("reference"), ms["cconv"]),
        "cconv_over_torch": _ratio(ms["cconv"], ms.get("torch")),
        "cconv_over_ort": _ratio(ms["cconv"], ms.get("ort")),
        "fraction_of_gemm": _ratio(gflops["cconv"], gemm_gflops),
        "fraction_of_peak": _ratio(gflops["cconv"], peak_gflops),
        "check": check,
        "errors": errors,
    }


def run_layer(layer: Layer, impls: list[Impl], dtype: str, policy: TimingPolicy,
              fixed_repeats: int | None, layout: str = "NHWC",
              gemm_gflops: float | None = None, peak_gflops: float | None = None) -> list[dict[str, Any]]:
    """Warm up, check and time both passes of one layer; return two records."""
    records = []
    impl_names = [impl.name for impl in impls]
    runner = Runner()
    for pass_ in PASSES:
        warmup_s, results, errors = warm_up(runner, impls, pass_)
        check = check_against_oracle(results, pass_, dtype)
        del results  # the warm-up outputs would otherwise stay alive during the timing
        repeats = plan_repeats(warmup_s, policy, fixed_repeats)
        samples = measure_interleaved(runner, impls, pass_, repeats, policy.rounds)
        records.append(make_record(layer, pass_, samples, check, errors, impl_names,
                                   layer.route(pass_, layout), gemm_gflops, peak_gflops))
    return records


def run_suite(layers: list[Layer], args: argparse.Namespace, reference: ModuleType | None, torch: Any,
              threads: int, gemm_gflops: float | None = None,
              ort: OrtModules | None = None, peak_gflops: float | None = None) -> list[dict[str, Any]]:
    """Benchmark every layer, showing progress on stderr; return all records."""
    policy = QUICK_POLICY if args.quick else FULL_POLICY
    records = []
    for index, layer in enumerate(layers, 1):
        progress(f"[{index}/{len(layers)}] {layer.name}  ({layer.spec()})")
        inputs = make_inputs(layer, args.dtype)
        impls = make_impls(layer, inputs, args.layout, reference, torch, threads, ort)
        records += run_layer(layer, impls, args.dtype, policy, args.repeat, args.layout, gemm_gflops,
                             peak_gflops)
    return records
