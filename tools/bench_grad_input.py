"""grad_input alone, cconv ("auto") against PyTorch, at the same thread count.

The suite in ``python -m cconv.bench`` times the whole backward pass; issue
targets for Winograd name grad_input by itself. This times
``cconv.conv2d_grad_input`` and ``torch.ops.aten.convolution_backward`` with
only the input gradient requested (channels_last), interleaved in rounds in
one process, and prints median milliseconds, the ratio and its geometric mean.
Run from the repository root:

    python tools/bench_grad_input.py [--threads 2] [--repeats 30] [--dtype float32]
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import cconv  # noqa: E402

LAYERS = [  # name, (N, H, W, C, O), 3x3, stride 1, padding 1
    ("resnet-56x56x64", (8, 56, 56, 64, 64)),
    ("resnet-28x28x128", (8, 28, 28, 128, 128)),
    ("resnet-14x14x256", (8, 14, 14, 256, 256)),
]


def main() -> None:
    """Time every layer and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        sys.exit("tools/bench_grad_input.py compares with PyTorch, which is not installed: "
                 "install PyTorch's CPU build, pinned (pip install torch==2.13.0), or use "
                 "python -m cconv.bench, which runs without it")

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    ratios = []
    print(f"grad_input, {args.threads} threads, {args.dtype}, median of {args.repeats} (interleaved rounds of 5)")
    print(f"{'layer':18s} {'route':12s} {'cconv ms':>9s} {'torch ms':>9s} {'cconv/torch':>12s}")
    for name, (N, H, W, C, O) in LAYERS:
        gy = rng.standard_normal((N, H, W, O)).astype(args.dtype)
        w = rng.standard_normal((3, 3, C, O)).astype(args.dtype)
        x_shape = (N, H, W, C)
        route = cconv.select_algorithm(x_shape, w.shape, padding=1)["grad_input"]
        gyt = torch.from_numpy(gy).permute(0, 3, 1, 2)
        wt = torch.from_numpy(w).permute(3, 2, 0, 1).contiguous(memory_format=torch.channels_last)
        xt = torch.empty((N, C, H, W), dtype=wt.dtype).contiguous(memory_format=torch.channels_last)

        def run_cconv():
            return cconv.conv2d_grad_input(gy, w, x_shape, padding=1, num_threads=args.threads)

        def run_torch():
            with torch.no_grad():
                return torch.ops.aten.convolution_backward(gyt, xt, wt, [O], [1, 1], [1, 1], [1, 1], False,
                                                           [0, 0], 1, [True, False, False])

        ref = run_torch()[0].numpy().transpose(0, 2, 3, 1)
        got = run_cconv()
        err = np.abs(got - ref).max() / np.abs(ref).max()
        samples = {"cconv": [], "torch": []}
        for _ in range(max(args.repeats // 5, 1)):
            for key, fn in (("cconv", run_cconv), ("torch", run_torch)):
                for _ in range(5):
                    t = time.perf_counter()
                    fn()
                    samples[key].append(time.perf_counter() - t)
        c, t = (statistics.median(samples[k]) * 1e3 for k in ("cconv", "torch"))
        ratios.append(c / t)
        print(f"{name:18s} {route:12s} {c:9.2f} {t:9.2f} {c / t:12.2f}   (max rel diff {err:.1e})")
    print(f"geomean cconv/torch: {math.exp(sum(map(math.log, ratios)) / len(ratios)):.2f}")


if __name__ == "__main__":
    main()
