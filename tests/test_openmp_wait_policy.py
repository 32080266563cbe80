"""cconv's OpenMP runtime sleeps between parallel regions (OMP_WAIT_POLICY=
passive) unless the user chose otherwise, and the environment is left as it
was: see cconv/_openmp_env.py for why (a spinning worker on a core another
process holds delays every region's barrier)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = ("import os, cconv; print(os.environ.get('OMP_WAIT_POLICY')); "
          "p = cconv.show_config('dicts')['openmp_wait_policy']; print(p['value'], '|', p['set_by'])")


def run(env_value: str | None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, OMP_DISPLAY_ENV="TRUE")
    env.pop("OMP_WAIT_POLICY", None)
    if env_value is not None:
        env["OMP_WAIT_POLICY"] = env_value
    return subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)


def _runtime_policy(stderr: str) -> str | None:
    for line in stderr.splitlines():
        if "OMP_WAIT_POLICY" in line and "=" in line:
            return line.split("=", 1)[1].strip().strip("'")
    return None


def test_runtime_is_passive_and_the_environment_is_restored():
    import cconv

    if not cconv.openmp_enabled():
        pytest.skip("serial build: no OpenMP runtime")
    out = run(None)
    assert out.returncode == 0, out.stderr
    after, shown = out.stdout.splitlines()
    assert after == "None"                      # nothing left behind for other libraries
    assert shown == "passive | cconv (at import)"
    assert _runtime_policy(out.stderr) == "PASSIVE"   # libgomp's OMP_DISPLAY_ENV report


@pytest.mark.parametrize("value", ["active", "PASSIVE"])
def test_the_users_choice_is_kept(value):
    import cconv

    if not cconv.openmp_enabled():
        pytest.skip("serial build: no OpenMP runtime")
    out = run(value)
    assert out.returncode == 0, out.stderr
    after, shown = out.stdout.splitlines()
    assert after == value
    assert shown == f"{value} | the user"
    assert _runtime_policy(out.stderr) == value.upper()
