"""cconv.bench.timing's Runner on stand-in implementations: after an
implementation whose threads need a settle pause, the next one runs untimed
for the warm-up time before its timed call (an idle VM core is slow to come
back), and without a pause nothing extra runs."""
import time

from cconv.bench.impl import Impl
from cconv.bench.timing import Runner, warm


def _counting(name, settle_s=0.0):
    calls = []

    def forward():
        calls.append(time.perf_counter())
        return name

    return Impl(name=name, forward=forward, backward=None, settle_s=settle_s), calls


def test_warm_calls_until_the_time_has_passed_and_at_least_once():
    calls = []
    start = time.perf_counter()
    n = warm(lambda: calls.append(1), 0.02)
    assert n == len(calls) >= 1
    assert time.perf_counter() - start >= 0.02
    assert warm(lambda: calls.append(1), 0.0) == 0


def test_after_a_pause_the_next_implementation_is_warmed_untimed():
    pausing, _ = _counting("pausing", settle_s=0.01)
    other, calls = _counting("other")
    runner = Runner(warm_s=0.03)
    runner.time(pausing, "fwd")
    seconds, result = runner.time(other, "fwd")
    assert result == "other"
    assert len(calls) >= 2                      # warm-up call(s), then the timed one
    assert calls[-1] - calls[0] >= 0.029        # the warm-up lasted warm_s (its clock starts just before calls[0])
    assert seconds < calls[-1] - calls[0]       # and was not part of the timing


def test_no_pause_no_warm_up():
    quiet, _ = _counting("quiet")
    other, calls = _counting("other")
    runner = Runner(warm_s=0.03)
    runner.time(quiet, "fwd")
    runner.time(other, "fwd")
    runner.time(other, "fwd")
    assert len(calls) == 2
