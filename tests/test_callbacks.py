"""Keras callbacks in training (issue #29 item 2): they run alongside the
checkpointing, see one continuous fit, and a stop they request ends the run as
a finished, shorter run at the next checkpoint."""

import csv
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_lmrnn import models, runner, sweeps, tasks, training
from keras_lmrnn.evaluation import EvaluationData

from conftest import REPO

SPEC = "lmrnn:n=16,d=1"


def data(steps=12):
    return tasks.TaskDataset("yang20", batch_size=4, seq_len=30, num_batches=steps, seed=3)


def weights(model):
    return [keras.ops.convert_to_numpy(w) for w in model.weights]


class Recorder(keras.callbacks.Callback):
    """Notes every call it gets."""

    def __init__(self, stop_at_batch=None):
        super().__init__()
        self.calls, self.stop_at_batch = [], stop_at_batch

    def on_train_begin(self, logs=None):
        self.calls.append(("train_begin",))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch_begin", epoch))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("batch", batch))
        if batch == self.stop_at_batch:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch, sorted(logs)))

    def on_train_end(self, logs=None):
        self.calls.append(("train_end",))


def train(out, steps=12, callbacks=None, eval_every=4, resume=False):
    model = None if resume else models.build_model(SPEC, data().input_size)
    return training.train(model, data(steps), steps=steps, out_dir=out, eval_every=eval_every, verbose=0,
                          eval_data=EvaluationData("yang20", trials_per_task=1), callbacks=callbacks, resume=resume)


def test_a_callback_sees_one_continuous_fit(tmp_path):
    recorder = Recorder()
    train(tmp_path / "run", callbacks=[recorder])
    calls = recorder.calls
    assert calls[0] == ("train_begin",) and calls[-1] == ("train_end",)
    assert [c[1] for c in calls if c[0] == "batch"] == list(range(12))  # the run's own step numbers
    assert [c[1] for c in calls if c[0] == "epoch_end"] == [0, 1, 2]  # one per checkpoint interval
    assert all(c[2] == ["loss", "performance"] for c in calls if c[0] == "epoch_end")


def test_callbacks_do_not_change_the_training(tmp_path):
    plain = train(tmp_path / "plain")
    watched = train(tmp_path / "watched", callbacks=[Recorder(), keras.callbacks.CSVLogger(str(tmp_path / "log.csv"))])
    for a, b in zip(weights(plain["model"]), weights(watched["model"])):
        np.testing.assert_array_equal(a, b)
    assert plain["stopped_early"] is None and watched["stopped_early"] is None


def test_csv_logger_writes_one_row_per_checkpoint(tmp_path):
    train(tmp_path / "run", callbacks=[keras.callbacks.CSVLogger(str(tmp_path / "log.csv"))])
    rows = list(csv.DictReader(open(tmp_path / "log.csv")))
    assert [row["epoch"] for row in rows] == ["0", "1", "2"]
    assert all(0 <= float(row["performance"]) <= 1 for row in rows)


def test_a_stop_mid_interval_ends_the_run_at_the_next_checkpoint(tmp_path):
    out = tmp_path / "run"
    result = train(out, callbacks=[Recorder(stop_at_batch=5)])
    assert result["step"] == 8 and result["stopped_early"] == {"step": 8, "by": ["Recorder"]}
    assert json.loads((out / "state.json").read_text()) == {"step": 8, "stopped_early": {"step": 8, "by": ["Recorder"]}}
    # The checkpoint is the model at step 8, as an uninterrupted run's checkpoint at step 8 is.
    reference = train(tmp_path / "reference", steps=8)
    saved = keras.saving.load_model(out / "checkpoint.keras")
    for a, b in zip(weights(saved), weights(reference["model"])):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_ends_the_run_as_a_finished_shorter_run(tmp_path):
    out = tmp_path / "run"
    # performance cannot rise by 1.0: EarlyStopping stops after the second checkpoint (patience 1)
    stopper = keras.callbacks.EarlyStopping(monitor="performance", mode="max", min_delta=1.0, patience=1)
    options = runner.RunOptions(battery="yang20", steps=16, eval_every=4, batch_size=4, seq_len=30,
                                trials_per_task=1, callbacks=(stopper,))
    result = runner.run(out, SPEC, options)
    assert result["summary"]["stopped_early"] == {"step": 8, "by": ["EarlyStopping"]}
    assert runner.is_complete(out) and sweeps.status(tmp_path, "run") == "complete"
    # Resuming it trains nothing: the run is finished.
    again = runner.run(out, SPEC, runner.RunOptions(battery="yang20", steps=16, eval_every=4, batch_size=4,
                                                    seq_len=30, trials_per_task=1), resume=True)
    assert again["trained"] is False
    # The callbacks are not a setting of the run: config.json does not record them.
    assert "callbacks" not in json.loads((out / "config.json").read_text())


def test_bad_callbacks_are_refused_naming_the_argument(tmp_path):
    with pytest.raises(ValueError, match="argument `callbacks`"):
        train(tmp_path / "a", callbacks=["not a callback"])
    with pytest.raises(ValueError, match="argument `callbacks`"):
        runner.RunOptions(callbacks=(print,))
    with pytest.raises(ValueError, match="restore_best_weights"):
        train(tmp_path / "b", callbacks=[keras.callbacks.EarlyStopping(restore_best_weights=True)])
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_tensorboard_logs_appear_for_a_cli_run(tmp_path, backend):
    pytest.importorskip("tensorflow")
    logs = tmp_path / "tb"
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(
        [sys.executable, "-m", "keras_lmrnn.cli", "train", "--model", SPEC, "--battery", "yang20", "--steps", "4",
         "--eval-every", "2", "--batch-size", "4", "--seq-len", "30", "--trials-per-task", "1", "--quiet",
         "--out", str(tmp_path / "run"), "--tensorboard", str(logs)],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    events = b"".join(e.read_bytes() for e in logs.rglob("events.out.tfevents.*"))
    # the loss of every step and the loss and performance of each checkpoint
    assert b"batch_loss" in events and b"epoch_loss" in events and b"epoch_performance" in events
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert "callbacks" not in config and "--tensorboard" in config["command"]


def test_a_sweep_refuses_callbacks(tmp_path):
    options = runner.RunOptions(battery="yang20", steps=4, eval_every=2, callbacks=(Recorder(),))
    with pytest.raises(sweeps.SweepError, match="callbacks"):
        sweeps.run_sweep(tmp_path / "sweep", [SPEC], [0], options)
    assert not (tmp_path / "sweep").exists()
