"""Type aliases for annotating cconv's public API (for type checkers only).

They describe what the validators in ``cconv._params`` accept; anything else
is rejected at run time with a ValueError/TypeError naming the argument.
"""
from __future__ import annotations

from typing import Any, Sequence, Tuple, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["ArrayLike", "FloatArray", "IntPair", "Padding", "Shape"]

#: The arrays cconv returns: float16, float32 or float64 (the inputs' result type).
FloatArray = NDArray[np.floating[Any]]

#: An int or an ``(h, w)`` pair: ``stride``, ``dilation``, ``kernel_size``.
IntPair = Union[int, Tuple[int, int], Sequence[int]]

#: ``int``, ``(ph, pw)``, ``((top, bottom), (left, right))``, ``"valid"`` or ``"same"``.
Padding = Union[int, str, Tuple[int, int], Tuple[Tuple[int, int], Tuple[int, int]], Sequence[Any]]

#: A 4-D shape such as ``x.shape`` or ``weight.shape``.
Shape = Sequence[int]
