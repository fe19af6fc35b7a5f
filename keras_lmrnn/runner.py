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
import os
import pathlib
import platform
import time

import keras
import numpy as np

from keras_lmrnn import devices, folders, models, protocols, tasks, training, zoo
from keras_lmrnn.evaluation import EvaluationData, mean_performance
from keras_lmrnn.models import NUM_CLASSES
from keras_lmrnn.specs import ModelSpec
from keras_lmrnn.tasks import catalogue
from keras_lmrnn.validation import check_int, check_multiple, check_number

EVALUATION_SEED = 0
TABLE_COLUMNS = ["task", "response_accuracy", "trial_accuracy", "last_step_accuracy"]


class RunConfigError(ValueError):
    """A request does not fit a run folder (its record, checkpoint or battery)."""


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """The training options of a run (everything but the model spec).

    Each is recorded in the run's `config.json` under the same name. The
    options a protocol sets (`batch_size`, `seq_len`, `layout`,
    `loss_weighting`, `clipnorm`; see `keras_lmrnn.protocols`) default to
    None, meaning "the protocol's value"; a value given explicitly wins.
    `callbacks` (Keras callbacks run alongside training, e.g.
    `keras.callbacks.TensorBoard(DIR)`) is not a setting: it is never recorded.

    Example:

    >>> RunOptions(protocol="neurogym", steps=3000).batch_size
    4
    >>> RunOptions(protocol="neurogym", batch_size=16).batch_size
    16
    """

    battery: str = catalogue.DEFAULT_BATTERY
    steps: int = 2000
    batch_size: int = None
    seq_len: int = None
    seed: int = 0
    learning_rate: float = 1e-3
    eval_every: int = 500
    trials_per_task: int = 64
    keep_checkpoints: int = 0  # keep the weights every this many steps (0: none)
    protocol: str = protocols.DEFAULT
    layout: str = None  # "stream", "continuous" or "trials" (see TaskDataset)
    loss_weighting: str = None  # "uniform" or "yang"
    clipnorm: float = None  # global gradient norm limit; 0: none
    # Keras callbacks run alongside training (see keras_lmrnn.training); not a
    # setting of the run: never recorded, compared or sent to sweep workers.
    callbacks: tuple = dataclasses.field(default=(), compare=False, repr=False)

    def __post_init__(self):
        for key, value in protocols.get(self.protocol).training.items():
            if getattr(self, key) is None:
                object.__setattr__(self, key, value)
        for key, allowed in (("layout", protocols.LAYOUTS), ("loss_weighting", protocols.LOSS_WEIGHTINGS)):
            if getattr(self, key) not in allowed:
                raise ValueError(f"Invalid value for argument `{key}`: expected one of {list(allowed)}. "
                                 f"Received: {key}={getattr(self, key)!r}")
        object.__setattr__(self, "clipnorm", float(check_number("clipnorm", self.clipnorm, 0)))
        catalogue.names(self.battery)  # the catalogue refuses an unknown battery
        for name in ("steps", "batch_size", "seq_len", "eval_every", "trials_per_task"):
            check_int(name, getattr(self, name), 1)
        check_int("seed", self.seed, 0)
        check_int("keep_checkpoints", self.keep_checkpoints, 0)
        check_multiple("keep_checkpoints", self.keep_checkpoints, "eval_every", self.eval_every)
        check_number("learning_rate", self.learning_rate, 0, open_below=True)
        if self.callbacks != ():  # checked (by training) only when given
            object.__setattr__(self, "callbacks", tuple(training.check_callbacks(self.callbacks)))

    @classmethod
    def from_config(cls, config):
        """The options recorded in a run's config dict (a run from before
        protocols existed was trained under lmrnn-v1)."""
        given = {f.name: config[f.name] for f in dataclasses.fields(cls) if f.name in config and f.name != "callbacks"}
        return cls(**{"protocol": protocols.UNRECORDED, **given})

    def model_spec(self, spec):
        """`spec` with this protocol's model settings where it gives none."""
        return protocols.resolve_spec(spec, self.protocol)

    def as_dict(self):
        """The recorded settings (everything but `callbacks`), as config.json holds them.

        >>> RunOptions(steps=10).as_dict()["steps"]
        10
        """
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "callbacks"}


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


def machine():
    """The machine in a few words: architecture, CPUs, system; where this process may use
    fewer cores than the machine has, how many ("2 CPUs, 1 usable"): under JAX on a CPU
    the count changes the float rounding (benchmarks/cpu_pinning.py).

    >>> machine()  # doctest: +SKIP
    'x86_64, 2 CPUs, Linux'
    """
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    cores = f"{cpus} CPUs" if usable == cpus else f"{cpus} CPUs, {usable} usable"
    return f"{platform.machine()}, {cores}, {platform.system()}"


def environment():
    """Where a run is trained: code revision, backend, versions, machine, device, the
    variables that set GPU float32 precision (`devices.numerics_env`), date."""

    found = {
        "code_revision": code_revision(),
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "python": platform.python_version(),
        "machine": machine(),
        "device": devices.describe(),
        "numerics_env": devices.numerics_env(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    if "CUDA_VISIBLE_DEVICES" in os.environ:  # "gpu:0" is then this GPU (e.g. a sweep worker's)
        found["cuda_visible_devices"] = os.environ["CUDA_VISIBLE_DEVICES"]
    return found


def read_config(out):
    """A run folder's config.json as a dict; `RunConfigError` if missing or unreadable."""
    run = folders.RunFolder(out)
    if not run.config.is_file():
        raise RunConfigError(f"cannot resume: {out} holds no run (no config.json); start it without --resume")
    try:
        return run.read_config()
    except (OSError, ValueError):
        raise RunConfigError(f"cannot resume: {run.config} is unreadable; start the run again with --overwrite") from None


def input_size(battery):
    """The input width of a battery's trials."""
    return tasks.TaskDataset(battery, batch_size=1, seq_len=1, num_batches=1).input_size


def load_model(source):
    """(model, recorded battery or None) from a zoo preset name or folder, a
    run folder (its checkpoint) or a .keras file; `RunConfigError` otherwise."""


    path = pathlib.Path(source)
    if zoo.is_preset_name(source) or (path.is_dir() and (path / "metadata.json").exists()):
        try:
            return zoo.load(source), zoo.metadata(source).get("battery")
        except zoo.PresetError as error:
            raise RunConfigError(str(error)) from None
    if path.is_dir() and folders.RunFolder(path).checkpoint.exists():
        path = folders.RunFolder(path).checkpoint
    battery = None
    run = folders.RunFolder(path.parent)
    if path.name == run.CHECKPOINT and run.config.is_file():  # a run's own checkpoint
        try:
            battery = run.read_config().get("battery")
        except (OSError, ValueError, AttributeError):
            battery = None
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
    """Refuses a model whose input width is not the battery's, or whose
    output is not one score per class at every time step."""

    output = model.output_shape
    if not isinstance(output, tuple) or len(output) != 3 or output[-1] != NUM_CLASSES:
        raise RunConfigError(
            f"{what} gives outputs of shape {output}; the tasks need (batch, time, {NUM_CLASSES}): "
            f"a recurrent layer with return_sequences=True and a readout of {NUM_CLASSES} units"
        )
    width, expected = model.input_shape[-1], input_size(battery)
    if width != expected:
        fits = [b for b in catalogue.BATTERIES if input_size(b) == width]
        hint = f"; it fits --battery {' or '.join(fits)}" if fits else ""
        raise RunConfigError(f"{what} takes inputs of width {width}, but battery {battery} gives {expected}{hint}")


def same_spec(a, b):
    """Whether two model specs name the same model (key order aside)."""
    try:
        return ModelSpec.parse(a) == ModelSpec.parse(b)
    except ValueError:
        return a == b


def check_record(recorded, spec, options, out):
    """Refuses a resume request that differs from the run's record (steps may
    grow), or one under another backend (the continuation would not be exact)."""

    backend = recorded.get("backend")
    if backend is not None and backend != keras.backend.backend():
        raise RunConfigError(
            f"the run in {out} was trained under {backend}; resume it with KERAS_BACKEND={backend} "
            f"(a continuation under {keras.backend.backend()} would not be exact)"
        )
    if not isinstance(recorded.get("model"), str) or not same_spec(recorded["model"], spec):
        raise RunConfigError(f"model {spec} does not match the run in {out}, recorded with model={recorded.get('model')}")
    now = options.model_spec(spec)
    if _protocol_settings_changed(recorded.get("resolved_model"), now, options.protocol):
        raise RunConfigError(
            f"the run in {out} was built as {recorded['resolved_model']}, but protocol {options.protocol} now "
            f"resolves {spec} to {now}; resume it with a keras-lmrnn whose protocol matches, or start a new run"
        )
    for key, value, before in record_mismatches(recorded, options.as_dict()):
        raise RunConfigError(f"{key}={value} does not match the run in {out}, recorded with {key}={before}")


def record_mismatches(recorded, given):
    """The options of `given` that differ from a run's record: [(key, given value, recorded value)].

    The one rule of what a resumed run may change: nothing but `steps` (a run can
    be extended). A key `given` maps to None is not given and always matches; a key
    older runs did not record has its recorded protocol's default (a run from
    before protocols ran under lmrnn-v1, `RunOptions.from_config`).

    Raises:
        RunConfigError: the record itself holds an invalid option.

    >>> record_mismatches({"model": "dense:n=8", "steps": 10, "seed": 1}, {"steps": 20, "seed": 2})
    [('seed', 2, 1)]
    """
    try:
        values = RunOptions.from_config(recorded).as_dict()
    except (ValueError, TypeError) as error:
        raise RunConfigError(f"the run's record holds an invalid option: {error}") from None
    return [(key, value, values[key]) for key, value in given.items()
            if value is not None and key != "steps" and value != values[key]]


def _protocol_settings_changed(resolved, now, protocol):
    """Whether the protocol's model settings (alpha, init, ...) in a run's
    recorded `resolved_model` differ from what the protocol gives today."""
    if not isinstance(resolved, str):
        return False  # a run from before protocols: nothing recorded to compare
    try:
        before, after = ModelSpec.parse(resolved), ModelSpec.parse(now)
    except ValueError:
        return False  # a damaged record: the model checks that follow refuse it
    return any(before.get(key) != after.get(key) for key in protocols.get(protocol).model)


def refusals():
    """Exceptions that refuse a run as asked (bad folder, record, checkpoint
    or data settings): running it again unchanged would fail the same way."""

    return folders.RunFolderError, RunConfigError, training.CheckpointError, tasks.SequenceTooShort


def build(spec, options, size):
    """The model of `spec` under the run's protocol, seeded with the run's
    seed unless the spec has one."""

    return models.build_model(spec, size, protocol=options.protocol, seed=options.seed)


def dataset(options):
    """The training data of a run with `options` (a `RunOptions`): its
    battery, batch size, sequence length, layout, loss weighting and seed.

    >>> dataset(RunOptions(battery="yang20", steps=10)).batch_size  # the default protocol's
    4
    """

    return tasks.TaskDataset(
        options.battery, batch_size=options.batch_size, seq_len=options.seq_len,
        num_batches=options.steps, seed=options.seed, layout=options.layout, loss_weighting=options.loss_weighting,
    )


def is_complete(out, steps=None):
    """Whether the run in `out` finished (summary written at its last step, or
    at the checkpoint where a callback stopped it)."""
    return folders.RunFolder(out).is_complete(steps)


def run(out, spec, options, resume=False, overwrite=False, command=None, verbose=0, on_checkpoint=None, part=None):
    """Trains `spec` with `options` into the run folder `out`.

    Args:
        out: the run folder (see `keras_lmrnn.folders`).
        spec: a model spec, e.g. "lmrnn:n=400,d=4" (see `keras_lmrnn.models`).
        options: a `RunOptions`.
        resume: continue the run in `out` (its record must match `spec` and
            `options`, except that `steps` may grow); a run already complete
            at `options.steps` trains nothing.
        overwrite: replace the run in `out` (a folder keras-lmrnn made).
        command: the command line to record (default: none).
        verbose: 1 for a progress bar.
        on_checkpoint: optional `f(step, curve)` after each checkpoint.
        part: "comparison" or "sweep" for a run made inside such a folder.

    Returns:
        dict with `summary`, `table` (None if nothing was trained), `curve`
        and `trained` (False when the run was already complete).
    """
    out = pathlib.Path(out)
    with folders.open_folder(out, "run", overwrite=overwrite, resume=resume, part=part):
        return _run_in(out, spec, options, resume, command, verbose, on_checkpoint)


def _run_in(out, spec, options, resume, command, verbose, on_checkpoint):


    data = dataset(options)
    config = {
        "command": command, "model": spec, **options.as_dict(), "resolved_model": options.model_spec(spec),
        "protocol_overrides": protocols.overrides(spec, options),
        "evaluation_seed": EVALUATION_SEED, **environment(),
    }
    model = None
    if resume:
        recorded = read_config(out)
        check_record(recorded, spec, options, out)
        checkpoint = training.load_checkpoint(out)
        if checkpoint is None:  # stopped before its first checkpoint: start it
            model = build(spec, options, data.input_size)
        else:
            check_width(checkpoint[0], options.battery, folders.RunFolder(out).checkpoint)
            check_same_model(checkpoint[0], build(spec, options, data.input_size), out)
            if checkpoint[1] > options.steps:
                raise RunConfigError(
                    f"the run in {out} is already at step {checkpoint[1]}; --steps {options.steps} cannot shorten it"
                )
            finished = checkpoint[1] == options.steps or "stopped_early" in _read_state(out)
            summary = _read_summary(out) if finished else None
            if summary is not None:
                return {"summary": summary, "table": None, "curve": training.read_curve(out), "trained": False}
        recorded["steps"] = options.steps
        # Each resumption says how and where it continued (the machine or device may differ).
        recorded.setdefault("resumed", []).append(
            {"command": command, **{k: config[k] for k in ("machine", "device", "numerics_env", "code_revision", "date")}}
        )
        config = recorded
    else:
        model = build(spec, options, data.input_size)
    folders.RunFolder(out).write_config(config)
    eval_data = EvaluationData(options.battery, options.trials_per_task, seed=EVALUATION_SEED)
    started = time.perf_counter()
    result = training.train(
        model, data, options.steps, out, eval_data=eval_data, eval_every=options.eval_every,
        learning_rate=options.learning_rate, resume=resume, verbose=verbose, on_checkpoint=on_checkpoint,
        keep_checkpoints=options.keep_checkpoints, clipnorm=options.clipnorm, callbacks=list(options.callbacks),
    )
    table = eval_data.evaluate(result["model"])
    write_table(folders.RunFolder(out).final_table, table)
    summary = {
        "model": spec,
        **models.count_weights(result["model"]),
        "response_accuracy": mean_performance(table),
        "trial_accuracy": mean_performance(table, "trial_accuracy"),
        "last_step_accuracy": mean_performance(table, "last_step_accuracy"),
        "protocol": options.protocol,
        "wall_s": int(round(time.perf_counter() - started)),
    }
    if result["stopped_early"]:
        summary["stopped_early"] = result["stopped_early"]  # {"step": ..., "by": [callback names]}
    folders.RunFolder(out).write_summary(summary)
    return {"summary": summary, "table": table, "curve": result["curve"], "trained": True, "model": result["model"]}


def _read_state(out):
    """A run's state.json as a dict ({} when missing or unreadable)."""
    try:
        state = folders.RunFolder(out).read_state()
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _read_summary(out):
    """A finished run's summary, or None when missing or damaged (then recomputed)."""
    try:
        summary = folders.RunFolder(out).read_summary()
    except (OSError, ValueError):
        return None
    return summary if isinstance(summary, dict) and "response_accuracy" in summary else None


def check_same_model(found, expected, out):
    """Refuses a checkpoint whose network is not the one the run's config records."""
    def describe(model):
        layer = models.recurrent_layer(model)
        keys = ("n", "d", "mask", "alpha", "activation", "periodic")
        if layer.cell.mask == "random":  # drawn with mask_seed 0 for every seed before issue #30
            keys += ("mask_seed",)
        config = {k: layer.cell.get_config().get(k) for k in keys}
        shapes = [tuple(w.shape) for w in model.weights]
        return config, shapes, layer.cell.mask_array

    (config_a, shapes_a, mask_a), (config_b, shapes_b, mask_b) = describe(found), describe(expected)
    if config_a != config_b or shapes_a != shapes_b or not np.array_equal(mask_a, mask_b):
        different = {k: (config_a[k], config_b[k]) for k in config_a if config_a[k] != config_b[k]}
        detail = ", ".join(f"{k}={a} in the checkpoint, {b} in config.json" for k, (a, b) in different.items())
        raise RunConfigError(
            f"{out}/checkpoint.keras holds another network than config.json records"
            f" ({detail or 'weights or mask differ'}); start the run again with --overwrite"
        )


def run_memory_needed(spec, options, size):
    """About how many bytes training `spec` with `options` needs: the
    recurrent weights' share (`ModelSpec.memory_needed`) and a batch's
    inputs, targets and the activations kept for backpropagation."""

    parsed = ModelSpec.parse(spec)
    units = parsed.recurrent_units() + NUM_CLASSES
    per_step = options.batch_size * options.seq_len
    return parsed.memory_needed() + 4 * per_step * (2 * size + 2 + 6 * units)


def check_memory(spec, options, size):
    """Refuses (ValueError) a run this machine's memory cannot hold."""
    needed, memory = run_memory_needed(spec, options, size), models.physical_memory()
    if memory is not None and needed > memory:
        raise ValueError(
            f"{spec} with batch size {options.batch_size} and sequence length {options.seq_len} needs about "
            f"{models.format_bytes(needed)}, more than this machine's {models.format_bytes(memory)}; "
            "choose a smaller batch, sequence or network"
        )


def write_table(path, table, columns=TABLE_COLUMNS):
    """Writes a list of row dicts to a CSV file atomically."""
    def write(temp):
        with open(temp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(table)

    folders.atomic_write(path, write)
