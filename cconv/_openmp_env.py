"""How cconv's OpenMP threads wait between parallel regions.

An OpenMP runtime reads ``OMP_WAIT_POLICY`` once, when it is loaded. By
default libgomp's idle threads spin for a while before they sleep. On a
machine where another process holds a core (OpenBLAS's workers spinning after
a numpy matmul, a compiler, another job), a spinning cconv thread uses up its
share of that core, so when the next parallel region starts it is scheduled
late, and every region's closing barrier waits for it: measured on 2 cores
with one core busy, a 2-thread call took 4-15x as long as on 1 thread.
Sleeping threads are woken promptly instead, at a cost of microseconds per
region. So cconv asks for ``passive`` while its first compiled module loads
the runtime, unless the user set ``OMP_WAIT_POLICY``, and restores the
environment at once, so that other libraries loaded later see it unchanged.
(A runtime some other library loaded earlier keeps its own setting.)
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

VARIABLE = "OMP_WAIT_POLICY"
#: What cconv asks of the OpenMP runtime it loads, unless the user set it.
DEFAULT = "passive"

#: The policy in force when cconv was imported, and who chose it (set by
#: ``while_loading_openmp``).
policy: dict[str, str] = {}


@contextmanager
def while_loading_openmp() -> Iterator[None]:
    """Set OMP_WAIT_POLICY=passive (unless the user set it) for the duration
    of the block that loads cconv's first compiled module."""
    user = os.environ.get(VARIABLE)
    if user is not None:
        policy.update(value=user, set_by="the user")
        yield
        return
    policy.update(value=DEFAULT, set_by="cconv (at import)")
    os.environ[VARIABLE] = DEFAULT
    try:
        yield
    finally:
        os.environ.pop(VARIABLE, None)
