"""How the implementations are timed.

Each implementation is called once to warm up (that result is also the
correctness check, see ``check``). Then the implementations are timed
interleaved in three rounds (in each round a block of consecutive calls of
cconv, then of the reference, then of torch, then of ORT) with
``time.perf_counter`` and the garbage collector off. After the reference the
runner pauses 0.12 s, as OpenBLAS (under the reference's matmul) keeps a
worker spinning for ~0.1 s after a call, which would steal a core from the
next implementation (after ORT, whose worker spins ~50 ms, 0.1 s). After
such a pause the next implementation runs untimed for WARM_AFTER_PAUSE_S
before its block is timed: on a virtual machine an idle vCPU can take tens
of milliseconds to run at full speed again, and without the warm-up the
block after a pause (cconv's and torch's, never ORT's, which follows torch
without a pause) measured up to 2x slower. The
number of repeats adapts to the warm-up time: at least a few, more for fast
layers until a time budget per function is spent, and fewer for the slow
reference; ``--repeat N`` fixes it for all. The median is reported.
"""
from __future__ import annotations

import gc
import math
import time
from dataclasses import dataclass
from typing import Any, Callable

from .impl import Impl

#: Pause after the reference before another implementation runs, when BLAS has
#: more than one thread: OpenBLAS (under the reference's matmul) keeps its
#: workers spinning for ~0.1 s after a call, which measured up to 2x slower
#: cconv/torch calls on 2 cores. OpenMP runtimes (cconv, torch) spin for a few
#: milliseconds at most; the first call of each block absorbs that.
SETTLE_BLAS_S = 0.12

#: Untimed calls of the next implementation after a settle pause, for at least
#: this long: on a 2-vCPU AMD EPYC (Zen 5) VM, a 10-call block of a 2-thread
#: conv right after 0.2 s idle measured a median of 4.2 ms against 2.4-2.6 ms
#: after 50-200 ms of such calls (20 ms: 3.1 ms).
WARM_AFTER_PAUSE_S = 0.05


@dataclass(frozen=True)
class TimingPolicy:
    """How many times to repeat each function.

    Parameters
    ----------
    budget_s : float
        Time to spend on each function and pass, estimated from the warm-up.
    min_repeats, max_repeats : int
        Bounds on the repeats of cconv and torch.
    ref_min_repeats, ref_max_repeats : int
        Bounds on the repeats of the (slow) reference.
    rounds : int
        Interleaving rounds: each round runs every implementation's share of
        its repeats back to back before moving on to the next implementation.
    """

    budget_s: float
    min_repeats: int
    max_repeats: int
    ref_min_repeats: int
    ref_max_repeats: int
    rounds: int = 3


FULL_POLICY = TimingPolicy(budget_s=0.3, min_repeats=5, max_repeats=100, ref_min_repeats=2, ref_max_repeats=3)
QUICK_POLICY = TimingPolicy(budget_s=0.1, min_repeats=3, max_repeats=30, ref_min_repeats=1, ref_max_repeats=2)


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def warm(fn: Callable[[], object], seconds: float) -> int:
    """Call ``fn`` untimed until ``seconds`` have passed (at least once when
    ``seconds`` > 0); return the number of calls."""
    calls = 0
    start = time.perf_counter()
    while seconds > 0 and (calls == 0 or time.perf_counter() - start < seconds):
        fn()
        calls += 1
    return calls


class Runner:
    """Times calls one at a time, pausing whenever the implementation changes.

    The pause is the previous implementation's ``settle_s``: its idle threads
    must stop spinning before another thread pool starts, or the two fight
    over the cores and the second one's time is inflated. After a pause the
    new implementation first runs untimed for ``warm_s`` (see
    WARM_AFTER_PAUSE_S), so that every timed block starts on awake cores.
    """

    def __init__(self, warm_s: float = WARM_AFTER_PAUSE_S) -> None:
        self._previous: Impl | None = None
        self.warm_s = warm_s

    def time(self, impl: Impl, pass_: str) -> tuple[float, object]:
        """Run one pass of ``impl``; return (seconds, result)."""
        fn = impl.pass_fn(pass_)
        if self._previous is not None and self._previous is not impl:
            if self._previous.settle_s > 0:
                time.sleep(self._previous.settle_s)
                warm(fn, self.warm_s)
        self._previous = impl
        start = time.perf_counter()
        result = fn()
        return time.perf_counter() - start, result


def warm_up(runner: Runner, impls: list[Impl], pass_: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Call every implementation's pass once.

    Returns
    -------
    seconds : dict[str, Any]
        Warm-up time of each implementation that ran.
    results : dict[str, Any]
        Its result, converted to NumPy, for the correctness check.
    errors : dict[str, Any]
        ``"ExceptionType: message"`` of each implementation that raised.
    """
    seconds, results, errors = {}, {}, {}
    for impl in impls:
        if not impl.has_pass(pass_):
            continue
        try:
            seconds[impl.name], result = runner.time(impl, pass_)
            results[impl.name] = impl.to_numpy(result)
        except Exception as exc:  # report and carry on with the others
            seconds.pop(impl.name, None)
            errors[impl.name] = f"{type(exc).__name__}: {exc}"
    return seconds, results, errors


def plan_repeats(warmup_s: dict[str, Any], policy: TimingPolicy, fixed: int | None) -> dict[str, Any]:
    """Number of timed repeats per implementation, from its warm-up time."""
    if fixed is not None:
        return {name: fixed for name in warmup_s}
    plan = {}
    for name, seconds in warmup_s.items():
        wanted = math.ceil(policy.budget_s / max(seconds, 1e-6))
        if name == "reference":
            plan[name] = min(max(wanted, policy.ref_min_repeats), policy.ref_max_repeats)
        else:
            plan[name] = min(max(wanted, policy.min_repeats), policy.max_repeats)
    return plan


def split_repeats(total: int, rounds: int) -> list[int]:
    """Split ``total`` repeats into ``rounds`` blocks as evenly as possible (larger first)."""
    return [total // rounds + (1 if r < total % rounds else 0) for r in range(rounds)]


def measure_interleaved(runner: Runner, impls: list[Impl], pass_: str, repeats: dict[str, Any],
                        rounds: int) -> dict[str, Any]:
    """Time each implementation ``repeats[name]`` times, interleaved in rounds.

    In each round every implementation runs a block of consecutive calls
    (cconv, cconv, ..., reference, torch, torch, ...), so that machine noise
    is spread over all of them while most calls run with their own thread
    pool awake, as in a user's loop; the median discards the colder first
    call of a block.

    Returns
    -------
    dict
        Milliseconds of every repeat, per implementation name.
    """
    runnable = [impl for impl in impls if impl.name in repeats]
    samples: dict[str, list[float]] = {impl.name: [] for impl in runnable}
    blocks = {impl.name: split_repeats(repeats[impl.name], rounds) for impl in runnable}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for round_ in range(rounds):
            for impl in runnable:
                for _ in range(blocks[impl.name][round_]):
                    seconds, _result = runner.time(impl, pass_)
                    samples[impl.name].append(seconds * 1e3)
    finally:
        if gc_was_enabled:
            gc.enable()
    return samples
