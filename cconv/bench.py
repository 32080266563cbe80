"""Benchmark cconv against its pure-NumPy reference, PyTorch and ONNX Runtime.

Run it as ``python -m cconv.bench``. For every layer of a built-in suite (or of
the layers given with ``--shape``) it times the forward pass and the backward
pass (grad_x + grad_weight + grad_bias) of

* ``cconv`` (the compiled kernels),
* ``cconv.reference`` (pure NumPy, the baseline users profile against),
* PyTorch, when ``import torch`` works (``torch.nn.functional.conv2d`` on
  channels_last tensors, and ``torch.ops.aten.convolution_backward``),
* ONNX Runtime, forward pass only, when ``onnxruntime`` and ``onnx`` import
  (a one-node ``Conv`` model, NCHW, on ``CPUExecutionProvider``; ORT has no
  convolution backward, so its bwd cells stay empty),

all in one process, with the same thread count, and prints a table of median
milliseconds, GFLOP/s, the speedup of cconv over the reference and the ratios
of cconv's time to PyTorch's and to ORT's, followed by geometric means.

Usage
-----
::

    python -m cconv.bench                      # full suite, a few minutes on 2 cores
    python -m cconv.bench --quick              # smaller batches, fewer repeats
    python -m cconv.bench --threads 1 --dtype float64
    python -m cconv.bench --layers resnet,stem # only layers whose name contains one of these
    python -m cconv.bench --shape N=8,H=56,W=56,C=64,O=64,k=3,stride=1,pad=1
    python -m cconv.bench --json results.json --no-torch --no-onnx
    python -m cconv.bench --plot bench.png     # GFLOP/s bar chart (needs matplotlib)
    python -m cconv.bench --scaling            # cconv alone: 1 vs N threads, and run-to-run spread
    python -m cconv.bench --after-matmul       # cconv alone: right after a numpy matmul vs back to back

``--shape`` takes comma-separated ``key=value`` pairs (keys are
case-insensitive) and may be repeated; when it is given only those layers run:

=============  ========  ==================================================
key            default   meaning
=============  ========  ==================================================
``H``          required  input height
``C``          required  input channels
``O``          required  output channels
``k``          required  kernel size, ``3`` or ``KHxKW`` such as ``3x5``
``N``          1         batch size
``W``          ``H``     input width
``stride``     1         ``s`` or ``SHxSW``
``pad``        0         symmetric zero padding, ``p`` or ``PHxPW``
``dilation``   1         ``d`` or ``DHxDW``
``groups``     1         channel groups (``groups=C`` is depthwise)
``name``       derived   the label shown in the table
=============  ========  ==================================================

Methodology
-----------
Inputs come from ``numpy.random.default_rng(0)`` (standard normal, in the
requested dtype), freshly seeded for each layer. Each implementation is called
once to warm up; that first result is also the correctness check: cconv's
output (and each of its three gradients) must agree with the reference (or with
PyTorch under ``--no-reference``, or with ORT's forward without both) to ``max|a - b| <= tol * max|b|``, with
``tol`` 1e-3 for float32 and 1e-9 for float64; a disagreement is flagged in the
table, it does not stop the run. Then the implementations are timed
interleaved in three rounds (in each round a block of consecutive calls of
cconv, then of the reference, then of torch, then of ORT) with
``time.perf_counter`` and the garbage collector off. After the reference the
runner pauses 0.12 s, as OpenBLAS (under the reference's matmul) keeps a
worker spinning for ~0.1 s after a call, which would steal a core from the
next implementation (after ORT, whose worker spins ~50 ms, 0.1 s). The
number of repeats adapts to the warm-up
time: at least a few, more for fast layers until a time budget per function is
spent, and fewer for the slow reference; ``--repeat N`` fixes it for all.
The median is reported. BLAS (used by the reference's matmul) is limited to
the same thread count through threadpoolctl when it is installed.

ONNX Runtime runs a one-node ``Conv`` model (opset ``ORT_OPSET``) built in
memory with ``onnx.helper``: input ``x`` NCHW, the weight (OIHW) and bias as
initializers, as in an exported model (so ORT may pre-pack the weight when the
session is created, which cconv and torch cannot), pads ``[top, left,
bottom, right]``, strides, dilations and group from the layer. The session
has ``intra_op_num_threads`` = the benchmark's thread count,
``inter_op_num_threads=1``, sequential execution and ``CPUExecutionProvider``.
The input is converted from NHWC to NCHW once per layer, outside the timed
call; the output is converted back only for the check, which compares ORT's
output with the oracle as well (the ``check`` column flags ``ort MISMATCH``).
One tiny session is built and run at start-up: if that fails (a broken
install, or float64, which ORT's CPU Conv does not implement) ORT is skipped
and the header says why.

The ``route`` column is the kernel ``algorithm="auto"`` chose for the pass
(``cconv.select_algorithm``); for bwd it is grad_input's route, then
grad_weight's. ``% gemm`` is cconv's GFLOP/s as a share of the machine's GEMM,
measured in the same run: numpy's matmul (OpenBLAS) on 2048x2048 matrices of
the benchmark dtype, at the same thread count, best of 5. GFLOP/s always count
the direct convolution's FLOPs, so a Winograd route, which does fewer
multiplications, can show more than 100%.

``--scaling`` times cconv alone at 1 thread and at ``--threads`` (20 repeats
each, interleaved in rounds, for the layers selected) and prints the speedup,
and the slowest over the fastest of the 20 runs at ``--threads``: a stall from
two thread pools spinning against each other would show there.

``--after-matmul`` times cconv alone, per layer and pass: 15 calls issued each
right after a numpy ``a @ b`` on 1024x1024 float32 matrices, against 15 calls
issued back to back (interleaved in blocks of 5; a back-to-back block starts
after a 0.12 s pause and one untimed call), and prints both medians and their
ratio. numpy's BLAS keeps its own thread count in this mode (nothing is
limited; the header shows the count threadpoolctl reads). OpenBLAS's workers
spin for a while after a call; a statically scheduled OpenMP loop that needs
the core they hold waits for it, which this ratio measures (target: <= 1.5).

FLOPs: the forward pass counts ``2*N*Ho*Wo*O*KH*KW*C/groups``; the backward
pass counts twice that (grad_x and grad_weight; grad_bias is negligible).

JSON schema (``--json FILE``)
-----------------------------
::

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
                     "padding": [int, int], "dilation": [int, int],
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
         "threads": int,                      # matmul_size, matmul_dtype, matmul_ms, blas_threads)
         "ms_back_to_back": float, "ms_after_matmul": float, "ratio": float,
         "samples_back_to_back_ms": [float, ...], "samples_after_matmul_ms": [float, ...]}, ...
      ]
    }
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import importlib
import json
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence, cast

import numpy as np

import cconv
from cconv import _kernels

PASSES = ("fwd", "bwd")
TOLERANCE = {"float32": 1e-3, "float64": 1e-9}
GRAD_NAMES = ("grad_x", "grad_weight", "grad_bias")

Pair = tuple[int, int]


# --------------------------------------------------------------------------- layers


def _pair(value: int | Sequence[int]) -> Pair:
    """Return ``(h, w)`` from an int or a pair."""
    if isinstance(value, int):
        return (value, value)
    return (int(value[0]), int(value[1]))


@dataclass(frozen=True)
class LayerSpec:
    """One convolution layer to benchmark, with symmetric padding.

    Parameters
    ----------
    name : str
        Label shown in the table.
    N, H, W, C, O : int
        Batch size, input height, width and channels, output channels.
    kernel, stride, padding, dilation : int or (int, int)
        Spatial parameters; ints mean the same value for height and width.
        They are normalised to pairs.
    groups : int
        Channel groups.
    quick_n : int or None
        Batch size under ``--quick``; None keeps ``N``.
    """

    name: str
    N: int
    H: int
    W: int
    C: int
    O: int
    kernel: Pair
    stride: Pair = (1, 1)
    padding: Pair = (0, 0)
    dilation: Pair = (1, 1)
    groups: int = 1
    quick_n: int | None = None

    if TYPE_CHECKING:  # the constructor takes ints or pairs; __post_init__ makes them pairs
        def __init__(self, name: str, N: int, H: int, W: int, C: int, O: int, kernel: int | Pair,
                     stride: int | Pair = (1, 1), padding: int | Pair = (0, 0), dilation: int | Pair = (1, 1),
                     groups: int = 1, quick_n: int | None = None) -> None: ...

    def __post_init__(self) -> None:
        for name in ("kernel", "stride", "padding", "dilation"):
            object.__setattr__(self, name, _pair(getattr(self, name)))

    @property
    def out_hw(self) -> Pair:
        """Output ``(Ho, Wo)``."""
        return cast(Pair, tuple(
            (size + 2 * p - d * (k - 1) - 1) // s + 1
            for size, k, s, p, d in zip(
                (self.H, self.W), self.kernel, self.stride, self.padding, self.dilation
            )
        ))

    def flops(self, pass_: str) -> int:
        """Floating-point operations of one pass (``"fwd"`` or ``"bwd"``)."""
        ho, wo = self.out_hw
        kh, kw = self.kernel
        forward = 2 * self.N * ho * wo * self.O * kh * kw * (self.C // self.groups)
        return forward if pass_ == "fwd" else 2 * forward

    def validate(self) -> None:
        """Raise ValueError if the layer is not a valid convolution."""
        for key in ("N", "H", "W", "C", "O", "groups"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be >= 1, got {getattr(self, key)}")
        for key in ("kernel", "stride", "dilation"):
            if min(getattr(self, key)) < 1:
                raise ValueError(f"{key} must be >= 1, got {_fmt_pair(getattr(self, key))}")
        if min(self.padding) < 0:
            raise ValueError(f"pad must be >= 0, got {_fmt_pair(self.padding)}")
        if self.C % self.groups or self.O % self.groups:
            raise ValueError(f"groups={self.groups} must divide both C={self.C} and O={self.O}")
        if min(self.out_hw) < 1:
            raise ValueError(
                f"kernel {_fmt_pair(self.kernel)} (dilation {_fmt_pair(self.dilation)}) does not fit "
                f"the padded input {self.H + 2 * self.padding[0]}x{self.W + 2 * self.padding[1]}"
            )

    def spec(self) -> str:
        """The layer as a ``--shape`` spec string."""
        return (
            f"N={self.N},H={self.H},W={self.W},C={self.C},O={self.O},k={_fmt_pair(self.kernel)},"
            f"stride={_fmt_pair(self.stride)},pad={_fmt_pair(self.padding)},"
            f"dilation={_fmt_pair(self.dilation)},groups={self.groups}"
        )

    def params(self) -> dict[str, Any]:
        """The layer's parameters as a JSON-ready dict."""
        ho, wo = self.out_hw
        return {
            "N": self.N, "H": self.H, "W": self.W, "C": self.C, "O": self.O,
            "KH": self.kernel[0], "KW": self.kernel[1],
            "stride": list(self.stride), "padding": list(self.padding),
            "dilation": list(self.dilation), "groups": self.groups, "Ho": ho, "Wo": wo,
        }


def _fmt_pair(pair: Pair) -> str:
    """Format ``(3, 3)`` as ``"3"`` and ``(3, 5)`` as ``"3x5"``."""
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}x{pair[1]}"


#: The built-in suite. ``N`` is the full-suite batch, ``quick_n`` the ``--quick`` one.
SUITE: list[LayerSpec] = [
    LayerSpec("lenet-conv1", N=64, H=28, W=28, C=1, O=6, kernel=5, quick_n=16),
    LayerSpec("lenet-conv2", N=64, H=14, W=14, C=6, O=16, kernel=5, quick_n=16),
    LayerSpec("resnet-56x56x64", N=8, H=56, W=56, C=64, O=64, kernel=3, padding=1, quick_n=2),
    LayerSpec("resnet-28x28x128", N=8, H=28, W=28, C=128, O=128, kernel=3, padding=1, quick_n=2),
    LayerSpec("resnet-14x14x256", N=8, H=14, W=14, C=256, O=256, kernel=3, padding=1, quick_n=2),
    LayerSpec("downsample-3x3s2", N=8, H=56, W=56, C=64, O=128, kernel=3, stride=2, padding=1,
              quick_n=2),
    LayerSpec("stem-7x7s2", N=2, H=224, W=224, C=3, O=64, kernel=7, stride=2, padding=3,
              quick_n=1),
    LayerSpec("pointwise-1x1", N=8, H=28, W=28, C=256, O=64, kernel=1, quick_n=2),
    LayerSpec("depthwise-3x3", N=8, H=56, W=56, C=128, O=128, kernel=3, padding=1, groups=128,
              quick_n=2),
]


# --------------------------------------------------------------------------- --shape


_SHAPE_KEYS = {
    "n": "N", "h": "H", "w": "W", "c": "C", "o": "O",
    "k": "kernel", "kernel": "kernel",
    "stride": "stride", "pad": "padding", "padding": "padding",
    "dilation": "dilation", "groups": "groups", "name": "name",
}
_PAIR_FIELDS = ("kernel", "stride", "padding", "dilation")
_REQUIRED_FIELDS = ("H", "C", "O", "kernel")


def _parse_int(key: str, text: str) -> int:
    """Parse a non-negative integer value of ``key``."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"{key}={text!r} is not a non-negative integer")
    return int(text)


def _parse_pair(key: str, text: str) -> Pair:
    """Parse ``"3"`` or ``"3x5"`` into a pair."""
    parts = text.lower().split("x")
    if len(parts) not in (1, 2):
        raise ValueError(f"{key}={text!r} must be an integer or HxW such as 3x5")
    values = [_parse_int(key, part) for part in parts]
    return (values[0], values[-1])


def _parse_shape_fields(text: str) -> dict[str, Any]:
    """Split a ``key=value,...`` spec into LayerSpec keyword arguments."""
    fields: dict[str, Any] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep or not value:
            raise ValueError(f"{item!r} is not of the form key=value")
        name = _SHAPE_KEYS.get(key.lower())
        if name is None:
            raise ValueError(f"unknown key {key!r}; known keys: N, H, W, C, O, k, stride, pad, "
                             "dilation, groups, name")
        if name in fields:
            raise ValueError(f"key {key!r} given twice")
        if name == "name":
            fields[name] = value
        elif name in _PAIR_FIELDS:
            fields[name] = _parse_pair(key, value)
        else:
            fields[name] = _parse_int(key, value)
    return fields


def _default_name(fields: dict[str, Any]) -> str:
    """A readable label for a user layer without ``name=``."""
    name = f"shape-{fields['H']}x{fields['W']}x{fields['C']}-{fields['O']}-k{_fmt_pair(fields['kernel'])}"
    for key, tag in (("stride", "s"), ("dilation", "d")):
        if fields.get(key, (1, 1)) != (1, 1):
            name += f"{tag}{_fmt_pair(fields[key])}"
    if fields.get("groups", 1) != 1:
        name += f"g{fields['groups']}"
    return name


def parse_shape_spec(text: str) -> LayerSpec:
    """Parse a ``--shape`` spec such as ``N=8,H=56,W=56,C=64,O=64,k=3,pad=1``.

    Parameters
    ----------
    text : str
        Comma-separated ``key=value`` pairs (see the module docstring).

    Returns
    -------
    LayerSpec
        The validated layer.

    Raises
    ------
    argparse.ArgumentTypeError
        With a message that says what is wrong, for argparse to report.
    """
    try:
        fields = _parse_shape_fields(text)
        missing = [key if key != "kernel" else "k" for key in _REQUIRED_FIELDS if key not in fields]
        if missing:
            raise ValueError(f"missing required key(s): {', '.join(missing)}")
        fields.setdefault("N", 1)
        fields.setdefault("W", fields["H"])
        fields.setdefault("name", _default_name(fields))
        layer = LayerSpec(**fields)
        layer.validate()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"bad shape spec {text!r}: {exc} (example: N=8,H=56,W=56,C=64,O=64,k=3,stride=1,pad=1)"
        ) from None
    return layer


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class TimingPolicy:
    """How many times to repeat each function.

    Parameters
    ----------
    budget_s : float
        Time to spend on each function and pass, estimated from the warm-up.
    min_repeats, max_repeats : int
        Bounds on the repeats of cconv and torch.
    ref_min_repeats, ref_max_repeats : int
        Bounds on the repeats of the (slow) reference.
    rounds : int
        Interleaving rounds: each round runs every implementation's share of
        its repeats back to back before moving on to the next implementation.
    """

    budget_s: float
    min_repeats: int
    max_repeats: int
    ref_min_repeats: int
    ref_max_repeats: int
    rounds: int = 3


FULL_POLICY = TimingPolicy(budget_s=0.3, min_repeats=5, max_repeats=100, ref_min_repeats=2, ref_max_repeats=3)
QUICK_POLICY = TimingPolicy(budget_s=0.1, min_repeats=3, max_repeats=30, ref_min_repeats=1, ref_max_repeats=2)


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
                             "dilation groups; k may be 3x5); repeatable")
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


def select_layers(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[LayerSpec]:
    """Return the layers to run: ``--shape`` or the suite, filtered by ``--layers``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options.
    parser : argparse.ArgumentParser
        Used to report an empty selection as a usage error.

    Returns
    -------
    list of LayerSpec
    """
    if args.shape:
        layers = list(args.shape)
    elif args.quick:
        layers = [replace(layer, N=layer.quick_n or layer.N) for layer in SUITE]
    else:
        layers = list(SUITE)
    if args.layers:
        wanted = [part.strip().lower() for part in args.layers.split(",") if part.strip()]
        layers = [layer for layer in layers if any(w in layer.name.lower() for w in wanted)]
        if not layers:
            names = ", ".join(layer.name for layer in (args.shape or SUITE))
            parser.error(f"--layers {args.layers!r} matches no layer; layers are: {names}")
    return layers


# --------------------------------------------------------------------------- environment


def import_torch(enabled: bool) -> Any:
    """Return the ``torch`` module, or None if disabled or not importable."""
    if not enabled:
        return None
    try:
        import torch
    except Exception:  # ImportError, or a broken install raising OSError and the like
        return None
    return torch


@dataclass(frozen=True)
class OrtModules:
    """The ``onnxruntime`` and ``onnx`` modules, which the ORT baseline needs together."""

    ort: Any
    onnx: Any

    @property
    def version(self) -> str:
        return str(self.ort.__version__)


def import_onnxruntime(enabled: bool) -> OrtModules | None:
    """Return onnxruntime and onnx, or None if disabled or either is not importable."""
    if not enabled:
        return None
    try:
        import onnx
        import onnxruntime
    except Exception:  # ImportError, or a broken install raising OSError and the like
        return None
    return OrtModules(ort=onnxruntime, onnx=onnx)


def ort_problem(mods: OrtModules, dtype: str) -> str | None:
    """Why ORT cannot run a convolution of ``dtype`` here (None if it can): one
    tiny session is built and run, so that a broken install or an unsupported
    dtype (ORT's CPU Conv has no float64) is reported once, not per layer."""
    try:
        layer = LayerSpec("probe", N=1, H=4, W=4, C=2, O=2, kernel=3, padding=1)
        impl = ort_impl(mods, layer, make_inputs(layer, dtype), "NHWC", threads=1)
        impl.forward()
    except Exception as exc:
        message = " ".join(str(exc).split())
        return f"{type(exc).__name__}: {message[:160]}"
    return None


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo, or what the platform module knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_count() -> int:
    """Logical CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def cconv_version() -> str:
    """cconv's version string."""
    version = getattr(cconv, "__version__", None)
    if version:
        return str(version)
    try:
        from importlib.metadata import version as dist_version
        return dist_version("cconv")
    except Exception:
        return "unknown"


def limit_blas_threads(threads: int) -> tuple[contextlib.AbstractContextManager[Any], bool]:
    """Context manager holding BLAS to ``threads`` (a no-op without threadpoolctl).

    Returns
    -------
    (context manager, bool)
        The context and whether threadpoolctl is there to apply it.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext(), False
    return threadpool_limits(limits=threads, user_api="blas"), True


@contextlib.contextmanager
def thread_count(threads: int, torch: Any) -> Iterator[None]:
    """Set cconv's (and torch's) thread count, restoring the old ones afterwards."""
    old_cconv = cconv.get_num_threads()
    old_torch = torch.get_num_threads() if torch is not None else None
    cconv.set_num_threads(threads)
    if torch is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        cconv.set_num_threads(old_cconv)
        if torch is not None:
            torch.set_num_threads(old_torch)


def metadata(args: argparse.Namespace, threads: int, torch: Any, impl_names: list[str], blas_limited: bool,
             ort: OrtModules | None = None) -> dict[str, Any]:
    """Describe the machine and the run (the JSON ``metadata`` object)."""
    return {
        "cconv_version": cconv_version(),
        "numpy_version": np.__version__,
        "torch_version": torch.__version__ if torch is not None else None,
        "onnxruntime_version": ort.version if ort is not None else None,
        "onnx_version": str(ort.onnx.__version__) if ort is not None else None,
        "python_version": platform.python_version(),
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cpu_count": cpu_count(),
        "threads": threads,
        "blas_threads_limited": blas_limited,
        "dtype": args.dtype,
        "layout": args.layout,
        "openmp_enabled": bool(cconv.openmp_enabled()),
        "quick": bool(args.quick),
        "repeat": args.repeat,
        "implementations": list(impl_names),
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "gemm_gflops": None,
        "isa": _kernels.isa(),
        "isa_available": list(_kernels.available_levels()),
        "peak_gflops": None,
    }


GEMM_SIZE = 2048


def measure_peak_gflops(dtype: str, threads: int) -> float:
    """The cores' peak at cconv's ISA level: best of 3 runs of a register-only
    multiply-add loop on ``threads`` threads (cconv._kernels.peak_gflops)."""
    return max(_kernels.peak_gflops(dtype, threads, 0.1) for _ in range(3))


def measure_gemm_gflops(dtype: str, repeats: int = 5) -> float:
    """The machine's GEMM speed in this process: best GFLOP/s of numpy's matmul
    (its BLAS, held to the benchmark's thread count) on GEMM_SIZE^3."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((GEMM_SIZE, GEMM_SIZE)).astype(dtype)
    b = rng.standard_normal((GEMM_SIZE, GEMM_SIZE)).astype(dtype)
    out = np.empty_like(a)
    np.matmul(a, b, out=out)
    best = min(_timed(lambda: np.matmul(a, b, out=out)) for _ in range(repeats))
    time.sleep(SETTLE_BLAS_S)  # let OpenBLAS's workers stop spinning before cconv runs
    return 2.0 * GEMM_SIZE ** 3 / best / 1e9


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def layer_route(layer: LayerSpec, pass_: str, layout: str) -> str:
    """The kernel(s) cconv's ``algorithm="auto"`` runs for this pass."""
    N, H, W, C, O = layer.N, layer.H, layer.W, layer.C, layer.O
    (KH, KW), g = layer.kernel, layer.groups
    shapes = (((N, H, W, C), (KH, KW, C // g, O)) if layout == "NHWC"
              else ((N, C, H, W), (O, C // g, KH, KW)))
    r = cconv.select_algorithm(*shapes, stride=layer.stride, padding=layer.padding, dilation=layer.dilation,
                               groups=g, layout=layout)
    if pass_ == "fwd":
        return r["forward"]
    return r["grad_input"] if r["grad_input"] == r["grad_weight"] else f"{r['grad_input']}+{r['grad_weight']}"


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
        f"{_fmt_gflops(meta['gemm_gflops'])} GFLOP/s; % gemm = cconv GFLOP/s / that",
        f"  cconv ISA {meta['isa']} (available: {', '.join(meta['isa_available'])}); peak at that ISA "
        f"(register-only FMA loop, {meta['threads']} threads): {_fmt_gflops(meta['peak_gflops'])} GFLOP/s; "
        "% peak = cconv GFLOP/s / that",
        "  times: median ms of repeats interleaved in rounds, after one warm-up; "
        "bwd = grad_x + grad_weight + grad_bias",
        "  cconv/torch, cconv/ort < 1 mean cconv is faster (ort: forward only); "
        "check = cconv (and ort) vs reference (else torch, else ort), max rel err",
    ])


# --------------------------------------------------------------------------- inputs and implementations


@dataclass
class Inputs:
    """The arrays of one layer, in NHWC/HWIO order.

    Attributes
    ----------
    x : ndarray, (N, H, W, C)
    weight : ndarray, (KH, KW, C // groups, O)
    bias : ndarray, (O,)
    grad_out : ndarray, (N, Ho, Wo, O)
    """

    x: np.ndarray
    weight: np.ndarray
    bias: np.ndarray
    grad_out: np.ndarray


def make_inputs(layer: LayerSpec, dtype: str) -> Inputs:
    """Draw the layer's arrays from ``default_rng(0)``, standard normal, in ``dtype``."""
    rng: Any = np.random.default_rng(0)  # standard_normal's dtype here is a str
    ho, wo = layer.out_hw
    kh, kw = layer.kernel
    return Inputs(
        x=rng.standard_normal((layer.N, layer.H, layer.W, layer.C), dtype=dtype),
        weight=rng.standard_normal((kh, kw, layer.C // layer.groups, layer.O), dtype=dtype),
        bias=rng.standard_normal(layer.O, dtype=dtype),
        grad_out=rng.standard_normal((layer.N, ho, wo, layer.O), dtype=dtype),
    )


def to_layout(inputs: Inputs, layout: str) -> Inputs:
    """Return the inputs in ``layout`` (NCHW: x/grad_out NCHW, weight OIHW), contiguous."""
    if layout == "NHWC":
        return inputs
    return Inputs(
        x=np.ascontiguousarray(inputs.x.transpose(0, 3, 1, 2)),
        weight=np.ascontiguousarray(inputs.weight.transpose(3, 2, 0, 1)),
        bias=inputs.bias,
        grad_out=np.ascontiguousarray(inputs.grad_out.transpose(0, 3, 1, 2)),
    )


@dataclass
class Impl:
    """One implementation bound to one layer's inputs.

    Attributes
    ----------
    name : str
        ``"cconv"``, ``"reference"``, ``"torch"`` or ``"ort"``.
    forward, backward : callable
        Zero-argument functions running one pass; ``backward`` is None for an
        implementation without one (ORT), which then sits the pass out.
    to_numpy : callable
        Turns a pass's result into NumPy arrays in the benchmark's layout:
        ``y`` for the forward pass, ``(grad_x, grad_weight, grad_bias)`` for the
        backward pass.
    settle_s : float
        Pause after a call before another implementation runs, so that this
        one's idle worker threads stop spinning and do not steal the next
        one's cores (needed after OpenBLAS, see ``SETTLE_BLAS_S``).
    """

    name: str
    forward: Callable[[], object]
    backward: Callable[[], object] | None
    to_numpy: Callable[[object], object] = lambda result: result
    settle_s: float = 0.0

    def has_pass(self, pass_: str) -> bool:
        """Whether this implementation runs ``pass_``."""
        return pass_ == "fwd" or self.backward is not None

    def pass_fn(self, pass_: str) -> Callable[[], object]:
        """The zero-argument function of ``pass_`` (``"fwd"`` or ``"bwd"``)."""
        fn = self.forward if pass_ == "fwd" else self.backward
        if fn is None:
            raise ValueError(f"{self.name} has no {pass_} pass")
        return fn


def module_impl(name: str, module: Any, layer: LayerSpec, inputs: Inputs, layout: str,
               settle_s: float = 0.0, threads: int | None = None) -> Impl:
    """Bind ``module.conv2d``/``module.conv2d_backward`` (cconv or cconv.reference);
    ``threads`` pins cconv's ``num_threads``."""
    kwargs: dict[str, Any] = dict(stride=layer.stride, padding=layer.padding, dilation=layer.dilation,
                                  groups=layer.groups, layout=layout)
    if threads is not None:
        kwargs["num_threads"] = threads
    return Impl(
        name=name,
        forward=lambda: module.conv2d(inputs.x, inputs.weight, inputs.bias, **kwargs),
        backward=lambda: module.conv2d_backward(inputs.grad_out, inputs.x, inputs.weight, **kwargs),
        settle_s=settle_s,
    )


def torch_impl(torch: Any, layer: LayerSpec, inputs: Inputs, layout: str) -> Impl:
    """Bind PyTorch's conv2d and convolution_backward on channels_last tensors.

    ``inputs`` must be in NHWC/HWIO order; ``layout`` is the order that
    ``to_numpy`` converts the results to.
    """
    channels_last = torch.channels_last
    x = torch.from_numpy(inputs.x).permute(0, 3, 1, 2).contiguous(memory_format=channels_last)
    w = torch.from_numpy(inputs.weight).permute(3, 2, 0, 1).contiguous(memory_format=channels_last)
    b = torch.from_numpy(inputs.bias)
    g = torch.from_numpy(inputs.grad_out).permute(0, 3, 1, 2).contiguous(memory_format=channels_last)
    stride, padding, dilation = list(layer.stride), list(layer.padding), list(layer.dilation)
    conv2d = torch.nn.functional.conv2d
    conv_backward = torch.ops.aten.convolution_backward

    def forward() -> Any:
        with torch.no_grad():
            return conv2d(x, w, b, stride, padding, dilation, layer.groups)

    def backward() -> Any:
        with torch.no_grad():
            return conv_backward(g, x, w, [layer.O], stride, padding, dilation, False, [0, 0],
                                 layer.groups, [True, True, True])

    def activation(t: Any) -> Any:
        a = t.numpy()  # logical NCHW
        return a.transpose(0, 2, 3, 1) if layout == "NHWC" else a

    def to_numpy(result: Any) -> Any:
        if isinstance(result, (tuple, list)):
            gx, gw, gb = result
            gw = gw.numpy()  # OIHW
            return (activation(gx), gw.transpose(2, 3, 1, 0) if layout == "NHWC" else gw, gb.numpy())
        return activation(result)

    return Impl(name="torch", forward=forward, backward=backward, to_numpy=to_numpy)


#: Opset of the ORT baseline's one-node model (Conv is unchanged since opset 11).
ORT_OPSET = 17

#: Pause after ORT before another implementation runs: ORT's intra-op worker
#: spins after a run before it sleeps (measured ~50 ms of CPU time on 2 cores).
SETTLE_ORT_S = 0.1


def ort_impl(mods: OrtModules, layer: LayerSpec, inputs: Inputs, layout: str, threads: int) -> Impl:
    """Bind an ONNX Runtime session of a one-node ``Conv`` model (forward only).

    The model is built in memory with ``onnx.helper``: input ``x`` NCHW, the
    weight (OIHW) and bias as initializers, as in an exported model, so ORT
    may pre-pack the weight when the session is created. The session runs on
    ``CPUExecutionProvider``, sequentially, with ``threads`` intra-op threads
    and one inter-op thread. ``inputs`` must be in NHWC/HWIO order; ``x`` is
    converted to NCHW here, once, outside the timed call; ``layout`` is the
    order that ``to_numpy`` converts the result to.
    """
    ort, onnx = mods.ort, mods.onnx
    helper = onnx.helper
    x = np.ascontiguousarray(inputs.x.transpose(0, 3, 1, 2))
    w = np.ascontiguousarray(inputs.weight.transpose(3, 2, 0, 1))
    elem = helper.np_dtype_to_tensor_dtype(x.dtype)
    ho, wo = layer.out_hw
    (ph, pw), (sh, sw), (dh, dw) = layer.padding, layer.stride, layer.dilation
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=list(layer.kernel),
                            strides=[sh, sw], pads=[ph, pw, ph, pw], dilations=[dh, dw], group=layer.groups)
    graph = helper.make_graph(
        [node], "cconv_bench_conv",
        [helper.make_tensor_value_info("x", elem, list(x.shape))],
        [helper.make_tensor_value_info("y", elem, [layer.N, layer.O, ho, wo])],
        initializer=[onnx.numpy_helper.from_array(w, "w"), onnx.numpy_helper.from_array(inputs.bias, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", ORT_OPSET)],
                              producer_name="cconv.bench")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(model.SerializeToString(), sess_options=options,
                                   providers=["CPUExecutionProvider"])
    feeds = {"x": x}

    def forward() -> Any:
        return session.run(["y"], feeds)[0]

    def to_numpy(result: Any) -> Any:
        return result.transpose(0, 2, 3, 1) if layout == "NHWC" else result

    return Impl(name="ort", forward=forward, backward=None, to_numpy=to_numpy,
                settle_s=SETTLE_ORT_S if threads > 1 else 0.0)


#: Pause after the reference before another implementation runs, when BLAS has
#: more than one thread: OpenBLAS (under the reference's matmul) keeps its
#: workers spinning for ~0.1 s after a call, which measured up to 2x slower
#: cconv/torch calls on 2 cores. OpenMP runtimes (cconv, torch) spin for a few
#: milliseconds at most; the first call of each block absorbs that.
SETTLE_BLAS_S = 0.12


def make_impls(layer: LayerSpec, inputs: Inputs, layout: str, reference: Any, torch: Any,
               threads: int, ort: OrtModules | None = None) -> list[Impl]:
    """The implementations to time for one layer, cconv first.

    ``reference``, ``torch`` and ``ort`` are the modules, or None to skip them.
    """
    native = to_layout(inputs, layout)
    impls = [module_impl("cconv", cconv, layer, native, layout)]
    if reference is not None:
        settle = SETTLE_BLAS_S if threads > 1 else 0.0
        impls.append(module_impl("reference", reference, layer, native, layout, settle))
    if torch is not None:
        impls.append(torch_impl(torch, layer, inputs, layout))
    if ort is not None:
        try:
            impls.append(ort_impl(ort, layer, inputs, layout, threads))
        except Exception as exc:  # the session could not be built: report it as ort's error
            impls.append(failing_impl("ort", f"session creation: {type(exc).__name__}: {exc}"))
    return impls


def failing_impl(name: str, message: str) -> Impl:
    """A forward-only implementation that raises ``RuntimeError(message)``."""
    def forward() -> object:
        raise RuntimeError(message)

    return Impl(name=name, forward=forward, backward=None)


# --------------------------------------------------------------------------- timing


class Runner:
    """Times calls one at a time, pausing whenever the implementation changes.

    The pause is the previous implementation's ``settle_s``: its idle threads
    must stop spinning before another thread pool starts, or the two fight
    over the cores and the second one's time is inflated.
    """

    def __init__(self) -> None:
        self._previous: Impl | None = None

    def time(self, impl: Impl, pass_: str) -> tuple[float, object]:
        """Run one pass of ``impl``; return (seconds, result)."""
        if self._previous is not None and self._previous is not impl:
            time.sleep(self._previous.settle_s)
        self._previous = impl
        fn = impl.pass_fn(pass_)
        start = time.perf_counter()
        result = fn()
        return time.perf_counter() - start, result


def warm_up(runner: Runner, impls: list[Impl], pass_: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Call every implementation's pass once.

    Returns
    -------
    seconds : dict[str, Any]
        Warm-up time of each implementation that ran.
    results : dict[str, Any]
        Its result, converted to NumPy, for the correctness check.
    errors : dict[str, Any]
        ``"ExceptionType: message"`` of each implementation that raised.
    """
    seconds, results, errors = {}, {}, {}
    for impl in impls:
        if not impl.has_pass(pass_):
            continue
        try:
            seconds[impl.name], result = runner.time(impl, pass_)
            results[impl.name] = impl.to_numpy(result)
        except Exception as exc:  # report and carry on with the others
            seconds.pop(impl.name, None)
            errors[impl.name] = f"{type(exc).__name__}: {exc}"
    return seconds, results, errors


def plan_repeats(warmup_s: dict[str, Any], policy: TimingPolicy, fixed: int | None) -> dict[str, Any]:
    """Number of timed repeats per implementation, from its warm-up time."""
    if fixed is not None:
        return {name: fixed for name in warmup_s}
    plan = {}
    for name, seconds in warmup_s.items():
        wanted = math.ceil(policy.budget_s / max(seconds, 1e-6))
        if name == "reference":
            plan[name] = min(max(wanted, policy.ref_min_repeats), policy.ref_max_repeats)
        else:
            plan[name] = min(max(wanted, policy.min_repeats), policy.max_repeats)
    return plan


def split_repeats(total: int, rounds: int) -> list[int]:
    """Split ``total`` repeats into ``rounds`` blocks as evenly as possible (larger first)."""
    return [total // rounds + (1 if r < total % rounds else 0) for r in range(rounds)]


def measure_interleaved(runner: Runner, impls: list[Impl], pass_: str, repeats: dict[str, Any],
                        rounds: int) -> dict[str, Any]:
    """Time each implementation ``repeats[name]`` times, interleaved in rounds.

    In each round every implementation runs a block of consecutive calls
    (cconv, cconv, ..., reference, torch, torch, ...), so that machine noise
    is spread over all of them while most calls run with their own thread
    pool awake, as in a user's loop; the median discards the colder first
    call of a block.

    Returns
    -------
    dict
        Milliseconds of every repeat, per implementation name.
    """
    runnable = [impl for impl in impls if impl.name in repeats]
    samples: dict[str, list[float]] = {impl.name: [] for impl in runnable}
    blocks = {impl.name: split_repeats(repeats[impl.name], rounds) for impl in runnable}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for round_ in range(rounds):
            for impl in runnable:
                for _ in range(blocks[impl.name][round_]):
                    seconds, _result = runner.time(impl, pass_)
                    samples[impl.name].append(seconds * 1e3)
    finally:
        if gc_was_enabled:
            gc.enable()
    return samples


# --------------------------------------------------------------------------- correctness


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


ORACLES = ("reference", "torch", "ort")


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


# --------------------------------------------------------------------------- one layer


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator``, or None if either is missing."""
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def make_record(layer: LayerSpec, pass_: str, samples: dict[str, Any], check: dict[str, Any], errors: dict[str, Any],
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


def progress(message: str) -> None:
    """Print a progress line to stderr at once."""
    print(message, file=sys.stderr, flush=True)


def run_layer(layer: LayerSpec, impls: list[Impl], dtype: str, policy: TimingPolicy,
              fixed_repeats: int | None, layout: str = "NHWC",
              gemm_gflops: float | None = None, peak_gflops: float | None = None) -> list[dict[str, Any]]:
    """Warm up, check and time both passes of one layer; return two records."""
    records = []
    impl_names = [impl.name for impl in impls]
    runner = Runner()
    for pass_ in PASSES:
        warmup_s, results, errors = warm_up(runner, impls, pass_)
        check = check_against_oracle(results, pass_, dtype)
        del results
        repeats = plan_repeats(warmup_s, policy, fixed_repeats)
        samples = measure_interleaved(runner, impls, pass_, repeats, policy.rounds)
        records.append(make_record(layer, pass_, samples, check, errors, impl_names,
                                   layer_route(layer, pass_, layout), gemm_gflops, peak_gflops))
    return records


# --------------------------------------------------------------------------- report


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


def _fmt_ms(value: float | None) -> str:
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


def _fmt_gflops(value: float | None) -> str:
    """GFLOP/s with one or two decimals, or ``-``."""
    if value is None:
        return "-"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _fmt_speedup(value: float | None) -> str:
    """A speedup such as ``12.3x``, or ``-``."""
    return "-" if value is None else f"{value:.1f}x"


def _fmt_ratio(value: float | None) -> str:
    """A time ratio with two decimals, or ``-``."""
    return "-" if value is None else f"{value:.2f}"


def _fmt_check(record: dict[str, Any]) -> str:
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
                    + [_fmt_ms(r["ms"][n]) for n in impl_names]
                    + [_fmt_gflops(r["gflops"][n]) for n in impl_names]
                    + ["-" if share is None else f"{100 * share:.0f}%",
                       "-" if peak is None else f"{100 * peak:.0f}%",
                       _fmt_speedup(r["speedup_vs_reference"]), _fmt_ratio(r["cconv_over_torch"]),
                       _fmt_ratio(r["cconv_over_ort"]), _fmt_check(r)])
    rows.append(None)
    blanks = [""] * (2 * len(impl_names) + 2)
    for pass_ in PASSES:
        rows.append(["geomean", pass_, ""] + blanks
                    + [_fmt_speedup(summary["geomean_speedup_vs_reference"][pass_]),
                       _fmt_ratio(summary["geomean_cconv_over_torch"][pass_]),
                       _fmt_ratio(summary["geomean_cconv_over_ort"][pass_]), ""])
    right = set(range(3, len(headers) - 1))
    return render_table(headers, rows, right)


def format_legend(layers: list[LayerSpec]) -> str:
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


def write_json(path: str, meta: dict[str, Any], records: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    """Write the results to ``path`` (schema in the module docstring)."""
    document = {"schema": "cconv-bench/1", "metadata": meta, "results": records, "summary": summary}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=2, allow_nan=False, default=_json_default)
        f.write("\n")


def _json_default(value: object) -> Any:
    """JSON fallback for NumPy scalars; inf relative errors become null."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {value!r}")


def _finite_or_none(records: list[dict[str, Any]]) -> None:
    """Replace an infinite max_rel_err (shape mismatch) by None, for strict JSON."""
    for r in records:
        for check in (r["check"], r["check"].get("ort")):
            err = None if check is None else check["max_rel_err"]
            if err is not None and not math.isfinite(err):
                check["max_rel_err"] = None


# --------------------------------------------------------------------------- main


def run_suite(layers: list[LayerSpec], args: argparse.Namespace, reference: Any, torch: Any,
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


SCALING_REPEATS = 20


def run_scaling(layers: list[LayerSpec], args: argparse.Namespace, threads: int, meta: dict[str, Any]) -> int:
    """``--scaling``: cconv alone at 1 thread and at ``threads``; print the
    speedup and the slowest/fastest spread of the runs; return 0."""
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
                    samples[n] += [_timed(fn) * 1e3 for _ in range(5)]
            ms_1, ms_n = statistics.median(samples[1]), statistics.median(samples[threads])
            spread = max(samples[threads]) / min(samples[threads])
            out.append({"name": layer.name, "pass": pass_, "threads": threads, "ms_1": ms_1, "ms_n": ms_n,
                        "speedup": ms_1 / ms_n, "max_over_min": spread})
            rows.append([layer.name, pass_, layer_route(layer, pass_, args.layout), _fmt_ms(ms_1), _fmt_ms(ms_n),
                         f"{ms_1 / ms_n:.2f}x", f"{spread:.2f}"])
    print()
    print(render_table(["layer", "pass", "route", "1 thread ms", f"{threads} threads ms", "speedup",
                        f"max/min of {SCALING_REPEATS}"], rows, {3, 4, 5, 6}))
    if args.json:
        meta["scaling_repeats"] = SCALING_REPEATS
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"schema": "cconv-bench/1", "metadata": meta, "results": [], "summary": {},
                       "scaling": out}, f, indent=2, default=_json_default)
            f.write("\n")
        progress(f"wrote {args.json}")
    return 0


AFTER_MATMUL_REPEATS = 15
AFTER_MATMUL_SIZE = 1024
AFTER_MATMUL_BLOCK = 5


def blas_thread_counts() -> list[int] | None:
    """numpy's BLAS thread counts as threadpoolctl reads them (nothing is
    changed), or None without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [int(info["num_threads"]) for info in threadpool_info() if info.get("user_api") == "blas"]


def time_after_matmul(fn: Callable[[], object], matmul: Callable[[], object],
                      repeats: int = AFTER_MATMUL_REPEATS) -> tuple[list[float], list[float]]:
    """Milliseconds of ``fn`` called back to back, and of ``fn`` called right
    after ``matmul``, ``repeats`` of each, interleaved in blocks of
    AFTER_MATMUL_BLOCK.

    A back-to-back block starts after SETTLE_BLAS_S of sleep (OpenBLAS's
    workers from the previous matmul stop spinning) and one untimed call of
    ``fn`` (its own thread pool wakes up); in an after-matmul block each timed
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
                fn()
                back += [_timed(fn) * 1e3 for _ in range(block)]
            for _ in range(min(AFTER_MATMUL_BLOCK, repeats - len(after))):
                matmul()
                after.append(_timed(fn) * 1e3)
    finally:
        if gc_was_enabled:
            gc.enable()
    time.sleep(SETTLE_BLAS_S)
    return back, after


def run_after_matmul(layers: list[LayerSpec], args: argparse.Namespace, threads: int,
                     meta: dict[str, Any]) -> int:
    """``--after-matmul``: cconv right after a numpy matmul against cconv back
    to back, per layer and pass; print the medians and their ratio; return 0."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((AFTER_MATMUL_SIZE, AFTER_MATMUL_SIZE), dtype=np.float32)
    b = rng.standard_normal((AFTER_MATMUL_SIZE, AFTER_MATMUL_SIZE), dtype=np.float32)
    out = np.empty_like(a)

    def matmul() -> object:
        return np.matmul(a, b, out=out)

    matmul()
    matmul_ms = statistics.median(_timed(matmul) * 1e3 for _ in range(5))
    time.sleep(SETTLE_BLAS_S)
    blas = blas_thread_counts()
    blas_text = "/".join(map(str, blas)) if blas else "unknown (threadpoolctl missing)"
    print(f"  after-matmul: numpy matmul {AFTER_MATMUL_SIZE}x{AFTER_MATMUL_SIZE} float32 a @ b "
          f"({matmul_ms:.2f} ms, BLAS threads "
          f"{blas_text}, numpy's own setting), then at once one cconv call; against cconv called back "
          f"to back; median of {AFTER_MATMUL_REPEATS} each", flush=True)
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
            rows.append([layer.name, pass_, layer_route(layer, pass_, args.layout), _fmt_ms(ms_back),
                         _fmt_ms(ms_after), f"{ratio:.2f}"])
    print()
    print(render_table(["layer", "pass", "route", "back-to-back ms", "after matmul ms", "ratio"],
                       rows, {3, 4, 5}))
    if args.json:
        meta["after_matmul"] = {"repeats": AFTER_MATMUL_REPEATS, "matmul_size": AFTER_MATMUL_SIZE,
                                "matmul_dtype": "float32", "matmul_ms": matmul_ms, "blas_threads": blas}
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"schema": "cconv-bench/1", "metadata": meta, "results": [], "summary": {},
                       "after_matmul": out_records}, f, indent=2, default=_json_default)
            f.write("\n")
        progress(f"wrote {args.json}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark CLI.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        0 (mismatches are reported, not fatal).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    layers = select_layers(args, parser)
    if args.after_matmul and (args.scaling or args.plot):
        parser.error("--after-matmul does not combine with --scaling or --plot")
    if args.json and not os.path.isdir(os.path.dirname(os.path.abspath(args.json))):
        parser.error(f"--json {args.json!r}: directory does not exist")
    if args.plot:
        from ._bench_plot import plot_problem
        problem = plot_problem(args.plot)
        if problem:
            parser.error(f"--plot: {problem}")
    threads = args.threads or cconv.get_num_threads()
    reference = None if args.no_reference else importlib.import_module("cconv.reference")
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
    if args.json:
        _finite_or_none(records)
        write_json(args.json, meta, records, summary)
        progress(f"wrote {args.json}")
    if args.plot:
        from ._bench_plot import plot_benchmark
        _finite_or_none(records)
        plot_benchmark({"schema": "cconv-bench/1", "metadata": meta, "results": records, "summary": summary},
                       args.plot)
        progress(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    main()
