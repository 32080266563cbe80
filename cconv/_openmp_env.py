"""How cconv's OpenMP threads wait between parallel regions.

An OpenMP runtime reads ``OMP_WAIT_POLICY`` (and libgomp ``GOMP_SPINCOUNT``)
once, when it is loaded. By default libgomp's idle threads spin for about
300000 rounds (milliseconds) before they sleep. On a machine where another
process holds a core (OpenBLAS's workers spinning after a numpy matmul, a
compiler, another job), a long-spinning cconv thread uses up its share of that
core, so when the next parallel region starts it is scheduled late, and every
region's closing barrier waits for it: measured on 2 cores with one core busy,
a 2-thread call took 4-15x as long as on 1 thread. A thread that never spins
(``passive``) is woken promptly then, but on an idle machine it is woken for
every back-to-back call, and a VM's idle vCPU comes back slowly: LeNet's
layers ran no faster on 2 threads than on 1. So cconv asks for ``passive``
with a short spin, ``GOMP_SPINCOUNT=1000``, while its first compiled module
loads the runtime. Measured on a 2-core Zen 5 VM (docs/performance.md,
"Fifth round"): back to back on an idle machine, LeNet's second and first
layer forward took 0.141 and 0.123 ms against 0.189 and 0.185 without
spinning; with the other core busy, 0.335 against 0.251 ms, still below the
one-thread 0.35 ms (3000 rounds: 0.49 ms, worse than one thread). Unless the
user set either variable; the environment is restored at once, so that other
libraries loaded later see it unchanged. (A runtime some other library loaded
earlier keeps its own setting; LLVM's libomp ignores GOMP_SPINCOUNT.)
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

VARIABLE = "OMP_WAIT_POLICY"
#: What cconv asks of the OpenMP runtime it loads, unless the user set it.
DEFAULT = "passive"
#: libgomp's spin count before an idle thread sleeps (GOMP_SPINCOUNT), which
#: cconv asks for with its passive default, unless the user set either variable.
SPIN_VARIABLE = "GOMP_SPINCOUNT"
DEFAULT_SPIN = "1000"

#: The policy in force when cconv was imported, and who chose it (set by
#: ``while_loading_openmp``).
policy: dict[str, str] = {}


@contextmanager
def while_loading_openmp() -> Iterator[None]:
    """Set OMP_WAIT_POLICY=passive and GOMP_SPINCOUNT=1000 (unless the user set
    either) for the duration of the block that loads cconv's first compiled
    module."""
    user = os.environ.get(VARIABLE)
    user_spin = os.environ.get(SPIN_VARIABLE)
    if user is not None or user_spin is not None:
        policy.update(value=user if user is not None else "(not set)",
                      spin_count=user_spin if user_spin is not None else "(not set)", set_by="the user")
        yield
        return
    policy.update(value=DEFAULT, spin_count=DEFAULT_SPIN, set_by="cconv (at import)")
    os.environ[VARIABLE] = DEFAULT
    os.environ[SPIN_VARIABLE] = DEFAULT_SPIN
    try:
        yield
    finally:
        os.environ.pop(VARIABLE, None)
        os.environ.pop(SPIN_VARIABLE, None)
