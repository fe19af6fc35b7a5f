"""Recording: the hidden rates of a model's `LMRNN` layer on evaluation trials.

Example:

>>> from keras_lmrnn import zoo
>>> from keras_lmrnn.analysis import activity
>>> act = activity(zoo.load("yang20_lmrnn_16x16_d2_lmrnn-v1"), "yang20", trials_per_task=4)
>>> len(act.task_names), act.rates[0].shape[-1]              # one array per task: (trials, time, units)
(20, 256)
"""

import dataclasses

import keras
import numpy as np

from keras_lmrnn.layers import LMRNN
from keras_lmrnn.models import recurrent_layer
from keras_lmrnn.tasks import catalogue
from keras_lmrnn.tasks.dataset import evaluation_set, resolve_tasks
from keras_lmrnn.validation import check_int

# Where a task's trials are aligned: from stimulus onset or from trial start.
WINDOWS = ("stimulus", "trial")

# ----------------------------------------------------------------------------
# Activity


@dataclasses.dataclass(eq=False)
class Activity:
    """Hidden rates on evaluation trials, per task, with period boundaries.

    Args:
        task_names: the tasks, in order.
        rates: per task a float array (trials, time, units); steps after a
            trial's end are NaN.
        lengths: per task an int array (trials,): each trial's number of
            steps.
        periods: per task, per trial, a dict `period -> (start, end)` of
            step indices, in the trial's order (the first period is the
            fixation period before the stimulus).
        inputs: optional, per task the (trials, time, features) inputs the
            rates came from (`activity(..., keep_inputs=True)`); None by
            default.

    Example:

    >>> import numpy as np
    >>> act = Activity(["go"], [np.ones((2, 3, 4))], [np.array([3, 3])],
    ...                [[{"fixation": (0, 1), "decision": (1, 3)}] * 2])
    >>> act.n_units, act.onsets(0)
    (4, array([1, 1]))
    """

    task_names: list
    rates: list
    lengths: list
    periods: list
    inputs: list = None

    def __post_init__(self):
        self.task_names = list(self.task_names)
        count = len(self.task_names)
        for name in ("rates", "lengths", "periods") + (("inputs",) if self.inputs is not None else ()):
            if len(getattr(self, name)) != count:
                raise ValueError(
                    f"Invalid value for argument `{name}`: expected one entry per task "
                    f"({count} tasks). Received: {len(getattr(self, name))} entries"
                )
        if count == 0:
            raise ValueError("Invalid value for argument `task_names`: expected at least one task. Received: []")
        self.rates = [np.asarray(r) for r in self.rates]
        self.lengths = [np.asarray(n, dtype=int) for n in self.lengths]
        units = {r.shape[-1] if r.ndim == 3 else None for r in self.rates}
        if None in units or len(units) != 1:
            raise ValueError(
                "Invalid value for argument `rates`: expected one (trials, time, units) array per "
                f"task, all with the same number of units. Received shapes: {[r.shape for r in self.rates]}"
            )
        for k, (r, n, p) in enumerate(zip(self.rates, self.lengths, self.periods)):
            if n.shape != (r.shape[0],) or len(p) != r.shape[0] or (n > r.shape[1]).any() or (n < 1).any():
                raise ValueError(
                    f"Invalid value for argument `lengths` or `periods` of task {self.task_names[k]!r}: "
                    f"expected one length in 1..{r.shape[1]} and one period dict per trial "
                    f"({r.shape[0]} trials). Received: lengths of shape {n.shape}, {len(p)} period dicts"
                )

    @property
    def n_units(self):
        """Number of hidden units."""
        return self.rates[0].shape[-1]

    @property
    def n_tasks(self):
        """Number of tasks."""
        return len(self.task_names)

    def onsets(self, task):
        """Stimulus onset of each trial of `task` (index or name): the end of
        its first (fixation) period."""
        k = self._index(task)
        return np.array([next(iter(p.values()))[1] if p else 0 for p in self.periods[k]], dtype=int)

    def segments(self, task, window="stimulus"):
        """The rates of `task` in a window, aligned and NaN-padded.

        `window`: "stimulus" (stimulus onset to trial end, aligned at onset),
        "trial" (the whole trial) or a period name (that period, aligned at
        its start; trials without it are dropped). Returns (trials, steps,
        units), NaN where a trial has no step.
        """
        k = self._index(task)
        rates, lengths = self.rates[k], self.lengths[k]
        if window == "trial":
            spans = [(0, n) for n in lengths]
        elif window == "stimulus":
            spans = list(zip(self.onsets(k), lengths))
        elif isinstance(window, str):
            spans = [p[window] for p in self.periods[k] if window in p]
            kept = [i for i, p in enumerate(self.periods[k]) if window in p]
            rates = rates[kept]
        else:
            raise ValueError(
                f"Invalid value for argument `window`: expected one of {WINDOWS} or a period name. "
                f"Received: window={window!r}"
            )
        steps = max([b - a for a, b in spans], default=0)
        out = np.full((len(spans), steps, self.n_units), np.nan, dtype=np.float64)
        for i, (a, b) in enumerate(spans):
            out[i, : b - a] = rates[i, a:b]
        return out

    def _index(self, task):
        if isinstance(task, (int, np.integer)) and 0 <= task < self.n_tasks:
            return int(task)
        if isinstance(task, str) and task in self.task_names:
            return self.task_names.index(task)
        raise ValueError(
            f"Invalid value for argument `task`: expected a task name in {self.task_names} or an index "
            f"below {self.n_tasks}. Received: task={task!r}"
        )


def activity(model, tasks="modcog84", trials_per_task=32, seed=0, rule_tasks=None, batch_size=512,
             keep_inputs=False):
    """Hidden rates of the model's `LMRNN` layer on the seeded evaluation trials.

    Rates are the layer's outputs (after the nonlinearity) with noise off
    (`training=False`). Works on any model with one `LMRNN` layer: presets,
    run checkpoints, a user's own functional or Sequential model.

    Args:
        model: a Keras model with one `LMRNN` layer.
        tasks: a battery name or a list of task names (default "modcog84").
        trials_per_task: evaluation trials per task (default 32, >= 2).
        seed: seed of the evaluation trials (default 0, as `evaluation`).
        rule_tasks: the task list of the model's rule input; default: the
            battery whose input width matches the model's (`tasks` itself if
            its width matches).
        batch_size: trials per forward pass (default 512).
        keep_inputs: also keep each task's inputs (`Activity.inputs`).

    Returns:
        An `Activity`.

    Example:

    >>> from keras_lmrnn import zoo
    >>> act = activity(zoo.load("yang20_autapse_16x16_lmrnn-v1"), ["go", "dm1"], trials_per_task=8)
    >>> act.rates[0].shape[0], act.rates[0].shape[2]
    (8, 256)
    """
    names = resolve_tasks(tasks)
    trials_per_task = check_int("trials_per_task", trials_per_task, 2)
    batch_size = check_int("batch_size", batch_size, 1)
    layer = recurrent_layer(model)
    rule_names = rule_tasks_of(model, names, rule_tasks)
    rates_model = _rates_model(model, layer)
    sets = evaluation_set(names, trials_per_task, seed=seed, rule_tasks=rule_names)
    length = max(x.shape[1] for x, *_ in sets.values())
    rows = len(names) * trials_per_task
    padded = -(-rows // batch_size) * batch_size
    width = next(iter(sets.values()))[0].shape[2]
    x_all = np.zeros((padded, length, width), np.float32)
    for k, (x, *_) in enumerate(sets.values()):
        x_all[k * trials_per_task : (k + 1) * trials_per_task, : x.shape[1]] = x
    out = np.asarray(rates_model.predict(x_all, batch_size=min(batch_size, padded), verbose=0))
    rates, lengths, periods, inputs = [], [], [], []
    for k, (x, _, _, infos) in enumerate(sets.values()):
        inputs.append(x)
        r = out[k * trials_per_task : (k + 1) * trials_per_task, : x.shape[1]].copy()
        bounds = [_period_bounds(info) for info in infos]
        n = np.array([max(b[1] for b in p.values()) for p in bounds], dtype=int)
        for i, steps in enumerate(n):
            if not np.isfinite(r[i, :steps]).all():
                raise ValueError(
                    f"The model's rates are not finite on task {names[k]!r} (trial {i}); "
                    "its weights may have diverged."
                )
            r[i, steps:] = np.nan
        rates.append(r)
        lengths.append(n)
        periods.append(bounds)
    return Activity(names, rates, lengths, periods, inputs if keep_inputs else None)


def _period_bounds(info):
    """{period: (start, end)} in steps, from a trial info's period lengths."""
    bounds, start = {}, 0
    for name, steps in info["periods"].items():
        bounds[name] = (start, start + int(steps))
        start += int(steps)
    return bounds


def rule_tasks_of(model, names, rule_tasks=None):
    """The task list of `model`'s rule input: `rule_tasks` if given, else the
    first of `names` and the batteries (containing `names`) whose one-hot
    rule input gives the model's input width.

    Args:
        model: a Keras model with one `LMRNN` layer and the task inputs.
        names: the task names to be evaluated.
        rule_tasks: the task list of the rule input, if known (a battery
            name or a list of task names).

    Returns:
        A list of task names.

    Raises:
        ValueError: no such list gives the model's input width.

    Example:

    >>> from keras_lmrnn import zoo
    >>> len(rule_tasks_of(zoo.load("yang20_dense_256_lmrnn-v1"), ["go"]))
    20
    """
    if rule_tasks is not None:
        return resolve_tasks(rule_tasks)
    width = model.input_shape[-1] if not isinstance(model.input_shape, list) else None
    observation = catalogue.make(names[0]).observation_space.shape[0]
    candidates = [names] + [catalogue.names(b) for b in catalogue.BATTERIES]
    for candidate in candidates:
        if observation + len(candidate) == width and set(names) <= set(candidate):
            return list(candidate)
    raise ValueError(
        f"Invalid value for argument `rule_tasks`: model {model.name!r} takes inputs of width {width}, "
        f"but no battery containing the requested tasks gives that width ({observation} task inputs "
        f"plus one rule input per task); pass the task list it was trained on. Received: rule_tasks=None"
    )


def _rates_model(model, layer):
    """A model from `model`'s input to `layer`'s rates at every step."""
    try:
        inputs, layer_input = model.inputs, layer.input
        output = layer.output
    except (AttributeError, ValueError) as error:
        raise ValueError(
            f"Cannot read the LMRNN layer's rates from model {model.name!r}: expected a functional or "
            f"Sequential model that calls its LMRNN layer once ({error})"
        ) from None
    if not (layer.return_sequences and not layer.return_state and not layer.go_backwards):
        # Same weights, every step's output, forward in time.
        config = {
            **layer.get_config(),
            "return_sequences": True,
            "return_state": False,
            "go_backwards": False,
            "name": f"{layer.name}_rates",
        }
        copy = LMRNN.from_config(config)
        output = copy(layer_input)
        copy.set_weights(layer.get_weights())
    return keras.Model(inputs, output, name=f"{model.name}_rates")
