"""The command line of ``python -m cconv.bench``: its options, which layers
run, and ``main``, which wires the modes together; ``python -m cconv.bench
plot RESULTS.json OUT.png`` hands over to ``plot.main``."""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import Any, Sequence

import cconv

from .after_matmul import AFTER_MATMUL_REPEATS, run_after_matmul
from .baseline_ort import import_onnxruntime, ort_problem
from .baseline_reference import import_reference
from .baseline_torch import import_torch
from .machine import limit_blas_threads, measure_gemm_gflops, measure_peak_gflops, metadata, thread_count
from .report import format_header, format_legend, format_results, format_warnings, progress, summarize
from .run import run_suite
from .scaling import run_scaling
from .schema import document, finite_or_none, write_document
from .shape import parse_shape_spec
from .suite import SUITES, Layer

#: The first argument that selects the plot command instead of a benchmark run.
PLOT_COMMAND = "plot"


def _positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser of ``python -m cconv.bench``."""
    parser = argparse.ArgumentParser(
        prog="python -m cconv.bench",
        description="Time cconv's conv2d forward and backward against cconv.reference "
                    "(pure NumPy), PyTorch and ONNX Runtime (forward), and print ms, GFLOP/s "
                    "and speedups.",
        epilog=f"'python -m cconv.bench {PLOT_COMMAND} RESULTS.json OUT.png' draws a run saved "
               "with --json (needs matplotlib).",
    )
    parser.add_argument("--threads", type=_positive_int, default=None,
                        help="threads for cconv, torch and ORT (default: cconv.get_num_threads())")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                        help="data type (default: float32)")
    parser.add_argument("--layout", choices=("NHWC", "NCHW"), default="NHWC",
                        help="layout for cconv and the reference (default: NHWC); "
                             "torch always uses channels_last, ORT NCHW")
    parser.add_argument("--quick", action="store_true",
                        help="smaller batches and fewer repeats (well under a minute)")
    parser.add_argument("--json", metavar="FILE", help="also write all results to FILE as JSON")
    parser.add_argument("--plot", metavar="FILE.png",
                        help='also draw GFLOP/s per layer to FILE.png (needs pip install "cconv[bench]")')
    parser.add_argument("--shape", metavar="SPEC", type=parse_shape_spec, action="append",
                        help="profile your own layer instead of the suite, e.g. "
                             "N=8,H=56,W=56,C=64,O=64,k=3,pad=1 (keys N H W C O k stride pad "
                             "dilation groups name; k, stride and dilation may be HxW such as 3x5; "
                             "pad takes every form of conv2d's padding: 1, 1x2 (PHxPW), 1,2,0,1 "
                             "(top,bottom,left,right), same, valid); without H a 1-D layer timed "
                             "through conv1d, e.g. N=4,W=16000,C=1,O=512,k=10,stride=5 (pad: p, "
                             "left,right, same, valid, causal); with D a 3-D layer timed through conv3d, "
                             "e.g. N=2,D=16,H=16,W=16,C=64,O=64,k=3,pad=1 (k, stride, dilation: n or "
                             "KDxKHxKW; pad: p, front,back,top,bottom,left,right, same, valid); repeatable")
    parser.add_argument("--suite", choices=tuple(SUITES), default="2d",
                        help="the built-in layers: 2d (default), 1d (conv1d: an audio front end and "
                             "dilated temporal layers, against torch's conv1d), 3d (conv3d: 3x3x3, 1x1x1 "
                             "and depthwise layers on volumes, against torch's conv3d) or all")
    parser.add_argument("--layers", metavar="NAME_SUBSTRING",
                        help="only layers whose name contains this (comma-separated "
                             "alternatives, case-insensitive)")
    parser.add_argument("--repeat", type=_positive_int, default=None, metavar="N",
                        help="timed repeats per function (default: adaptive)")
    parser.add_argument("--scaling", action="store_true",
                        help="time cconv alone at 1 thread and at --threads, 20 repeats each")
    parser.add_argument("--after-matmul", action="store_true",
                        help="time cconv alone, called right after a numpy matmul (1024x1024 float32, "
                             "numpy's BLAS threads left as they are) against called back to back, "
                             f"median of {AFTER_MATMUL_REPEATS} each, and print the ratio: OpenBLAS "
                             "workers spinning after the matmul can hold a core cconv's threads wait for")
    parser.add_argument("--no-reference", action="store_true", help="do not time cconv.reference")
    parser.add_argument("--no-torch", action="store_true", help="do not time PyTorch")
    parser.add_argument("--no-onnx", action="store_true",
                        help="do not time ONNX Runtime (timed, forward only, when onnxruntime "
                             "and onnx are importable)")
    return parser


def select_layers(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[Layer]:
    """Return the layers to run: ``--shape`` or the suite, filtered by ``--layers``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options.
    parser : argparse.ArgumentParser
        Used to report an empty selection as a usage error.

    Returns
    -------
    list of Layer
    """
    suite = SUITES[args.suite]
    if args.shape:
        layers = list(args.shape)
    elif args.quick:
        layers = [layer.quick() for layer in suite]
    else:
        layers = list(suite)
    if args.layers:
        wanted = [part.strip().lower() for part in args.layers.split(",") if part.strip()]
        layers = [layer for layer in layers if any(w in layer.name.lower() for w in wanted)]
        if not layers:
            names = ", ".join(layer.name for layer in (args.shape or suite))
            parser.error(f"--layers {args.layers!r} matches no layer; layers are: {names}")
    return layers


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark CLI (or, with ``plot`` first, draw a saved run).

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        0 (mismatches are reported, not fatal).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == [PLOT_COMMAND]:
        from .plot import main as plot_main
        return plot_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    layers = select_layers(args, parser)
    if args.after_matmul and (args.scaling or args.plot):
        parser.error("--after-matmul does not combine with --scaling or --plot")
    if args.json and not os.path.isdir(os.path.dirname(os.path.abspath(args.json))):
        parser.error(f"--json {args.json!r}: directory does not exist")
    if args.plot:
        from .plot import plot_problem
        problem = plot_problem(args.plot)
        if problem:
            parser.error(f"--plot: {problem}")
    threads = args.threads or cconv.get_num_threads()
    reference = import_reference(not args.no_reference)
    torch = import_torch(not args.no_torch)
    alone = args.scaling or args.after_matmul  # modes timing cconv alone
    ort, ort_text = None, None
    if not (args.no_onnx or alone):
        ort = import_onnxruntime(True)
        if ort is None:
            ort_text = "not installed (needs onnxruntime and onnx)"
        else:
            problem = ort_problem(ort, args.dtype)
            if problem:
                ort_text = f"{ort.version} not usable here, skipped ({problem})"
                ort = None
    elif alone:
        ort_text = f"not used by {'--scaling' if args.scaling else '--after-matmul'}"
    impl_names = (["cconv"] + (["reference"] if reference else []) + (["torch"] if torch else [])
                  + (["ort"] if ort else []))
    blas_limit: contextlib.AbstractContextManager[Any]
    if args.after_matmul:  # numpy's BLAS keeps its own thread count: that is what is measured
        blas_limit, blas_limited = contextlib.nullcontext(), False
    else:
        blas_limit, blas_limited = limit_blas_threads(threads)
    meta = metadata(args, threads, torch, impl_names, blas_limited, ort)
    with thread_count(threads, torch), blas_limit:
        if not alone:
            progress("timing the machine's GEMM (numpy matmul)")
            meta["gemm_gflops"] = measure_gemm_gflops(args.dtype)
            progress("timing the cores' peak (register-only FMA loop)")
            meta["peak_gflops"] = measure_peak_gflops(args.dtype, threads)
        print(format_header(meta, torch_wanted=not args.no_torch, ort_text=ort_text,
                            blas_text="left as numpy has them (--after-matmul)" if args.after_matmul else None),
              flush=True)
        print(format_legend(layers), flush=True)
        if args.scaling:
            return run_scaling(layers, args, threads, meta)
        if args.after_matmul:
            return run_after_matmul(layers, args, threads, meta)
        records = run_suite(layers, args, reference, torch, threads, meta["gemm_gflops"], ort,
                            meta["peak_gflops"])
    summary = summarize(records)
    print()
    print(format_results(records, summary, impl_names))
    warnings = format_warnings(records)
    if warnings:
        print()
        print(warnings)
    finite_or_none(records)  # strict JSON for both the file and the plot
    if args.json:
        write_document(args.json, document(meta, records, summary))
        progress(f"wrote {args.json}")
    if args.plot:
        from .plot import plot_benchmark
        plot_benchmark(document(meta, records, summary), args.plot)
        progress(f"wrote {args.plot}")
    return 0
