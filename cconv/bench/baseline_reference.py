"""The NumPy baseline: ``cconv.reference``, pure NumPy, the code users
profile against. It has cconv's API, so it is bound like cconv itself; what
differs is the pause after it (its matmul's OpenBLAS workers keep spinning)."""
from __future__ import annotations

import importlib
from types import ModuleType

from .impl import Impl, module_impl
from .inputs import Inputs
from .suite import Layer
from .timing import SETTLE_BLAS_S


def import_reference(enabled: bool) -> ModuleType | None:
    """Return ``cconv.reference``, or None if disabled (``--no-reference``)."""
    return importlib.import_module("cconv.reference") if enabled else None


def reference_impl(reference: ModuleType, layer: Layer, inputs: Inputs, layout: str, threads: int) -> Impl:
    """Bind the reference's conv2d/conv2d_backward to ``inputs`` (already in
    ``layout``), pausing SETTLE_BLAS_S after it when BLAS has more than one thread."""
    settle = SETTLE_BLAS_S if threads > 1 else 0.0
    return module_impl("reference", reference, layer, inputs, layout, settle)
