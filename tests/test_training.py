import json

import numpy as np

import keras

from keras_lmrnn import models, tasks, training
from keras_lmrnn.evaluation import EvaluationCallback, EvaluationData


def data(steps=8):
    return tasks.TaskDataset("yang20", batch_size=8, seq_len=40, num_batches=steps, seed=3)


def test_short_training_lowers_the_loss(tmp_path):
    dataset = tasks.TaskDataset("yang20", batch_size=16, seq_len=40, num_batches=30, seed=1)
    model = models.build_model("lmrnn:n=36,d=1,seed=0", dataset.input_size)
    training.compile_for_tasks(model, learning_rate=1e-2)
    before = model.evaluate(dataset[29][0], dataset[29][1], verbose=0)
    training.train(model, dataset, steps=29, out_dir=tmp_path, eval_every=29, verbose=0, learning_rate=1e-2)
    after = model.evaluate(dataset[29][0], dataset[29][1], verbose=0)
    assert after < 0.8 * before


def test_interrupted_and_resumed_equals_uninterrupted(tmp_path):
    eval_data = EvaluationData("yang20", trials_per_task=2)
    spec = "lmrnn:n=16,d=1,seed=2,noise=0.05"
    full = models.build_model(spec, data().input_size)
    result = training.train(full, data(), 8, tmp_path / "full", eval_data=eval_data, eval_every=2, verbose=0)

    part = models.build_model(spec, data().input_size)
    training.train(part, data(6), 6, tmp_path / "part", eval_data=eval_data, eval_every=2, verbose=0)  # "killed"
    assert json.loads((tmp_path / "part" / "state.json").read_text()) == {"step": 6}
    resumed = training.train(None, data(), 8, tmp_path / "part", eval_data=eval_data, eval_every=2, resume=True, verbose=0)
    assert resumed["step"] == 8
    for a, b in zip(result["model"].get_weights(), resumed["model"].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    steps = [s for s, _ in resumed["curve"]]
    assert steps == [0, 2, 4, 6, 8]
    lines = (tmp_path / "part" / "curve.csv").read_text().strip().splitlines()
    assert len(lines) == 1 + 5 * 20  # header + each step once per task
    np.testing.assert_allclose(training.read_curve(tmp_path / "part"), resumed["curve"])
    assert (tmp_path / "part" / "curve.png").stat().st_size > 1000


def test_evaluation_callback_inside_fit():
    dataset = data(6)
    model = training.compile_for_tasks(models.build_model("autapse:n=9,seed=1", dataset.input_size))
    callback = EvaluationCallback(EvaluationData("yang20", trials_per_task=2), every=3)
    model.fit(dataset, epochs=1, shuffle=False, verbose=0, callbacks=[callback])
    assert [step for step, _ in callback.history] == [3, 6]
    table = callback.history[-1][1]
    assert [row["task"] for row in table] == tasks.names("yang20")
    assert all(0 <= row[key] <= 1 for row in table for key in ("response_accuracy", "trial_accuracy"))


def test_kept_checkpoints_hold_the_weights_of_their_step(tmp_path):
    from keras_lmrnn import folders

    spec = "lmrnn:n=16,d=1,seed=2"
    kept = training.train(models.build_model(spec, data().input_size), data(), 8, tmp_path / "kept",
                          eval_every=2, keep_checkpoints=4, verbose=0)
    assert [step for step, _ in training.kept_checkpoints(tmp_path / "kept")] == [0, 4, 8]
    at4 = training.train(models.build_model(spec, data().input_size), data(4), 4, tmp_path / "four",
                         eval_every=2, verbose=0)["model"]
    copy = models.build_model(spec, data().input_size)
    copy.load_weights(training.kept_checkpoint(tmp_path / "kept", 4))
    for a, b in zip(copy.get_weights(), at4.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    last = copy
    last.load_weights(training.kept_checkpoint(tmp_path / "kept", 8))
    for a, b in zip(last.get_weights(), kept["model"].get_weights()):
        np.testing.assert_array_equal(a, b)
    assert folders.foreign_entries(tmp_path / "kept") == []
    (tmp_path / "kept" / "checkpoints" / "mine.txt").write_text("x")
    assert [p.name for p in folders.foreign_entries(tmp_path / "kept")] == ["mine.txt"]


def test_keep_checkpoints_must_be_a_multiple_of_eval_every(tmp_path):
    import pytest

    with pytest.raises(ValueError, match="keep_checkpoints"):
        training.train(models.build_model("dense:n=4", data().input_size), data(), 8, tmp_path / "r",
                       eval_every=4, keep_checkpoints=6, verbose=0)
    assert not (tmp_path / "r").exists()


def test_progress_without_a_terminal_is_one_line_per_checkpoint(tmp_path, capsys):
    # pytest's captured stdout is not a terminal, like a log file or nohup
    model = models.build_model("dense:n=4", data().input_size)
    training.train(model, data(), 8, tmp_path / "run", eval_every=2, verbose=1)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert [line.split(",")[0] for line in lines] == ["step 2/8", "step 4/8", "step 6/8", "step 8/8"]
    assert "\r" not in out and "\x1b" not in out
    training.train(models.build_model("dense:n=4", data().input_size), data(), 8, tmp_path / "quiet",
                   eval_every=2, verbose=0)
    assert capsys.readouterr().out == ""
