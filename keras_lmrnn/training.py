"""Training on a task battery with learning curves, checkpoints and exact resume.

Step `s` of a run always trains on batch `s` of its `TaskDataset`, so a run
that is interrupted and resumed from its last checkpoint sees the same data
in the same order and ends with the same weights as an uninterrupted one
(same backend, same seed).

The step of a checkpoint is stored inside it (the optimizer's iteration
count), so a resumed run is exact or refused, never silently shifted; a run
whose loss turns NaN stops with `TrainingDiverged`. The output folder is a
run folder (`keras_lmrnn.folders`): marked, locked while written, and never
replaced unless it is one that keras-lmrnn made.

Files written to the output folder:

    checkpoint.keras    model + optimizer state (and so the step) at the last checkpoint
    state.json          {"step": ...}: a readable record of that checkpoint ("stopped_early"
                        too when a callback ended the run)
    curve.csv           step, task, response_accuracy, trial_accuracy, last_step_accuracy
    curve.png           mean performance over tasks against steps
    checkpoints/        with keep_checkpoints: step_NNNNNN.weights.h5 (weights only)

Keras callbacks (`callbacks=[...]`: TensorBoard, CSVLogger, EarlyStopping, your
own) run alongside the checkpointing, which stays the owner of exact resume.
They see one continuous fit: `on_train_begin` and `on_train_end` once,
`on_train_batch_*` with the run's global step as the batch index, and one
"epoch" per checkpoint interval (`eval_every` steps), whose logs hold the loss
and the mean response accuracy ("performance") of that checkpoint. A callback
that stops training (`model.stop_training = True`) ends the run at the next
checkpoint, as a finished, shorter run recorded as such.

Example:

>>> from keras_lmrnn import models, tasks, training
>>> data = tasks.TaskDataset("yang20", batch_size=8, seq_len=40, num_batches=20)
>>> model = models.build_model("lmrnn:n=16,d=1", data.input_size)
>>> result = training.train(model, data, steps=20, out_dir="run", eval_every=10)  # doctest: +SKIP
"""

import math
import pathlib
import sys
import time

import keras
import numpy as np

from keras_lmrnn import folders, layers  # noqa: F401  (layers: registers LMRNN for load_model)
from keras_lmrnn.evaluation import mean_performance
from keras_lmrnn.validation import check_int, check_multiple, check_number

CURVE_FIELDS = folders.RunFolder.CURVE_FIELDS
OPTIMIZERS = ("adam", "sgd")


class DatasetSlice(keras.utils.PyDataset):
    """Batches `start .. stop-1` of a dataset, as a dataset of their own."""

    def __init__(self, dataset, start, stop):
        super().__init__()
        self.dataset, self.start, self.stop = dataset, start, stop

    def __len__(self):
        return self.stop - self.start

    def __getitem__(self, index):
        return self.dataset[self.start + index]


def check_optimizer_args(learning_rate, clipnorm, optimizer):
    """Raises ValueError/TypeError naming a bad learning rate, clip norm or optimizer."""
    check_number("learning_rate", learning_rate, 0, open_below=True)
    check_number("clipnorm", clipnorm, 0)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"Invalid value for argument `optimizer`: expected one of {OPTIMIZERS}. "
                         f"Received: optimizer={optimizer!r}")


def make_optimizer(learning_rate=1e-3, clipnorm=0.0, optimizer="adam"):
    """Adam (or plain SGD), optionally clipping the global gradient norm.

    `clipnorm` > 0 rescales the gradient of all weights together so that its
    norm is at most `clipnorm` (as PyTorch's `clip_grad_norm_`); 0: no clipping.
    """
    check_optimizer_args(learning_rate, clipnorm, optimizer)
    kind = keras.optimizers.Adam if optimizer == "adam" else keras.optimizers.SGD
    return kind(learning_rate, global_clipnorm=clipnorm or None)


def compile_for_tasks(model, learning_rate=1e-3, clipnorm=0.0, optimizer="adam"):
    """Per-step sparse cross-entropy weighted by the sample weights, with the
    optimizer of `make_optimizer` (default: Adam, no clipping)."""
    model.compile(
        optimizer=make_optimizer(learning_rate, clipnorm, optimizer),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=[],
    )
    return model


atomic_write = folders.atomic_write  # the one atomic writer, kept here for old imports


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite; the run was stopped.

    Attributes: `step` (the first step with a non-finite loss), `loss`,
    `checkpoint_step` (the last finite checkpoint kept in the folder, 0 for
    none).
    """

    keeps_folder = True  # a result: the run folder keeps its record (state.json), see folders.open_folder

    def __init__(self, step, loss, checkpoint_step, folder, what=None, clipnorm=None):
        self.step, self.loss, self.checkpoint_step = step, loss, checkpoint_step
        kept = f"the last finite checkpoint (step {checkpoint_step}) is kept" if checkpoint_step else "no checkpoint was written"
        what = what or f"the loss became {loss} at step {step}"
        hint = (f"Try a lower learning rate (gradients were already clipped to norm {clipnorm})" if clipnorm
                else "Try a lower learning rate or gradient clipping (clipnorm)")
        super().__init__(f"training diverged: {what}; the run in {folder} is stopped and {kept}. {hint}")


class CheckpointError(ValueError):
    """A run folder's checkpoint cannot be read or does not match its record."""


class _Watch(keras.callbacks.Callback):
    """Counts steps, stops at a non-finite loss and shows progress: a bar on
    a terminal; otherwise (a log file, `nohup`, a batch system) one line per
    checkpoint, so that a long run does not write megabytes of redraws."""

    def __init__(self, total, start, performance, verbose):
        super().__init__()
        terminal = sys.stdout.isatty()
        self.bar = keras.utils.Progbar(total, stateful_metrics=["loss", "performance"]) if verbose and terminal else None
        self.lines = bool(verbose) and not terminal
        self.total = total
        self.step = start
        self.performance = performance
        self.loss = None
        self.started = time.monotonic()
        self.diverged = None  # (step, loss) of the first non-finite loss

    def checkpoint_line(self):
        """Prints one line of progress when there is no terminal to redraw."""
        if not self.lines:
            return
        words = [f"step {self.step}/{self.total}"]
        if self.loss is not None:
            words.append(f"loss {self.loss:.4f}")
        if self.performance is not None:
            words.append(f"performance {self.performance:.4f}")
        print(", ".join(words) + f" ({time.monotonic() - self.started:.0f} s)", flush=True)

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        loss = float((logs or {}).get("loss", np.nan))
        self.loss = loss
        if not math.isfinite(loss):
            self.diverged = (self.step, loss)
            self.model.stop_training = True
        if self.bar is not None:
            values = [("loss", loss)]
            if self.performance is not None:
                values.append(("performance", self.performance))
            self.bar.update(self.step, values=values)


class _Relay(keras.callbacks.Callback):
    """Forwards each batch of a `fit` chunk to the user's callbacks with the
    run's global step as the batch index. A stop a user callback requests in
    the middle of a chunk is held until the chunk's checkpoint, so that every
    checkpoint stays on the `eval_every` grid (and resume stays exact)."""

    def __init__(self, callbacks, watch):
        super().__init__()
        self.callbacks, self.watch = callbacks, watch
        self.askers = []  # the names of the callbacks that asked to stop

    def on_train_batch_begin(self, batch, logs=None):
        for callback in self.callbacks:
            callback.on_train_batch_begin(self.watch.step, logs)

    def on_train_batch_end(self, batch, logs=None):
        diverged = self.model.stop_training  # set by _Watch before this relay runs
        self.dispatch("on_train_batch_end", self.watch.step - 1, logs)
        if not diverged:
            self.model.stop_training = False  # finish the chunk: stop at its checkpoint

    def dispatch(self, hook, *args):
        """Calls `hook` of each user callback, noting which ones ask to stop."""
        for callback in self.callbacks:
            asked = self.model.stop_training
            getattr(callback, hook)(*args)
            if self.model.stop_training and not asked:
                self.askers.append(type(callback).__name__)


def check_callbacks(callbacks):
    """The user's callbacks as a list; refuses anything but Keras callbacks.

    Args:
        callbacks: None or a list/tuple of `keras.callbacks.Callback`.

    Example:

    >>> check_callbacks([keras.callbacks.CSVLogger("log.csv")])  # doctest: +ELLIPSIS
    [<keras.src.callbacks.csv_logger.CSVLogger object at ...>]
    >>> check_callbacks(None)
    []
    """
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)) or not all(isinstance(c, keras.callbacks.Callback) for c in callbacks):
        raise ValueError(
            "Invalid value for argument `callbacks`: expected a list of keras.callbacks.Callback instances. "
            f"Received: callbacks={callbacks!r}"
        )
    for callback in callbacks:
        if getattr(callback, "restore_best_weights", False):
            raise ValueError(
                "Invalid value for argument `callbacks`: EarlyStopping(restore_best_weights=True) would leave a "
                "model that is not the run's checkpoint; use restore_best_weights=False (and keep_checkpoints "
                f"to keep every checkpoint's weights). Received: {callback!r}"
            )
    return list(callbacks)


def _finite(model, x):
    """Whether the weights and the outputs on a few rows of `x` are finite."""
    if not all(np.isfinite(w).all() for w in model.get_weights()):
        return False
    outputs = keras.ops.convert_to_numpy(model(x[:4], training=False))
    return bool(np.isfinite(outputs).all())


def load_checkpoint(run):
    """The model and step of a run folder's checkpoint, or None if it has none.

    The step is the optimizer's own iteration count, saved inside
    `checkpoint.keras` with the weights, so it always belongs to them;
    `state.json` is cross-checked against it.

    Raises:
        CheckpointError: the checkpoint or `state.json` is unreadable, or
            `state.json` records a step the checkpoint does not hold.
    """
    folder = folders.RunFolder(run)
    path = folder.checkpoint
    if not path.is_file():
        return None
    try:
        model = keras.models.load_model(path)
        step = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    except Exception as error:  # any reader failure means the same thing here
        raise CheckpointError(
            f"{path} cannot be read ({type(error).__name__}): it is corrupted or truncated; "
            "start the run again with --overwrite"
        ) from None
    state_path = folder.state
    if state_path.exists():
        try:
            recorded = int(folder.read_state()["step"])
        except (OSError, ValueError, KeyError, TypeError):
            raise CheckpointError(
                f"{state_path} is unreadable; delete it to resume from the step stored in "
                f"checkpoint.keras ({step})"
            ) from None
        # The checkpoint is renamed into place before state.json: a kill
        # between the two leaves state.json one checkpoint behind, which is
        # fine. A state ahead of its checkpoint means files were replaced.
        if recorded > step:
            raise CheckpointError(
                f"{state_path} records step {recorded} but checkpoint.keras holds step {step}; "
                "the files do not belong together: start the run again with --overwrite"
            )
    return model, step


def train(
    model,
    dataset,
    steps,
    out_dir,
    eval_data=None,
    eval_every=500,
    learning_rate=1e-3,
    resume=False,
    overwrite=False,
    verbose=1,
    on_checkpoint=None,
    keep_checkpoints=0,
    clipnorm=0.0,
    optimizer="adam",
    callbacks=None,
):
    """Trains `model` for `steps` gradient steps on `dataset`.

    Args:
        model: an uncompiled (or compiled) Keras model; ignored when resuming
            from a checkpoint (the checkpoint's model, with its optimizer
            state, is used).
        dataset: a `TaskDataset` with at least `steps` batches.
        steps: total number of gradient steps.
        out_dir: the run folder (see `keras_lmrnn.folders`): made if missing;
            an existing one is refused unless `resume` or `overwrite`.
        eval_data: a `keras_lmrnn.evaluation.EvaluationData` to evaluate
            every `eval_every` steps
            (and at step 0 and at the end); None: no curve.
        eval_every: steps between evaluations and checkpoints.
        learning_rate: Adam's learning rate (default 1e-3, the paper's).
        clipnorm: clip the gradient's global norm to this value (see
            `make_optimizer`); 0 (the default): no clipping.
        optimizer: "adam" (the default) or "sgd" (see `make_optimizer`); a
            resumed run keeps its checkpoint's optimizer.
        resume: continue from the checkpoint in `out_dir` (from step 0 with
            `model` if no checkpoint was written yet).
        overwrite: replace the run in `out_dir` (only a folder keras-lmrnn
            made, holding nothing else).
        verbose: 1 for progress (a bar on a terminal, otherwise one line
            per checkpoint), 0 for silence.
        on_checkpoint: optional `f(step, curve)` called after each
            checkpoint is written.
        keep_checkpoints: also keep the weights at every multiple of this
            many steps (and at step 0) as `checkpoints/step_NNNNNN.weights.h5`,
            e.g. for clusters over training; 0 (default) keeps none. Must be
            a multiple of `eval_every`.
        callbacks: optional list of `keras.callbacks.Callback` run alongside
            the checkpointing (see the module docstring): batches are indexed
            by the run's step, one epoch per checkpoint interval with `loss`
            and `performance` in its logs; a callback that sets
            `model.stop_training` ends the run at the next checkpoint.

    Returns:
        dict with `model`, `step`, `curve` (list of (step, mean response
        accuracy)) and `stopped_early` (None, or {"step": ..., "by": [the
        names of the callbacks that asked]}).

    Raises:
        TrainingDiverged: the loss became NaN or infinite (nothing past the
            last finite checkpoint is kept).
        CheckpointError: resuming from an unreadable checkpoint.
        keras_lmrnn.folders.RunFolderError: `out_dir` cannot be used as asked.
    """
    steps = check_int("steps", steps, 1)
    eval_every = check_int("eval_every", eval_every, 1)
    keep_checkpoints = check_multiple("keep_checkpoints", check_int("keep_checkpoints", keep_checkpoints, 0),
                                      "eval_every", eval_every)
    check_optimizer_args(learning_rate, clipnorm, optimizer)
    callbacks = check_callbacks(callbacks)
    compile_args = {"learning_rate": learning_rate, "clipnorm": clipnorm, "optimizer": optimizer}
    if steps > len(dataset):
        raise ValueError(
            f"Invalid value for argument `steps`: the dataset has {len(dataset)} "
            f"batches, fewer than steps={steps}."
        )
    out = pathlib.Path(out_dir)
    with folders.open_folder(out, "run", overwrite=overwrite, resume=resume):
        return _train_in(
            model, dataset, steps, out, eval_data, eval_every, compile_args, resume, verbose, on_checkpoint,
            keep_checkpoints, callbacks,
        )


def is_evaluation_step(step, steps, eval_every):
    """Whether a run of `steps` steps started from step 0 evaluates at `step`
    (with evaluation data): at 0, every `eval_every` steps and at its last
    step, where it also writes its checkpoints (but none at 0). `--at` and
    the reports' default steps are chosen among these steps.

    >>> [s for s in range(0, 2600, 500) if is_evaluation_step(s, 2500, 1000)]
    [0, 1000, 2000, 2500]
    """
    return 0 <= step <= steps and (step % eval_every == 0 or step == steps)


def kept_checkpoint(run, step):
    """The path of the weights `train(keep_checkpoints=...)` kept at `step`."""
    return folders.RunFolder(run).kept_checkpoint(step)


def kept_checkpoints(run):
    """[(step, path)] of the weights kept in a run folder, in step order."""
    return folders.RunFolder(run).kept_checkpoints()


def _keep(model, out, step, every):
    if every and step % every == 0 and not kept_checkpoint(out, step).exists():
        kept_checkpoint(out, step).parent.mkdir(exist_ok=True)
        atomic_write(kept_checkpoint(out, step), model.save_weights)


def _train_in(model, dataset, steps, out, eval_data, eval_every, compile_args, resume, verbose, on_checkpoint,
              keep_checkpoints=0, callbacks=()):
    run = folders.RunFolder(out)
    checkpoint = load_checkpoint(out) if resume else None
    if not resume and run.checkpoint.exists():
        raise folders.RunFolderError(f"{out} already holds a checkpoint; resume it or overwrite it")
    if checkpoint is not None:
        model, start = checkpoint
        run.write_state({"step": start})  # in step with the checkpoint
        if start > steps:
            raise ValueError(
                f"Invalid value for argument `steps`: the run in {out} is already at step {start}, "
                f"past steps={steps}."
            )
    else:
        if model is None:
            raise CheckpointError(f"cannot resume: {out} holds no checkpoint yet; pass a model to start it")
        start = 0
        compile_for_tasks(model, **compile_args)
        run.start_curve()
    width = model.input_shape[-1]
    if width != dataset.input_size:
        raise ValueError(
            f"Invalid value for argument `dataset`: the model takes inputs of width {width}, but the "
            f"dataset gives {dataset.input_size} (a different battery?)."
        )
    _keep(model, out, start, keep_checkpoints)  # step 0, or one a kill skipped
    curve = [point for point in _read_curve(out) if point[0] <= start]
    if eval_data is not None and start == 0 and not curve:
        curve.append(_evaluate(model, eval_data, 0, out))
    watch = _Watch(steps, start, curve[-1][1] if curve else None, verbose)
    user = keras.callbacks.CallbackList(
        callbacks, model=model, verbose=0, epochs=math.ceil(steps / eval_every), steps=eval_every
    )
    relay = _Relay(callbacks, watch)
    relay.set_model(model)
    fit_callbacks = [watch, relay] if callbacks else [watch]
    stopped_early = None
    user.on_train_begin()
    step = start
    try:
        while step < steps:
            stop = min(step + eval_every, steps)
            epoch = step // eval_every
            user.on_epoch_begin(epoch)
            model.fit(DatasetSlice(dataset, step, stop), epochs=1, shuffle=False, verbose=0, callbacks=fit_callbacks)
            if watch.diverged:
                at, loss = watch.diverged
                record = {"step": step, "diverged_at_step": at, "loss": str(loss)}
                run.write_state(record)
                raise TrainingDiverged(at, loss, step, out, clipnorm=model.optimizer.global_clipnorm)
            if not _finite(model, dataset[stop - 1][0]):
                run.write_state({"step": step, "diverged_at_step": stop})
                raise TrainingDiverged(stop, None, step, out, f"the weights or outputs are not finite at step {stop}",
                                       clipnorm=model.optimizer.global_clipnorm)
            step = stop
            if eval_data is not None:
                curve.append(_evaluate(model, eval_data, step, out))
                watch.performance = curve[-1][1]
            watch.checkpoint_line()
            logs = {"loss": watch.loss}
            if curve:
                logs["performance"] = curve[-1][1]
            model.stop_training = False
            relay.dispatch("on_epoch_end", epoch, logs)  # e.g. EarlyStopping decides here
            model.stop_training = False
            state = {"step": step}
            if relay.askers and step < steps:
                stopped_early = state["stopped_early"] = {"step": step, "by": sorted(set(relay.askers))}
            # The step lives inside the checkpoint (the optimizer's iteration
            # count); state.json follows it and is only a readable record.
            atomic_write(run.checkpoint, model.save)
            run.write_state(state)
            _keep(model, out, step, keep_checkpoints)
            if on_checkpoint is not None:
                on_checkpoint(step, list(curve))
            if stopped_early:
                break
    finally:  # also on divergence: callbacks close their files (CSVLogger, TensorBoard)
        user.on_train_end({"loss": watch.loss, **({"performance": curve[-1][1]} if curve else {})})
    if curve:
        plot_curves({"model": curve}, out / "curve.png")
    return {"model": model, "step": step, "curve": curve, "stopped_early": stopped_early}


def read_curve(run):
    """The learning curve of a training run: (step, mean response accuracy) pairs.

    Averages over tasks the rows of `run/curve.csv`, in step order.

    >>> dict(read_curve("runs/main/0_lmrnn_n=400_d=2"))[2000]  # doctest: +SKIP
    0.409
    """
    return sorted(read_curve_metrics(run)["response_accuracy"].items())


def read_curve_metrics(run):
    """{metric: {step: mean over tasks}} for every metric of `run/curve.csv`
    (a metric an older run did not record is left out of its steps); see
    `folders.RunFolder.read_curve_metrics`."""
    return folders.RunFolder(run).read_curve_metrics()


def _read_curve(out):
    """The curve already in `out`, starting a fresh curve.csv if there is none."""
    run = folders.RunFolder(out)
    if not run.curve.exists():
        run.start_curve()
        return []
    try:
        return read_curve(out)
    except (ValueError, KeyError, TypeError):
        raise CheckpointError(
            f"{run.curve} is unreadable; delete it to resume without the earlier curve points, "
            "or start the run again with --overwrite"
        ) from None


def _evaluate(model, eval_data, step, out):
    table = eval_data.evaluate(model)
    folders.RunFolder(out).write_curve_step(step, table)
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
