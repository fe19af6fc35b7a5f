"""Task variance, unit clusters and cluster lesions of a trained network.

The analyses of Yang et al. (2019) and of the LM-RNN paper (Khona et al.
2022, section 2.3, Fig. 3, Fig. 7b, appendix B), written from their
definitions (see the project's ANALYSIS.md):

1. `activity`: hidden rates (after the nonlinearity, noise off) of the
   model's `LMRNN` layer on the battery's seeded evaluation trials, with each
   trial's period boundaries.
2. `task_variance`: `TV[i, a]`, the variance of unit i's rate across trials
   of task a at each time step (ddof 0), averaged over the time steps of a
   window (from stimulus onset to the end of the trial, Yang's choice, or
   the whole trial); `epoch_task_variance` gives one column per task period.
3. `normalize`: drops inactive units (`TV.sum(axis=1) <= 1e-3`) and scales
   each remaining unit's profile by its maximum.
4. `cluster_units`: ward agglomerative clustering (the paper) or k-means
   (Yang), the number of clusters chosen by the best silhouette score.
5. `lesion_clusters`: per-task performance with each cluster's outgoing
   weights (recurrent and readout) zeroed, against the intact model.
6. `fractional_task_variance` of task pairs, and `rotate_activity`, the
   control that rotates the population activity by a random orthogonal
   matrix first.

Trials of one task differ in length (random fixation and delays), so they
are aligned (at stimulus onset, trial start or period start) and padded with
NaN; variances use only the trials that reach a time step, and time steps
reached by fewer than two trials are left out of the mean.

Figures (matplotlib `Figure` objects, drawn without pyplot): `plot_feature_map`,
`plot_silhouette`, `plot_lesions`, `plot_ftv`, `plot_clusters_over_training`.

Example:

>>> from keras_lmrnn import analysis, zoo
>>> model = zoo.load("yang20_lmrnn_16x16_d2_lmrnn-v1")
>>> act = analysis.activity(model, "yang20", trials_per_task=32)
>>> tv = analysis.task_variance(act)                 # (256 units, 20 tasks)
>>> ntv, units = analysis.normalize(tv)               # active units only
>>> clusters = analysis.cluster_units(ntv, units=units)
>>> clusters.k, clusters.members(0)[:3]               # doctest: +SKIP
>>> lesions = analysis.lesion_clusters(model, clusters, "yang20")
>>> fig = analysis.plot_feature_map(ntv, clusters, act.task_names)
"""

import dataclasses
import warnings

import keras
import numpy as np

from keras_lmrnn.evaluation import EvaluationData
from keras_lmrnn.layers import LMRNN
from keras_lmrnn.models import recurrent_layer
from keras_lmrnn.tasks import catalogue
from keras_lmrnn.tasks.dataset import evaluation_set, resolve_tasks
from keras_lmrnn.validation import check_int

WINDOWS = ("stimulus", "trial")
NORMALIZATIONS = ("max", "sum")
METHODS = ("agglomerative", "kmeans")
# A best k above this fraction of the largest k scored is "at the edge" (cluster_stability).
EDGE = 0.8
# Yang et al. (2019): a unit is active when its task variances sum above this.
ACTIVE_THRESHOLD = 1e-3
# Yang et al.'s fractional-task-variance pairs (their names -> ours):
# fdanti = anti, fdgo = go, reactgo = rtgo, delaydm1 = dlydm1,
# dmcgo = dmc, dmcnogo = dnmc, contextdm = ctxdm, contextdelaydm = ctxdlydm.
YANG_FTV_PAIRS = (
    ("dm1", "dm2"),
    ("ctxdm1", "ctxdm2"),
    ("dm1", "anti"),
    ("dm1", "ctxdm1"),
    ("go", "rtgo"),
    ("dlydm1", "dm1"),
    ("dmc", "dnmc"),
    ("ctxdm1", "ctxdlydm1"),
)


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


# ----------------------------------------------------------------------------
# Task variance


def task_variance(act, window="stimulus"):
    """Per-unit task variance, (units, tasks) float64.

    `TV[i, a]`: the variance (ddof 0) across task a's trials of unit i's rate
    at each time step of the window, averaged over the window's time steps.
    Trials are aligned at the window's start; a time step reached by fewer
    than two trials is left out.

    Args:
        act: an `Activity`.
        window: "stimulus" (default, Yang et al.: from stimulus onset, the end
            of the fixation period, to the end of the trial) or "trial"
            (the whole trial, as neurogym's example).

    Returns:
        TV, a (units, tasks) float64 array.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> act = Activity(["go", "dm1"], list(rng.random((2, 8, 10, 6))), [np.full(8, 10)] * 2,
    ...                [[{"fixation": (0, 3), "decision": (3, 10)}] * 8] * 2)
    >>> tv = task_variance(act)
    >>> tv.shape == (act.n_units, act.n_tasks), bool((tv > 0).all())
    (True, True)
    """
    _check_activity(act)
    if window not in WINDOWS:
        raise ValueError(f"Invalid value for argument `window`: expected one of {WINDOWS}. Received: window={window!r}")
    tv = np.empty((act.n_units, act.n_tasks), dtype=np.float64)
    for k, name in enumerate(act.task_names):
        tv[:, k] = _mean_variance(act.segments(k, window), f"task {name!r}, window {window!r}")
    return tv


def epoch_task_variance(act):
    """Task variance per task period: one column per (task, period).

    Each period's trials are aligned at the period's start. Periods that
    fewer than two trials have (with at least one step) are left out.

    Args:
        act: an `Activity`.

    Returns:
        `(tv, columns)`: tv (units, columns) float64 and the list of
        `(task, period)` pairs naming its columns.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> act = Activity(["go", "dm1"], list(rng.random((2, 8, 10, 6))), [np.full(8, 10)] * 2,
    ...                [[{"fixation": (0, 3), "decision": (3, 10)}] * 8] * 2)
    >>> tv, columns = epoch_task_variance(act)
    >>> tv.shape, columns[:2]
    ((6, 4), [('go', 'fixation'), ('go', 'decision')])
    """
    _check_activity(act)
    columns, values = [], []
    for k, name in enumerate(act.task_names):
        order = []
        for bounds in act.periods[k]:
            order += [p for p in bounds if p not in order]
        for period in order:
            segment = act.segments(k, period)
            if (~np.isnan(segment[:, :, 0])).sum(0).max(initial=0) < 2:
                continue
            values.append(_mean_variance(segment, f"task {name!r}, period {period!r}"))
            columns.append((name, period))
    return np.stack(values, axis=1), columns


def _mean_variance(segment, what):
    """Mean over time steps of the variance across trials (ddof 0)."""
    counts = (~np.isnan(segment[:, :, 0])).sum(axis=0)
    keep = counts >= 2
    if not keep.any():
        raise ValueError(
            f"Cannot compute a task variance for {what}: no time step has two or more trials; "
            "use more trials per task."
        )
    return np.nanvar(segment[:, keep], axis=0).mean(axis=0)


def _check_activity(act):
    if not isinstance(act, Activity):
        raise TypeError(
            f"Invalid value for argument `act`: expected an Activity (see `activity`). Received: {type(act).__name__}"
        )


# ----------------------------------------------------------------------------
# Active units and normalisation


def active_units(tv, threshold=ACTIVE_THRESHOLD):
    """Indices of the units whose task variances sum above `threshold`.

    Args:
        tv: (units, tasks) task variances.
        threshold: the activity threshold (default 1e-3, Yang et al.).

    Returns:
        An int array of unit indices (rows of `tv`).

    Example:

    >>> active_units(np.array([[0.5, 0.1], [0.0, 0.0]]))
    array([0])
    """
    tv = _check_tv(tv)
    return np.flatnonzero(tv.sum(axis=1) > threshold)


def normalize(tv, method="max", threshold=ACTIVE_THRESHOLD):
    """Drops inactive units and normalises each unit's task variances.

    Args:
        tv: (units, tasks) task variances.
        method: "max" (default, Yang's: each row divided by its maximum, so
            values lie in 0..1) or "sum" (each row divided by its sum).
        threshold: a unit is active when its row sums above this (default
            1e-3, Yang et al.); dead units would otherwise give NaN.

    Returns:
        `(ntv, units)`: ntv (active units, tasks) float64, never NaN, and
        the indices of those units in `tv`.

    Example:

    >>> ntv, units = normalize(np.array([[0.5, 0.1], [0.0, 0.0], [0.2, 0.4]]))
    >>> ntv, units
    (array([[1. , 0.2],
           [0.5, 1. ]]), array([0, 2]))
    """
    tv = _check_tv(tv)
    if method not in NORMALIZATIONS:
        raise ValueError(
            f"Invalid value for argument `method`: expected one of {NORMALIZATIONS}. Received: method={method!r}"
        )
    units = active_units(tv, threshold)
    kept = tv[units]
    scale = kept.max(axis=1, keepdims=True) if method == "max" else kept.sum(axis=1, keepdims=True)
    return kept / scale, units


def _check_tv(tv, name="tv"):
    tv = np.asarray(tv, dtype=np.float64)
    if tv.ndim != 2 or not np.isfinite(tv).all() or (tv < 0).any():
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a finite, non-negative (units, tasks) array. "
            f"Received: an array of shape {tv.shape}"
            + ("" if tv.ndim != 2 or np.isfinite(tv).all() else " with NaN or inf")
        )
    return tv


# ----------------------------------------------------------------------------
# Clustering


@dataclasses.dataclass(eq=False)
class ClusterResult:
    """Units clustered by their normalised task-variance profile.

    Attributes:
        labels: (rows,) cluster of each row of the clustered `ntv`, 0..k-1,
            numbered by preferred task (the task of the cluster's largest
            summed nTV), so that figures read like Yang et al.'s.
        k: the chosen number of clusters (best silhouette score).
        ks: the numbers of clusters of the distinct partitions scored.
        scores: their silhouette scores (Euclidean).
        order: row indices sorted by label (stable): the feature map's order.
        units: the unit index (in the layer) of each row.
        preferred: (k,) preferred task index of each cluster.
        method: "agglomerative" or "kmeans".

    Made by `cluster_units`, not by hand.

    Example:

    >>> ntv = np.repeat(np.eye(3), 4, axis=0) + 0.05 * np.random.default_rng(0).random((12, 3))
    >>> result = cluster_units(ntv, units=np.arange(100, 112))
    >>> result.k, result.sizes, result.members(0)
    (3, array([4, 4, 4]), array([100, 101, 102, 103]))
    """

    labels: np.ndarray
    k: int
    ks: np.ndarray
    scores: np.ndarray
    order: np.ndarray
    units: np.ndarray
    preferred: np.ndarray
    method: str

    def members(self, cluster):
        """The unit indices (in the layer) of one cluster."""
        if not 0 <= cluster < self.k:
            raise ValueError(
                f"Invalid value for argument `cluster`: expected 0..{self.k - 1}. Received: cluster={cluster!r}"
            )
        return self.units[self.labels == cluster]

    @property
    def clusters(self):
        """The unit indices of every cluster, a list of k arrays."""
        return [self.members(c) for c in range(self.k)]

    @property
    def sizes(self):
        """The number of units in each cluster."""
        return np.bincount(self.labels, minlength=self.k)


def cluster_units(ntv, method="agglomerative", k_max=40, seed=0, units=None, n_init=20):
    """Clusters units (rows) by their task-variance profile (columns).

    Every number of clusters k = 2..min(k_max, rows - 1) is tried and the
    partition with the best silhouette score (Euclidean) wins; ties go to
    the smaller k. Deterministic: the same call gives the same labels.

    Args:
        ntv: (units, tasks) normalised task variances of active units (see
            `normalize`).
        method: "agglomerative" (default, the paper's: scipy ward linkage,
            one partition per k by `fcluster(..., "maxclust")`, duplicate
            partitions dropped) or "kmeans" (Yang et al.: k-means with
            `n_init` restarts from `seed`).
        k_max: the largest k tried (default 40; the paper's figures show
            up to 25 modules).
        seed: the k-means seed (default 0).
        units: the unit index of each row (default 0..rows-1), e.g. the
            `units` returned by `normalize`; `members` gives these.
        n_init: k-means restarts (default 20, as Yang).

    Returns:
        A `ClusterResult`.

    Raises:
        ValueError: with fewer than 3 rows (silhouette scores need 2..rows-1
            clusters), or when no partition has two or more clusters.

    Example:

    >>> tv = np.repeat(np.eye(3), 4, axis=0) + 0.05 * np.random.default_rng(0).random((12, 3))
    >>> ntv, units = normalize(tv)
    >>> result = cluster_units(ntv, "kmeans", units=units, n_init=2)
    >>> result.k, result.clusters[0]
    (3, array([0, 1, 2, 3]))
    """
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import pdist, squareform
    from sklearn.metrics import silhouette_score

    ntv = _check_tv(ntv, "ntv")
    if method not in METHODS:
        raise ValueError(f"Invalid value for argument `method`: expected one of {METHODS}. Received: method={method!r}")
    k_max = check_int("k_max", k_max, 2)
    seed = check_int("seed", seed, 0)
    n_init = check_int("n_init", n_init, 1)
    rows = ntv.shape[0]
    if rows < 3:
        raise ValueError(
            f"Invalid value for argument `ntv`: clustering needs at least 3 active units (rows), "
            f"found {rows}. The network has too few units with task variance above the activity "
            "threshold (see `normalize`); check that the model is trained and the trials are its battery's."
        )
    if units is None:
        units = np.arange(rows)
    units = np.asarray(units, dtype=int)
    if units.shape != (rows,):
        raise ValueError(
            f"Invalid value for argument `units`: expected one unit index per row of `ntv` ({rows}). "
            f"Received: shape {units.shape}"
        )
    distances = squareform(pdist(ntv))
    tree = linkage(ntv, method="ward") if method == "agglomerative" else None
    best = {}  # number of clusters -> (score, labels)
    seen = set()
    for k in range(2, min(k_max, rows - 1) + 1):
        labels = _partition(ntv, k, tree, seed, n_init)
        key = labels.tobytes()
        found = int(labels.max()) + 1
        if key in seen or not 2 <= found <= rows - 1:
            continue
        seen.add(key)
        score = float(silhouette_score(distances, labels, metric="precomputed"))
        if found not in best or score > best[found][0]:
            best[found] = (score, labels)
    if not best:
        raise ValueError(
            f"Invalid value for argument `ntv`: its {rows} rows form fewer than 2 distinct groups "
            "(identical task-variance profiles), so no number of clusters can be scored."
        )
    ks = np.array(sorted(best))
    scores = np.array([best[k][0] for k in ks])
    k = int(ks[int(np.argmax(scores))])
    labels, preferred = _by_preferred_task(ntv, best[k][1])
    order = np.argsort(labels, kind="stable")
    return ClusterResult(labels, k, ks, scores, order, units, preferred, method)


def _partition(ntv, k, tree, seed, n_init):
    """Labels of one k: a cut of the ward tree, or k-means when `tree` is None."""
    from scipy.cluster.hierarchy import fcluster

    labels = fcluster(tree, k, criterion="maxclust") - 1 if tree is not None else _kmeans(ntv, k, seed, n_init)
    return _canonical(labels)


def _kmeans(ntv, k, seed, n_init):
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    from threadpoolctl import threadpool_limits

    # One OpenMP thread: the same labels on any machine, and on a busy CPU
    # (another job on the cores) 10-100x faster than scikit-learn's default
    # of one thread per core, measured here.
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="openmp"):
        warnings.simplefilter("ignore", ConvergenceWarning)  # duplicate rows: fewer clusters
        model = KMeans(n_clusters=k, n_init=n_init, random_state=seed, algorithm="lloyd")
        return model.fit(ntv).labels_


def _canonical(labels):
    """Labels renumbered by first appearance: equal partitions, equal arrays."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))
    return rank[inverse.ravel()].astype(int)


def _by_preferred_task(ntv, labels):
    """Renumbers clusters by preferred task (then by first row, for ties)."""
    k = int(labels.max()) + 1
    sums = np.stack([ntv[labels == c].sum(axis=0) for c in range(k)])
    preferred = sums.argmax(axis=1)
    new_order = sorted(range(k), key=lambda c: (preferred[c], c))
    mapping = np.empty(k, dtype=int)
    mapping[new_order] = np.arange(k)
    return mapping[labels], preferred[new_order]


# ----------------------------------------------------------------------------
# How far a chosen k can be trusted


@dataclasses.dataclass(eq=False)
class ClusterStability:
    """How well a chosen partition holds up, and whether its k is clear.

    Attributes:
        method: the clustering method.
        k: the partition's number of clusters.
        split_half: (repeats,) adjusted Rand index between the partitions
            (same k, same method, same units) of two disjoint halves of each
            task's trials, one value per random split: 1 for the same
            partition, about 0 for chance agreement.
        silhouette: the partition's silhouette score.
        control_silhouette: the best silhouette score of the same method on
            the rotated activity (`rotate_activity`), whose units are not
            task-specific; None when not computed.
        at_edge: whether k lies in the top fifth of the range scored (k >
            0.8 x the largest k scored, e.g. 33-40 of 2-40): with silhouette
            curves this flat, a best k there cannot be told from a curve
            still rising past the range.
        min_agreement: the split-half agreement a clear k needs.

    Made by `cluster_stability`, not by hand.

    Example:

    >>> stability = ClusterStability("agglomerative", 8, np.array([0.7, 0.8]), 0.3, 0.1, False, 0.5)
    >>> stability.clear, stability.verdict()
    (True, 'k = 8 (split-half ARI 0.75)')
    """

    method: str
    k: int
    split_half: np.ndarray
    silhouette: float
    control_silhouette: object
    at_edge: bool
    min_agreement: float

    @property
    def agreement(self):
        """Mean split-half adjusted Rand index."""
        return float(np.mean(self.split_half))

    @property
    def reasons(self):
        """Why k is not clear (empty when it is)."""
        why = []
        if self.at_edge:
            why.append("k at the top edge of the range searched")
        if self.control_silhouette is not None and self.silhouette <= self.control_silhouette:
            why.append(f"silhouette {self.silhouette:.3f} no better than the rotation control's "
                       f"{self.control_silhouette:.3f}")
        if self.agreement < self.min_agreement:
            why.append(f"split-half agreement {self.agreement:.3f} below {self.min_agreement}")
        return why

    @property
    def clear(self):
        """Whether k can be reported as a number."""
        return not self.reasons

    def verdict(self):
        """`"k = 8 (split-half ARI 0.71)"` or `"no clear k (...)"`.

        >>> ClusterStability("kmeans", 40, np.array([0.9]), 0.3, 0.1, True, 0.5).verdict()
        'no clear k (k at the top edge of the range searched)'
        """
        if self.clear:
            return f"k = {self.k} (split-half ARI {self.agreement:.2f})"
        return f"no clear k ({'; '.join(self.reasons)})"

    def record(self):
        """A JSON-ready dict."""
        return {"k": int(self.k), "clear": self.clear, "verdict": self.verdict(),
                "split_half_ari": [round(float(v), 4) for v in self.split_half],
                "split_half_ari_mean": round(self.agreement, 4), "silhouette": round(float(self.silhouette), 4),
                "control_silhouette": None if self.control_silhouette is None else round(float(self.control_silhouette), 4),
                "at_edge": bool(self.at_edge), "min_agreement": self.min_agreement}


def cluster_stability(act, result, repeats=10, seed=0, window="stimulus", control=True, k_max=40,
                      min_agreement=0.5, n_init=20):
    """Split-half stability of a partition, and its rotation control.

    Each repeat splits every task's trials at random into two disjoint
    halves, computes the task variance of each half, normalises the
    partition's units by their maximum (as `normalize`), partitions both
    halves with the same method at the same k, and scores their agreement
    by the adjusted Rand index. k is "clear" when it is not in the top fifth
    of the range searched, its silhouette beats the rotation control's best,
    and the mean agreement reaches `min_agreement`.

    Args:
        act: the `Activity` the partition was computed from (>= 2 trials
            per task and half, so >= 4 per task).
        result: a `ClusterResult` of `cluster_units` on that activity.
        repeats: random splits (default 10).
        seed: seed of the splits, of k-means and of the rotation.
        window: the task-variance window the partition used.
        control: also cluster the rotated activity (default True).
        k_max: the `k_max` the partition's search used (default 40).
        min_agreement: the split-half ARI a clear k needs (default 0.5).
        n_init: k-means restarts (default 20).

    Returns:
        A `ClusterStability`.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> gain = np.repeat(np.eye(3), 4, axis=1) + 0.1      # units 4g..4g+3 vary on task g
    >>> act = Activity(["go", "dm1", "dms"], [g * rng.standard_normal((8, 5, 12)) for g in gain],
    ...                [np.full(8, 5)] * 3, [[{"fixation": (0, 1), "decision": (1, 5)}] * 8] * 3)
    >>> ntv, units = normalize(task_variance(act))
    >>> clusters = cluster_units(ntv, units=units)
    >>> stability = cluster_stability(act, clusters, repeats=3)
    >>> stability.verdict()
    'k = 3 (split-half ARI 1.00)'
    """
    from scipy.cluster.hierarchy import linkage
    from sklearn.metrics import adjusted_rand_score

    _check_activity(act)
    repeats = check_int("repeats", repeats, 1)
    seed = check_int("seed", seed, 0)
    fewest = min(len(n) for n in act.lengths)
    if fewest < 4:
        raise ValueError(
            f"Invalid value for argument `act`: split halves need at least 4 trials per task (2 per half); "
            f"the activity has {fewest} for some task."
        )
    rng = np.random.default_rng([seed, 0x73706C74])
    agreement = []
    for _ in range(repeats):
        halves = [[], []]
        for n in act.lengths:
            order = rng.permutation(len(n))
            halves[0].append(np.sort(order[: len(n) // 2]))
            halves[1].append(np.sort(order[len(n) // 2 :]))
        labels = []
        for chosen in halves:
            part = _trials(act, chosen)
            tv = task_variance(part, window)[result.units]
            ntv = tv / np.maximum(tv.max(axis=1, keepdims=True), 1e-12)
            tree = linkage(ntv, method="ward") if result.method == "agglomerative" else None
            labels.append(_partition(ntv, result.k, tree, seed, n_init))
        agreement.append(adjusted_rand_score(*labels))
    control_score = None
    if control:
        rotated = task_variance(rotate_activity(act, seed=seed), window)
        ntv, units = normalize(rotated)
        control_score = float(cluster_units(ntv, result.method, k_max=k_max, seed=seed, units=units,
                                            n_init=n_init).scores.max())
    silhouette = float(result.scores[list(result.ks).index(result.k)])
    at_edge = result.k > EDGE * int(max(result.ks))
    return ClusterStability(result.method, int(result.k), np.array(agreement), silhouette, control_score,
                            bool(at_edge), float(min_agreement))


def method_agreement(first, second):
    """Adjusted Rand index between two partitions of the same units.

    Args:
        first: a `ClusterResult`.
        second: another `ClusterResult` of the same units (e.g. by the
            other method).

    Returns:
        The adjusted Rand index, a float: 1.0 for the same partition.

    Raises:
        ValueError: the two partitions cover different units.

    Example:

    >>> a = ClusterResult(np.array([0, 0, 1]), 2, None, None, None, np.arange(3), None, "kmeans")
    >>> method_agreement(a, a)
    1.0
    """
    from sklearn.metrics import adjusted_rand_score

    if not np.array_equal(first.units, second.units):
        raise ValueError("Invalid value for argument `second`: its partition covers other units than `first`'s.")
    return float(adjusted_rand_score(first.labels, second.labels))


def _trials(act, chosen):
    """The activity of the chosen trials of each task."""
    return Activity(act.task_names, [r[c] for r, c in zip(act.rates, chosen)],
                    [n[c] for n, c in zip(act.lengths, chosen)],
                    [[p[i] for i in c] for p, c in zip(act.periods, chosen)])


# ----------------------------------------------------------------------------
# Lesions


@dataclasses.dataclass(eq=False)
class LesionResult:
    """Per-task performance with each cluster lesioned.

    Attributes:
        task_names: the tasks evaluated.
        intact: (tasks,) performance of the intact model.
        lesioned: (clusters, tasks) performance with each cluster lesioned.
        metric: "response_accuracy" or "trial_accuracy".
        readout_layers: names of the readout layers whose rows were zeroed.

    Made by `lesion_clusters`, not by hand.

    Example:

    >>> lesions = LesionResult(["go", "dm1"], np.array([1.0, 0.75]), np.array([[0.5, 0.75], [1.0, 0.25]]),
    ...                        "response_accuracy", ["readout"])
    >>> lesions.change                  # cluster 0 serves go, cluster 1 dm1
    array([[-0.5,  0. ],
           [ 0. , -0.5]])
    """

    task_names: list
    intact: np.ndarray
    lesioned: np.ndarray
    metric: str
    readout_layers: list

    @property
    def change(self):
        """(clusters, tasks) lesioned minus intact performance."""
        return self.lesioned - self.intact[None, :]


def lesion_clusters(
    model,
    clusters,
    tasks="modcog84",
    trials_per_task=32,
    seed=0,
    rule_tasks=None,
    metric="response_accuracy",
    readout=True,
):
    """Per-task performance with each cluster's outgoing weights zeroed.

    Lesioning a unit (Yang et al. 2019) zeroes its outgoing connections: its
    row of the recurrent kernel (the kernel is (pre, post): `h @ W`) and its
    row of the readout kernel (each `Dense` layer fed by the LMRNN layer).
    The caller's model is not altered: a clone is lesioned.

    Args:
        model: a Keras model with one `LMRNN` layer.
        clusters: a `ClusterResult` or a list of arrays of unit indices.
        tasks: a battery name or a list of task names (default "modcog84").
        trials_per_task: evaluation trials per task (default 32).
        seed: seed of the evaluation trials (default 0).
        rule_tasks: as `activity`.
        metric: "response_accuracy" (default) or "trial_accuracy".
        readout: also zero the units' readout rows (default True).

    Returns:
        A `LesionResult`; `.change` is (clusters, tasks).

    Example:

    >>> from keras_lmrnn import models
    >>> model = models.build_model("dense:n=16", input_size=53)   # untrained, yang20's inputs
    >>> lesions = lesion_clusters(model, [[0, 1], [2, 3, 4]], ["go"], trials_per_task=2)
    >>> lesions.change.shape, lesions.readout_layers            # (clusters, tasks)
    ((2, 1), ['readout'])
    >>> lesions = lesion_clusters(trained, clusters, "yang20", 32)   # doctest: +SKIP
    """
    metrics = ("response_accuracy", "trial_accuracy")
    if metric not in metrics:
        raise ValueError(f"Invalid value for argument `metric`: expected one of {metrics}. Received: metric={metric!r}")
    names = resolve_tasks(tasks)
    trials_per_task = check_int("trials_per_task", trials_per_task, 1)
    n = recurrent_layer(model).cell.n
    groups = clusters.clusters if isinstance(clusters, ClusterResult) else list(clusters)
    groups = [np.asarray(g, dtype=int).ravel() for g in groups]
    for i, g in enumerate(groups):
        if g.size and (g.min() < 0 or g.max() >= n):
            raise ValueError(
                f"Invalid value for argument `clusters`: cluster {i} has unit indices outside 0..{n - 1} "
                f"(the LMRNN layer has {n} units). Received: {g.min()}..{g.max()}"
            )
    data = EvaluationData(names, trials_per_task, seed=seed, rule_tasks=rule_tasks_of(model, names, rule_tasks))
    scratch = _clone(model)
    variables, readouts = _outgoing_variables(scratch, readout)
    originals = [np.array(keras.ops.convert_to_numpy(v)) for v in variables]

    def score():
        return np.array([row[metric] for row in data.evaluate(scratch)])

    intact = score()
    lesioned = []
    for units in groups:
        _zero_rows(variables, originals, units)
        lesioned.append(score())
    _zero_rows(variables, originals, [])
    return LesionResult(names, intact, np.array(lesioned).reshape(len(groups), len(names)), metric, readouts)


def lesioned_model(model, units, readout=True):
    """A copy of `model` with `units` lesioned (outgoing weights zeroed).

    Zeroes the units' rows of the recurrent kernel (pre, post) and, with
    `readout`, of the readout kernels (each `Dense` layer fed by the LMRNN
    layer). The caller's model is not altered.

    Args:
        model: a Keras model with one `LMRNN` layer.
        units: the indices of the units to lesion.
        readout: also zero the units' readout rows (default True).

    Returns:
        The lesioned copy, a new `keras.Model`.

    Example:

    >>> import keras
    >>> from keras_lmrnn import models
    >>> model = models.build_model("dense:n=16", input_size=53)
    >>> silent = lesioned_model(model, [0, 1])
    >>> kernel = keras.ops.convert_to_numpy(models.recurrent_layer(silent).cell.recurrent_kernel)
    >>> bool((kernel[[0, 1]] == 0).all()), bool((kernel[2:] != 0).any()), silent is model
    (True, True, False)
    """
    n = recurrent_layer(model).cell.n
    units = np.asarray(units, dtype=int).ravel()
    if units.size and (units.min() < 0 or units.max() >= n):
        raise ValueError(
            f"Invalid value for argument `units`: expected unit indices in 0..{n - 1}. "
            f"Received: {units.min()}..{units.max()}"
        )
    scratch = _clone(model)
    variables, _ = _outgoing_variables(scratch, readout)
    _zero_rows(variables, [np.array(keras.ops.convert_to_numpy(v)) for v in variables], units)
    return scratch


def _outgoing_variables(model, readout):
    """The kernels whose rows are the LMRNN units' outgoing weights, and the
    names of the readout layers among them."""
    rnn = recurrent_layer(model)
    readouts = _readout_layers(model, rnn) if readout else []
    return [rnn.cell.recurrent_kernel] + [layer.kernel for layer in readouts], [layer.name for layer in readouts]


def _zero_rows(variables, originals, units):
    """Sets each variable to its original value with the `units` rows zeroed."""
    for variable, values in zip(variables, originals):
        cut = values.copy()
        cut[np.asarray(units, dtype=int), :] = 0.0  # outgoing: rows of (pre, post) kernels
        variable.assign(cut)


def _clone(model):
    try:
        scratch = keras.models.clone_model(model)
        scratch.set_weights(model.get_weights())
    except Exception as error:  # clone_model refuses some subclassed models
        raise ValueError(
            f"Cannot lesion model {model.name!r}: keras.models.clone_model cannot copy it "
            f"({type(error).__name__}: {error}); use a functional or Sequential model."
        ) from None
    return scratch


def _readout_layers(model, rnn):
    """The Dense layers fed directly by `rnn` (their kernels are (units, out))."""
    try:
        output = rnn.output
    except (AttributeError, ValueError):
        return []
    found = []
    for layer in model.layers:
        if layer is rnn or not isinstance(layer, keras.layers.Dense):
            continue
        try:
            inputs = keras.tree.flatten(layer.input)
        except (AttributeError, ValueError):
            continue
        if any(t is output for t in inputs) and layer.kernel.shape[0] == rnn.cell.n:
            found.append(layer)
    return found


# ----------------------------------------------------------------------------
# Fractional task variance


def fractional_task_variance(tv, task_a, task_b, task_names=None, threshold=ACTIVE_THRESHOLD):
    """`FTV_i(A, B) = (TV_iA - TV_iB) / (TV_iA + TV_iB)` over units with
    `TV_iA + TV_iB > threshold`.

    Args:
        tv: (units, tasks) task variances.
        task_a: task A's column index, or its name with `task_names`.
        task_b: task B's column index, or its name with `task_names`.
        task_names: the names of `tv`'s columns (e.g. `act.task_names`).
        threshold: the activity threshold on the pair (default 1e-3).

    Returns:
        (active units,) values in [-1, 1]: 1 for units active only on A,
        -1 only on B.

    Example:

    >>> fractional_task_variance(np.array([[1.0, 0.0], [1.0, 1.0], [0, 0]]), 0, 1)
    array([1., 0.])
    """
    tv = _check_tv(tv)
    a = _column(task_a, "task_a", tv.shape[1], task_names)
    b = _column(task_b, "task_b", tv.shape[1], task_names)
    total = tv[:, a] + tv[:, b]
    keep = total > threshold
    return (tv[keep, a] - tv[keep, b]) / total[keep]


def _column(task, arg, count, task_names):
    if isinstance(task, (int, np.integer)) and not isinstance(task, bool) and 0 <= task < count:
        return int(task)
    if isinstance(task, str) and task_names is not None and task in list(task_names):
        return list(task_names).index(task)
    allowed = f"a task name in {list(task_names)}" if task_names is not None else "a column index (or pass task_names)"
    raise ValueError(
        f"Invalid value for argument `{arg}`: expected {allowed} below {count}. Received: {arg}={task!r}"
    )


def rotate_activity(act, seed=0):
    """The control of the FTV analysis: rates times a random orthogonal matrix.

    A rotation keeps the population's geometry but mixes units, so
    task-specific units disappear; FTV histograms of rotated activity show
    what to expect without them.

    Args:
        act: an `Activity`.
        seed: integer seed of the random rotation (default 0).

    Returns:
        A new `Activity` of the same tasks, trials and periods.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> act = Activity(["go"], [rng.random((4, 10, 6))], [np.full(4, 10)],
    ...                [[{"fixation": (0, 3), "decision": (3, 10)}] * 4])
    >>> rotated = rotate_activity(act, seed=0)
    >>> norms = [np.linalg.norm(a.rates[0], axis=-1) for a in (act, rotated)]
    >>> rotated.rates[0].shape, bool(np.allclose(*norms))     # the population's geometry is kept
    ((4, 10, 6), True)
    >>> control = task_variance(rotated)
    """
    _check_activity(act)
    seed = check_int("seed", seed, 0)
    gaussian = np.random.default_rng(seed).standard_normal((act.n_units, act.n_units))
    q, r = np.linalg.qr(gaussian)
    q *= np.sign(np.diag(r))  # Haar-distributed
    rates = [np.matmul(x.astype(np.float64), q) for x in act.rates]  # NaN steps stay NaN
    return Activity(act.task_names, rates, act.lengths, act.periods)


def available_pairs(task_names, pairs=YANG_FTV_PAIRS):
    """The pairs of `pairs` whose two tasks are both in `task_names`.

    Args:
        task_names: the tasks at hand (e.g. `act.task_names`).
        pairs: `(task_a, task_b)` pairs (default: Yang et al.'s
            fractional-task-variance pairs, `YANG_FTV_PAIRS`).

    Returns:
        A list of pairs, in the order of `pairs`.

    Example:

    >>> available_pairs(["go", "rtgo", "dm1", "dm2"])
    [('dm1', 'dm2'), ('go', 'rtgo')]
    """
    names = set(task_names)
    return [pair for pair in pairs if pair[0] in names and pair[1] in names]


# ----------------------------------------------------------------------------
# Figures


def _figure(width, height):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _colors(count):
    from matplotlib import colormaps

    cmap = colormaps["tab20"]
    return [cmap(i % 20) for i in range(count)]


def _task_labels(task_names, count):
    if task_names is None:
        return [str(i) for i in range(count)]
    task_names = list(task_names)
    if len(task_names) != count:
        raise ValueError(
            f"Invalid value for argument `task_names`: expected {count} names (one per column). "
            f"Received: {len(task_names)}"
        )
    return task_names


def plot_feature_map(ntv, clusters, task_names=None, cmap="hot"):
    """The normalised task variance of units sorted by cluster.

    Tasks on the y axis, units on the x axis (sorted by cluster), colour
    0..1, and a coloured, numbered segment per cluster along the bottom
    (the paper's Fig. 3a, Yang et al.'s Fig. 2).

    Args:
        ntv: (units, tasks) normalised task variances, the rows that
            `clusters` labels (see `normalize`).
        clusters: the `ClusterResult` of `ntv`.
        task_names: the names of `ntv`'s columns (default: 0, 1, ...).
        cmap: a matplotlib colormap name (default "hot").

    Returns:
        A matplotlib `Figure`.

    Example:

    >>> ntv = np.repeat(np.eye(3), 4, axis=0) + 0.05 * np.random.default_rng(0).random((12, 3))
    >>> fig = plot_feature_map(ntv, cluster_units(ntv), ["go", "dm1", "dms"])
    >>> fig.savefig("feature_map.png")                          # doctest: +SKIP
    """
    from matplotlib.patches import Rectangle

    ntv = _check_tv(ntv, "ntv")
    if ntv.shape[0] != len(clusters.labels):
        raise ValueError(
            f"Invalid value for argument `clusters`: it labels {len(clusters.labels)} units, "
            f"but `ntv` has {ntv.shape[0]} rows"
        )
    names = _task_labels(task_names, ntv.shape[1])
    fig = _figure(max(6.0, min(16.0, ntv.shape[0] / 25)), max(3.0, 0.13 * len(names) + 1.5))
    grid = fig.add_gridspec(2, 2, height_ratios=[20, 1], width_ratios=[40, 1])
    ax = fig.add_subplot(grid[0, 0])
    image = ax.imshow(ntv[clusters.order].T, aspect="auto", cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names, fontsize=max(4, min(9, 400 // max(len(names), 1))))
    ax.set_xticks([])
    ax.set_title(f"Normalised task variance, {clusters.k} clusters ({clusters.method})")
    bar = fig.add_subplot(grid[1, 0], sharex=ax)
    sorted_labels = clusters.labels[clusters.order]
    colors = _colors(clusters.k)
    for c in range(clusters.k):
        where = np.flatnonzero(sorted_labels == c)
        start, width = where[0] - 0.5, len(where)
        bar.add_patch(Rectangle((start, 0), width, 1, color=colors[c]))
        bar.text(start + width / 2, 0.5, str(c + 1), ha="center", va="center", fontsize=7)
    bar.set_ylim(0, 1)
    bar.set_yticks([])
    bar.set_xlabel("Units (sorted by cluster)")
    fig.colorbar(image, cax=fig.add_subplot(grid[0, 1]), label="Normalised task variance")
    return fig


def plot_silhouette(results, labels=None):
    """Silhouette score against the number of clusters, the chosen k marked.

    Args:
        results: a `ClusterResult` or a list of them (one line each).
        labels: legend labels (default: each result's method).

    Returns:
        A matplotlib `Figure`.

    Example:

    >>> ntv = np.repeat(np.eye(3), 4, axis=0) + 0.05 * np.random.default_rng(0).random((12, 3))
    >>> agglomerative = cluster_units(ntv)
    >>> kmeans = cluster_units(ntv, "kmeans", n_init=2)
    >>> fig = plot_silhouette([agglomerative, kmeans])
    """
    results = [results] if isinstance(results, ClusterResult) else list(results)
    labels = [r.method for r in results] if labels is None else list(labels)
    fig = _figure(5, 3.5)
    ax = fig.add_subplot()
    for result, label, color in zip(results, labels, _colors(len(results) * 2)[::2]):
        ax.plot(result.ks, result.scores, "o-", ms=3, color=color, label=f"{label} (k = {result.k})")
        chosen = result.scores[list(result.ks).index(result.k)]
        ax.plot([result.k], [chosen], "*", ms=14, color=color)
    ax.set_xlabel("Number of clusters k")
    ax.set_ylabel("Silhouette score")
    ax.legend(frameon=False)
    return fig


def plot_lesions(lesions, vmin=-0.5, vmax=0.5, cmap="coolwarm"):
    """Change in performance with each cluster lesioned (tasks x clusters).

    Args:
        lesions: a `LesionResult` (see `lesion_clusters`).
        vmin: the change drawn in the colormap's lowest colour (default
            -0.5).
        vmax: the change drawn in its highest colour (default 0.5).
        cmap: a matplotlib colormap name (default "coolwarm").

    Returns:
        A matplotlib `Figure`.

    Example:

    >>> lesions = LesionResult(["go", "dm1"], np.array([1.0, 0.75]), np.array([[0.5, 0.75], [1.0, 0.25]]),
    ...                        "response_accuracy", ["readout"])
    >>> fig = plot_lesions(lesions)
    >>> fig = plot_lesions(lesion_clusters(model, clusters, "yang20"))   # doctest: +SKIP
    """
    change = lesions.change
    fig = _figure(max(4.0, 0.3 * change.shape[0] + 3), max(3.0, 0.13 * len(lesions.task_names) + 1.5))
    ax = fig.add_subplot()
    image = ax.imshow(change.T, aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_yticks(range(len(lesions.task_names)))
    ax.set_yticklabels(lesions.task_names, fontsize=max(4, min(9, 400 // len(lesions.task_names))))
    ax.set_xticks(range(change.shape[0]))
    ax.set_xticklabels([str(c + 1) for c in range(change.shape[0])], fontsize=7)
    for tick, color in zip(ax.get_xticklabels(), _colors(change.shape[0])):
        tick.set_color(color)
    ax.set_xlabel("Lesioned cluster")
    ax.set_title(f"Change in {lesions.metric.replace('_', ' ')} (intact mean {lesions.intact.mean():.3f})")
    fig.colorbar(image, ax=ax, label="Lesioned - intact")
    return fig


def plot_ftv(tv, task_names, pairs=None, control=None, bins=20):
    """Histograms of the fractional task variance of task pairs.

    Args:
        tv: (units, tasks) task variances.
        task_names: the names of `tv`'s columns.
        pairs: (task_a, task_b) pairs (default: Yang et al.'s pairs present
            in `task_names`).
        control: optional task variances of rotated activity (see
            `rotate_activity`), drawn as a grey line.
        bins: bins on [-1, 1] (default 20); bars show fractions of units.

    Returns:
        A matplotlib `Figure`.

    Example:

    >>> tv = np.random.default_rng(0).random((50, 3))
    >>> fig = plot_ftv(tv, ["dm1", "dm2", "go"])                  # Yang et al.'s pair (dm1, dm2)
    >>> control = task_variance(rotate_activity(act))                   # doctest: +SKIP
    >>> fig = plot_ftv(tv, act.task_names, control=control)            # doctest: +SKIP
    """
    pairs = available_pairs(task_names) if pairs is None else list(pairs)
    if not pairs:
        raise ValueError(
            "Invalid value for argument `pairs`: no task pair to draw (none of Yang et al.'s pairs is "
            f"among task_names {list(task_names)[:5]}...). Pass pairs=[(task_a, task_b), ...]."
        )
    cols = min(4, len(pairs))
    rows = -(-len(pairs) // cols)
    fig = _figure(3 * cols, 2.4 * rows)
    edges = np.linspace(-1, 1, bins + 1)
    for i, (a, b) in enumerate(pairs):
        ax = fig.add_subplot(rows, cols, i + 1)
        values = fractional_task_variance(tv, a, b, task_names)
        counts = np.histogram(values, edges)[0] / max(len(values), 1)
        ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="tab:blue", alpha=0.8)
        if control is not None:
            rotated = fractional_task_variance(control, a, b, task_names)
            fractions = np.histogram(rotated, edges)[0] / max(len(rotated), 1)
            ax.step(edges, np.append(fractions, fractions[-1]), where="post", color="grey", label="rotated")
        ax.set_xlim(-1, 1)
        ax.set_title(f"{a} vs {b}", fontsize=9)
        ax.set_xlabel("FTV")
        if i % cols == 0:
            ax.set_ylabel("Fraction of units")
    return fig


def plot_clusters_over_training(history, label=None):
    """The chosen number of clusters at each saved checkpoint (paper Fig. 7b).

    Args:
        history: a list of `(step, k)` or `(step, ClusterResult)` pairs, or a
            dict `label -> such a list` for several lines.
        label: the legend label of a single list.

    Example:

    >>> fig = plot_clusters_over_training([(1000, 18), (5000, 14), (10000, 12)])
    """
    series = history if isinstance(history, dict) else {label: history}
    fig = _figure(5, 3.5)
    ax = fig.add_subplot()
    for (name, points), color in zip(series.items(), _colors(len(series))):
        points = sorted(points, key=lambda point: point[0])
        steps = [step for step, _ in points]
        ks = [value.k if isinstance(value, ClusterResult) else int(value) for _, value in points]
        ax.plot(steps, ks, "o-", color=color, label=name)
    ax.set_xlabel("Training step")
    ax.set_ylabel("Number of clusters")
    if any(name is not None for name in series):
        ax.legend(frameon=False)
    return fig
