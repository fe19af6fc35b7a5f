"""The keras-lmrnn console script, end to end on tiny settings."""

import csv
import json
import os
import pathlib
import subprocess
import sys

import pytest

from conftest import once_under

SCRIPT = pathlib.Path(sys.executable).parent / "keras-lmrnn"
TINY = ["--battery", "yang20", "--steps", "4", "--batch-size", "4", "--seq-len", "30",
        "--eval-every", "2", "--trials-per-task", "2", "--quiet"]


def cli(*args, backend=None):
    import keras

    env = dict(os.environ, KERAS_BACKEND=backend or keras.backend.backend(), TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True, env=env, timeout=600)


def test_console_script_is_installed():
    assert SCRIPT.exists()


@once_under("tensorflow", "the console script's round trip; train, resume and evaluate run under every backend "
                          "in test_safe_runs, and the CLI in a fresh process in test_tour")
def test_train_evaluate_and_resume(tmp_path):
    out = tmp_path / "run"
    done = cli("train", "--model", "lmrnn:n=16,d=1", *TINY, "--out", out)
    assert done.returncode == 0, done.stderr
    for name in ("config.json", "checkpoint.keras", "curve.csv", "curve.png", "final_table.csv", "summary.json"):
        assert (out / name).exists(), name
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "lmrnn:n=16,d=1" and config["steps"] == 4
    rows = list(csv.DictReader(open(out / "final_table.csv")))
    assert [r["task"] for r in rows][:3] == ["go", "rtgo", "dlygo"] and len(rows) == 20

    again = cli("train", "--model", "lmrnn:n=16,d=1", *TINY, "--out", out)
    assert again.returncode == 2 and "exists" in again.stderr

    more = [*TINY[:3], "6", *TINY[4:]]  # --steps 6
    assert TINY[2] == "--steps" and more.count("6") == 1
    resumed = cli("train", "--model", "lmrnn:n=16,d=1", *more, "--out", out, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((out / "state.json").read_text())["step"] == 6

    table = tmp_path / "table.csv"
    evaluated = cli("evaluate", out, "--battery", "yang20", "--trials-per-task", "2", "--csv", table)
    assert evaluated.returncode == 0, evaluated.stderr
    assert "mean response accuracy" in evaluated.stdout
    assert len(list(csv.DictReader(open(table)))) == 20


def test_compare_writes_one_table_and_one_plot(tmp_path):
    out = tmp_path / "cmp"
    done = cli("compare", "--models", "lmrnn:n=16,d=1", "dense:n=16", *TINY, "--at", "2,4", "--out", out)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(open(out / "comparison.csv")))
    assert [r["model"] for r in rows] == ["lmrnn:n=16,d=1", "dense:n=16"]
    assert {"total", "nonzero", "recurrent_nonzero", "perf@2", "perf@4"} <= set(rows[0])
    assert rows[0]["recurrent_nonzero"] == "80" and rows[1]["recurrent_nonzero"] == "256"
    assert (out / "curves.png").stat().st_size > 1000


def test_tasks_lists_and_draws(tmp_path):
    listed = cli("tasks", "--battery", "modcog132")
    assert listed.returncode == 0 and len(listed.stdout.strip().splitlines()) == 132
    png = tmp_path / "t.png"
    drawn = cli("tasks", "--plot", "DlyGo_IntL", "--out", png)
    assert drawn.returncode == 0, drawn.stderr
    assert png.stat().st_size > 1000


@pytest.mark.parametrize(
    "args, words",
    [
        (["train", "--model", "lstm:n=4", "--out", "x"], "unknown kind"),
        (["train", "--model", "lmrnn:n=16,d=1", "--battery", "mod99", "--out", "x"], "unknown battery"),
        (["train", "--model", "lmrnn:n=16,d=1", "--steps", "0", "--out", "x"], "--steps"),
        (["compare", "--models", "dense:n=4", "--steps", "10", "--eval-every", "5", "--at", "7", "--out", "x"], "--at"),
        (["evaluate", "no/such/model.keras"], "no model"),
        (["tasks", "--plot", "flyaway", "--out", "x.png"], "unknown task"),
        (["fly"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path, args, words):
    done = subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, cwd=tmp_path,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), timeout=300,
    )
    assert done.returncode == 2
    # TensorFlow may log its own start-up lines; ours is the one line we own.
    errors = [line for line in done.stderr.splitlines() if line.startswith("keras-lmrnn")]
    assert len(errors) == 1 and ": error: " in errors[0] and words in errors[0], done.stderr


def test_evaluate_takes_a_former_preset_name_as_zoo_load_does(capsys, recwarn):
    from keras_lmrnn import cli as cli_module
    from keras_lmrnn import zoo

    old = next(iter(zoo.ALIASES))
    assert cli_module.main(["evaluate", old, "--trials-per-task", "1"]) == 0, capsys.readouterr().err
    assert "mean response accuracy" in capsys.readouterr().out
    assert any(issubclass(w.category, FutureWarning) and zoo.ALIASES[old] in str(w.message) for w in recwarn)


def test_the_help_states_the_defaults_the_code_uses(monkeypatch):
    import dataclasses

    from keras_lmrnn import cli, runner, sweeps

    defaults = {f.name: f.default for f in dataclasses.fields(runner.RunOptions)}
    text = cli.make_parser()._subparsers._group_actions[0].choices["train"].format_help()
    text = " ".join(text.split())  # argparse wraps lines
    for flag, key in (("steps", "steps"), ("eval-every", "eval_every"), ("trials-per-task", "trials_per_task")):
        entry = text.split(f" --{flag} ")[-1].split(" --")[0]  # its line in the options list
        assert f"(default {defaults[key]})" in entry, (flag, entry)
    # the help follows the code: a changed default shows
    monkeypatch.setattr(sweeps, "MAX_RUNS", 77)
    sweep_help = cli.make_parser()._subparsers._group_actions[0].choices["sweep"].format_help()
    assert "(default 77)" in " ".join(sweep_help.split())
