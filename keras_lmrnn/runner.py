"""One training run into a run folder: the code path shared by
`keras-lmrnn train`, `compare` and `sweep`.

`run(out, spec, options)` builds the seeded data and model, records
`config.json`, trains with checkpoints (`keras_lmrnn.training.train`),
evaluates the final model and writes `final_table.csv` and `summary.json`.
With `resume=True` it continues the run in `out` exactly, after checking the
request against the recorded config.

Example:

>>> from keras_lmrnn import runner
>>> options = runner.RunOptions(battery="yang20", steps=20, batch_size=8, seq_len=40, eval_every=10)
>>> result = runner.run("runs/tiny", "lmrnn:n=16,d=1", options)   # doctest: +SKIP
>>> result["summary"]["response_accuracy"]                        # doctest: +SKIP
"""

import csv
import dataclasses
import datetime
import json
import os
import pathlib
import platform
import time

from keras_lmrnn import runs
from keras_lmrnn.validation import check_int, check_number

EVALUATION_SEED = 0
TABLE_COLUMNS = ["task", "response_accuracy", "trial_accuracy"]


class RunConfigError(ValueError):
    """A request does not fit a run folder (its record, checkpoint or battery)."""


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """The training options of a run (everything but the model spec).

    Each is recorded in the run's `config.json` under the same name.
    """

    battery: str = "modcog84"
    steps: int = 2000
    batch_size: int = 64
    seq_len: int = 100
    seed: int = 0
    learning_rate: float = 1e-3
    eval_every: int = 500
    trials_per_task: int = 64
    keep_checkpoints: int = 0  # keep the weights every this many steps (0: none)

    def __post_init__(self):
        from keras_lmrnn.tasks.catalogue import BATTERIES

        if self.battery not in BATTERIES:
            raise ValueError(
                f"Invalid value for argument `battery`: expected one of {list(BATTERIES)}. "
                f"Received: battery={self.battery!r}"
            )
        for name in ("steps", "batch_size", "seq_len", "eval_every", "trials_per_task"):
            check_int(name, getattr(self, name), 1)
        check_int("seed", self.seed, 0)
        check_int("keep_checkpoints", self.keep_checkpoints, 0)
        if self.keep_checkpoints % self.eval_every:
            raise ValueError(
                f"Invalid value for argument `keep_checkpoints`: expected a multiple of eval_every="
                f"{self.eval_every}. Received: keep_checkpoints={self.keep_checkpoints}"
            )
        check_number("learning_rate", self.learning_rate, 0, open_below=True)

    @classmethod
    def from_config(cls, config):
        """The options recorded in a run's config dict."""
        return cls(**{f.name: config[f.name] for f in dataclasses.fields(cls) if f.name in config})

    def as_dict(self):
        return dataclasses.asdict(self)


def code_revision():
    """The git commit of this checkout ("+dirty" with local changes), or None."""
    import subprocess

    here = pathlib.Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def environment():
    """Where a run is trained: code revision, backend, versions, machine, date."""
    import keras

    return {
        "code_revision": code_revision(),
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def read_config(out):
    """A run folder's config.json as a dict; `RunConfigError` if missing or unreadable."""
    path = pathlib.Path(out) / "config.json"
    if not path.is_file():
        raise RunConfigError(f"cannot resume: {out} holds no run (no config.json); start it without resume")
    try:
        config = json.loads(path.read_text())
        if not isinstance(config, dict):
            raise ValueError
    except (OSError, ValueError):
        raise RunConfigError(f"cannot resume: {path} is unreadable; start the run again with overwrite") from None
    return config


def input_size(battery):
    """The input width of a battery's trials."""
    from keras_lmrnn import tasks

    return tasks.TaskDataset(battery, batch_size=1, seq_len=1, num_batches=1).input_size


def load_model(source):
    """(model, recorded battery or None) from a zoo preset name or folder, a
    run folder (its checkpoint) or a .keras file; `RunConfigError` otherwise."""
    import keras

    import keras_lmrnn  # noqa: F401  (registers the layers)
    from keras_lmrnn import zoo

    path = pathlib.Path(source)
    if source in zoo.list_presets() or (path.is_dir() and (path / "metadata.json").exists()):
        try:
            return zoo.load(source), zoo.metadata(source).get("battery")
        except zoo.PresetError as error:
            raise RunConfigError(str(error)) from None
    battery = None
    if path.is_dir() and (path / "checkpoint.keras").exists():
        try:
            battery = json.loads((path / "config.json").read_text()).get("battery")
        except (OSError, ValueError, AttributeError):
            battery = None
        path = path / "checkpoint.keras"
    if not path.is_file():
        raise RunConfigError(
            f"no model at {source} (expected a .keras file, a run folder or a preset: "
            f"{', '.join(zoo.list_presets())})"
        )
    try:
        return keras.models.load_model(path), battery
    except Exception as error:  # any reader failure means the same thing here
        raise RunConfigError(f"cannot read {path} ({type(error).__name__}): not a Keras model file, or corrupted") from None


def check_width(model, battery, what):
    """Refuses a model whose input width is not the battery's."""
    from keras_lmrnn.tasks.catalogue import BATTERIES

    width, expected = model.input_shape[-1], input_size(battery)
    if width != expected:
        fits = [b for b in BATTERIES if input_size(b) == width]
        hint = f"; it fits --battery {' or '.join(fits)}" if fits else ""
        raise RunConfigError(f"{what} takes inputs of width {width}, but battery {battery} gives {expected}{hint}")


def check_record(recorded, spec, options, out):
    """Refuses a resume request that differs from the run's record (steps may grow)."""
    if recorded.get("model") != spec:
        raise RunConfigError(f"model {spec} does not match the run in {out}, recorded with model={recorded.get('model')}")
    defaults = RunOptions().as_dict()  # for keys older runs did not record
    for key, value in options.as_dict().items():
        if key != "steps" and recorded.get(key, defaults[key]) != value:
            raise RunConfigError(
                f"{key}={value} does not match the run in {out}, recorded with {key}={recorded.get(key, defaults[key])}"
            )


def build(spec, options, size):
    """The model of `spec`, seeded with the run's seed unless the spec has one."""
    from keras_lmrnn import models

    kind, kwargs = models.parse_spec(spec)
    kwargs.setdefault("seed", options.seed)
    return models.BUILDERS[kind][0](size, **kwargs)


def is_complete(out, steps=None):
    """Whether the run in `out` finished (summary written at its last step)."""
    out = pathlib.Path(out)
    try:
        state = json.loads((out / "state.json").read_text())
        config = json.loads((out / "config.json").read_text())
    except (OSError, ValueError):
        return False
    target = config.get("steps") if steps is None else steps
    return (out / "summary.json").is_file() and state.get("step") == target and "diverged_at_step" not in state


def run(out, spec, options, resume=False, overwrite=False, command=None, verbose=0, on_checkpoint=None):
    """Trains `spec` with `options` into the run folder `out`.

    Args:
        out: the run folder (see `keras_lmrnn.runs`).
        spec: a model spec, e.g. "lmrnn:n=400,d=4" (see `keras_lmrnn.models`).
        options: a `RunOptions`.
        resume: continue the run in `out` (its record must match `spec` and
            `options`, except that `steps` may grow); a run already complete
            at `options.steps` trains nothing.
        overwrite: replace the run in `out` (a folder keras-lmrnn made).
        command: the command line to record (default: none).
        verbose: 1 for a progress bar.
        on_checkpoint: optional `f(step, curve)` after each checkpoint.

    Returns:
        dict with `summary`, `table` (None if nothing was trained), `curve`
        and `trained` (False when the run was already complete).
    """
    out = pathlib.Path(out)
    folder = runs.lock(out) if runs.holds_lock(out) else runs.open_folder(out, "run", overwrite=overwrite, resume=resume)
    with folder:
        return _run_in(out, spec, options, resume, command, verbose, on_checkpoint)


def _run_in(out, spec, options, resume, command, verbose, on_checkpoint):
    from keras_lmrnn import models, tasks, training
    from keras_lmrnn.evaluation import EvaluationData, mean_performance

    data = tasks.TaskDataset(
        options.battery, batch_size=options.batch_size, seq_len=options.seq_len,
        num_batches=options.steps, seed=options.seed,
    )
    config = {"command": command, "model": spec, **options.as_dict(), "evaluation_seed": EVALUATION_SEED, **environment()}
    model = None
    if resume:
        recorded = read_config(out)
        check_record(recorded, spec, options, out)
        checkpoint = training.load_checkpoint(out)
        if checkpoint is None:  # stopped before its first checkpoint: start it
            model = build(spec, options, data.input_size)
        else:
            check_width(checkpoint[0], options.battery, out / "checkpoint.keras")
            if checkpoint[1] > options.steps:
                raise RunConfigError(
                    f"the run in {out} is already at step {checkpoint[1]}; steps={options.steps} cannot shorten it"
                )
            if checkpoint[1] == options.steps and (out / "summary.json").is_file():
                summary = json.loads((out / "summary.json").read_text())
                return {"summary": summary, "table": None, "curve": training.read_curve(out), "trained": False}
        recorded["steps"] = options.steps
        if command is not None:
            recorded.setdefault("resumed", []).append(command)
        config = recorded
    else:
        model = build(spec, options, data.input_size)
    runs.atomic_write_text(out / "config.json", json.dumps(config, indent=2))
    eval_data = EvaluationData(options.battery, options.trials_per_task, seed=EVALUATION_SEED)
    started = time.perf_counter()
    result = training.train(
        model, data, options.steps, out, eval_data=eval_data, eval_every=options.eval_every,
        learning_rate=options.learning_rate, resume=resume, verbose=verbose, on_checkpoint=on_checkpoint,
        keep_checkpoints=options.keep_checkpoints,
    )
    table = eval_data.evaluate(result["model"])
    write_table(out / "final_table.csv", table)
    summary = {
        "model": spec,
        **models.count_weights(result["model"]),
        "response_accuracy": mean_performance(table),
        "trial_accuracy": mean_performance(table, "trial_accuracy"),
        "wall_s": int(round(time.perf_counter() - started)),
    }
    runs.atomic_write_text(out / "summary.json", json.dumps(summary, indent=2))
    return {"summary": summary, "table": table, "curve": result["curve"], "trained": True, "model": result["model"]}


def write_table(path, table, columns=TABLE_COLUMNS):
    """Writes a list of row dicts to a CSV file atomically."""

    def write(temp):
        with open(temp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(table)

    runs.atomic_write(path, write)
