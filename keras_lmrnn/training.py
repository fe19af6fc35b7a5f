"""Training on a task battery with learning curves, checkpoints and exact resume.

Step `s` of a run always trains on batch `s` of its `TaskDataset`, so a run
that is interrupted and resumed from its last checkpoint sees the same data
in the same order and ends with the same weights as an uninterrupted one
(same backend, same seed).

Files written to the output folder:

    checkpoint.keras    model + optimizer state at the last checkpoint
    state.json          {"step": ...} of that checkpoint
    curve.csv           step, task, response_accuracy, trial_accuracy
    curve.png           mean performance over tasks against steps

Example:

>>> from keras_lmrnn import models, tasks, training
>>> data = tasks.TaskDataset("yang20", batch_size=8, seq_len=40, num_batches=20)
>>> model = models.build_model("lmrnn:n=16,d=1", data.input_size)
>>> result = training.train(model, data, steps=20, out_dir="run", eval_every=10)  # doctest: +SKIP
"""

import csv
import json
import os
import pathlib
import tempfile

import keras
import numpy as np

from keras_lmrnn.evaluation import mean_performance

CURVE_FIELDS = ("step", "task", "response_accuracy", "trial_accuracy")


class DatasetSlice(keras.utils.PyDataset):
    """Batches `start .. stop-1` of a dataset, as a dataset of their own."""

    def __init__(self, dataset, start, stop):
        super().__init__()
        self.dataset, self.start, self.stop = dataset, start, stop

    def __len__(self):
        return self.stop - self.start

    def __getitem__(self, index):
        return self.dataset[self.start + index]


def compile_for_tasks(model, learning_rate=1e-3):
    """Adam and per-step sparse cross-entropy weighted by the sample weights."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=[],
    )
    return model


def atomic_write(path, write):
    """Calls `write(temp_path)` then renames the result onto `path`."""
    path = pathlib.Path(path)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    os.close(fd)
    try:
        write(temp)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)


class _Progress(keras.callbacks.Callback):
    """One progress bar over the whole run: loss and latest performance."""

    def __init__(self, total, start, performance):
        super().__init__()
        self.bar = keras.utils.Progbar(total, stateful_metrics=["loss", "performance"])
        self.step = start
        self.performance = performance

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        values = [("loss", float((logs or {}).get("loss", np.nan)))]
        if self.performance is not None:
            values.append(("performance", self.performance))
        self.bar.update(self.step, values=values)


def train(
    model,
    dataset,
    steps,
    out_dir,
    eval_data=None,
    eval_every=500,
    learning_rate=1e-3,
    resume=False,
    verbose=1,
):
    """Trains `model` for `steps` gradient steps on `dataset`.

    Args:
        model: an uncompiled (or compiled) Keras model; ignored when resuming
            (the checkpoint's model, with its optimizer state, is used).
        dataset: a `TaskDataset` with at least `steps` batches.
        steps: total number of gradient steps.
        out_dir: folder for checkpoints and curves (created if needed).
        eval_data: a `keras_lmrnn.evaluation.EvaluationData` to evaluate
            every `eval_every` steps
            (and at step 0 and at the end); None: no curve.
        eval_every: steps between evaluations and checkpoints.
        learning_rate: Adam's learning rate (default 1e-3, the paper's).
        resume: continue from the checkpoint in `out_dir`.
        verbose: 1 for a progress bar, 0 for silence.

    Returns:
        dict with `model`, `step` and `curve` (list of (step, mean response
        accuracy)).
    """
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if steps > len(dataset):
        raise ValueError(
            f"Invalid value for argument `steps`: the dataset has {len(dataset)} "
            f"batches, fewer than steps={steps}."
        )
    start = 0
    if resume:
        state_path = out / "state.json"
        if not state_path.exists():
            raise FileNotFoundError(f"Cannot resume: no checkpoint in {out} (state.json is missing)")
        start = json.loads(state_path.read_text())["step"]
        model = keras.models.load_model(out / "checkpoint.keras")
    else:
        compile_for_tasks(model, learning_rate)
        _write_curve_header(out)
    curve = [point for point in _read_curve(out) if point[0] <= start]
    if eval_data is not None and start == 0 and not curve:
        curve.append(_evaluate(model, eval_data, 0, out))
    progress = _Progress(steps, start, curve[-1][1] if curve else None) if verbose else None
    step = start
    while step < steps:
        stop = min(step + eval_every, steps)
        model.fit(
            DatasetSlice(dataset, step, stop),
            epochs=1,
            shuffle=False,
            verbose=0,
            callbacks=[progress] if progress else [],
        )
        step = stop
        if eval_data is not None:
            curve.append(_evaluate(model, eval_data, step, out))
            if progress:
                progress.performance = curve[-1][1]
        atomic_write(out / "checkpoint.keras", model.save)
        atomic_write(out / "state.json", lambda p: pathlib.Path(p).write_text(json.dumps({"step": step})))
    if curve:
        plot_curves({"model": curve}, out / "curve.png")
    return {"model": model, "step": step, "curve": curve}


def _write_curve_header(out):
    with open(out / "curve.csv", "w", newline="") as f:
        csv.writer(f).writerow(CURVE_FIELDS)


def read_curve(run):
    """The learning curve of a training run: (step, mean response accuracy) pairs.

    Averages over tasks the rows of `run/curve.csv`, in step order.

    >>> dict(read_curve("runs/main/0_lmrnn_n=400_d=2"))[2000]  # doctest: +SKIP
    0.409
    """
    by_step = {}
    with open(pathlib.Path(run) / "curve.csv", newline="") as f:
        for row in csv.DictReader(f):
            by_step.setdefault(int(row["step"]), []).append(float(row["response_accuracy"]))
    return [(s, float(np.mean(v))) for s, v in sorted(by_step.items())]


def _read_curve(out):
    """The curve already in `out`, starting a fresh curve.csv if there is none."""
    if not (out / "curve.csv").exists():
        _write_curve_header(out)
        return []
    return read_curve(out)


def _evaluate(model, eval_data, step, out):
    table = eval_data.evaluate(model)
    # Rows of a step past the checkpoint (from an interrupted run) are
    # replaced, so each step appears once.
    path = out / "curve.csv"
    with open(path, newline="") as f:
        kept = [r for r in csv.reader(f)][1:]
    kept = [r for r in kept if int(r[0]) < step]
    rows = kept + [[step, r["task"], r["response_accuracy"], r["trial_accuracy"]] for r in table]

    def write(temp):
        with open(temp, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(CURVE_FIELDS)
            writer.writerows(rows)

    atomic_write(path, write)
    return (step, mean_performance(table))


def plot_curves(curves, path, title="Mean response accuracy over tasks"):
    """Draws {label: [(step, performance), ...]} to a PNG file."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, curve in curves.items():
        xs, ys = zip(*curve)
        ax.plot(xs, ys, marker="o", ms=3, label=label)
    ax.set_xlabel("gradient steps")
    ax.set_ylabel("performance")
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, dpi=100, format="png"))
    plt.close(fig)
