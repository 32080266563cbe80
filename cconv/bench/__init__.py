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
Inputs come from ``numpy.random.default_rng(0)`` (standard normal, in the
requested dtype), freshly seeded for each layer. BLAS (used by the
reference's matmul) is limited to the same thread count through threadpoolctl
when it is installed.

Usage
-----
::

    python -m cconv.bench                      # full suite, a few minutes on 2 cores
    python -m cconv.bench --quick              # smaller batches, fewer repeats
    python -m cconv.bench --threads 1 --dtype float64
    python -m cconv.bench --layers resnet,stem # only layers whose name contains one of these
    python -m cconv.bench --shape N=8,H=56,W=56,C=64,O=64,k=3,stride=1,pad=1
    python -m cconv.bench --shape N=8,H=56,C=64,O=128,k=3,stride=2,pad=same   # pad: as conv2d's padding
    python -m cconv.bench --json results.json --no-torch --no-onnx
    python -m cconv.bench --plot bench.png     # GFLOP/s bar chart (needs matplotlib)
    python -m cconv.bench plot results.json bench.png   # draw a saved --json run
    python -m cconv.bench --scaling            # cconv alone: 1 vs N threads, and run-to-run spread
    python -m cconv.bench --after-matmul       # cconv alone: right after a numpy matmul vs back to back

Modules
-------
Each module's docstring holds the part of the method it implements:

=======================  ======================================================
``suite``                ``Layer`` (a name and a ``ConvGeometry``), the suite,
                         FLOP counts
``shape``                the ``--shape SPEC`` syntax
``inputs``               the arrays each layer is timed on
``impl``                 ``Impl``, one implementation bound to one layer
``baseline_reference``   the NumPy baseline, ``cconv.reference``
``baseline_torch``       the PyTorch baseline
``baseline_ort``         the ONNX Runtime baseline (forward only)
``timing``               warm-up, repeats, interleaved rounds, pauses
``check``                the correctness check of every timed pass
``machine``              versions, CPU, thread counts, the GEMM and peak
                         yardsticks
``run``                  the suite run: one record per layer and pass
``scaling``              ``--scaling``
``after_matmul``         ``--after-matmul``
``report``               the text table
``schema``               the ``--json`` document, schema ``cconv-bench/1``
``plot``                 the ``--plot`` figure and the ``plot`` command
``cli``                  the options and ``main``
=======================  ======================================================
"""
from .cli import main
from .plot import plot_benchmark
from .shape import parse_shape_spec
from .suite import SUITE, Layer

__all__ = ["main", "Layer", "SUITE", "parse_shape_spec", "plot_benchmark"]
