"""Lesions: per-task performance with a cluster's outgoing weights zeroed.

Example:

>>> from keras_lmrnn import models
>>> from keras_lmrnn.analysis import lesions
>>> model = models.build_dense(33, n=8)
>>> lesions.lesioned_model(model, [0, 1]).count_params() == model.count_params()
True
"""

import dataclasses

import keras
import numpy as np

from keras_lmrnn.analysis.recording import rule_tasks_of
from keras_lmrnn.analysis.clusters import ClusterResult
from keras_lmrnn.evaluation import EvaluationData
from keras_lmrnn.models import recurrent_layer
from keras_lmrnn.tasks.dataset import resolve_tasks
from keras_lmrnn.validation import check_int

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
