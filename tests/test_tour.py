"""The Python route of docs/guide/training.md trains what `keras-lmrnn train` trains (issue #30)."""

import json
import os
import subprocess
import sys

import numpy as np

import keras

from keras_lmrnn import models, runner, training
from keras_lmrnn.evaluation import EvaluationData

from conftest import REPO

SPEC = "lmrnn:n=36,d=1"
STEPS = 3


def test_the_python_tour_and_the_command_line_train_the_same_weights(tmp_path, backend):
    # The Python route, as docs/guide/training.md writes it (smaller: yang20, 3 steps, 1 trial per task).
    options = runner.RunOptions(battery="yang20", steps=STEPS, eval_every=STEPS, seed=0)
    data = runner.dataset(options)
    model = models.build_model(SPEC, data.input_size)
    result = training.train(model, data, steps=options.steps, out_dir=tmp_path / "py",
                            eval_data=EvaluationData("yang20", trials_per_task=1),
                            eval_every=options.eval_every, clipnorm=options.clipnorm, verbose=0)
    tour = [keras.ops.convert_to_numpy(w) for w in result["model"].weights]

    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    cli = subprocess.run(
        [sys.executable, "-m", "keras_lmrnn.cli", "train", "--model", SPEC, "--battery", "yang20",
         "--steps", str(STEPS), "--eval-every", str(STEPS), "--trials-per-task", "1", "--quiet",
         "--out", str(tmp_path / "cli")],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert cli.returncode == 0, cli.stderr[-3000:]
    config = json.loads((tmp_path / "cli" / "config.json").read_text())
    assert config["protocol"] == options.protocol and config["seed"] == 0
    trained = keras.saving.load_model(tmp_path / "cli" / "checkpoint.keras")
    command_line = [keras.ops.convert_to_numpy(w) for w in trained.weights]
    assert len(tour) == len(command_line)
    for a, b in zip(tour, command_line):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # and the run did move the weights away from their start
    start = models.build_model(SPEC, data.input_size)
    assert any(not np.allclose(keras.ops.convert_to_numpy(w), t) for w, t in zip(start.weights, tour))
