"""Fixed points and slow points of a trained network's hidden dynamics.

With a task's input held constant at `x`, the `LMRNN` layer is the map

    F(h) = (1 - alpha) h + alpha f(h K + c),   c = x U + b

(`K` the masked recurrent kernel, in Keras' (pre, post) layout). A fixed
point is an `h` with `F(h) = h`; a slow point one where the speed
`q(h) = |F(h) - h|^2` is small. Following Sussillo & Barak (2013), the
points are found by minimising `q` from many initial states sampled from the
network's own trajectories on the task's evaluation trials; the minimisation
is a Keras model (the states are its weights) trained by Adam through
`fit`, so it runs under any backend and on a GPU when there is one. The map
is also run forward from the same states (it reaches the attractors that
descent on `q` can miss), and every end point is polished by Newton steps
in float64. Points that land together are merged; each kept point comes
with its speed, the eigenvalues of the map's Jacobian there

    J = (1 - alpha) I + alpha diag(f'(h K + c)) K^T

and its stability: "stable" when every |eigenvalue| < 1 - margin,
"unstable" when one exceeds 1 + margin, "marginal" otherwise (a line or
ring of slow points has eigenvalues on the unit circle).

`fixed_points(model, tasks)` does this for each task with the input of one
task period (default the fixation period, which carries the task's rule
input); `find(step, states)` does it for any `StepMap` and initial states.
Figures: `plot_fixed_points` (points and trajectories in the top principal
components), `plot_eigenvalues` (spectra against the unit circle).

Example:

>>> from keras_lmrnn import dynamics, zoo
>>> model = zoo.load("yang20_lmrnn_16x16_d2_neurogym-indegree")
>>> points = dynamics.fixed_points(model, ["go", "dm1"], rule_tasks="yang20")   # doctest: +SKIP
>>> points.summary()[0]["stability"]                                          # doctest: +SKIP
'stable'
"""

import dataclasses
import json
import pathlib

import keras
import numpy as np
from keras import ops

from keras_lmrnn import analysis, folders
from keras_lmrnn.analysis.figures import _colors, _figure
from keras_lmrnn.models import recurrent_layer
from keras_lmrnn.tasks.dataset import resolve_tasks
from keras_lmrnn.validation import check_int, check_number

STABILITIES = ("stable", "unstable", "marginal")
# Derivatives of the activations we know in closed form (float64, numpy);
# any other activation is differentiated numerically.
_DERIVATIVES = {
    "relu": lambda p: (p > 0).astype(np.float64),
    "linear": np.ones_like,
    "tanh": lambda p: 1.0 - np.tanh(p) ** 2,
    "sigmoid": lambda p: (s := 1.0 / (1.0 + np.exp(-p))) * (1.0 - s),
    "softplus": lambda p: 1.0 / (1.0 + np.exp(-p)),
}


@dataclasses.dataclass(eq=False)
class StepMap:
    """One step of the hidden dynamics under constant inputs, in numpy.

    Args:
        kernel: (n, n) recurrent kernel, (pre, post): `h @ kernel`.
        drive: (m, n) constant input current `x U + b`, one row per input
            held (one per task).
        alpha: the leak rate.
        activation: the name of a Keras activation.

    Example:

    >>> import numpy as np
    >>> step = StepMap(np.zeros((2, 2)), np.ones((1, 2)), 0.5, "relu")
    >>> step(np.zeros((1, 2)), [0]).tolist()   # h + alpha (f(c) - h)
    [[0.5, 0.5]]
    """

    kernel: np.ndarray
    drive: np.ndarray
    alpha: float
    activation: str

    def __post_init__(self):
        self.kernel = np.asarray(self.kernel, np.float64)
        self.drive = np.atleast_2d(np.asarray(self.drive, np.float64))
        n = self.kernel.shape[0]
        if self.kernel.shape != (n, n) or self.drive.shape[1] != n:
            raise ValueError(
                f"Invalid value for argument `kernel` or `drive`: expected (n, n) and (m, n). "
                f"Received: kernel {self.kernel.shape}, drive {self.drive.shape}"
            )
        if not (np.isfinite(self.kernel).all() and np.isfinite(self.drive).all()):
            raise ValueError("The network's weights are not finite (a diverged model): it has no dynamics to analyse.")
        self.alpha = check_number("alpha", self.alpha, 0.0, 1.0, open_below=True)
        self._f = keras.activations.get(self.activation)

    @classmethod
    def of(cls, model, inputs):
        """The step map of `model`'s `LMRNN` layer with `inputs` held constant.

        `inputs`: (m, input_size), the layer's inputs (a preset's model
        inputs), one row per constant input.
        """
        layer = recurrent_layer(model)
        cell = layer.cell
        inputs = np.atleast_2d(np.asarray(inputs, np.float64))
        if layer.input.shape[-1] != inputs.shape[-1]:
            raise ValueError(
                f"Invalid value for argument `inputs`: expected rows of width {layer.input.shape[-1]} "
                f"(the LMRNN layer's input). Received: shape {inputs.shape}"
            )
        kernel = keras.ops.convert_to_numpy(cell.masked_recurrent_kernel()).astype(np.float64)
        drive = inputs @ keras.ops.convert_to_numpy(cell.kernel).astype(np.float64)
        if cell.bias is not None:
            drive = drive + keras.ops.convert_to_numpy(cell.bias).astype(np.float64)
        return cls(kernel, drive, cell.alpha, keras.activations.serialize(cell.activation))

    @property
    def n(self):
        """Number of hidden units."""
        return self.kernel.shape[0]

    def activate(self, pre):
        """f(pre) in float64 (through Keras for activations not known here)."""
        name = self.activation if isinstance(self.activation, str) else None
        if name == "relu":
            return np.maximum(pre, 0.0)
        if name == "linear":
            return pre
        if name == "tanh":
            return np.tanh(pre)
        return np.asarray(keras.ops.convert_to_numpy(self._f(keras.ops.convert_to_tensor(pre))), np.float64)

    def __call__(self, states, rows):
        """F(h) for each state, row `rows[i]` of `drive` as its input."""
        states = np.asarray(states, np.float64)
        pre = states @ self.kernel + self.drive[np.asarray(rows)]
        return (1.0 - self.alpha) * states + self.alpha * self.activate(pre)

    def speed(self, states, rows):
        """q(h) = |F(h) - h|^2 of each state, float64."""
        states = np.asarray(states, np.float64)
        return np.sum((self(states, rows) - states) ** 2, axis=-1)

    def jacobian(self, state, row):
        """dF/dh at one state, (n, n), J[i, j] = dF_i / dh_j."""
        pre = np.asarray(state, np.float64) @ self.kernel + self.drive[row]
        slope = _DERIVATIVES.get(self.activation if isinstance(self.activation, str) else None)
        if slope is not None:
            gain = slope(pre)
        else:  # central differences of the elementwise activation
            eps = 1e-4
            gain = (self.activate(pre + eps) - self.activate(pre - eps)) / (2 * eps)
        return (1.0 - self.alpha) * np.eye(self.n) + self.alpha * gain[:, None] * self.kernel.T


@dataclasses.dataclass(eq=False)
class FixedPoints:
    """Fixed and slow points, one row per distinct point.

    Attributes:
        task_names: the tasks whose inputs were held, in order.
        points: (P, n) the points' hidden states.
        tasks: (P,) int, the index in `task_names` of each point's task.
        speeds: (P,) q at each point (float64).
        eigenvalues: (P, n) complex, the Jacobian's eigenvalues, largest
            modulus first.
        stability: (P,) "stable", "unstable" or "marginal".
        hits: (P,) how many end points of the search landed at each point
            (each initial state gives two: by descent and by iterating the
            map; see `find`). For a stable point, a rough measure of its
            basin among the visited states.
        settings: the arguments of the search.
        activity: the `analysis.Activity` the initial states came from
            (`fixed_points` sets it; None from `find`).
    """

    task_names: list
    points: np.ndarray
    tasks: np.ndarray
    speeds: np.ndarray
    eigenvalues: np.ndarray
    stability: np.ndarray
    hits: np.ndarray
    settings: dict
    activity: object = None

    def of_task(self, task):
        """Indices of the points found for `task` (a name or index)."""
        k = task if isinstance(task, (int, np.integer)) else self.task_names.index(task)
        return np.flatnonzero(self.tasks == k)

    def summary(self):
        """One dict per point: task, speed, stability, largest |eigenvalue|,
        hits, norm."""
        return [
            {"task": self.task_names[int(t)], "speed": float(s), "stability": str(st),
             "max_abs_eigenvalue": float(np.abs(e[0])) if e.size else None, "hits": int(b),
             "norm": float(np.linalg.norm(p))}
            for p, t, s, e, st, b in zip(self.points, self.tasks, self.speeds, self.eigenvalues,
                                        self.stability, self.hits)
        ]


class _Speed(keras.layers.Layer):
    """Holds the states as weights and returns each one's speed q."""

    def __init__(self, step, states, rows, **kwargs):
        super().__init__(**kwargs)
        self.alpha = step.alpha
        self.f = keras.activations.get(step.activation)
        self.h = self.add_weight(shape=states.shape, initializer=keras.initializers.Constant(states), name="h")
        self.kernel = self.add_weight(shape=step.kernel.shape, initializer=keras.initializers.Constant(step.kernel),
                                      trainable=False, name="kernel")
        drive = step.drive[rows]
        self.drive = self.add_weight(shape=drive.shape, initializer=keras.initializers.Constant(drive),
                                     trainable=False, name="drive")

    def call(self, dummy):
        pre = ops.add(ops.matmul(self.h, self.kernel), self.drive)
        change = ops.multiply(self.alpha, ops.subtract(self.f(pre), self.h))
        speeds = ops.sum(ops.square(change), axis=1)
        return ops.add(ops.expand_dims(speeds, 0), ops.multiply(dummy, 0.0))


def _total(y_true, y_pred):
    return ops.sum(y_pred)


def find(step, states, rows=None, steps=2000, learning_rate=0.1, iterations=1000, newton=10, max_speed=1e-4,
         tolerance=1e-2, margin=1e-3, task_names=None, eigenvalues=True):
    """Searches from each initial state; merges and classifies what it finds.

    Each initial state gives two end points: one by Adam on the sum of
    speeds (float32, through Keras, so on the backend's device; finds
    unstable points and slow points as well as stable ones), one by running
    the map itself `iterations` times (float64; lands on the attractors the
    network actually reaches, which descent on the speed can miss when the
    map expands strongly elsewhere). The end points are merged (within
    `tolerance`); each merged point is polished by damped Newton steps on
    `F(h) - h = 0` (float64, one (n, n) solve per step and point, exact for
    a piecewise-linear network once its active units settle), then merged
    again.

    Args:
        step: a `StepMap`.
        states: (m, n) initial states.
        rows: (m,) the row of `step.drive` each state is held at (default 0).
        steps: Adam steps (default 2000).
        learning_rate: Adam's learning rate, decayed by a cosine to 1% of it
            (default 0.1).
        iterations: steps of the map run from each initial state (default
            1000; 0: descent only).
        newton: Newton steps per merged point (default 10; 0: none).
        max_speed: points slower than this at the end are kept (default
            1e-4; None keeps every point). Exact fixed points end near
            1e-20; the rest are slow points.
        tolerance: points of one task closer than `tolerance * sqrt(n)`
            (root-mean-square distance per unit below `tolerance`) are one
            point, the slowest kept (default 1e-2).
        margin: |eigenvalue| within `margin` of 1 is "marginal" (default 1e-3).
        task_names: names of `step.drive`'s rows (default "0", "1", ...).
        eigenvalues: whether to compute the Jacobians' spectra (default True;
            O(n^3) per point; `stability` is "" without them).

    Returns:
        A `FixedPoints`.

    Example:

    >>> import numpy as np
    >>> step = StepMap(0.5 * np.eye(2), [[1.0, 2.0]], 0.5, "linear")   # fixed point: c / (1 - 0.5)
    >>> found = find(step, np.zeros((4, 2)), steps=100)
    >>> np.round(found.points, 6).tolist(), found.stability.tolist(), found.hits.tolist()
    ([[2.0, 4.0]], ['stable'], [8])
    """
    states = np.asarray(states, np.float64)
    if states.ndim != 2 or states.shape[1] != step.n or states.shape[0] < 1:
        raise ValueError(
            f"Invalid value for argument `states`: expected a (m, {step.n}) array with m >= 1. "
            f"Received: shape {states.shape}"
        )
    if not np.isfinite(states).all():
        raise ValueError("Invalid value for argument `states`: expected finite initial states.")
    rows = np.zeros(len(states), int) if rows is None else np.asarray(rows, int)
    if rows.shape != (len(states),) or rows.min() < 0 or rows.max() >= len(step.drive):
        raise ValueError(
            f"Invalid value for argument `rows`: expected one index below {len(step.drive)} per state "
            f"({len(states)} states). Received: {rows!r}"
        )
    steps = check_int("steps", steps, 0)
    iterations = check_int("iterations", iterations, 0)
    newton = check_int("newton", newton, 0)
    learning_rate = check_number("learning_rate", learning_rate, 0.0, None, open_below=True)
    tolerance = check_number("tolerance", tolerance, 0.0, None)
    margin = check_number("margin", margin, 0.0, None)
    if max_speed is not None:
        max_speed = check_number("max_speed", max_speed, 0.0, None, open_below=True)
    names = list(task_names) if task_names is not None else [str(k) for k in range(len(step.drive))]
    if len(names) != len(step.drive):
        raise ValueError(
            f"Invalid value for argument `task_names`: expected {len(step.drive)} names (one per drive row). "
            f"Received: {names!r}"
        )
    ends = [_descend(step, states, rows, steps, learning_rate)]
    if iterations:
        ends.append(_iterate(step, states, rows, iterations))
    ends, end_rows = np.concatenate(ends), np.tile(rows, len(ends))
    finite = np.isfinite(ends).all(axis=1)  # an iterated map may run off to infinity
    points, point_rows, hits = _merge(step, ends[finite], end_rows[finite], np.ones(finite.sum(), int), tolerance)
    if newton and len(points):
        points = np.stack([_polish(step, point, row, newton) for point, row in zip(points, point_rows)])
        points, point_rows, hits = _merge(step, points, point_rows, hits, tolerance)
    speeds = step.speed(points, point_rows)
    keep = np.isfinite(speeds) if max_speed is None else speeds <= max_speed
    points, point_rows, speeds, hits = points[keep], point_rows[keep], speeds[keep], hits[keep]
    spectra = np.zeros((len(points), step.n if eigenvalues else 0), complex)
    stability = np.full(len(points), "", dtype=object)
    for i, (point, row) in enumerate(zip(points, point_rows)):
        if not eigenvalues:
            continue
        values = np.linalg.eigvals(step.jacobian(point, row))
        spectra[i] = values[np.argsort(-np.abs(values), kind="stable")]
        largest = np.abs(spectra[i, 0])
        stability[i] = "stable" if largest < 1 - margin else "unstable" if largest > 1 + margin else "marginal"
    settings = {"initial_states": int(len(states)), "steps": steps, "learning_rate": learning_rate,
                "iterations": iterations, "newton": newton, "max_speed": max_speed, "tolerance": tolerance,
                "margin": margin, "end_points": int(len(ends)), "end_points_dropped": int(len(ends) - hits.sum())}
    return FixedPoints(names, points, point_rows, speeds, spectra, stability.astype(str), hits, settings)


def _iterate(step, states, rows, iterations):
    """The map run `iterations` times from each state (float64)."""
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(iterations):
            states = step(states, rows)
    return states


# Optimizer steps per call of the compiled train step: Keras' per-call overhead
# is paid once per 50 steps (PyTorch's trainer allows only 1).
_CHUNK = 50


def _descend(step, states, rows, steps, learning_rate):
    """Adam on the sum of speeds, the states as the weights; float32."""
    if steps == 0:
        return states
    speed = _Speed(step, states.astype(np.float32), rows, dtype="float32")
    dummy = keras.Input(shape=(1,), batch_size=1)
    model = keras.Model(dummy, speed(dummy))
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.01)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=_total,
                  steps_per_execution=1 if keras.backend.backend() == "torch" else _CHUNK)
    model.fit(np.zeros((steps, 1), np.float32), np.zeros((steps, 1), np.float32), batch_size=1, epochs=1,
              shuffle=False, verbose=0)
    return np.asarray(keras.ops.convert_to_numpy(speed.h), np.float64)


def _merge(step, points, rows, counts, tolerance):
    """Greedy merge, slowest first: a point within `tolerance * sqrt(n)` of
    a kept point of the same row joins it (their counts add up)."""
    speeds = step.speed(points, rows)
    order = np.lexsort((speeds, rows))
    radius = tolerance * np.sqrt(points.shape[1])
    kept, total = [], []
    for i in order:
        for j, k in enumerate(kept):
            if rows[k] == rows[i] and np.linalg.norm(points[i] - points[k]) <= radius:
                total[j] += counts[i]
                break
        else:
            kept.append(i)
            total.append(counts[i])
    kept = np.array(kept, int)
    return points[kept], rows[kept], np.array(total, int)


def _polish(step, point, row, iterations):
    """Damped Newton steps on F(h) - h = 0; a step is taken only if it
    lowers the speed (halved up to 12 times), so a slow point that is no
    fixed point stays where it is."""
    speed = step.speed(point[None], [row])[0]
    eye = np.eye(step.n)
    for _ in range(iterations):
        if speed < 1e-28:
            break
        residual = step(point[None], [row])[0] - point
        system = step.jacobian(point, row) - eye
        try:
            delta = np.linalg.solve(system, -residual)
        except np.linalg.LinAlgError:  # singular: a line of fixed points, say
            delta = np.linalg.lstsq(system, -residual, rcond=None)[0]
        for halving in range(13):
            trial = point + delta / 2**halving
            trial_speed = step.speed(trial[None], [row])[0]
            if trial_speed < speed:
                point, speed = trial, trial_speed
                break
        else:
            break
    return point


def fixed_points(model, tasks, rule_tasks=None, period="fixation", initial_states=256, trials_per_task=16,
                 seed=0, noise=0.0, **search):
    """Fixed and slow points of a model's hidden dynamics, one task at a time.

    For each task, the input is held at its mean over the `period` of the
    task's seeded evaluation trials (the fixation period: fixation on, no
    stimulus, the task's rule input), and `initial_states` states are drawn
    from the network's own rates on those trials (any step of any trial),
    plus Gaussian noise of std `noise`.

    Args:
        model: a Keras model with one `LMRNN` layer, e.g. a preset.
        tasks: a task name, a list of them or a battery.
        rule_tasks: the task list of the model's rule input (default: the
            battery whose width matches, as `analysis.activity`).
        period: the task period whose input is held (default "fixation").
        initial_states: initial states per task (default 256).
        trials_per_task: evaluation trials per task (default 16).
        seed: seed of the trials and of the draw of initial states.
        noise: std of the noise added to the initial states (default 0).
        **search: passed to `find` (steps, learning_rate, iterations,
            newton, max_speed, tolerance, margin, eigenvalues).

    Returns:
        A `FixedPoints` whose `settings` also record these arguments.

    Raises:
        ValueError: a task without `period`, or a dead network (rates zero
            on every step of a task's trials).
    """
    names = resolve_tasks(tasks)
    initial_states = check_int("initial_states", initial_states, 1)
    noise = check_number("noise", noise, 0.0, None)
    seed = check_int("seed", seed, 0)
    act = analysis.activity(model, names, trials_per_task=trials_per_task, seed=seed, rule_tasks=rule_tasks,
                            keep_inputs=True)
    held, starts = [], []
    rng = np.random.default_rng([seed, 0x66707473])
    for k, (name, x) in enumerate(zip(names, act.inputs)):
        spans = [p.get(period) for p in act.periods[k]]
        if any(span is None or span[1] <= span[0] for span in spans):
            have = sorted({key for p in act.periods[k] for key in p})
            raise ValueError(
                f"Invalid value for argument `period`: task {name!r} has no {period!r} period in every trial; "
                f"its periods: {have}. Received: period={period!r}"
            )
        held.append(np.concatenate([x[i, a:b] for i, (a, b) in enumerate(spans)]).mean(axis=0))
        visited = np.concatenate([act.rates[k][i, :n] for i, n in enumerate(act.lengths[k])])
        if not np.abs(visited).max() > 0:
            raise ValueError(
                f"The network's rates are zero on every step of task {name!r} (a dead network): "
                "it has no dynamics to analyse."
            )
        chosen = visited[rng.integers(len(visited), size=initial_states)]
        starts.append(chosen + noise * rng.standard_normal(chosen.shape))
    step = StepMap.of(model, np.stack(held))
    rows = np.repeat(np.arange(len(names)), initial_states)
    found = find(step, np.concatenate(starts), rows, task_names=names, **search)
    found.settings.update({"rule_tasks": rule_tasks if rule_tasks is None or isinstance(rule_tasks, str)
                           else list(rule_tasks), "period": period, "initial_states_per_task": initial_states,
                           "trials_per_task": trials_per_task, "seed": seed, "noise": noise})
    found.activity = act
    return found


# ----------------------------------------------------------------------------
# Figures


def _principal_components(rates, count):
    """Mean and the top `count` principal axes of rows of rates."""
    mean = rates.mean(axis=0)
    _, _, axes = np.linalg.svd(rates - mean, full_matrices=False)
    return mean, axes[:count]


def plot_fixed_points(found, act=None, trials=4):
    """Fixed points (filled: stable, open: unstable, x: marginal) and a few
    trials' trajectories (from `act`, an `analysis.Activity`, default
    `found.activity`), in the top two principal components of the
    trajectories (of the points when there are none). One panel per task.

    Example:

    >>> import numpy as np
    >>> step = StepMap(0.5 * np.eye(2), [[1.0, 2.0]], 0.5, "linear")
    >>> fig = plot_fixed_points(find(step, np.zeros((2, 2)), steps=10, max_speed=None))
    """
    names = found.task_names
    act = found.activity if act is None else act
    if act is not None:
        missing = [t for t in names if t not in act.task_names]
        if missing:
            raise ValueError(f"Invalid value for argument `act`: it lacks the tasks {missing} of the fixed points.")
        rows = np.concatenate([act.rates[act.task_names.index(t)][i, :n]
                               for t in names for i, n in enumerate(act.lengths[act.task_names.index(t)])])
    else:
        rows = found.points if len(found.points) > 1 else np.vstack([found.points, found.points + 1e-9])
    mean, axes = _principal_components(rows, 2)
    if axes.shape[0] < 2:
        axes = np.vstack([axes, np.zeros_like(axes[:1])])
    fig = _figure(3.2 * len(names), 3.2)
    for k, name in enumerate(names):
        ax = fig.add_subplot(1, len(names), k + 1)
        if act is not None:
            t = act.task_names.index(name)
            for i in range(min(trials, len(act.lengths[t]))):
                path = (act.rates[t][i, : act.lengths[t][i]] - mean) @ axes.T
                ax.plot(path[:, 0], path[:, 1], color="0.6", lw=0.7)
        for i in found.of_task(k):
            pc = (found.points[i] - mean) @ axes.T
            kind = found.stability[i]
            style = {"stable": dict(marker="o", color="k"), "unstable": dict(marker="o", mfc="none", color="C3"),
                     "marginal": dict(marker="x", color="C0")}.get(kind, dict(marker=".", color="0.3"))
            ax.plot(pc[0], pc[1], ms=7, ls="none", **style)
        ax.set_title(f"{name}: {len(found.of_task(k))} points", fontsize=9)
        ax.set_xlabel("PC 1")
        if k == 0:
            ax.set_ylabel("PC 2")
    return fig


def plot_eigenvalues(found, points=None):
    """The Jacobian's eigenvalues of each point (default: all) in the complex
    plane, with the unit circle; colours by task."""
    chosen = np.arange(len(found.points)) if points is None else np.asarray(points, int)
    fig = _figure(4, 4)
    ax = fig.add_subplot(1, 1, 1)
    angle = np.linspace(0, 2 * np.pi, 200)
    ax.plot(np.cos(angle), np.sin(angle), color="0.5", lw=0.8)
    colors = _colors(len(found.task_names))
    seen = set()
    for i in chosen:
        t = int(found.tasks[i])
        values = found.eigenvalues[i]
        ax.plot(values.real, values.imag, ".", ms=3, color=colors[t],
                label=None if t in seen else found.task_names[t])
        seen.add(t)
    ax.set_aspect("equal")
    ax.set_xlabel("Re")
    ax.set_ylabel("Im")
    if seen:
        ax.legend(fontsize=7, loc="upper left")
    return fig


# ----------------------------------------------------------------------------
# Files

FILES = ("fixed_points.npz", "fixed_points.json", "fixed_points.png", "eigenvalues.png")


def record(found):
    """What fixed_points.json holds: the settings, and per task the points'
    count by stability and each point's summary."""
    summary = found.summary()
    per_task = {}
    for k, name in enumerate(found.task_names):
        mine = [summary[i] for i in found.of_task(k)]
        per_task[name] = {"count": len(mine), **{s: sum(p["stability"] == s for p in mine) for s in STABILITIES},
                          "points": mine}
    return {"settings": found.settings, "tasks": per_task}


def write(found, folder, source=None, overwrite=False):
    """Writes fixed_points.npz, fixed_points.json and the two figures into
    `folder` (a "dynamics" folder, see `keras_lmrnn.folders`: made if missing,
    replaced only with `overwrite`). `source`: optional record of the
    weights read (`analysis.full.source_record`), kept in the json."""
    import io

    import matplotlib

    matplotlib.use("Agg", force=False)
    with folders.open_folder(folder, "dynamics", overwrite=overwrite) as out:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, points=found.points, tasks=found.tasks, speeds=found.speeds,
                            eigenvalues=found.eigenvalues, stability=found.stability, hits=found.hits,
                            task_names=np.array(found.task_names))
        folders.atomic_write(out / "fixed_points.npz", lambda temp: pathlib.Path(temp).write_bytes(buffer.getvalue()))
        content = record(found)
        if source is not None:
            content["source"] = source
        folders.atomic_write_text(out / "fixed_points.json", json.dumps(content, indent=2) + "\n")
        figures = {"fixed_points.png": plot_fixed_points(found)}
        if found.eigenvalues.size:
            figures["eigenvalues.png"] = plot_eigenvalues(found)
        for name, fig in figures.items():
            folders.atomic_write(out / name, lambda temp, fig=fig: fig.savefig(temp, dpi=100, format="png"))
    return pathlib.Path(folder)
