"""cconv: batched 2-D convolution on NumPy arrays, forward and gradients,
compiled from typed Cython with OpenMP.

NHWC input with HWIO weights is the native layout; NCHW/OIHW (PyTorch's) is
converted at the boundary. ``cconv.reference`` holds the same functions in
pure NumPy, the baseline to compare against.
"""
from ._threading import get_num_threads, openmp_enabled, set_num_threads
from .conv import conv2d, conv2d_backward, conv2d_grad_input, conv2d_grad_weight, output_shape
from .layer import Conv2D
from .patches import col2im, im2col

__version__ = "0.1.0"

__all__ = [
    "conv2d",
    "conv2d_backward",
    "conv2d_grad_input",
    "conv2d_grad_weight",
    "im2col",
    "col2im",
    "output_shape",
    "Conv2D",
    "get_num_threads",
    "set_num_threads",
    "openmp_enabled",
]
