"""cconv: batched 1-D, 2-D and 3-D convolution on NumPy arrays, forward and
gradients, compiled from typed Cython with OpenMP.

NHWC input with HWIO weights is the native layout (NWC with WIO in 1-D);
NCHW/OIHW (PyTorch's, NCW/OIW in 1-D) is converted at the boundary. 1-D calls
run on the 2-D kernels as one-row images (a unit H axis, as a view). ``cconv.reference`` holds the same functions in
pure NumPy, the baseline to compare against.

The submodules ``cconv.reference``, ``cconv.dask`` and ``cconv.bench`` load on
first attribute access (SPEC 1), so ``import cconv`` stays fast and never
imports Dask; ``cconv.reference.conv2d(...)`` works after a bare
``import cconv``. The other modules are private (``cconv._conv`` and so on).
"""
import importlib as _importlib
from types import ModuleType as _ModuleType
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import List as _List

from ._openmp_env import while_loading_openmp as _while_loading_openmp

try:
    with _while_loading_openmp():  # OMP_WAIT_POLICY=passive for cconv's runtime, see there
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
from ._conv import (
    conv2d,
    conv2d_backward,
    conv2d_grad_input,
    conv2d_grad_weight,
    output_shape,
    select_algorithm,
)
from ._layer import Conv1D, Conv2D, Conv3D, ConvTranspose1D, ConvTranspose2D, ConvTranspose3D
from ._patches import col2im, im2col
from ._transpose import (
    conv_transpose2d,
    conv_transpose2d_backward,
    conv_transpose2d_output_shape,
    conv_transpose3d,
    conv_transpose3d_backward,
    conv_transpose3d_output_shape,
)
from ._conv1d import (
    conv1d,
    conv1d_backward,
    conv1d_grad_input,
    conv1d_grad_weight,
    conv1d_output_shape,
    conv_transpose1d,
    conv_transpose1d_backward,
)
from ._conv3d import conv3d, conv3d_backward, conv3d_grad_input, conv3d_grad_weight, conv3d_output_shape

__version__ = "0.1.0"

__all__ = [
    "conv1d",
    "conv1d_backward",
    "conv1d_grad_input",
    "conv1d_grad_weight",
    "conv1d_output_shape",
    "conv_transpose1d",
    "conv_transpose1d_backward",
    "conv3d",
    "conv3d_backward",
    "conv3d_grad_input",
    "conv3d_grad_weight",
    "conv3d_output_shape",
    "conv_transpose3d",
    "conv_transpose3d_backward",
    "conv_transpose3d_output_shape",
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
    "Conv1D",
    "Conv2D",
    "Conv3D",
    "ConvTranspose1D",
    "ConvTranspose2D",
    "ConvTranspose3D",
    "get_num_threads",
    "set_num_threads",
    "openmp_enabled",
    "show_config",
]

# Public submodules loaded on first attribute access (SPEC 1, as SciPy does).
# Not in __all__: ``from cconv import *`` must not import Dask.
_SUBMODULES = ["bench", "dask", "reference"]

if _TYPE_CHECKING:  # mypy sees them as ordinary submodules, with their types
    from . import bench as bench
    from . import dask as dask
    from . import reference as reference


def _lazy_getattr(name: str) -> _ModuleType:
    """Import a public submodule on first access; anything else is an AttributeError."""
    if name in _SUBMODULES:
        # The import binds the submodule as an attribute of cconv, so later
        # lookups no longer reach __getattr__.
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> _List[str]:
    return sorted(__all__ + _SUBMODULES + ["__version__"])


# Hidden from mypy so that a misspelt ``cconv.name`` stays a type error
# rather than being typed as the return of a module-level __getattr__.
if not _TYPE_CHECKING:
    __getattr__ = _lazy_getattr
