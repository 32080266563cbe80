"""cconv's OpenMP runtime spins only briefly, then sleeps, between parallel
regions (OMP_WAIT_POLICY=passive with GOMP_SPINCOUNT=1000) unless the user
chose otherwise, and the environment is left as it was: see
cconv/_openmp_env.py for why (a long-spinning worker on a core another process
holds delays every region's barrier; one that never spins is woken late for
back-to-back calls)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = ("import os, cconv; print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT')); "
          "p = cconv.show_config('dicts')['openmp_wait_policy']; "
          "print(p['value'], '|', p['spin_count'], '|', p['set_by'])")


def run(env_value: str | None, spin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, OMP_DISPLAY_ENV="VERBOSE")
    env.pop("OMP_WAIT_POLICY", None)
    env.pop("GOMP_SPINCOUNT", None)
    if env_value is not None:
        env["OMP_WAIT_POLICY"] = env_value
    if spin is not None:
        env["GOMP_SPINCOUNT"] = spin
    return subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)


def _runtime_setting(stderr: str, name: str = "OMP_WAIT_POLICY") -> str | None:
    """What libgomp's OMP_DISPLAY_ENV report says it uses for ``name``."""
    for line in stderr.splitlines():
        if line.strip().startswith(name) and "=" in line:
            return line.split("=", 1)[1].strip().strip("'")
    return None


def test_runtime_is_passive_and_the_environment_is_restored():
    import cconv

    if not cconv.openmp_enabled():
        pytest.skip("serial build: no OpenMP runtime")
    out = run(None)
    assert out.returncode == 0, out.stderr
    after, shown = out.stdout.splitlines()
    assert after == "None None"                 # nothing left behind for other libraries
    assert shown == "passive | 1000 | cconv (at import)"
    assert _runtime_setting(out.stderr) == "PASSIVE"   # libgomp's OMP_DISPLAY_ENV report
    assert _runtime_setting(out.stderr, "GOMP_SPINCOUNT") == "1000"


@pytest.mark.parametrize("value", ["active", "PASSIVE"])
def test_the_users_choice_is_kept(value):
    import cconv

    if not cconv.openmp_enabled():
        pytest.skip("serial build: no OpenMP runtime")
    out = run(value)
    assert out.returncode == 0, out.stderr
    after, shown = out.stdout.splitlines()
    assert after == f"{value} None"
    assert shown == f"{value} | (not set) | the user"
    assert _runtime_setting(out.stderr) == value.upper()
    if value.upper() == "PASSIVE":
        assert _runtime_setting(out.stderr, "GOMP_SPINCOUNT") == "0"   # the user's passive: no spinning


def test_the_users_spin_count_is_kept():
    import cconv

    if not cconv.openmp_enabled():
        pytest.skip("serial build: no OpenMP runtime")
    out = run(None, spin="50000")
    assert out.returncode == 0, out.stderr
    after, shown = out.stdout.splitlines()
    assert after == "None 50000"
    assert shown == "(not set) | 50000 | the user"
    assert _runtime_setting(out.stderr, "GOMP_SPINCOUNT") == "50000"
