"""Filter an image stack larger than memory with cconv on Dask.

The stack is built lazily with ``dask.array.random`` (by default 256 images of
2048 x 2048 float32 pixels: 4 GiB that never exist in memory at once), chunked
in both the batch and the spatial axes. Each chunk is smoothed with a 5 x 5
Gaussian and then differentiated with the two Sobel kernels, all through
``cconv.dask.conv2d``; spatial chunks get the halo rows and columns they need
from their neighbours, so the result is exactly the in-memory one. The edge
magnitude is reduced chunk by chunk to one mean per image and a histogram,
with Dask's progress bar on the terminal. With ``--zarr PATH`` and the
``zarr`` package installed, the edge magnitude stack is also written there.

Run::

    python examples/dask_large_stack.py            # 4 GiB logical stack
    python examples/dask_large_stack.py --small    # a few seconds (used by the tests)
    python examples/dask_large_stack.py --images 64 --size 1024 --chunk 256

Finally one image is recomputed in memory with ``cconv.conv2d`` and compared.
"""
from __future__ import annotations

import argparse
import time

import dask
import dask.array as da
import numpy as np
from dask.diagnostics import ProgressBar

import cconv
import cconv.dask as cdask


def gaussian_kernel(size: int = 5, sigma: float = 1.0) -> np.ndarray:
    """A normalised ``size x size`` Gaussian as an HWIO weight (size, size, 1, 1)."""
    t = np.arange(size) - (size - 1) / 2
    g = np.exp(-0.5 * (t / sigma) ** 2)
    k = np.outer(g, g)
    return (k / k.sum()).astype(np.float32)[:, :, None, None]


def sobel_kernels() -> np.ndarray:
    """The horizontal and vertical Sobel kernels as one HWIO weight (3, 3, 1, 2)."""
    gx = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)
    return np.stack([gx, gx.T], axis=-1)[:, :, None, :]


def edge_magnitude(stack, conv2d, num_threads=None):
    """Gaussian smoothing then Sobel gradient magnitude, with ``conv2d`` from cconv or cconv.dask."""
    smooth = conv2d(stack, gaussian_kernel(), padding="same", num_threads=num_threads)
    grad = conv2d(smooth, sobel_kernels(), padding="same", num_threads=num_threads)
    return (grad[..., 0] ** 2 + grad[..., 1] ** 2) ** 0.5


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=256, help="number of images in the stack (default 256)")
    parser.add_argument("--size", type=int, default=2048, help="height and width of each image (default 2048)")
    parser.add_argument("--chunk", type=int, default=512, help="spatial chunk edge (default 512)")
    parser.add_argument("--batch-chunk", type=int, default=2, help="images per chunk (default 2)")
    parser.add_argument("--small", action="store_true", help="8 images of 300 x 300 in 128-pixel chunks")
    parser.add_argument("--zarr", metavar="PATH", help="also write the edge stack to this zarr store")
    args = parser.parse_args(argv)
    if args.small:
        args.images, args.size, args.chunk = 8, 300, 128
    return args


def main(argv=None) -> dict:
    """Run the example; return the figures it printed."""
    args = parse_args(argv)
    shape = (args.images, args.size, args.size, 1)
    chunks = (args.batch_chunk, args.chunk, args.chunk, 1)
    stack = da.random.default_rng(2024).random(shape, chunks=chunks, dtype=np.float32)
    n_chunks = int(np.prod(stack.numblocks))
    size = f"{stack.nbytes / 2**30:.2f} GiB" if stack.nbytes >= 2**30 else f"{stack.nbytes / 2**20:.1f} MiB"
    print(f"stack {shape} float32, logical size {size}, "
          f"{n_chunks} chunks of {chunks} ({np.prod(chunks) * 4 / 2**20:.1f} MiB each)")

    # One OpenMP thread per kernel call: Dask's thread pool supplies the parallelism.
    edges = edge_magnitude(stack, cdask.conv2d, num_threads=1)
    per_image_mean = edges.mean(axis=(1, 2))
    hist, bin_edges = da.histogram(edges, bins=8, range=(0.0, 2.0))

    t0 = time.perf_counter()
    # The threaded scheduler, whatever else is configured: ProgressBar reports local schedulers.
    with ProgressBar():
        means, counts = dask.compute(per_image_mean, hist, scheduler="threads")
    seconds = time.perf_counter() - t0
    mpix = args.images * args.size * args.size / 1e6
    print(f"filtered {mpix:.1f} Mpixel in {seconds:.2f} s ({mpix / seconds:.1f} Mpixel/s)")
    print(f"mean edge magnitude per image: first {means[0]:.5f}, min {means.min():.5f}, max {means.max():.5f}")
    print("edge magnitude histogram (bins of 0.25 from 0 to 2):", " ".join(str(int(c)) for c in counts))

    if args.zarr:
        try:
            import zarr  # noqa: F401
        except ImportError:
            print("zarr is not installed: skipping --zarr (pip install zarr)")
        else:
            with ProgressBar(), dask.config.set(scheduler="threads"):
                edges.to_zarr(args.zarr, overwrite=True)
            print(f"wrote the edge stack to {args.zarr}")

    # The check: recompute the first image in memory with cconv.conv2d.
    first = stack[:1].compute(scheduler="threads")
    reference = edge_magnitude(first, cconv.conv2d)
    diff = float(np.max(np.abs(edges[:1].compute(scheduler="threads") - reference)))
    print(f"check: max |dask - in-memory| on image 0 = {diff:.3g} (float32)")
    return dict(seconds=seconds, means=means, counts=counts, max_abs_diff=diff)


if __name__ == "__main__":
    main()
