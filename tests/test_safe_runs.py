"""The command line never loses a user's data, never reports success for a
wrong result and answers bad input with one line (issue #9).

Most cases call `keras_lmrnn.cli.main` in this process (the console script
is a thin wrapper around it); the fault-injection test kills real processes.
"""

import hashlib
import json
import os
import pathlib
import random
import shutil
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest

from conftest import BACKENDS, suite_per_backend
from keras_lmrnn import cli, devices, folders, runner

TINY = ["--battery", "yang20", "--steps", "4", "--batch-size", "4", "--seq-len", "30",
        "--eval-every", "2", "--trials-per-task", "2", "--quiet"]
SPEC = "lmrnn:n=16,d=1,noise=0.05"


def run_cli(capsys, *args):
    """(exit status, stdout, stderr) of `keras-lmrnn ARGS` run in-process."""
    capsys.readouterr()
    status = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(status, err, words, code=2):
    assert status == code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("keras-lmrnn ") and ": error: " in lines[0], err
    assert "Traceback" not in err
    assert words in lines[0], lines[0]


def digest(folder):
    """SHA-256 of every file under `folder` (the lock file aside), by relative path."""
    folder = pathlib.Path(folder)
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file() and p.name != folders.LOCK
    }


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("finished") / "run"
    assert cli.main(["train", "--model", SPEC, *TINY, "--out", str(out)]) == 0
    return out


@pytest.fixture
def run_copy(finished_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(finished_run, copy)
    return copy


def weights(folder):
    return keras.models.load_model(pathlib.Path(folder) / "checkpoint.keras").get_weights()


def assert_same_weights(a, b):
    for x, y in zip(weights(a), weights(b), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)


# --- data loss ------------------------------------------------------------


@pytest.mark.parametrize("command", ["train", "compare"])
def test_overwrite_never_deletes_a_users_folder(capsys, tmp_path, command):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    models = ["--model", SPEC] if command == "train" else ["--models", SPEC]
    status, _, err = run_cli(capsys, command, *models, *TINY, "--out", mine, "--overwrite")
    assert_one_line_error(status, err, "not made by keras-lmrnn")
    assert (mine / "thesis.tex").read_text() == "years of work"


def test_overwrite_of_the_current_folder_is_refused(capsys, tmp_path, monkeypatch):
    (tmp_path / "notes.txt").write_text("mine")
    monkeypatch.chdir(tmp_path)
    status, _, err = run_cli(capsys, "train", "--model", SPEC, *TINY, "--out", ".", "--overwrite")
    assert_one_line_error(status, err, "not made by keras-lmrnn")
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_overwrite_with_a_bad_argument_keeps_the_finished_run(capsys, run_copy):
    before = digest(run_copy)
    status, _, err = run_cli(capsys, "train", "--model", "lmrnn:n=16,d=-1", *TINY, "--out", run_copy, "--overwrite")
    assert_one_line_error(status, err, "d=-1")
    assert digest(run_copy) == before


def test_overwrite_refuses_a_run_holding_a_users_file(capsys, run_copy):
    (run_copy / "my_analysis.ipynb").write_text("{}")
    before = digest(run_copy)
    status, _, err = run_cli(capsys, "train", "--model", SPEC, *TINY, "--out", run_copy, "--overwrite")
    assert_one_line_error(status, err, "my_analysis.ipynb")
    assert digest(run_copy) == before


def test_overwrite_replaces_our_own_run(capsys, run_copy):
    status, _, err = run_cli(capsys, "train", "--model", "dense:n=16", *TINY, "--out", run_copy, "--overwrite")
    assert status == 0, err
    assert json.loads((run_copy / "config.json").read_text())["model"] == "dense:n=16"


HOLD = """
import sys, time
from keras_lmrnn import folders
with folders.lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_a_folder_being_written_is_not_overwritten_or_resumed(capsys, run_copy):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(run_copy)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = digest(run_copy)
        for extra in (["--model", SPEC, *TINY, "--overwrite"], ["--resume", "--steps", "6"]):
            status, _, err = run_cli(capsys, "train", *extra, "--out", run_copy)
            assert_one_line_error(status, err, "being written by another process")
        assert digest(run_copy) == before
    finally:
        holder.kill()
        holder.wait()


# --- silent wrong results -------------------------------------------------


@pytest.mark.parametrize(
    "flag, value, field",
    [
        ("--model", "dense:n=16", "model"),
        ("--battery", "modcog84", "battery"),
        ("--batch-size", "8", "batch_size"),
        ("--seed", "3", "seed"),
        ("--seq-len", "20", "seq_len"),
        ("--lr", "0.01", "learning_rate"),
        ("--eval-every", "1", "eval_every"),
    ],
)
def test_resume_refuses_a_request_that_does_not_match_the_run(capsys, run_copy, flag, value, field):
    before = digest(run_copy)
    status, _, err = run_cli(capsys, "train", "--resume", "--out", run_copy, "--steps", "6", flag, value)
    assert_one_line_error(status, err, f"recorded with {field}=")
    assert flag in err
    assert digest(run_copy) == before


def test_resume_cannot_shorten_a_run(capsys, run_copy):
    status, _, err = run_cli(capsys, "train", "--resume", "--out", run_copy, "--steps", "2")
    assert_one_line_error(status, err, "already at step 4")


def test_resume_of_a_finished_run_trains_nothing(capsys, run_copy):
    before = digest(run_copy)
    status, out, err = run_cli(capsys, "train", "--resume", "--out", run_copy)
    assert status == 0, err
    assert "already complete at step 4" in out
    assert digest(run_copy) == before


def test_resume_takes_the_recorded_options_and_extends_exactly(capsys, tmp_path, finished_run, run_copy):
    status, _, err = run_cli(capsys, "train", "--resume", "--out", run_copy, "--steps", "6")
    assert status == 0, err
    config = json.loads((run_copy / "config.json").read_text())
    assert config["steps"] == 6 and config["batch_size"] == 4 and config["model"] == SPEC
    (resumed,) = config["resumed"]  # how and where the run went on
    assert resumed["command"].startswith("keras-lmrnn train --resume")
    assert resumed["device"] == devices.describe() and "numerics_env" in resumed
    assert resumed["machine"] == runner.machine() == config["machine"]
    straight = tmp_path / "straight"
    six = [*TINY[:3], "6", *TINY[4:]]
    assert cli.main(["train", "--model", SPEC, *six, "--out", str(straight)]) == 0
    assert_same_weights(run_copy, straight)


def test_kill_between_checkpoint_and_state_resumes_from_the_checkpoint(capsys, tmp_path, finished_run):
    # The state of step 2 next to the checkpoint of step 4: what a kill
    # between the two renames leaves. Resume trusts the checkpoint's own step.
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    (run / "state.json").write_text(json.dumps({"step": 2}))
    (run / "summary.json").unlink()
    status, _, err = run_cli(capsys, "train", "--resume", "--out", run)
    assert status == 0, err
    assert json.loads((run / "state.json").read_text()) == {"step": 4}
    assert_same_weights(run, finished_run)


def test_a_state_ahead_of_its_checkpoint_is_refused(capsys, run_copy):
    (run_copy / "state.json").write_text(json.dumps({"step": 6}))
    status, _, err = run_cli(capsys, "train", "--resume", "--out", run_copy, "--steps", "8")
    assert_one_line_error(status, err, "do not belong together")


def test_diverging_training_fails_and_keeps_no_result(capsys, tmp_path):
    out = tmp_path / "nan"
    status, stdout, err = run_cli(capsys, "train", "--model", SPEC, *TINY, "--lr", "1e30", "--out", out)
    assert_one_line_error(status, err, "training diverged", code=1)
    assert "mean response accuracy" not in stdout
    assert not (out / "summary.json").exists()
    # Diverging before the first checkpoint is a result too: the folder keeps where it diverged.
    state = json.loads((out / "state.json").read_text())
    assert state["step"] == 0 and state["diverged_at_step"] >= 1
    status, _, err = run_cli(capsys, "train", "--model", SPEC, *TINY, "--out", out)
    assert_one_line_error(status, err, "--overwrite")


def test_diverging_training_after_a_checkpoint_keeps_the_finite_one(tmp_path):
    from keras_lmrnn import models, tasks, training

    data = tasks.TaskDataset("yang20", batch_size=4, seq_len=30, num_batches=6, seed=0)
    model = models.build_model("dense:n=16,seed=0", data.input_size)
    training.train(model, data, 2, tmp_path / "run", eval_every=2, verbose=0)
    model = keras.models.load_model(tmp_path / "run" / "checkpoint.keras")
    model.optimizer.learning_rate.assign(1e30)
    model.save(tmp_path / "run" / "checkpoint.keras")
    with pytest.raises(training.TrainingDiverged) as caught:
        training.train(None, data, 6, tmp_path / "run", eval_every=2, resume=True, verbose=0)
    assert caught.value.checkpoint_step == 2 and caught.value.step > 2
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    assert state["step"] == 2 and state["diverged_at_step"] == caught.value.step
    kept = keras.models.load_model(tmp_path / "run" / "checkpoint.keras")
    assert all(np.isfinite(w).all() for w in kept.get_weights())
    assert str(caught.value).endswith("Try a lower learning rate or gradient clipping (clipnorm)")


def test_the_divergence_hint_of_a_clipped_run_does_not_suggest_clipping(tmp_path):
    from keras_lmrnn import models, tasks, training

    data = tasks.TaskDataset("yang20", batch_size=4, seq_len=30, num_batches=6, seed=0)
    model = models.build_model("dense:n=16,seed=0", data.input_size)
    training.train(model, data, 2, tmp_path / "run", eval_every=2, verbose=0, clipnorm=1.0)
    model = keras.models.load_model(tmp_path / "run" / "checkpoint.keras")
    model.optimizer.learning_rate.assign(1e30)
    model.save(tmp_path / "run" / "checkpoint.keras")
    # Resumed without naming clipnorm: the hint reads the checkpoint's optimizer, which clips.
    with pytest.raises(training.TrainingDiverged) as caught:
        training.train(None, data, 6, tmp_path / "run", eval_every=2, resume=True, verbose=0)
    assert str(caught.value).endswith("Try a lower learning rate (gradients were already clipped to norm 1.0)")


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "0"])
def test_non_finite_or_non_positive_learning_rates_are_refused(capsys, tmp_path, value):
    status, _, err = run_cli(capsys, "train", "--model", SPEC, *TINY, "--lr", value, "--out", tmp_path / "r")
    assert_one_line_error(status, err, "--lr")
    assert not (tmp_path / "r").exists()


def test_python_api_refuses_a_non_finite_learning_rate(tmp_path):
    from keras_lmrnn import models, tasks, training

    data = tasks.TaskDataset("yang20", batch_size=4, seq_len=30, num_batches=2, seed=0)
    model = models.build_model("dense:n=16", data.input_size)
    with pytest.raises(ValueError, match="learning_rate"):
        training.train(model, data, 2, tmp_path / "run", learning_rate=float("inf"), verbose=0)
    assert not (tmp_path / "run").exists()


# --- one line where a traceback was ---------------------------------------


@pytest.mark.parametrize(
    "spec, words",
    [
        ("lmrnn:n=16,d=-1", "`d`"),
        ("lmrnn:n=16,d=nan", "`d`"),
        ("lmrnn:n=15,d=1", "perfect square"),
        ("lmrnn:n=0,d=1", "`n`"),
        ("lmrnn:n=16,d=1,alpha=0", "`alpha`"),
        ("lmrnn:n=16,d=1,sheet=3x5", "sheet_shape"),
        ("lmrnn:n=16,d=1,sheet=0x16", "sheet_shape"),
        ("lmrnn:n=16,d=1,sheet=4", "cannot read"),
        ("lmrnn:n=16,d=1,seed=-2", "`seed`"),
        ("random:n=16,d=1,mask_seed=-1", "`mask_seed`"),
        ("l1:n=16,l1=nan", "`l1`"),
        ("dense:n=1000000", "more than this machine"),
    ],
)
def test_bad_model_specs_get_one_line_and_no_folder(capsys, tmp_path, spec, words):
    status, _, err = run_cli(capsys, "train", "--model", spec, *TINY, "--out", tmp_path / "r")
    assert_one_line_error(status, err, words)
    assert not (tmp_path / "r").exists()


def test_negative_seed_flag_is_refused(capsys, tmp_path):
    status, _, err = run_cli(capsys, "train", "--model", SPEC, *TINY, "--seed", "-1", "--out", tmp_path / "r")
    assert_one_line_error(status, err, "--seed")


def test_compare_checks_every_spec_before_training_the_first(capsys, tmp_path):
    status, out, err = run_cli(capsys, "compare", "--models", SPEC, "lmrnn:n=16,d=-1", *TINY, "--out", tmp_path / "c")
    assert_one_line_error(status, err, "d=-1")
    assert "[1/2]" not in out and not (tmp_path / "c").exists()


def test_a_corrupted_checkpoint_is_one_line(capsys, run_copy):
    path = run_copy / "checkpoint.keras"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    (run_copy / "summary.json").unlink()
    status, _, err = run_cli(capsys, "train", "--resume", "--out", run_copy, "--steps", "6")
    assert_one_line_error(status, err, "corrupted or truncated")
    status, _, err = run_cli(capsys, "evaluate", path, "--battery", "yang20", "--trials-per-task", "1")
    assert_one_line_error(status, err, "corrupted")


@pytest.mark.parametrize("name, text, words", [("state.json", "{not json", "state.json is unreadable"),
                                               ("config.json", "[1, 2", "config.json is unreadable")])
def test_a_corrupted_record_is_one_line(capsys, run_copy, name, text, words):
    (run_copy / name).write_text(text)
    before = digest(run_copy)
    status, _, err = run_cli(capsys, "train", "--resume", "--out", run_copy, "--steps", "6")
    assert_one_line_error(status, err, words)
    assert digest(run_copy) == before


def test_a_battery_of_another_width_is_one_line(capsys, finished_run):
    status, _, err = run_cli(capsys, "evaluate", finished_run, "--battery", "modcog84", "--trials-per-task", "1")
    assert_one_line_error(status, err, "fits --battery yang20")


def _model_with_outputs(width, return_sequences=True):
    import keras_lmrnn

    inputs = keras.Input((None, runner.input_size("yang20")))
    hidden = keras_lmrnn.LMRNN(n=16, d=1, return_sequences=return_sequences)(inputs)
    return keras.Model(inputs, keras.layers.Dense(width)(hidden))


@pytest.mark.parametrize("width, sequences, shape", [(5, True, "(None, None, 5)"), (17, False, "(None, 17)")])
@pytest.mark.parametrize("command", ["evaluate", "analyze"])
def test_a_model_of_another_output_is_one_line(capsys, tmp_path, command, width, sequences, shape):
    path = tmp_path / "m.keras"
    _model_with_outputs(width, sequences).save(path)
    args = ["--trials-per-task", "1"] + (["--out", tmp_path / "a"] if command == "analyze" else [])
    status, _, err = run_cli(capsys, command, path, "--battery", "yang20", *args)
    assert_one_line_error(status, err, f"gives outputs of shape {shape}")
    assert not (tmp_path / "a").exists()


def test_resume_refuses_a_checkpoint_of_another_output(capsys, run_copy):
    from keras_lmrnn import training

    model = _model_with_outputs(5)
    training.compile_for_tasks(model)
    model.optimizer.build(model.trainable_variables)
    model.optimizer.iterations.assign(4)  # the step the run's state.json records
    model.save(run_copy / "checkpoint.keras")
    before = digest(run_copy)
    status, _, err = run_cli(capsys, "train", "--resume", "--out", run_copy, "--steps", "6")
    assert_one_line_error(status, err, "gives outputs of shape (None, None, 5)")
    assert digest(run_copy) == before


def test_evaluate_defaults_to_the_recorded_battery(capsys, finished_run):
    status, out, err = run_cli(capsys, "evaluate", finished_run, "--trials-per-task", "1")
    assert status == 0, err
    assert "(yang20)" in out


def test_out_under_a_file_is_one_line(capsys, tmp_path):
    (tmp_path / "f").write_text("x")
    status, _, err = run_cli(capsys, "train", "--model", SPEC, *TINY, "--out", tmp_path / "f" / "run")
    assert_one_line_error(status, err, "is a file")
    assert (tmp_path / "f").read_text() == "x"


def test_out_in_a_read_only_place_is_one_line(capsys, tmp_path):
    if os.geteuid() == 0:  # root writes anywhere a mode allows; /proc refuses it
        target = "/proc/keras-lmrnn-test/run"
    else:
        (tmp_path / "ro").mkdir(mode=0o555)
        target = tmp_path / "ro" / "run"
    status, _, err = run_cli(capsys, "train", "--model", SPEC, *TINY, "--out", target)
    assert_one_line_error(status, err, "cannot make" if os.geteuid() == 0 else "not writable")


def test_plot_to_a_missing_folder_is_one_line(capsys, tmp_path):
    status, _, err = run_cli(capsys, "tasks", "--plot", "go", "--out", tmp_path / "no" / "t.png")
    assert_one_line_error(status, err, "does not exist")
    assert not (tmp_path / "no").exists()


def test_resume_of_a_missing_run_is_one_line(capsys, tmp_path):
    status, _, err = run_cli(capsys, "train", "--resume", "--out", tmp_path / "none")
    assert_one_line_error(status, err, "does not exist")


# --- conventions -------------------------------------------------------------


def test_run_files_get_the_users_normal_permissions(finished_run):
    for path in finished_run.iterdir():
        if path.name != folders.LOCK:
            assert path.stat().st_mode & 0o777 == folders.FILE_MODE, path.name


def test_config_records_the_command_without_the_programs_path(finished_run):
    command = json.loads((finished_run / "config.json").read_text())["command"]
    assert command.startswith("keras-lmrnn train --model")


def test_tensorflow_start_up_lines_do_not_bury_the_error(tmp_path):
    # The real console script, with the variable left unset as a user has it.
    script = pathlib.Path(sys.executable).parent / "keras-lmrnn"
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["KERAS_BACKEND"] = "tensorflow"
    done = subprocess.run(
        [str(script), "train", "--model", "lmrnn:n=16,d=-1", *TINY, "--out", str(tmp_path / "r")],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [line for line in done.stderr.strip().splitlines()
                                                if line.startswith("keras-lmrnn train: error:")]
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


# --- fault injection ------------------------------------------------------

# Runs `keras-lmrnn ARGS` and SIGKILLs itself at the K-th rename of
# checkpoint.keras or state.json, just before it ("before") or just after
# it ("after"): every point of a checkpoint write a crash can hit.
KILLER = """
import os, signal, sys
from keras_lmrnn import cli
target, phase, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
calls = 0
real_replace = os.replace
def replace(src, dst):
    global calls
    watched = str(dst).endswith(("checkpoint.keras", "state.json"))
    calls += watched
    if watched and calls == target and phase == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    real_replace(src, dst)
    if watched and calls == target and phase == "after":
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
sys.exit(cli.main(args))
"""


def test_killed_at_random_points_of_checkpoint_writes_resume_exactly(capsys, tmp_path, backend):
    six = [*TINY[:3], "6", *TINY[4:]]  # 3 checkpoints: 6 watched renames
    reference = tmp_path / "reference"
    assert cli.main(["train", "--model", SPEC, *six, "--out", str(reference)]) == 0
    rng = random.Random(20261129)
    drawn = [(rng.randint(1, 6), rng.choice(["before", "after"])) for _ in range(3)]
    if suite_per_backend():
        # The suite runs once per backend: each backend takes its share of the drawn points (the
        # writes are the same files under all three), and every backend the first write.
        drawn = [point for i, point in enumerate(drawn) if BACKENDS[i % len(BACKENDS)] == backend]
    tries = drawn + [(1, "before")]
    env = dict(os.environ, KERAS_BACKEND=backend)
    for k, (target, phase) in enumerate(tries):
        out = tmp_path / f"try{k}"
        killed = subprocess.run(
            [sys.executable, "-c", KILLER, str(target), phase, "train", "--model", SPEC, *six, "--out", str(out)],
            env=env, capture_output=True, text=True, timeout=600,
        )
        assert killed.returncode == -signal.SIGKILL, (target, phase, killed.stderr[-2000:])
        status, _, err = run_cli(capsys, "train", "--resume", "--out", out)
        assert status == 0, (target, phase, err)
        assert_same_weights(out, reference)
        assert (out / "curve.csv").read_text() == (reference / "curve.csv").read_text(), (target, phase)
        assert not list(out.glob(folders.TEMP_PREFIX + "*")), (target, phase)


def test_existing_output_files_are_replaced_only_with_overwrite(capsys, tmp_path, finished_run):
    table = tmp_path / "table.csv"
    table.write_text("mine")
    status, _, err = run_cli(capsys, "evaluate", finished_run, "--trials-per-task", "1", "--csv", table)
    assert_one_line_error(status, err, "exists; pass --overwrite")
    assert table.read_text() == "mine"
    png = tmp_path / "t.png"
    png.write_text("mine")
    status, _, err = run_cli(capsys, "tasks", "--plot", "go", "--out", png)
    assert_one_line_error(status, err, "exists; pass --overwrite")
    assert run_cli(capsys, "tasks", "--plot", "go", "--out", png, "--overwrite")[0] == 0
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_a_table_evaluate_wrote_into_a_run_is_the_runs_own(capsys, run_copy):
    status, _, err = run_cli(capsys, "evaluate", run_copy, "--trials-per-task", "1", "--csv", run_copy / "eval.csv")
    assert status == 0, err
    assert folders.foreign_entries(run_copy) == []
    status, _, err = run_cli(capsys, "train", "--model", SPEC, *TINY, "--out", run_copy, "--overwrite")
    assert status == 0, err
    assert not (run_copy / "eval.csv").exists()


# --- found by probing the command line as a hostile user ------------------


def test_resume_writes_no_file_through_a_link(capsys, tmp_path, finished_run):
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(finished_run / folders.MARKER, run)
    shutil.copy(finished_run / "config.json", run)
    victim = tmp_path / "victim.csv"
    victim.write_text("mine")
    (run / "curve.csv").symlink_to(victim)
    status, _, err = run_cli(capsys, "train", "--resume", "--out", run)
    assert status == 0, err
    assert victim.read_text() == "mine" and not (run / "curve.csv").is_symlink()


def test_huge_finite_weights_are_a_divergence_not_a_result(capsys, tmp_path):
    args = ["--battery", "yang20", "--steps", "1", "--batch-size", "4", "--seq-len", "30", "--eval-every", "1",
            "--trials-per-task", "2", "--quiet"]
    status, out, err = run_cli(capsys, "train", "--model", SPEC, *args, "--lr", "1e30", "--out", tmp_path / "r")
    assert_one_line_error(status, err, "not finite", code=1)
    assert "mean response accuracy" not in out and not (tmp_path / "r" / "summary.json").exists()
    assert json.loads((tmp_path / "r" / "state.json").read_text()) == {"step": 0, "diverged_at_step": 1}


@pytest.mark.parametrize("edit", ["model", "checkpoint"])
def test_resume_refuses_a_checkpoint_of_another_network(capsys, tmp_path, run_copy, edit):
    (run_copy / "summary.json").unlink()
    if edit == "model":
        config = json.loads((run_copy / "config.json").read_text())
        config["model"] = "lmrnn:n=16,d=2,noise=0.05"
        (run_copy / "config.json").write_text(json.dumps(config))
    else:
        other = tmp_path / "dense"
        assert cli.main(["train", "--model", "dense:n=16", *TINY, "--out", str(other)]) == 0
        shutil.copy(other / "checkpoint.keras", run_copy / "checkpoint.keras")
    status, _, err = run_cli(capsys, "train", "--resume", "--out", run_copy)
    assert_one_line_error(status, err, "another network than config.json records")


def test_resume_under_another_backend_is_refused(capsys, run_copy, backend):
    config = json.loads((run_copy / "config.json").read_text())
    config["backend"] = "jax" if backend != "jax" else "torch"
    (run_copy / "config.json").write_text(json.dumps(config))
    (run_copy / "summary.json").unlink()
    status, _, err = run_cli(capsys, "train", "--resume", "--out", run_copy)
    assert_one_line_error(status, err, f"KERAS_BACKEND={config['backend']}")


def test_resume_accepts_the_same_spec_in_another_order(capsys, run_copy):
    status, out, err = run_cli(capsys, "train", "--resume", "--out", run_copy, "--model", "lmrnn:noise=0.05,d=1,n=16")
    assert status == 0, err and "already complete" in out


@pytest.mark.parametrize("key, value", [("batch_size", -1), ("trials_per_task", 0), ("learning_rate", "x"),
                                        ("seed", True)])
def test_a_damaged_config_value_is_one_line(capsys, run_copy, key, value):
    config = json.loads((run_copy / "config.json").read_text())
    config[key] = value
    (run_copy / "config.json").write_text(json.dumps(config))
    status, _, err = run_cli(capsys, "train", "--resume", "--out", run_copy, "--steps", "6")
    assert status == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


def test_a_damaged_summary_of_a_finished_run_is_recomputed(capsys, run_copy, finished_run):
    (run_copy / "summary.json").write_text("[1")
    status, _, err = run_cli(capsys, "train", "--resume", "--out", run_copy)
    assert status == 0, err
    assert json.loads((run_copy / "summary.json").read_text())["response_accuracy"] == pytest.approx(
        json.loads((finished_run / "summary.json").read_text())["response_accuracy"])


def test_a_damaged_curve_is_one_line(capsys, run_copy):
    text = (run_copy / "curve.csv").read_text().replace("go,", "go,abc,", 1)
    (run_copy / "curve.csv").write_text(text)
    status, _, err = run_cli(capsys, "train", "--resume", "--out", run_copy, "--steps", "6")
    assert_one_line_error(status, err, "curve.csv is unreadable")


@pytest.mark.parametrize("flag", ["--batch-size", "--seq-len"])
def test_sizes_no_machine_holds_are_refused_before_anything(capsys, run_copy, flag):
    before = digest(run_copy)
    args = [a for a in TINY]
    args[args.index(flag) + 1] = "100000000000"
    status, _, err = run_cli(capsys, "train", "--model", SPEC, *args, "--out", run_copy, "--overwrite")
    assert_one_line_error(status, err, "more than this machine")
    assert digest(run_copy) == before


def test_unknown_flags_name_the_command(capsys, tmp_path):
    status, _, err = run_cli(capsys, "train", "--model", SPEC, "--out", tmp_path / "r", "--bogus")
    assert_one_line_error(status, err, "unrecognized arguments: --bogus")
    assert err.startswith("keras-lmrnn train: error:")


@pytest.mark.parametrize("args, words", [(["evaluate", "{run}", "--csv", ""], "--csv needs a file name"),
                                         (["tasks", "--out", "x.png"], "give --plot too"),
                                         (["tasks", "--plot", "", "--out", "x.png"], "--plot needs a task name"),
                                         (["tasks", "--plot", "ctxdlydm1_seqr", "--battery", "yang20", "--out",
                                           "x.png"], "not in battery yang20")])
def test_empty_or_stray_options_are_refused(capsys, tmp_path, finished_run, args, words):
    status, _, err = run_cli(capsys, *[a.format(run=finished_run) for a in args])
    assert_one_line_error(status, err, words)


def test_evaluate_a_runs_checkpoint_file_uses_its_battery(capsys, finished_run):
    status, out, err = run_cli(capsys, "evaluate", finished_run / "checkpoint.keras", "--trials-per-task", "1")
    assert status == 0 and "(yang20)" in out, err


def test_a_model_spec_key_given_twice_is_refused(capsys, tmp_path):
    status, _, err = run_cli(capsys, "train", "--model", "lmrnn:n=16,d=1,d=2", *TINY, "--out", tmp_path / "r")
    assert_one_line_error(status, err, "d is given twice")


def test_rows_too_short_for_a_trial_get_one_line_and_leave_nothing(capsys, tmp_path):
    out = tmp_path / "run"
    args = [a for a in TINY if a not in ("--seq-len", "30")]
    status, _, err = run_cli(capsys, "train", "--model", SPEC, *args, "--layout", "trials", "--seq-len", "5",
                             "--out", out)
    assert_one_line_error(status, err, "a trial of")
    assert "seq_len=5" in err
    assert not out.exists()
