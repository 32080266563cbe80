"""cconv.bench.plot on hand-made results documents: a valid cconv-bench/1
document (with a missing timing and a mismatch) becomes a PNG with both
passes, and malformed documents or plot paths are refused with messages that
name what is wrong. The end-to-end ``--plot`` run is in test_bench_cli.py."""
import json

import pytest

from cconv.bench import plot

pytest.importorskip("matplotlib")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _record(name, pass_, gflops, ok=True):
    return {"name": name, "pass": pass_, "gflops": gflops,
            "check": {"ok": ok, "max_rel_err": 1e-7, "against": "reference", "worst": "y"}}


def _document():
    return {
        "schema": "cconv-bench/1",
        "metadata": {"cconv_version": "0.1.0", "dtype": "float32", "layout": "NHWC", "threads": 2,
                     "quick": True, "torch_version": "2.13.0+cpu", "cpu_model": "test CPU",
                     "implementations": ["cconv", "reference", "torch"]},
        "results": [
            _record("layer-a", "fwd", {"cconv": 120.0, "reference": 30.0, "torch": 110.0}),
            _record("layer-a", "bwd", {"cconv": 90.0, "reference": 25.0, "torch": None}),
            _record("layer-b", "fwd", {"cconv": 2.5, "reference": 0.4, "torch": 3.0}, ok=False),
            _record("layer-b", "bwd", {"cconv": 1.5, "reference": 0.3, "torch": 1.2}),
        ],
        "summary": {},
    }


def test_plot_writes_a_png_with_both_panels(tmp_path):
    import matplotlib.image

    out = tmp_path / "bench.png"
    assert plot.plot_benchmark(_document(), str(out)) == str(out)
    assert out.read_bytes()[:8] == PNG_MAGIC
    image = matplotlib.image.imread(str(out))
    # Two side-by-side panels: clearly wider than tall, and not a blank canvas.
    assert image.shape[1] > 1.5 * image.shape[0] > 300
    assert image.std() > 0.05


def test_forward_only_document_gives_one_panel(tmp_path):
    import matplotlib.image

    doc = _document()
    doc["results"] = [r for r in doc["results"] if r["pass"] == "fwd"]
    out = tmp_path / "fwd.png"
    plot.plot_benchmark(doc, str(out))
    both = tmp_path / "both.png"
    plot.plot_benchmark(_document(), str(both))
    assert matplotlib.image.imread(str(out)).shape[1] < matplotlib.image.imread(str(both)).shape[1]


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(schema="cconv-bench/2"), "schema"),
    (lambda d: d["metadata"].update(implementations=[]), "implementations"),
    (lambda d: d.update(results=[]), "results"),
    (lambda d: d["results"][0].pop("gflops"), "gflops"),
    (lambda d: d["results"][1].update({"pass": "both"}), "pass"),
])
def test_malformed_documents_are_refused_by_name(tmp_path, change, message):
    doc = _document()
    change(doc)
    with pytest.raises(ValueError, match=message):
        plot.plot_benchmark(doc, str(tmp_path / "x.png"))
    assert not (tmp_path / "x.png").exists()


def test_non_dict_document_is_a_type_error(tmp_path):
    with pytest.raises(TypeError, match="document must be a dict"):
        plot.plot_benchmark([1, 2], str(tmp_path / "x.png"))


def test_plot_problem_names_the_path(tmp_path):
    assert plot.plot_problem(str(tmp_path / "ok.png")) is None
    assert ".png" in plot.plot_problem(str(tmp_path / "out.jpg"))
    assert "does not exist" in plot.plot_problem(str(tmp_path / "missing" / "out.png"))


def test_missing_matplotlib_names_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(ImportError, match=r'pip install "cconv\[bench\]"'):
        plot.import_pyplot()


def test_cli_draws_a_saved_document_and_rejects_a_foreign_json(tmp_path, capsys):
    saved = tmp_path / "results.json"
    saved.write_text(json.dumps(_document()))
    out = tmp_path / "saved.png"
    assert plot.main([str(saved), str(out)]) == 0
    assert out.read_bytes()[:8] == PNG_MAGIC
    foreign = tmp_path / "other.json"
    foreign.write_text(json.dumps({"schema": "something-else"}))
    with pytest.raises(SystemExit) as exc:
        plot.main([str(foreign), str(tmp_path / "no.png")])
    assert exc.value.code == 2
    assert "cconv-bench/1" in capsys.readouterr().err


@pytest.mark.parametrize("content", [PNG_MAGIC + b"\x00\x00\x00\rIHDR", b"not json {", b"[1, 2]"])
def test_cli_says_a_file_is_not_a_bench_json(tmp_path, capsys, content):
    # e.g. the PNG passed where the results file belongs
    wrong = tmp_path / "wrong.png"
    wrong.write_bytes(content)
    with pytest.raises(SystemExit) as exc:
        plot.main([str(wrong), str(tmp_path / "out.png")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "is not a results file written by 'python -m cconv.bench --json'" in err
    assert "codec can't decode" not in err.splitlines()[-1].split(";")[0]


def test_ort_has_its_own_label_and_colour_and_no_empty_backward_bars():
    """ORT is timed forward only: its bars (labelled onnxruntime, in a colour
    of its own) appear in the forward panel, and the backward panel, where
    every ORT value is None, draws none for it."""
    plt = plot.import_pyplot()
    fwd = [_record("layer-a", "fwd", {"cconv": 120.0, "torch": 110.0, "ort": 100.0})]
    bwd = [_record("layer-a", "bwd", {"cconv": 90.0, "torch": 80.0, "ort": None})]
    impls = ["cconv", "torch", "ort"]
    fig, (ax_f, ax_b) = plt.subplots(1, 2)
    try:
        plot._draw_pass(ax_f, fwd, impls, "fwd")
        plot._draw_pass(ax_b, bwd, impls, "bwd")
        handles, labels = ax_f.get_legend_handles_labels()
        assert labels == ["cconv", "torch", "onnxruntime"]
        colours = {tuple(h.patches[0].get_facecolor()) for h in handles}
        assert len(colours) == 3
        assert ax_b.get_legend_handles_labels()[1] == ["cconv", "torch"]
    finally:
        plt.close(fig)


def test_subtitle_names_the_onnxruntime_version():
    doc = _document()
    doc["metadata"]["onnxruntime_version"] = "1.32.0"
    assert "onnxruntime 1.32.0" in plot._subtitle(doc["metadata"])
