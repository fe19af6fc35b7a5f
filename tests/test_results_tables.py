"""The results tables of the README and the docs are rendered from the committed run files
(tools/render_results.py); a table edited by hand, or files changed without re-rendering, fail here."""

import csv
import importlib.util
import pathlib
import shutil

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _tool():
    spec = importlib.util.spec_from_file_location("render_results", ROOT / "tools" / "render_results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render_results = _tool()


@pytest.mark.parametrize("block", render_results.BLOCKS, ids=lambda b: f"{b.path}:{b.name}")
def test_each_results_table_is_what_its_files_say(block):
    assert render_results.current(block) is not None, f"{block.path} lost its {block.name} markers"
    # Re-render with `python tools/render_results.py`; never edit the table by hand.
    assert render_results.current(block) == render_results.rendered(block)


def _edit_curve(run, step, delta):
    path = run / "curve.csv"
    rows = list(csv.DictReader(open(path)))
    for row in rows:
        if int(row["step"]) == step:
            row["response_accuracy"] = str(float(row["response_accuracy"]) + delta)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_a_changed_run_file_changes_the_rendered_table(tmp_path):
    folder = tmp_path / "35x35"
    shutil.copytree(ROOT / "docs/protocol_answer/35x35_neurogym-indegree", folder)
    before = render_results.one_seed_curves(folder)
    assert "| LM-RNN 35x35, d=6 | 0.551 |" in before
    _edit_curve(next(folder.glob("lmrnn_*__seed0")), 1000, 0.1)
    render_results._collect.cache_clear()
    after = render_results.one_seed_curves(folder)
    assert "| LM-RNN 35x35, d=6 | 0.651 |" in after


def test_a_diverged_seed_is_counted_not_scored():
    table = render_results.grid(render_results.NG, models=["dense:n=400,init=indegree"])
    assert "| dense(400) | 4 + 1 diverged | 0.432 ± 0.009 |" in table


def test_check_names_a_block_edited_by_hand(tmp_path, monkeypatch, capsys):
    page = tmp_path / "page.md"
    block = render_results.Block(str(page), "curves", render_results.one_seed_curves,
                                 (render_results.ANSWER / "35x35_neurogym-indegree",))
    page.write_text(f"text\n<!-- results:curves -->\n{render_results.rendered(block)}<!-- /results:curves -->\nmore\n")
    monkeypatch.setattr(render_results, "BLOCKS", [block])
    assert render_results.main(["--check"]) == 0
    page.write_text(page.read_text().replace("0.551", "0.600"))
    assert render_results.main(["--check"]) == 1
    assert "differs:" in capsys.readouterr().out and "0.600" in page.read_text()   # --check writes nothing
    assert render_results.main([]) == 0
    assert "0.551" in page.read_text() and page.read_text().startswith("text\n") and page.read_text().endswith("more\n")


def test_models_not_in_the_sweep_are_refused():
    with pytest.raises(ValueError, match="models"):
        render_results.grid(render_results.NG, models=["lmrnn:n=400,d=3"])


def test_a_benchmark_table_saved_as_csv_renders_back_as_printed(tmp_path, monkeypatch):
    printed = ["| backend | N | step s | auto picks |", "|---|---|---|---|", "| jax | 400 | 0.090 | fused |",
               "| torch | 400 | 0.123 | step |"]
    render_results.table_csv.save(tmp_path / "speed.csv", printed)
    monkeypatch.setattr(render_results, "ROOT", tmp_path)
    assert render_results.benchmark_table("speed.csv") == "\n".join(printed)
    assert render_results.benchmark_table("speed.csv", {"N": "N", "step s": "s"}, {"backend": "torch"}) == (
        "| N | s |\n|---|---|\n| 400 | 0.123 |")


def test_tables_are_read_from_a_benchmark_log_in_order():
    log = "== default\n| a | b |\n|---|---|\n| 1 | 2 |\nnoise\n| a | b |\n|---|---|\n| 3 | 4 |\n"
    assert render_results.table_csv.markdown_tables(log) == [[{"a": "1", "b": "2"}], [{"a": "3", "b": "4"}]]


def test_speed_ratios_round_half_up_to_three_digits():
    assert [render_results._ratio(r) for r in ("18.85x", "2.295x", "3.60x", "35.74x")] == [
        "18.9x", "2.30x", "3.60x", "35.7x"]


# Every exported sweep's report.md (written by `keras-lmrnn report`): its tables are what its
# committed files give today. Where the run folders are committed, summarize them again; where only
# curves.csv is (docs/sweeps/yang20_16x16), read each cell from it.
REPORTS = sorted(p.relative_to(ROOT) for p in (ROOT / "docs").rglob("report.md") if (p.parent / "sweep.json").is_file())


def _report_steps(text):
    header = text.split("| model | seeds done |")[1].splitlines()[0]
    return [int(step) for step in header.replace("|", " ").split() if step.isdigit()]


def _before_paired_tables(report):
    """The protocol screen's reports were written before `report` added paired tables."""
    return report.parts[:2] == ("docs", "protocol_screen")


@pytest.mark.parametrize("report", REPORTS, ids=str)
def test_each_exported_sweep_report_is_what_its_files_say(report):
    from keras_lmrnn import sweep_report

    folder, text = ROOT / report.parent, (ROOT / report).read_text()
    at = _report_steps(text)
    rows, at = sweep_report.summarize(folder, at)
    if any(row["seeds_complete"] for row in rows):
        for metric in sweep_report.METRICS:
            assert sweep_report.markdown_table(rows, at, metric) in text, f"{report}: {metric} table"
        baseline = sweep_report.default_baseline(sweep_report.read_sweep(folder).models)
        pairs = text.count("| model minus ")
        assert pairs == (len(sweep_report.METRICS) if baseline and not _before_paired_tables(report) else 0), report
        for metric in sweep_report.METRICS[:pairs]:
            differences, _ = sweep_report.paired_differences(folder, baseline, at, metric)
            assert sweep_report.paired_table(differences, at, baseline) in text, f"{report}: paired {metric}"
        return
    # no run folders: each cell of each metric's table from the curves' file
    with open(folder / "curves.csv", newline="") as f:
        curves = {(r["model"], r["metric"], int(r["step"])): r for r in csv.DictReader(f)}
    tables = text.split("| model | seeds done |")[1:]  # reports before the last-step metric have two
    assert len(tables) in (2, len(sweep_report.METRICS)), report
    for metric, table in zip(sweep_report.METRICS, tables):
        lines = [line for line in table.splitlines()[2:] if line.startswith("| `")]
        assert lines, report
        for line in lines:
            model, cells = line.split("`")[1], [cell.strip() for cell in line.strip("|").split("|")][2:]
            values = [curves[(model, metric, step)] for step in at]
            assert cells == [f"{float(r['mean']):.3f} ± {float(r['se']):.3f} (n={r['n']})" for r in values], report


def test_the_report_check_can_fail(tmp_path):
    from keras_lmrnn import sweep_report

    folder = tmp_path / "example"
    shutil.copytree(ROOT / "docs/sweeps/guide_example", folder)
    paired = sweep_report.paired_table(*sweep_report.paired_differences(folder, "dense:n=64", [1000]), "dense:n=64")
    assert paired in (folder / "report.md").read_text()
    _edit_curve(next(folder.glob("lmrnn_n=64_d=1__seed0")), 1000, 0.1)
    rows, at = sweep_report.summarize(folder, [1000])
    assert sweep_report.markdown_table(rows, at) not in (folder / "report.md").read_text()
    paired = sweep_report.paired_table(*sweep_report.paired_differences(folder, "dense:n=64", [1000]), "dense:n=64")
    assert paired not in (folder / "report.md").read_text()
