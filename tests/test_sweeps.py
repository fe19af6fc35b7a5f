"""Sweeps (keras_lmrnn.sweeps) and their reports (keras_lmrnn.sweep_report)."""

import contextlib
import io
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import warnings

import keras
import numpy as np
import pytest

from conftest import once_under
from keras_lmrnn import cli, folders, runner, sweep_report, sweeps

TINY = ["--battery", "yang20", "--steps", "4", "--batch-size", "4", "--seq-len", "30",
        "--eval-every", "2", "--trials-per-task", "2", "--quiet"]
SPECS = ["lmrnn:n=16,d=1,noise=0.05", "dense:n=16"]


def run_cli(capsys, *args):
    capsys.readouterr()
    status = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def weights(run):
    return keras.models.load_model(pathlib.Path(run) / "checkpoint.keras").get_weights()


def train_as_a_worker(args, threads):
    """`keras-lmrnn train ARGS` in the environment a sweep gives a worker with
    `threads` cores (JAX's CPU products single-threaded when it is one: they
    can sum in another order than the multi-threaded ones)."""
    env = sweeps.worker_env(keras.backend.backend(), threads)
    done = subprocess.run([sys.executable, "-m", "keras_lmrnn.cli", "train", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def assert_same_weights(a, b):
    for x, y in zip(weights(a), weights(b), strict=True):
        np.testing.assert_array_equal(x, y)


TINY_JOBS = 2  # runs still start in the order given (seed by seed); the Ray test compares with these


@pytest.fixture(scope="module")
def tiny_sweep_and_output(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "s"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = cli.main(["sweep", "--models", *SPECS, "--seeds", "0-1", *TINY, "--out", str(out),
                           "--jobs", str(TINY_JOBS)])
    assert status == 0, printed.getvalue()
    return out, printed.getvalue()


@pytest.fixture(scope="module")
def tiny_sweep(tiny_sweep_and_output):
    return tiny_sweep_and_output[0]


def test_parse_seeds():
    assert sweeps.parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert sweeps.parse_seeds("3,1,1-2") == [1, 2, 3]
    for bad in ["", "a", "4-1", "-1", "1-x"]:
        with pytest.raises(sweeps.SweepError, match="seeds"):
            sweeps.parse_seeds(bad)


def test_run_names_are_readable_and_distinct():
    assert sweeps.run_name("lmrnn:n=400,d=4", 3) == "lmrnn_n=400_d=4__seed3"
    with pytest.raises(sweeps.SweepError, match="same run folder name"):
        sweeps.Sweep(("lmrnn:n=4,d=1", "lmrnn:n=4;d=1"), (0,), None)


def test_runs_start_seed_by_seed_so_a_stopped_sweep_holds_whole_seeds(tiny_sweep_and_output):
    out = tiny_sweep_and_output[1]
    starts = [line.split()[1:] for line in out.splitlines() if line.startswith("start")]
    assert starts == [[SPECS[0], "seed", "0"], [SPECS[1], "seed", "0"],
                      [SPECS[0], "seed", "1"], [SPECS[1], "seed", "1"]]


def test_a_tiny_sweep_makes_every_run_and_a_report(tiny_sweep):
    record = json.loads((tiny_sweep / "sweep.json").read_text())
    assert record["models"] == SPECS and record["seeds"] == [0, 1] and record["options"]["steps"] == 4
    for spec in SPECS:
        for seed in (0, 1):
            run = tiny_sweep / sweeps.run_name(spec, seed)
            config = json.loads((run / "config.json").read_text())
            assert config["model"] == spec and config["seed"] == seed
            assert sweeps.status(tiny_sweep, run.name) == "complete"
    for name in ("report.csv", "report.md", "curves.png", "performance_vs_d.png"):
        assert (tiny_sweep / name).stat().st_size > 100, name
    assert "| `dense:n=16` | 2/2 |" in (tiny_sweep / "report.md").read_text()
    assert folders.foreign_entries(tiny_sweep) == []


def test_a_sweep_run_equals_the_same_train_run(tiny_sweep, tmp_path):
    spec = SPECS[0]
    alone = tmp_path / "alone"
    train_as_a_worker(["--model", spec, *TINY, "--seed", "1", "--out", alone], sweeps.worker_threads(TINY_JOBS))
    assert_same_weights(tiny_sweep / sweeps.run_name(spec, 1), alone)


def test_rerunning_a_finished_sweep_trains_nothing(capsys, tiny_sweep):
    stamps = {p: p.stat().st_mtime_ns for p in tiny_sweep.glob("*/checkpoint.keras")}
    status, out, err = run_cli(capsys, "sweep", "--models", *SPECS, "--seeds", "0-1", *TINY, "--out", tiny_sweep)
    assert status == 0, err
    assert "4 of 4 runs already finished: skipped" in out and "start" not in out
    assert {p: p.stat().st_mtime_ns for p in tiny_sweep.glob("*/checkpoint.keras")} == stamps


@pytest.mark.parametrize(
    "change, words",
    [
        (["--models", SPECS[0], "--seeds", "0-1"], "models"),
        (["--models", *SPECS, "--seeds", "0-2"], "seeds"),
        (["--models", *SPECS, "--seeds", "0-1", "--batch-size", "8"], "batch_size=8"),
        # another protocol changes several options; the refusal names the protocol, not the first of them
        (["--models", *SPECS, "--seeds", "0-1", "--protocol", "neurogym"], "protocol=neurogym (recorded: neurogym-indegree)"),
    ],
)
def test_a_mismatched_rerun_is_refused(capsys, tiny_sweep, change, words):
    args = [*TINY[:4], *TINY[6:]] if "--batch-size" in change else TINY  # TINY without its --batch-size
    status, _, err = run_cli(capsys, "sweep", *change, *args, "--out", tiny_sweep)
    assert status == 2 and len(err.strip().splitlines()) == 1, err
    assert "holds another sweep" in err and words in err


def test_report_of_a_partial_sweep_counts_its_seeds(capsys, tiny_sweep, tmp_path):
    partial = tmp_path / "partial"
    import shutil

    shutil.copytree(tiny_sweep, partial)
    shutil.rmtree(partial / sweeps.run_name(SPECS[1], 1))
    (partial / sweeps.run_name(SPECS[0], 0) / "summary.json").unlink()  # as if still running
    status, out, err = run_cli(capsys, "report", partial)
    assert status == 0, err
    rows, at = sweep_report.summarize(partial)
    by_model = {r["model"]: r for r in rows}
    assert by_model[SPECS[0]]["seeds_complete"] == 1 and by_model[SPECS[1]]["seeds_complete"] == 1
    assert by_model[SPECS[1]]["response_accuracy@4_n"] == 1
    assert by_model[SPECS[0]]["response_accuracy@4_n"] == 2  # the running one has reached step 4
    assert f"| `{SPECS[1]}` | 1/2 |" in out


def test_mean_and_error():
    mean, error, n = sweep_report.mean_and_error([0.2, 0.4, None, float("nan")])
    assert (mean, n) == (pytest.approx(0.3), 2)
    assert error == pytest.approx(np.std([0.2, 0.4], ddof=1) / np.sqrt(2))
    assert np.isnan(sweep_report.mean_and_error([0.5])[1])


def test_models_differing_only_in_d_are_grouped():
    groups, dense = sweep_report.group_by_d(
        ["lmrnn:n=400,d=2", "lmrnn:n=400,d=6", "autapse:n=400", "lmrnn:n=100,d=2", "dense:n=400",
         "lmrnn:n=400,d=2,alpha=1", "l1:n=400,l1=1e-4"]
    )
    assert groups[("lmrnn", 400, ())] == [(0, "autapse:n=400"), (2, "lmrnn:n=400,d=2"), (6, "lmrnn:n=400,d=6")]
    assert groups[("lmrnn", 100, ())] == [(2, "lmrnn:n=100,d=2")]
    assert groups[("lmrnn", 400, (("alpha", 1.0),))] == [(2, "lmrnn:n=400,d=2,alpha=1")]
    assert dense == {(400, ()): "dense:n=400"}


@pytest.mark.parametrize(
    "args, words",
    [
        (["--seeds", "x"], "cannot read seeds"),
        (["--seeds", "3-1"], "cannot read seeds"),
        (["--seeds", "0", "--jobs", "0"], "--jobs"),
        (["--seeds", "0", "--seed", "1"], "--seeds, not --seed"),
        (["--seeds", "0", "--at", "3"], "--at"),
    ],
)
def test_bad_sweep_arguments_get_one_line(capsys, tmp_path, args, words):
    status, _, err = run_cli(capsys, "sweep", "--models", SPECS[0], *TINY, *args, "--out", tmp_path / "s")
    assert status == 2 and len(err.strip().splitlines()) == 1 and words in err, err
    assert not (tmp_path / "s").exists()


def test_bad_spec_in_a_sweep_is_refused_before_anything_runs(capsys, tmp_path):
    status, out, err = run_cli(capsys, "sweep", "--models", SPECS[0], "lmrnn:n=16,d=-3", "--seeds", "0", *TINY,
                               "--out", tmp_path / "s")
    assert status == 2 and "d=-3" in err and "start" not in out
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("seeds", [(), (0, 0), (-1,), ("0",), (1.0,), (True,)])
def test_seeds_are_distinct_integers_from_zero(seeds):
    with pytest.raises(sweeps.SweepError, match=r"argument `seeds`.*Received: seeds="):
        sweeps.Sweep(("dense:n=4",), seeds, None)


@pytest.mark.parametrize("at", [",", "1000,,2000", "2,"])
def test_an_empty_step_in_at_is_refused(capsys, tmp_path, at):
    status, _, err = run_cli(capsys, "sweep", "--models", SPECS[0], "--seeds", "0", *TINY, "--at", at,
                             "--out", tmp_path / "s")
    assert status == 2 and "--at" in err and "got ''" in err, err
    assert not (tmp_path / "s").exists()


def copy_of(sweep, folder):
    import shutil

    shutil.copytree(sweep, folder)
    return folder


def test_a_sweep_continues_only_under_the_backend_its_runs_were_trained_under(capsys, tmp_path, tiny_sweep):
    out = copy_of(tiny_sweep, tmp_path / "s")
    import shutil

    shutil.rmtree(out / sweeps.run_name(SPECS[1], 1))  # one run left to train
    config = out / sweeps.run_name(SPECS[0], 0) / "config.json"
    record = json.loads(config.read_text())
    folders.atomic_write_text(config, json.dumps({**record, "backend": "another"}))
    status, _, err = run_cli(capsys, "sweep", "--models", *SPECS, "--seeds", "0-1", *TINY, "--out", out)
    assert status == 2 and "KERAS_BACKEND=another" in err and f"running: {keras.backend.backend()}" in err, err
    assert not (out / sweeps.run_name(SPECS[1], 1)).exists()


HOLD = """
import sys, time
from keras_lmrnn import folders
with folders.lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_report_is_refused_while_the_sweep_is_being_written(capsys, tmp_path, tiny_sweep):
    out = copy_of(tiny_sweep, tmp_path / "s")
    before = (out / "report.md").read_text()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        status, _, err = run_cli(capsys, "report", out, "--at", "2,4")
        assert status == 2 and "being written by another process" in err, err
        assert (out / "report.md").read_text() == before
    finally:
        holder.kill()
        holder.wait()


def test_report_of_a_folder_that_is_no_sweep(capsys, tmp_path):
    status, _, err = run_cli(capsys, "report", tmp_path)
    assert status == 2 and "not a sweep folder" in err


def test_ray_missing_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    status, _, err = run_cli(capsys, "sweep", "--models", SPECS[0], "--seeds", "0", *TINY, "--out", tmp_path / "s",
                             "--ray")
    assert status == 2 and 'pip install "keras-lmrnn[ray]"' in err, err


def test_an_overwrite_refused_after_the_folder_was_opened_keeps_the_old_sweep(capsys, tmp_path, monkeypatch, tiny_sweep):
    import shutil

    out = tmp_path / "s"
    shutil.copytree(tiny_sweep, out)
    before = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file() and p.name != folders.LOCK}
    monkeypatch.setitem(sys.modules, "ray", None)  # refused only once the folder is open
    status, _, err = run_cli(capsys, "sweep", "--models", SPECS[0], "--seeds", "0", *TINY, "--out", out,
                             "--overwrite", "--ray")
    assert status == 2 and "--ray needs Ray" in err, err
    after = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file() and p.name != folders.LOCK}
    assert after == before
    assert [p.name for p in tmp_path.iterdir()] == ["s"]  # nothing left beside it


SWEEP = [sys.executable, "-m", "keras_lmrnn.cli", "sweep", "--models", SPECS[0], "--seeds", "0", "--battery", "yang20",
         "--steps", "40", "--batch-size", "4", "--seq-len", "30", "--eval-every", "4", "--trials-per-task", "1",
         "--quiet", "--jobs", "1", "--retries", "1"]


@pytest.mark.parametrize("engine", [
    pytest.param("local", marks=once_under("tensorflow", "the engine does not depend on the backend, and a "
                                           "killed run resumes exactly under each (test_safe_runs)")),
    "ray",
])
def test_a_killed_worker_is_retried_and_ends_as_an_uninterrupted_run(tmp_path, backend, engine):
    if engine == "ray" and backend != "jax":
        pytest.skip("the Ray engine is checked once, under JAX (it starts a local Ray: slow)")
    out = tmp_path / "s"
    env = dict(os.environ, KERAS_BACKEND=backend)
    sweep = subprocess.Popen([*SWEEP, "--out", str(out), *(["--ray"] if engine == "ray" else [])], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run = out / sweeps.run_name(SPECS[0], 0)
    killed = False
    deadline = time.time() + 400
    while time.time() < deadline and sweep.poll() is None and not killed:
        time.sleep(0.2)
        try:
            step = json.loads((run / "state.json").read_text())["step"]
            pid = int((run / folders.LOCK).read_text())
        except (OSError, ValueError, KeyError):
            continue
        if 4 <= step < 40:
            os.kill(pid, signal.SIGKILL)
            killed = True
    out_text, err_text = sweep.communicate(timeout=600)
    assert killed, "the run finished before it could be killed"
    assert sweep.returncode == 0, err_text[-3000:]
    if engine == "local":
        assert "died" in out_text and "resuming it" in out_text
    alone = tmp_path / "alone"
    train = ["--model", SPECS[0], "--battery", "yang20", "--steps", "40", "--batch-size", "4", "--seq-len", "30",
             "--eval-every", "4", "--trials-per-task", "1", "--quiet", "--seed", "0", "--out", alone]
    train_as_a_worker(train, 1 if engine == "ray" else sweeps.worker_threads(1))
    assert_same_weights(run, alone)
    assert (run / "curve.csv").read_text() == (alone / "curve.csv").read_text()


def test_tiny_sweep_under_local_ray_equals_the_local_engine(capsys, tiny_sweep, tmp_path, backend):
    if backend != "jax":
        pytest.skip("the Ray engine is checked once, under JAX (it starts a local Ray: slow)")
    out = tmp_path / "ray"
    status, text, err = run_cli(capsys, "sweep", "--models", *SPECS, "--seeds", "0-1", *TINY, "--out", out,
                                "--jobs", "2", "--ray")
    assert status == 0, err
    for name in (sweeps.run_name(s, seed) for s in SPECS for seed in (0, 1)):
        assert_same_weights(out / name, tiny_sweep / name)


@pytest.mark.parametrize("stop, engine", [("ctrl-c", "local"), ("kill", "local"), ("kill", "ray")])
def test_ctrl_c_reports_the_unfinished_runs_and_the_rerun_finishes_them(tmp_path, backend, stop, engine):
    """Ctrl-C (SIGINT to the terminal's process group) or `kill PID` (SIGTERM to the sweep alone)
    stops every worker, under either engine, and the same command finishes the runs."""
    if backend != "jax":
        pytest.skip("checked once, under JAX: the engine does not depend on the backend")
    out = tmp_path / "s"
    command = [*SWEEP[:5], SPECS[0], SPECS[1], *SWEEP[6:], "--out", str(out)]  # two models, seed 0
    if engine == "ray":
        command += ["--ray"]
    # Long enough that Ctrl-C lands mid-run on a loaded machine: 400 steps, a checkpoint every 40.
    command[command.index("--steps") + 1], command[command.index("--eval-every") + 1] = "400", "40"
    # As from a terminal: Ctrl-C must reach the sweep even when these tests run in the background,
    # whose processes start with SIGINT ignored (a child inherits that, not a Python handler).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        sweep = subprocess.Popen(command, env=dict(os.environ, KERAS_BACKEND=backend), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, start_new_session=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    deadline = time.time() + 300
    while time.time() < deadline and not list(out.glob("*/state.json")):
        time.sleep(0.2)
    if stop == "ctrl-c":
        os.killpg(sweep.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    else:
        sweep.terminate()  # the sweep's own process only: it must stop its workers itself
    out_text, err_text = sweep.communicate(timeout=300)
    assert sweep.returncode == 130, err_text[-3000:]
    for run in out.glob("*__seed0"):
        folders.check_free(run)  # no worker left writing (FolderBusyError otherwise)
    assert "runs unfinished" in out_text and "run the same command again" in err_text
    if engine == "local":  # (Ray writes lines of its own)
        assert len(err_text.strip().splitlines()) == 1, err_text
    again = subprocess.run(command, env=dict(os.environ, KERAS_BACKEND=backend), capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert all(sweeps.status(out, sweeps.run_name(spec, 0)) == "complete" for spec in SPECS)


@once_under("tensorflow", "the export is files; the report and the resumed sweep are tested under every backend")
def test_an_exported_sweep_reports_and_resumes_without_retraining(capsys, tiny_sweep, tmp_path):
    """tools/export_sweep.py: the committed pieces of a long sweep (no checkpoints) are a sweep
    folder that `report` reads and that the same `sweep` command completes without training."""
    export = tmp_path / "export"
    tool = [sys.executable, str(pathlib.Path(__file__).parent.parent / "tools" / "export_sweep.py")]
    subprocess.run([*tool, str(tiny_sweep), str(export)], check=True, capture_output=True)
    assert not list(export.rglob("checkpoint.keras"))
    status, out, err = run_cli(capsys, "report", export)
    assert status == 0, err
    assert "| `dense:n=16` | 2/2 |" in (export / "report.md").read_text()
    before = {p: p.stat().st_mtime_ns for p in export.rglob("summary.json")}
    status, out, err = run_cli(capsys, "sweep", "--models", *SPECS, "--seeds", "0-1", *TINY, "--out", export)
    assert status == 0, err
    assert "4 of 4 runs complete" in out
    assert {p: p.stat().st_mtime_ns for p in export.rglob("summary.json")} == before
    assert not list(export.rglob("checkpoint.keras"))
    other = subprocess.run([*tool, str(tiny_sweep), str(tmp_path)], capture_output=True, text=True)
    assert other.returncode != 0 and "not an export of the sweep" in other.stderr
    again = subprocess.run([*tool, str(tiny_sweep), str(export)], capture_output=True, text=True)
    assert again.returncode == 0 and '"exported_runs": 0, "already_there": 4' in again.stdout, again.stderr
    curve = export / sweeps.run_name(SPECS[0], 1) / "curve.csv"
    curve.write_text(curve.read_text() + "\n")  # another run under the same name: never replaced
    changed = subprocess.run([*tool, str(tiny_sweep), str(export)], capture_output=True, text=True)
    assert changed.returncode != 0 and "holds another run" in changed.stderr
    assert curve.read_text().endswith("\n\n") and not list(export.glob(".*.export-*"))


def test_group_by_d_keeps_protocol_keys_together():
    groups, dense = sweep_report.group_by_d(
        ["lmrnn:n=400,d=2,alpha=1", "lmrnn:n=400,d=6,alpha=1", "autapse:n=400,alpha=1", "dense:n=400,alpha=1",
         "dense:n=400,noise=0.1", "dense:n=400,alpha=0.5"])
    assert groups[("lmrnn", 400, (("alpha", 1.0),))] == [
        (0, "autapse:n=400,alpha=1"), (2, "lmrnn:n=400,d=2,alpha=1"), (6, "lmrnn:n=400,d=6,alpha=1")]
    # two dense nets of one size under different settings are two lines; one with other keys is none
    assert dense == {(400, (("alpha", 1.0),)): "dense:n=400,alpha=1", (400, (("alpha", 0.5),)): "dense:n=400,alpha=0.5"}


def test_paired_differences_subtract_the_baseline_seed_by_seed(tiny_sweep):
    _, found = sweep_report.collect(tiny_sweep)
    rows, at = sweep_report.paired_differences(tiny_sweep, SPECS[1], at=[2, 4])
    assert [row["model"] for row in rows] == [SPECS[0]]
    for step in at:
        diffs = [a["curves"]["response_accuracy"][step] - b["curves"]["response_accuracy"][step]
                 for a, b in zip(found[SPECS[0]], found[SPECS[1]], strict=True)]
        mean, error, n, ahead = rows[0][step]
        assert (mean, n, ahead) == (pytest.approx(np.mean(diffs)), 2, sum(d > 0 for d in diffs))
        assert error == pytest.approx(np.std(diffs, ddof=1) / np.sqrt(2))
    with pytest.raises(ValueError, match="baseline='dense:n=99'"):
        sweep_report.paired_differences(tiny_sweep, "dense:n=99")


def test_report_compares_with_the_first_dense_model_unless_told(capsys, tiny_sweep):
    assert sweep_report.default_baseline(SPECS) == SPECS[1]
    assert sweep_report.default_baseline(SPECS[:1]) is None
    status, out, err = run_cli(capsys, "report", tiny_sweep)
    assert status == 0, err
    assert f"| model minus `{SPECS[1]}` |" in out and f"| `{SPECS[0]}` |" in out
    status, out, err = run_cli(capsys, "report", tiny_sweep, "--baseline", "lmrnn:d=1,noise=0.05,n=16")
    assert status == 0, err
    assert f"| model minus `{SPECS[0]}` |" in out   # the same model in another key order: the sweep's text
    status, out, err = run_cli(capsys, "report", tiny_sweep, "--baseline", "dense:n=99")
    assert status == 2 and "--baseline 'dense:n=99'" in err and "\n" not in err.strip()


def test_a_run_that_diverges_at_once_is_recorded_reported_and_not_retrained(capsys, tmp_path):
    out = tmp_path / "nan"
    args = ["sweep", "--models", SPECS[1], "--seeds", "0", *TINY, "--lr", "1e30", "--jobs", "1", "--out", out]
    status, stdout, err = run_cli(capsys, *args)
    name = sweeps.run_name(SPECS[1], 0)
    assert status == 1 and f"diverged {SPECS[1]} seed 0" in stdout + err
    assert sweeps.status(out, name) == "diverged"  # kept although no checkpoint was written
    assert "1 runs diverged (not scored)" in stdout + err and "unfinished" not in stdout + err
    rows, _ = sweep_report.summarize(out)
    assert rows[0]["seeds_diverged"] == 1 and rows[0]["response_accuracy@4_n"] == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no empty legend
        (ax,) = sweep_report.plot_curves(out).axes
    assert [t.get_text() for t in ax.texts] == ["no evaluated run yet"] and ax.get_legend() is None
    status, stdout, err = run_cli(capsys, *args)
    assert "1 of 1 runs already finished: skipped (1 of them diverged" in stdout + err and "start" not in stdout
    export = tmp_path / "export"  # tools/export_sweep.py keeps the divergence on record
    tool = [sys.executable, str(pathlib.Path(__file__).parent.parent / "tools" / "export_sweep.py")]
    subprocess.run([*tool, str(out), str(export)], check=True, capture_output=True)
    assert sweeps.status(export, name) == "diverged"


def test_workers_share_a_gpu_by_taking_memory_as_they_need_it(monkeypatch):
    monkeypatch.delenv("XLA_PYTHON_CLIENT_PREALLOCATE", raising=False)
    monkeypatch.delenv("TF_FORCE_GPU_ALLOW_GROWTH", raising=False)
    env = sweeps.worker_env("jax", 1)
    assert env["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"
    assert env["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"
    monkeypatch.setenv("XLA_PYTHON_CLIENT_PREALLOCATE", "true")  # the user's choice stands
    assert sweeps.worker_env("jax", 1)["XLA_PYTHON_CLIENT_PREALLOCATE"] == "true"


def _workers_of(folder):
    """pids of live worker processes training a run of the sweep in `folder` (Linux's /proc)."""
    found = []
    for proc in pathlib.Path("/proc").glob("[0-9]*"):
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"keras_lmrnn.sweeps" in command and str(folder).encode() in command:
            found.append(int(proc.name))
    return found


@pytest.mark.skipif(not pathlib.Path("/proc/self/cmdline").exists(), reason="reads /proc")
@pytest.mark.parametrize("when", ["starting", "training"])
def test_workers_of_a_sweep_killed_outright_stop_too(tmp_path, backend, when):
    """`kill -9` of the sweep (or a lost terminal) gives it no chance to stop its workers: they
    notice their sweep is gone and stop themselves, instead of training on unseen; also a worker
    still importing its libraries when the sweep died."""
    if backend != "jax":
        pytest.skip("checked once, under JAX: the engine does not depend on the backend")
    out = tmp_path / "s"
    command = [*SWEEP, "--out", str(out)]
    # Far more steps than it could train before the test looks: stopping, not finishing, frees it.
    command[command.index("--steps") + 1], command[command.index("--eval-every") + 1] = "100000", "40"
    # Without PYTHONUNBUFFERED, as a user's pipe or log file gets it: the per-run lines must be flushed.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    sweep = subprocess.Popen(command, env=dict(env, KERAS_BACKEND=backend), stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    run = out / sweeps.run_name(SPECS[0], 0)
    try:
        deadline = time.time() + (120 if when == "starting" else 300)
        # "starting": killed as soon as its worker exists, while the worker still imports its libraries.
        while not (_workers_of(out) and (when == "starting" or (run / "state.json").exists())):
            assert sweep.poll() is None, "the sweep ended before its worker was seen"
            assert time.time() < deadline, "no worker seen (training, for 'training') in time"
            time.sleep(0.05)
        sweep.kill()
        assert sweep.wait(timeout=60) == -signal.SIGKILL
        assert "start    " + SPECS[0] in sweep.stdout.read(), "the sweep's 'start' line was not flushed"
        deadline = time.time() + 120
        while _workers_of(out):
            assert time.time() < deadline, "the worker kept running after its sweep was killed"
            time.sleep(0.5)
        if run.exists():
            # An exiting worker's /proc cmdline is empty a moment before its files (and so the
            # folder's lock) are closed: allow that moment, not more.
            deadline = time.time() + 30
            while True:
                try:
                    folders.check_free(run)
                    break
                except folders.FolderBusyError:
                    assert time.time() < deadline, "the run folder stayed locked after its worker stopped"
                    time.sleep(0.5)
        if when == "training":
            assert sweeps.status(out, run.name) == "started"  # stopped, to be resumed by the same command
    finally:  # never leave a worker behind, whatever failed
        with contextlib.suppress(ProcessLookupError):
            os.killpg(sweep.pid, signal.SIGKILL)


def _contents(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != folders.LOCK}


def test_an_overwrite_keeps_a_users_log_file(capsys, tmp_path, tiny_sweep):
    import shutil

    out = tmp_path / "s"
    shutil.copytree(tiny_sweep, out)
    (out / "notes.log").write_text("my notes\n")  # not the log of any run of the sweep
    before = _contents(out)
    status, _, err = run_cli(capsys, "sweep", "--models", SPECS[0], "--seeds", "0", *TINY, "--out", out,
                             "--overwrite")
    assert status == 2 and "did not write" in err and "notes.log" in err, err
    assert _contents(out) == before


def test_an_overwrite_whose_runs_all_fail_puts_the_old_sweep_back(capsys, tmp_path, monkeypatch, tiny_sweep):
    import shutil

    out = tmp_path / "s"
    shutil.copytree(tiny_sweep, out)
    before = _contents(out)
    # every worker dies before its first checkpoint, as under an out-of-memory kill
    monkeypatch.setattr(sweeps, "worker_command", lambda folder, name: [sys.executable, "-c", "raise SystemExit(9)"])
    status, _, err = run_cli(capsys, "sweep", "--models", SPECS[0], "--seeds", "0", *TINY, "--out", out,
                             "--overwrite", "--retries", "0")
    assert status == 2 and "none of the 1 new runs reached a first checkpoint" in err, err
    assert _contents(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["s"]  # no hidden copy left beside it


def test_a_finished_run_that_does_not_match_sweep_json_is_refused(capsys, tmp_path, tiny_sweep):
    import shutil

    out = tmp_path / "s"
    shutil.copytree(tiny_sweep, out)
    record = json.loads((out / "sweep.json").read_text())
    record["options"]["learning_rate"] = 0.01  # sweep.json edited by hand; the runs trained at 0.001
    (out / "sweep.json").write_text(json.dumps(record))
    status, text, err = run_cli(capsys, "sweep", "--models", *SPECS, "--seeds", "0-1", *TINY, "--lr", "0.01",
                                "--out", out)
    assert status == 2 and len(err.strip().splitlines()) == 1, err
    assert "does not match sweep.json" in err and "learning_rate" in err and "0.001" in err, err
    assert "complete" not in text


def test_the_report_header_states_the_sweeps_settings(tiny_sweep):
    header = (tiny_sweep / "report.md").read_text().splitlines()[2]
    assert "learning_rate=0.001" in header and "batch_size=4" in header and "clipnorm=" in header, header


@pytest.mark.parametrize("args, words", [
    (["--seeds", "0-1000000"], "more than 1000 seeds"),
    (["--seeds", "0-600", "--models", *SPECS], "2 models x 601 seeds make 1202 runs"),
])
def test_a_grid_beyond_the_bound_is_refused_at_once(capsys, tmp_path, args, words):
    if "--models" not in args:
        args = [*args, "--models", SPECS[0]]
    status, _, err = run_cli(capsys, "sweep", *args, *TINY, "--out", tmp_path / "s")
    assert status == 2 and words in err and "--max-runs" in err and len(err) < 400, err
    assert not (tmp_path / "s").exists()


def test_max_runs_lifts_the_bound():
    assert len(sweeps.parse_seeds("0-1500", max_runs=2000)) == 1501
    sweeps.check_size(SPECS, list(range(600)), max_runs=2000)


def test_a_mismatch_message_summarises_long_seed_lists(capsys, tiny_sweep):
    status, _, err = run_cli(capsys, "sweep", "--models", *SPECS, "--seeds", "0-400", *TINY, "--out", tiny_sweep)
    assert status == 2 and "(401 items)" in err and len(err) < 400, err


def test_a_refused_run_is_not_announced_as_resumable(capsys, tmp_path, monkeypatch):
    # a worker that refuses its run (exit status 2), as a bad record or folder does
    monkeypatch.setattr(sweeps, "worker_command", lambda folder, name: [sys.executable, "-c", "raise SystemExit(2)"])
    status, out, err = run_cli(capsys, "sweep", "--models", SPECS[0], "--seeds", "0", *TINY, "--out", tmp_path / "s")
    assert status != 0
    assert "1 runs refused" in out and "the same command would be refused again" in out, out
    assert "run the same command again" not in out, out


@pytest.mark.parametrize("damage, words", [
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b"step,task,response_accuracy,trial_accuracy,last_step_accuracy\n0,go,abc,0,0\n", "malformed"),
    (b"", "no evaluation at step 4"),
    (b"step,task,response_accuracy,trial_accuracy,last_step_accuracy\n0,go,0.1,0.0,0.1\n", "no evaluation at step 4"),
])
def test_report_notes_a_damaged_run_and_scores_the_rest(capsys, tmp_path, tiny_sweep, damage, words):
    import shutil

    out = tmp_path / "s"
    shutil.copytree(tiny_sweep, out)
    damaged = sweeps.run_name(SPECS[1], 1)
    (out / damaged / "curve.csv").write_bytes(damage)
    status, text, err = run_cli(capsys, "report", out)
    assert status == 0, err
    assert f"{damaged}: curve.csv" in text and words in text and "not scored" in text, text
    assert f"| `{SPECS[1]}` | 1/2 (1 unreadable, not scored) |" in text, text
    assert f"| `{SPECS[0]}` | 2/2 |" in text


def test_report_of_a_sweep_json_with_an_invalid_spec_is_one_line(capsys, tmp_path, tiny_sweep):
    import shutil

    out = tmp_path / "s"
    shutil.copytree(tiny_sweep, out)
    record = json.loads((out / "sweep.json").read_text())
    record["models"][1] = "dense:n=abc"
    (out / "sweep.json").write_text(json.dumps(record))
    status, _, err = run_cli(capsys, "report", out)
    assert status == 2 and len(err.strip().splitlines()) == 1 and "invalid model spec 'dense:n=abc'" in err, err


def test_overlapping_seed_ranges_count_distinct_seeds():
    assert len(sweeps.parse_seeds("0-999,500")) == 1000
    with pytest.raises(sweeps.SweepError, match="more than 1000 seeds"):
        sweeps.parse_seeds("0-999,1000")


@pytest.mark.parametrize("states, expected", [
    (["complete", "complete"], 0),
    (["diverged", "complete", "complete"], 1),
    (["diverged", "diverged", "complete"], 2),
    (["started", "complete"], None),  # seed 0 may still train: seed 1 does not stand for it yet
    (["diverged", "missing", "complete"], None),
    (["diverged", "diverged"], None),
])
def test_first_trained_run_passes_only_diverged_seeds(tmp_path, states, expected):
    spec = "dense:n=64"
    sweep = sweeps.Sweep((spec, "lmrnn:n=64,d=2"), tuple(range(len(states))),
                         runner.RunOptions(battery="yang20", steps=100))
    (tmp_path / sweeps.SWEEP_FILE).write_text(json.dumps(sweep.record()))
    for seed, state in enumerate(states):
        if state == "missing":
            continue
        run = folders.RunFolder(tmp_path / sweeps.run_name(spec, seed))
        run.path.mkdir()
        run.write_config({"steps": 100, "seed": seed})
        if state == "complete":
            run.write_state({"step": 100})
            run.write_summary({"response_accuracy": 0.5})
        elif state == "diverged":
            run.write_state({"step": 0, "diverged_at_step": 7})
    expected_name = None if expected is None else sweeps.run_name(spec, expected)
    assert sweeps.first_trained_run(tmp_path, spec) == expected_name
    with pytest.raises(sweeps.SweepError, match="spec='dense:n=8'"):
        sweeps.first_trained_run(tmp_path, "dense:n=8")
