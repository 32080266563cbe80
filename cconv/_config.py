"""``cconv.show_config``: the build and run-time facts a bug report needs, as
``numpy.show_config`` gives them: version, compiler, OpenMP, default threads,
the CPU features found and the ISA level of the kernel table in use."""
from __future__ import annotations

import platform
import sys
from typing import Any

from . import _kernels, _openmp_env, _threads


def config() -> dict[str, Any]:
    """Return the facts ``show_config`` prints, as nested dicts."""
    from . import __version__
    from ._threading import get_num_threads

    build = _kernels.build_info()
    return {
        "cconv": {"version": __version__},
        "build": {
            "compiler": build["compiler"],
            "openmp": bool(_threads.openmp_enabled()),
            "openmp_version": build["openmp_version"],
        },
        "openmp_wait_policy": dict(_openmp_env.policy),
        "python": {"version": platform.python_version(), "implementation": platform.python_implementation()},
        "machine": {"architecture": platform.machine(), "system": platform.system()},
        "threads": {"default": get_num_threads()},
        "cpu_features": _kernels.cpu_features(),
        "isa": _kernels.isa(),
        "isa_available": list(_kernels.available_levels()),
        "isa_override": {"variable": _kernels.ENV_VAR, "levels": list(_kernels.LEVELS)},
        "kernels": _kernels.row_info(),
    }


def _lines(value: Any, indent: int) -> list[str]:
    pad = "  " * indent
    if isinstance(value, dict):
        out = []
        for key, item in value.items():
            if isinstance(item, dict):
                out.append(f"{pad}{key}:")
                out.extend(_lines(item, indent + 1))
            else:
                out.append(f"{pad}{key}: {_scalar(item)}")
        return out
    return [f"{pad}{_scalar(value)}"]


def _scalar(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def show_config(mode: str = "stdout") -> dict[str, Any] | None:
    """Show how cconv was built and what it runs on this machine.

    Parameters
    ----------
    mode : {"stdout", "dicts"}, default "stdout"
        "stdout" prints the facts; "dicts" returns them instead.

    Returns
    -------
    dict or None
        With ``mode="dicts"``: ``{"cconv": {"version"}, "build": {"compiler",
        "openmp", "openmp_version"}, "openmp_wait_policy": {"value", "spin_count",
        "set_by"}, "python", "machine", "threads":
        {"default"}, "cpu_features": {name: bool}, "isa": level in use,
        "isa_available": [levels this CPU runs], "isa_override", "kernels":
        the GEMM micro-tile and vector sizes of the level in use}``.
        With ``mode="stdout"``: None.

    Notes
    -----
    The ISA level is the best the CPU runs unless the environment variable
    ``CCONV_ISA`` (``baseline``, ``avx2`` or ``avx512``) names a lower one
    when cconv is imported.
    """
    if not isinstance(mode, str):
        raise TypeError(f"mode must be a str, 'stdout' or 'dicts'; got {type(mode).__name__} {mode!r}")
    if mode not in ("stdout", "dicts"):
        raise ValueError(f"mode must be 'stdout' or 'dicts'; got {mode!r}")
    facts = config()
    if mode == "dicts":
        return facts
    sys.stdout.write("\n".join(_lines(facts, 0)) + "\n")
    return None
