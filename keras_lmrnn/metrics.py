"""Performance on cognitive tasks: response accuracy and Yang et al.'s trial accuracy.

Outputs are per-step class scores (batch, time, 17): class 0 = fixate,
classes 1..16 = ring directions. Targets are class indices (batch, time).

Example:

>>> import numpy as np
>>> y = np.array([[0, 0, 5, 5]])
>>> scores = np.eye(17)[[[0, 0, 5, 6]]]          # last step one position off
>>> response = np.array([[False, False, True, True]])
>>> float(response_accuracy(scores, y, response))
0.5
>>> float(trial_accuracy(scores, y, response))   # within one position: correct
1.0
"""

import numpy as np
from keras import metrics, ops, saving

RING = 16


def _as_numpy(scores, targets, response):
    choice = np.asarray(scores).argmax(axis=-1)
    return choice, np.asarray(targets), np.asarray(response, dtype=bool)


def response_accuracy(scores, targets, response, per_trial=False):
    """Fraction of response-period steps whose argmax equals the target.

    Args:
        scores: (trials, time, classes) outputs (logits or probabilities).
        targets: (trials, time) class targets.
        response: (trials, time) bool, True on response-period steps (on
            no-go trials too, where the target is 0: fixate).
        per_trial: return one value per trial instead of the mean over all
            response steps.

    Returns:
        The fraction (a numpy float), or with `per_trial` a (trials,) array
        of fractions (0 for a trial without response steps).

    Example:

    >>> y = np.array([[0, 3, 3], [0, 7, 7]])
    >>> scores = np.eye(17)[[[0, 3, 3], [0, 7, 8]]]
    >>> response = np.array([[False, True, True], [False, True, True]])
    >>> float(response_accuracy(scores, y, response))
    0.75
    >>> response_accuracy(scores, y, response, per_trial=True)
    array([1. , 0.5])
    """
    choice, targets, response = _as_numpy(scores, targets, response)
    hits = (choice == targets) & response
    if per_trial:
        return hits.sum(1) / np.maximum(response.sum(1), 1)
    return hits.sum() / max(response.sum(), 1)


def trial_accuracy(scores, targets, response, valid=None, per_trial=False):
    """Fraction of trials performed correctly by Yang et al. (2019)'s criterion.

    A trial is correct when the network fixates (argmax 0) at every step
    before the response period and, on go trials, answers at every response
    step with a direction within 36 degrees (one ring position of 22.5
    degrees) of the target; on no-go trials (target 0 throughout) it keeps
    fixating through the response period.

    Args:
        scores: (trials, time, classes) outputs, as `response_accuracy`.
        targets: (trials, time) class targets.
        response: (trials, time) bool, True on response-period steps.
        valid: optional (trials, time) bool of real (unpadded) steps;
            default: every step up to the end of the response period.
        per_trial: return one bool per trial.

    Returns:
        The fraction of correct trials (a numpy float), or with
        `per_trial` a (trials,) bool array.

    Example:

    >>> y = np.array([[0, 3, 3], [0, 0, 0]])                # a go and a no-go trial
    >>> scores = np.eye(17)[[[0, 4, 3], [0, 0, 9]]]          # the no-go trial answers
    >>> response = np.array([[False, True, True], [False, True, True]])
    >>> trial_accuracy(scores, y, response, per_trial=True)
    array([ True, False])
    """
    choice, targets, response = _as_numpy(scores, targets, response)
    steps = np.arange(targets.shape[1])
    last = np.where(response.any(1), targets.shape[1] - 1 - np.argmax(response[:, ::-1], 1), -1)
    if valid is None:
        valid = steps[None, :] <= last[:, None]
    valid = np.asarray(valid, dtype=bool)
    before = valid & ~response
    fixated = np.all((choice == 0) | ~before, axis=1)
    go = (targets * response).any(1)
    distance = np.abs((choice - targets) % RING)
    distance = np.minimum(distance, RING - distance)
    near = (choice > 0) & (targets > 0) & (distance <= 1)
    answered = np.all(near | ~response, axis=1)
    held = np.all((choice == 0) | ~response, axis=1)
    correct = fixated & np.where(go, answered, held)
    return correct if per_trial else correct.mean()


def last_step_accuracy(scores, targets, last, per_trial=False):
    """Fraction of trials whose argmax at their last step equals the target.

    The "performance" of neurogym's examples (and, most likely, of the
    paper): only the decision at the end of each trial counts.

    Args:
        scores: (trials, time, classes) outputs, as `response_accuracy`.
        targets: (trials, time) class targets.
        last: (trials,) index of each trial's last step (trials padded to a
            common length end earlier than the array).
        per_trial: return one bool per trial.

    Example:

    >>> y = np.array([[0, 3, 3, 0], [0, 0, 0, 0]])
    >>> scores = np.eye(17)[[[0, 0, 3, 9], [0, 5, 0, 0]]]
    >>> float(last_step_accuracy(scores, y, last=[2, 2]))
    1.0
    """
    choice = np.asarray(scores).argmax(axis=-1)
    targets = np.asarray(targets)
    last = np.asarray(last, dtype=int)
    if last.shape != (targets.shape[0],) or (last < 0).any() or (last >= targets.shape[1]).any():
        raise ValueError(
            f"Invalid value for argument `last`: expected one step index in [0, {targets.shape[1]}) per "
            f"trial ({targets.shape[0]} trials). Received: last={last!r}"
        )
    rows = np.arange(targets.shape[0])
    correct = choice[rows, last] == targets[rows, last]
    return correct if per_trial else correct.mean()


@saving.register_keras_serializable(package="keras_lmrnn")
class ResponseAccuracy(metrics.Metric):
    """Keras metric: accuracy on the steps where the target is a direction.

    During `fit` only targets and sample weights are known, so this metric
    scores the steps with a non-zero target (the response steps of go
    trials) whose `sample_weight`, if given, is positive (a weight only
    switches a step on or off). The evaluation functions of
    `keras_lmrnn.evaluation` score whole response periods, no-go trials
    included.

    Args:
        name: the metric's name (default "response_accuracy").
        dtype: the dtype of its variables and result (default: Keras'
            float type).

    Example:

    >>> metric = ResponseAccuracy()
    >>> metric.update_state(np.array([[0, 3, 5]]), np.eye(17)[[[0, 3, 4]]])
    >>> round(float(metric.result()), 2)                  # 1 of 2 direction steps
    0.5
    >>> model.compile("adam", loss, metrics=[ResponseAccuracy()])  # doctest: +SKIP
    """

    def __init__(self, name="response_accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.hits = self.add_variable((), initializer="zeros", name="hits")
        self.count = self.add_variable((), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(ops.reshape(y_true, ops.shape(y_pred)[:-1]), "int32")
        choice = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        weight = ops.cast(y_true > 0, self.dtype)
        if sample_weight is not None:
            weight = weight * ops.cast(ops.reshape(sample_weight, ops.shape(weight)) > 0, self.dtype)
        self.hits.assign_add(ops.sum(ops.cast(choice == y_true, self.dtype) * weight))
        self.count.assign_add(ops.sum(weight))

    def result(self):
        return ops.divide_no_nan(self.hits, self.count)

    def reset_state(self):
        self.hits.assign(0.0)
        self.count.assign(0.0)
