"""Statistics of recorded activity: task variance (whole window or per
period), active units and normalisation, fractional task variance and the
rotation control.

Example:

>>> import numpy as np
>>> from keras_lmrnn.analysis import variance
>>> variance.normalize(np.array([[1.0, 3.0], [0.0, 0.0]]))[0]   # the inactive unit is dropped
array([[0.33333333, 1.        ]])
"""

import numpy as np

from keras_lmrnn.analysis.recording import WINDOWS, Activity
from keras_lmrnn.validation import check_int

NORMALIZATIONS = ("max", "sum")
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
