"""Memory: absurd but valid requests fail with MemoryError/ValueError instead of
crashing, inputs are never written, no leak over many calls, and working memory
beyond inputs and outputs stays bounded however large the batch."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import cconv
from cconv._params import MAX_THREADS

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _run_child(code, env=None, timeout=300):
    """Run ``code`` in a fresh interpreter (cconv importable); return the CompletedProcess."""
    full_env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=full_env, timeout=timeout, cwd=HERE)


# ---------------------------------------------------------------------------
# absurd thread counts. Finding: num_threads=100000 on a layer with enough tiles
# segfaulted inside libgomp (GOMP_parallel keeps per-thread start data on the
# caller's stack), and num_threads >= 2**31 raised OverflowError from the
# Cython int conversion. Both are now a ValueError naming num_threads.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("num_threads", [MAX_THREADS + 1, 100_000, 2**31, 2**63, 2**80])
def test_absurd_num_threads_is_a_value_error(num_threads):
    x = np.ones((1, 64, 64, 1), np.float32)
    w = np.ones((1, 1, 1, 1), np.float32)
    with pytest.raises(ValueError, match=rf"num_threads.*{MAX_THREADS}.*{num_threads}"):
        cconv.conv2d(x, w, num_threads=num_threads)
    with pytest.raises(ValueError, match=r"num_threads"):
        cconv.set_num_threads(num_threads)


def test_largest_allowed_thread_count_runs_without_crash():
    """The regression the cap fixes, in a child: MAX_THREADS threads on a layer with more
    tiles than threads really starts the team, and the result is still exact."""
    child = _run_child(f"""
        import numpy as np, cconv
        x = np.arange(1 * 200 * 200 * 1, dtype=np.float32).reshape(1, 200, 200, 1) % 7
        y = cconv.conv2d(x, np.full((1, 1, 1, 1), 2, np.float32), num_threads={MAX_THREADS})
        assert np.array_equal(y, 2 * x)
        print("ok")
    """)
    assert child.returncode == 0 and "ok" in child.stdout, child.stderr[-2000:]


def test_huge_omp_num_threads_default_is_capped():
    """OMP_NUM_THREADS=100000 crashed the first call (the default followed it); the default is capped."""
    child = _run_child("""
        import numpy as np, cconv
        print(cconv.get_num_threads())
        x = np.ones((1, 200, 200, 1), np.float32)
        assert np.array_equal(cconv.conv2d(x, np.ones((1, 1, 1, 1), np.float32)), x)
        print("ok")
    """, env={"OMP_NUM_THREADS": "100000"})
    assert child.returncode == 0 and "ok" in child.stdout, child.stderr[-2000:]
    assert int(child.stdout.split()[0]) == MAX_THREADS
