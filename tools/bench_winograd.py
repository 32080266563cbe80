"""Winograd F(2x2,3x3) / F(4x4,3x3) against cconv's GEMM route and PyTorch.

Times forward and grad_input of the ResNet 3x3 stride-1 layers on one
thread, side by side in one process, as the median of ``time.thread_time()``
over repeats (CPU time of this thread: less noisy than wall time on a shared
machine), and prints the error of each Winograd variant against a float64
direct convolution. Run from the repository root:

    python tools/bench_winograd.py [--repeats 5] [--dtype float32 float64] [--errors-only]

PyTorch (channels_last, torch.set_num_threads(1)) is timed when importable.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import cconv  # noqa: E402
from cconv._winograd import winograd_conv2d, winograd_grad_input  # noqa: E402

LAYERS = [  # (N, H, W, C, O), 3x3, stride 1, padding 1
    (8, 56, 56, 64, 64),
    (8, 28, 28, 128, 128),
    (8, 14, 14, 256, 256),
]
PAD4 = (1, 1, 1, 1)


def thread_time_median(fn, repeats: int) -> float:
    """Median thread CPU seconds of ``fn()`` after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.thread_time()
        fn()
        times.append(time.thread_time() - t0)
    return statistics.median(times)


def direct_f64(x, w, pads=PAD4):
    """float64 direct 3x3 stride-1 convolution (nine shifted GEMMs), groups = 1."""
    pt, pb, pl, pr = pads
    x = np.pad(x.astype(np.float64), ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    w = w.astype(np.float64)
    Ho, Wo = x.shape[1] - 2, x.shape[2] - 2
    y = np.zeros((x.shape[0], Ho, Wo, w.shape[3]))
    for kh in range(3):
        for kw in range(3):
            y += x[:, kh:kh + Ho, kw:kw + Wo, :] @ w[kh, kw]
    return y


def error_table(rng) -> None:
    """Max |error| / max |y_f64| for each tile size, dtype and input kind."""
    kinds = {
        "normal": lambda s: rng.standard_normal(s),
        "uniform>0 x1e4": lambda s: 1e4 * rng.random(s),
        "mixed-sign x1e4": lambda s: 1e4 * rng.standard_normal(s) * rng.choice([-1.0, 1.0], s),
    }
    print("\n| layer | input | dtype | F(2x2) err | F(4x4) err | GEMM err |")
    print("|---|---|---|---|---|---|")
    for (N, H, W, C, O) in [(2, 28, 28, 128, 128), (1, 14, 14, 256, 256)]:
        for kind, gen in kinds.items():
            x64 = gen((N, H, W, C))
            w64 = gen((3, 3, C, O)) / (3 * np.sqrt(C))
            ref = direct_f64(x64, w64)
            scale = np.abs(ref).max()
            for dt in (np.float32, np.float64):
                x, w = x64.astype(dt), w64.astype(dt)
                errs = [np.abs(winograd_conv2d(x, w, None, PAD4, 1, tile=m) - ref).max() / scale for m in (2, 4)]
                gemm = np.abs(cconv.conv2d(x, w, padding=1, num_threads=1) - ref).max() / scale
                print(f"| {N}x{H}x{W}x{C}->{O} | {kind} | {np.dtype(dt).name} | "
                      f"{errs[0]:.1e} | {errs[1]:.1e} | {gemm:.1e} |")


def speed_table(dtypes, repeats: int, rng) -> None:
    """Forward and grad_input medians (ms) and GF/s, one thread."""
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch is optional here
        torch = None
    print("\n| layer | dtype | pass | GEMM ms | F(2x2) ms | F(4x4) ms | torch ms | F(4x4) GF/s | F4 vs torch |")
    print("|---|---|---|---|---|---|---|---|---|")
    for dt in dtypes:
        for (N, H, W, C, O) in LAYERS:
            flops = 2 * N * H * W * C * O * 9
            x = rng.standard_normal((N, H, W, C)).astype(dt)
            w = rng.standard_normal((3, 3, C, O)).astype(dt)
            gy = rng.standard_normal((N, H, W, O)).astype(dt)
            row = {}
            row["fwd"] = [
                lambda: cconv.conv2d(x, w, padding=1, num_threads=1),
                lambda: winograd_conv2d(x, w, None, PAD4, 1, tile=2),
                lambda: winograd_conv2d(x, w, None, PAD4, 1, tile=4),
            ]
            row["grad_input"] = [
                lambda: cconv.conv2d_grad_input(gy, w, x.shape, padding=1, num_threads=1),
                lambda: winograd_grad_input(gy, w, x.shape, PAD4, 1, tile=2),
                lambda: winograd_grad_input(gy, w, x.shape, PAD4, 1, tile=4),
            ]
            if torch is not None:
                tdt = torch.float32 if dt == np.float32 else torch.float64
                xt = torch.tensor(x.transpose(0, 3, 1, 2), dtype=tdt).contiguous(memory_format=torch.channels_last)
                wt = torch.tensor(w.transpose(3, 2, 0, 1), dtype=tdt).contiguous(memory_format=torch.channels_last)
                gyt = torch.tensor(gy.transpose(0, 3, 1, 2), dtype=tdt).contiguous(memory_format=torch.channels_last)

                def t_fwd():
                    with torch.no_grad():
                        torch.nn.functional.conv2d(xt, wt, padding=1)

                def t_gin():
                    torch.ops.aten.convolution_backward(gyt, xt, wt, None, [1, 1], [1, 1], [1, 1], False,
                                                        [0, 0], 1, [True, False, False])
                row["fwd"].append(t_fwd)
                row["grad_input"].append(t_gin)
            for name, fns in row.items():
                ms = [1e3 * thread_time_median(f, repeats) for f in fns]
                tms = f"{ms[3]:.1f}" if len(ms) > 3 else "-"
                ratio = f"{ms[3] / ms[2]:.2f}x" if len(ms) > 3 else "-"
                print(f"| {N}x{H}x{W}x{C}->{O} | {np.dtype(dt).name} | {name} | {ms[0]:.1f} | {ms[1]:.1f} | "
                      f"{ms[2]:.1f} | {tms} | {flops / ms[2] / 1e6:.0f} | {ratio} |", flush=True)


def main() -> None:
    """Parse the options and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--dtype", nargs="+", default=["float32", "float64"])
    ap.add_argument("--errors-only", action="store_true")
    ap.add_argument("--speed-only", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    if not args.errors_only:
        speed_table([np.dtype(d).type for d in args.dtype], args.repeats, rng)
    if not args.speed_only:
        error_table(rng)


if __name__ == "__main__":
    main()
