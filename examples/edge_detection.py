"""Edge detection with cconv.conv2d: Sobel and Laplacian filters on real photographs.

The two sample photographs shipped with scikit-learn (``china.jpg`` and
``flower.jpg``, 427x640 RGB; no download) are turned to grey levels and
filtered as one batch, ``x`` of shape (2, 427, 640, 1) in NHWC, by a single
``cconv.conv2d`` call whose HWIO weight (3, 3, 1, 3) stacks three kernels:

* Sobel x  (horizontal intensity change, responds to vertical edges),
* Sobel y  (vertical intensity change, responds to horizontal edges),
* Laplacian (second derivative, responds to both, and to fine texture).

The images are first extended by one replicated pixel on each side
(``numpy.pad(mode="edge")``) and convolved without padding, so the output has
the size of the image and the border does not light up as it would against
cconv's zero padding (``padding="same"``). The Sobel gradient
magnitude ``sqrt(gx**2 + gy**2)`` is the edge map. Like PyTorch's, cconv's
convolution is a cross-correlation (the kernel is not flipped); that flips the
sign of gx and gy, not the magnitude.

This is the application of the NumPy prototype cconv grew from (an
``edge_detection`` notebook next to a pure-NumPy ``convolve``).

Usage::

    python examples/edge_detection.py --out edges.png

It writes a PNG with, for each photograph, the input, the Sobel magnitude and
the Laplacian side by side, and prints the time of the convolution.
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import cconv

SOBEL_X = np.array([[-1, 0, 1],
                    [-2, 0, 2],
                    [-1, 0, 1]], dtype=np.float32)
SOBEL_Y = SOBEL_X.T.copy()
LAPLACIAN = np.array([[0, 1, 0],
                      [1, -4, 1],
                      [0, 1, 0]], dtype=np.float32)
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R BT.601 weights of R, G, B


def load_photographs() -> tuple[list[str], np.ndarray]:
    """Return the names and the RGB uint8 pixels (N, H, W, 3) of scikit-learn's sample photographs."""
    from sklearn.datasets import load_sample_images

    photos = load_sample_images()
    names = [path.rsplit("/", 1)[-1].rsplit("\\", 1)[-1] for path in photos.filenames]
    return names, np.stack(photos.images)


def to_grayscale(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 images (N, H, W, 3) -> grey levels in [0, 1], float32, NHWC with one channel."""
    return (rgb.astype(np.float32) / 255.0) @ LUMA[:, np.newaxis]


def edge_weight() -> np.ndarray:
    """HWIO weight (3, 3, 1, 3): output channels Sobel x, Sobel y, Laplacian."""
    return np.stack([SOBEL_X, SOBEL_Y, LAPLACIAN], axis=-1)[:, :, np.newaxis, :]


def edge_maps(gray: np.ndarray) -> dict:
    """Filter grey NHWC images (N, H, W, 1), edge-extended by one pixel, with one ``cconv.conv2d`` call.

    Returns
    -------
    dict
        ``gx``, ``gy``, ``laplacian`` and ``magnitude`` (``sqrt(gx**2 + gy**2)``),
        each (N, H, W) float32, and ``seconds``, the time of the convolution.
    """
    extended = np.pad(gray, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
    start = time.perf_counter()
    out = cconv.conv2d(extended, edge_weight(), padding="valid")
    seconds = time.perf_counter() - start
    gx, gy, lap = out[..., 0], out[..., 1], out[..., 2]
    return {"gx": gx, "gy": gy, "laplacian": lap, "magnitude": np.hypot(gx, gy), "seconds": seconds}


def plot_edges(names, rgb: np.ndarray, maps: dict, path: str, dpi: int) -> None:
    """Write a PNG: one row per photograph with the input, the Sobel magnitude and |Laplacian|."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n, h, w, _ = rgb.shape
    fig, axes = plt.subplots(n, 3, figsize=(3 * 4.2, n * 4.2 * h / w + 0.9), squeeze=False,
                             layout="constrained")
    for row, name in enumerate(names):
        magnitude, lap = maps["magnitude"][row], np.abs(maps["laplacian"][row])
        panels = [
            (rgb[row], None, f"{name} (input, {h}x{w})"),
            (magnitude, np.percentile(magnitude, 99.5), "Sobel gradient magnitude"),
            (lap, np.percentile(lap, 99.5), "|Laplacian|"),
        ]
        for ax, (image, vmax, title) in zip(axes[row], panels):
            if vmax is None:
                ax.imshow(image)
            else:
                ax.imshow(image, cmap="gray", vmin=0, vmax=vmax)
            ax.set_title(title, fontsize=12)
            ax.set_axis_off()
    fig.suptitle(f"Edges by one cconv.conv2d call: {n} photographs x 3 kernels (Sobel x, Sobel y, Laplacian), "
                 f"3x3, edge-replicated border", fontsize=13)
    fig.savefig(path, dpi=dpi, pil_kwargs={"optimize": True})
    plt.close(fig)


def main(argv=None) -> int:
    """Command line: filter the sample photographs and write the side-by-side PNG."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="edges.png", help="PNG file to write")
    parser.add_argument("--dpi", type=int, default=80, help="resolution of the PNG (default 80)")
    args = parser.parse_args(argv)
    if args.dpi < 10:
        parser.error(f"--dpi must be >= 10; got {args.dpi}")
    names, rgb = load_photographs()
    gray = to_grayscale(rgb)
    maps = edge_maps(gray)
    print(f"filtered {gray.shape[0]} images of {gray.shape[1]}x{gray.shape[2]} with 3 kernels "
          f"in {maps['seconds'] * 1e3:.1f} ms ({cconv.get_num_threads()} threads)")
    for name, magnitude in zip(names, maps["magnitude"]):
        print(f"{name}: Sobel magnitude mean {magnitude.mean():.3f}, max {magnitude.max():.2f} "
              f"(grey levels in [0, 1]; the largest possible is {4 * np.sqrt(2):.2f})")
    plot_edges(names, rgb, maps, args.out, args.dpi)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
