"""cconv: batched 2-D convolution on NumPy arrays, forward and gradients,
compiled from typed Cython with OpenMP.

NHWC input with HWIO weights is the native layout; NCHW/OIHW (PyTorch's) is
converted at the boundary. ``cconv.reference`` holds the same functions in
pure NumPy, the baseline to compare against.
"""
from ._openmp_env import while_loading_openmp

try:
    with while_loading_openmp():  # OMP_WAIT_POLICY=passive for cconv's runtime, see there
        from . import _threads  # noqa: F401  (the first compiled module: loads OpenMP)
except ImportError as exc:  # pragma: no cover - depends on how cconv was installed
    raise ImportError(
        "cconv's compiled kernels are missing. This usually means Python found the cconv "
        "source directory (for example because you ran it from the repository root) rather "
        "than an installed build. Run from another directory after 'pip install .', or build "
        "in place with 'pip install -e .'."
    ) from exc

from ._config import show_config
from ._threading import get_num_threads, openmp_enabled, set_num_threads
from .conv import (
    conv2d,
    conv2d_backward,
    conv2d_grad_input,
    conv2d_grad_weight,
    output_shape,
    select_algorithm,
)
from .layer import Conv2D, ConvTranspose2D
from .patches import col2im, im2col
from .transpose import conv_transpose2d, conv_transpose2d_backward, conv_transpose2d_output_shape

__version__ = "0.1.0"

__all__ = [
    "conv2d",
    "conv2d_backward",
    "conv2d_grad_input",
    "conv2d_grad_weight",
    "conv_transpose2d",
    "conv_transpose2d_backward",
    "conv_transpose2d_output_shape",
    "im2col",
    "col2im",
    "output_shape",
    "select_algorithm",
    "Conv2D",
    "ConvTranspose2D",
    "get_num_threads",
    "set_num_threads",
    "openmp_enabled",
    "show_config",
]
