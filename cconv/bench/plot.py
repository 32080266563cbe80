"""Draw the results of ``python -m cconv.bench`` as a bar chart of GFLOP/s.

The figure has a forward and a backward panel; in each, every layer gets one
horizontal bar per implementation (cconv, numpy-ref, torch), labelled with its
GFLOP/s. The input is the document ``--json`` writes (schema
``"cconv-bench/1"``, described in ``cconv/bench/schema.py``), so a saved run
can be drawn later, or two machines' runs drawn the same way::

    python -m cconv.bench --plot bench.png                 # run and draw
    python -m cconv.bench plot results.json bench.png      # draw a saved run

matplotlib is needed (``pip install "cconv[bench]"``); it is imported only when
a plot is requested, with the Agg backend, so no display is used.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Sequence, cast

from .schema import SCHEMA

PASS_TITLES = {"fwd": "forward", "bwd": "backward (grad_x + grad_weight + grad_bias)"}
LABELS = {"cconv": "cconv", "reference": "numpy-ref", "torch": "torch", "ort": "onnxruntime"}
COLORS = {"cconv": "#1f77b4", "reference": "#7f7f7f", "torch": "#ff7f0e", "ort": "#2ca02c"}
INSTALL_HINT = 'pip install "cconv[bench]"'


def import_pyplot() -> Any:
    """Return ``matplotlib.pyplot`` on the Agg backend.

    Raises
    ------
    ImportError
        If matplotlib is not installed; the message names the ``bench`` extra.
    """
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError(f"plotting benchmark results needs matplotlib: {INSTALL_HINT}") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_problem(path: str) -> str | None:
    """Why ``path`` cannot be written as a plot, or None if it can.

    Checked before a benchmark run so that a missing matplotlib or a wrong
    path is reported at once, not after minutes of timing.
    """
    if not isinstance(path, str) or not path:
        return f"the plot file must be a non-empty path ending in .png; got {path!r}"
    if not path.lower().endswith(".png"):
        return f"the plot file must end in .png; got {path!r}"
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        return f"the plot file's directory does not exist: {path!r}"
    try:
        import_pyplot()
    except ImportError as exc:
        return str(exc)
    return None


def validate_document(document: Any) -> None:
    """Raise ValueError/TypeError unless ``document`` looks like a cconv-bench/1 result.

    Only what the plot reads is checked: ``schema``, ``metadata.implementations``
    and, per record, ``name``, ``pass`` and ``gflops``.
    """
    if not isinstance(document, dict):
        raise TypeError(f"document must be a dict (the --json output); got {type(document).__name__}")
    if document.get("schema") != SCHEMA:
        raise ValueError(f"document['schema'] must be {SCHEMA!r}; got {document.get('schema')!r}")
    impls = document.get("metadata", {}).get("implementations")
    if not isinstance(impls, list) or not impls:
        raise ValueError(f"document['metadata']['implementations'] must be a non-empty list; got {impls!r}")
    results = document.get("results")
    if not isinstance(results, list) or not results:
        raise ValueError(f"document['results'] must be a non-empty list of records; got {results!r}")
    for index, record in enumerate(results):
        missing = [key for key in ("name", "pass", "gflops") if key not in record]
        if missing:
            raise ValueError(f"document['results'][{index}] lacks {missing}; has {sorted(record)}")
        if record["pass"] not in PASS_TITLES:
            raise ValueError(f"document['results'][{index}]['pass'] must be 'fwd' or 'bwd'; "
                             f"got {record['pass']!r}")


def _subtitle(meta: dict[str, Any]) -> str:
    """One line describing the run: version, dtype, layout, threads, CPU."""
    parts = [f"cconv {meta.get('cconv_version', '?')}", str(meta.get("dtype", "?")),
             str(meta.get("layout", "?")), f"{meta.get('threads', '?')} threads"]
    if meta.get("quick"):
        parts.append("--quick")
    if meta.get("torch_version"):
        parts.append(f"torch {meta['torch_version']}")
    if meta.get("onnxruntime_version"):
        parts.append(f"onnxruntime {meta['onnxruntime_version']}")
    cpu = meta.get("cpu_model")
    if cpu:
        parts.append(cpu if len(cpu) <= 48 else cpu[:45] + "...")
    return ", ".join(parts)


def _draw_pass(ax: Any, records: list[dict[str, Any]], impls: list[str], pass_: str) -> None:
    """Grouped horizontal bars of one pass on ``ax``: layers top to bottom.

    An implementation with no value on any layer of this pass (ORT's
    backward, which is not timed) gets no bars, so the pass's panel shows
    only what was measured."""
    names = [r["name"] for r in records]
    impls = [i for i in impls if any(r["gflops"].get(i) is not None for r in records)]
    count = len(impls)
    height = 0.8 / count
    top = max([r["gflops"].get(i) or 0.0 for r in records for i in impls] + [1e-9])
    for k, impl in enumerate(impls):
        # Layer j sits at y = -j (first layer on top); implementations fan out downwards.
        ys = [-j + 0.4 - (k + 0.5) * height for j in range(len(records))]
        values = [r["gflops"].get(impl) for r in records]
        bars = ax.barh(ys, [v or 0.0 for v in values], height=height * 0.92,
                       color=COLORS.get(impl), label=LABELS.get(impl, impl))
        for bar, value, record in zip(bars, values, records):
            text = "n/a" if value is None else (f"{value:.1f}" if value >= 10 else f"{value:.2f}")
            if impl == "cconv" and (record.get("check") or {}).get("ok") is False:
                text += " MISMATCH"
            ax.text(bar.get_width() + top * 0.01, bar.get_y() + bar.get_height() / 2, text,
                    va="center", ha="left", fontsize=7)
    ax.set_yticks([-j for j in range(len(records))], names)
    ax.set_xlim(0, top * 1.18)
    ax.set_xlabel("GFLOP/s (higher is better)")
    ax.set_title(PASS_TITLES[pass_], fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)


def plot_benchmark(document: dict[str, Any], path: str) -> str:
    """Write a PNG of GFLOP/s per layer and implementation, forward and backward.

    Parameters
    ----------
    document : dict
        The benchmark results in the ``--json`` format (schema ``"cconv-bench/1"``).
    path : str
        Output PNG file.

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    ImportError
        matplotlib is missing (the message says ``pip install "cconv[bench]"``).
    ValueError, TypeError
        ``document`` is not a cconv-bench/1 result.
    """
    validate_document(document)
    plt = import_pyplot()
    impls = list(document["metadata"]["implementations"])
    passes = [p for p in PASS_TITLES if any(r["pass"] == p for r in document["results"])]
    layer_count = max(sum(r["pass"] == p for r in document["results"]) for p in passes)
    height = 1.6 + layer_count * (0.28 * len(impls) + 0.25)
    fig, axes = plt.subplots(1, len(passes), figsize=(6.2 * len(passes), height), squeeze=False,
                             sharey=True, layout="constrained")
    for ax, pass_ in zip(axes[0], passes):
        _draw_pass(ax, [r for r in document["results"] if r["pass"] == pass_], impls, pass_)
    fig.suptitle("cconv.bench: conv2d throughput per layer\n" + _subtitle(document["metadata"]),
                 fontsize=11)
    # One legend entry per implementation drawn in any panel, in the order the
    # panels draw them: each panel follows the metadata's order, and an entry
    # first seen in a later panel comes last (ORT has bars in the forward
    # panel only, which is drawn first when both passes are).
    entries: dict[str, Any] = {}
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    fig.legend(list(entries.values()), list(entries), loc="outside lower center",
               ncols=max(len(entries), 1), frameon=False)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def load_document(json_path: str) -> dict[str, Any]:
    """Read a ``--json`` results file; ValueError if it is not one (e.g. a PNG)."""
    not_bench = (f"{json_path} is not a results file written by 'python -m cconv.bench --json' "
                 f"(expected a JSON document with schema {SCHEMA!r})")
    with open(json_path, "rb") as f:
        raw = f.read()
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{not_bench}; it does not parse as JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        found = document.get("schema") if isinstance(document, dict) else type(document).__name__
        raise ValueError(f"{not_bench}; found schema {found!r}")
    return cast("dict[str, Any]", document)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m cconv.bench plot RESULTS.json OUT.png``: draw a saved benchmark run.

    Returns 0; a bad argument or file exits with status 2 and a message, as
    argparse does.
    """
    parser = argparse.ArgumentParser(prog="python -m cconv.bench plot",
                                     description="Draw GFLOP/s per layer from a "
                                                 "'python -m cconv.bench --json' results file.")
    parser.add_argument("results", help="JSON file written by python -m cconv.bench --json")
    parser.add_argument("out", help="PNG file to write")
    args = parser.parse_args(argv)
    problem = plot_problem(args.out)
    if problem:
        parser.error(problem)
    try:
        document = load_document(args.results)
        plot_benchmark(document, args.out)
    except ValueError as exc:
        parser.error(str(exc))
    except (OSError, TypeError) as exc:
        parser.error(f"{args.results}: {exc}")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0
