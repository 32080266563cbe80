"""Unbatched input: activations with or without the leading batch axis.

Every cconv function takes its activations (``x``, ``grad_out``, an
``input_shape``) either batched, with the layout's full rank (4 for "NHWC"
and "NCHW"), or unbatched, one axis fewer ((H, W, C) or (C, H, W)), as
PyTorch does. The argument that carries the input's shape (``x``, or
``input_shape`` where there is no ``x``) decides it once per call; ``Batch``
records that decision. The entry point puts a unit batch axis in front of each
activation as a view (``Batch.add``), so validation past that point, the
routes and the kernels only ever see the batched form, and takes it off the
activation-shaped results again, also as a view (``Batch.strip``). Nothing is
copied or modified for it.

The accepted ranks come from ``len(layout)``, so a layout of another spatial
rank ("NWC", "NDHWC", ...) needs no code here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from numpy.typing import NDArray


def _ranks(layout: str) -> tuple[int, int]:
    """(unbatched, batched) ranks of an activation in ``layout``."""
    return len(layout) - 1, len(layout)


@dataclass(frozen=True)
class Batch:
    """Whether one call's activations came with the batch axis.

    ``name`` and ``shape`` are the argument that decided it and its shape as
    given (unbatched or not); ``layout`` is the call's canonical layout.
    """

    name: str
    shape: tuple[int, ...]
    layout: str

    @property
    def unbatched(self) -> bool:
        return len(self.shape) == len(self.layout) - 1

    @property
    def batched_shape(self) -> tuple[int, ...]:
        """``shape`` with the batch axis: a unit one in front for an unbatched call."""
        return (1, *self.shape) if self.unbatched else self.shape

    @property
    def order(self) -> str:
        """The axis letters of the activations as given: ``"HWC"`` for unbatched NHWC."""
        return self.layout[1:] if self.unbatched else self.layout

    def add(self, a: NDArray[Any]) -> NDArray[Any]:
        """``a`` with a unit batch axis in front (a view) for an unbatched call; else ``a`` itself."""
        return a[np.newaxis] if self.unbatched else a

    def strip(self, a: NDArray[Any]) -> NDArray[Any]:
        """An activation-shaped result without its unit batch axis (a view) for an unbatched call."""
        return a[0] if self.unbatched else a

    def strip_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        """A batched activation shape as this call's caller sees it."""
        return tuple(shape)[1:] if self.unbatched else tuple(shape)

    def describe(self) -> str:
        """E.g. ``"x is unbatched (3 dimensions, shape (5, 5, 4))"``."""
        kind = "unbatched" if self.unbatched else "batched"
        return f"{self.name} is {kind} ({len(self.shape)} dimensions, shape {self.shape})"

    def check_same(self, shape: Sequence[int], name: str) -> None:
        """Check that a second activation (``grad_out``) has the batch axis exactly when this one has.

        A mismatch of batchedness names both arguments: PyTorch's gradient of
        an unbatched call is unbatched, so a batched ``grad_out`` for an
        unbatched ``x`` (or the reverse) is a caller's mistake, not a batch of 1.
        """
        shape = tuple(shape)
        if len(shape) == len(self.shape):
            return
        unbatched, batched = _ranks(self.layout)
        if len(shape) in (unbatched, batched):
            other = Batch(name, shape, self.layout)
            raise ValueError(
                f"{other.describe()} but {self.describe()}; pass both with the batch axis or both without"
            )
        kind = "unbatched" if self.unbatched else "batched"
        raise ValueError(
            f"{name} must have {len(self.shape)} dimensions for layout {self.layout!r}, {kind} as "
            f"{self.name} (shape {self.shape}) is; got {len(shape)} (shape {shape})"
        )


def batch_iv(shape: Sequence[int], name: str, layout: str) -> Batch:
    """The ``Batch`` of activation ``name`` of this shape, or a ValueError naming the ranks accepted.

    ``layout`` must already be canonical (``_params.layout_iv``).
    """
    shape = tuple(shape)
    unbatched, batched = _ranks(layout)
    if len(shape) not in (unbatched, batched):
        raise ValueError(
            f"{name} must have {unbatched} (unbatched) or {batched} (batched) dimensions for layout "
            f"{layout!r}; got {len(shape)} (shape {shape})"
        )
    return Batch(name, shape, layout)


def grad_out_shape_iv(shape: Sequence[int], expected: Sequence[int], batch: Batch, name: str = "grad_out") -> None:
    """Check ``grad_out``'s shape against the forward output's (``expected``, batched).

    It must be batched as ``batch`` is, and the shapes in the message are the
    caller's (unbatched when the call is).
    """
    batch.check_same(shape, name)
    want = batch.strip_shape(expected)
    if tuple(shape) != want:
        where = batch.layout if not batch.unbatched else f"{batch.order}, unbatched {batch.layout}"
        raise ValueError(f"{name} must have the forward output's shape {want} ({where}); got {tuple(shape)}")
