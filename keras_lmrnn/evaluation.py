"""Per-task performance of a model on the seeded evaluation trials of a battery.

Example:

>>> from keras_lmrnn import evaluation, models
>>> model = models.build_model("lmrnn:n=16,d=1", input_size=33 + 20)
>>> table = evaluation.evaluate(model, "yang20", trials_per_task=4)
>>> sorted(table[0])
['last_step_accuracy', 'response_accuracy', 'task', 'trial_accuracy']
"""

import keras
import numpy as np

from keras_lmrnn import metrics
from keras_lmrnn.tasks.dataset import evaluation_set, resolve_tasks


class EvaluationData:
    """The evaluation trials of a battery, padded to one length and stacked.

    Built once and reused, e.g. every K training steps for a learning curve.

    Args:
        tasks: the battery or task list to evaluate.
        trials_per_task: trials per task (default 64).
        seed: seed of the evaluation trials (default 0; training data
            generators use other seeds).
        rule_tasks: the task list of the model's rule input (default:
            `tasks`).
        batch_size: rows per forward pass; rows are padded to a multiple of
            it so that every pass has the same shape.
    """

    def __init__(self, tasks="modcog84", trials_per_task=64, seed=0, rule_tasks=None, batch_size=512):
        self.task_names = resolve_tasks(tasks)
        sets = evaluation_set(self.task_names, trials_per_task, seed=seed, rule_tasks=rule_tasks)
        length = max(x.shape[1] for x, *_ in sets.values())
        rows = len(self.task_names) * trials_per_task
        padded_rows = -(-rows // batch_size) * batch_size
        width = next(iter(sets.values()))[0].shape[2]
        self.x = np.zeros((padded_rows, length, width), np.float32)
        self.y = np.zeros((padded_rows, length), np.int32)
        self.response = np.zeros((padded_rows, length), bool)
        self.valid = np.zeros((padded_rows, length), bool)
        self.task_index = np.full(padded_rows, -1)
        row = 0
        for k, (x, y, _, infos) in enumerate(sets.values()):
            n, t = x.shape[:2]
            self.x[row : row + n, :t] = x
            self.y[row : row + n, :t] = y
            for i, info in enumerate(infos):
                start, end = info["response"]
                self.response[row + i, start:end] = True
                self.valid[row + i, :end] = True
            self.task_index[row : row + n] = k
            row += n
        self.rows = rows
        self.batch_size = batch_size

    def scores(self, model):
        """The model's outputs on every evaluation trial (rows, time, classes)."""
        out = model.predict(self.x, batch_size=self.batch_size, verbose=0)
        return np.asarray(out)[: self.rows]

    def evaluate(self, model):
        """Per-task response, trial and last-step accuracy (see
        `keras_lmrnn.metrics`); a list of dicts in task order."""
        scores = self.scores(model)
        y, response, valid = (a[: self.rows] for a in (self.y, self.response, self.valid))
        per_response = metrics.response_accuracy(scores, y, response, per_trial=True)
        steps = response.sum(1)
        per_trial = metrics.trial_accuracy(scores, y, response, valid=valid, per_trial=True)
        per_last = metrics.last_step_accuracy(scores, y, valid.sum(1) - 1, per_trial=True)
        table = []
        for k, name in enumerate(self.task_names):
            rows = self.task_index[: self.rows] == k
            table.append(
                {
                    "task": name,
                    # step-weighted, as response_accuracy over the task's trials
                    "response_accuracy": float((per_response[rows] * steps[rows]).sum() / steps[rows].sum()),
                    "trial_accuracy": float(per_trial[rows].mean()),
                    "last_step_accuracy": float(per_last[rows].mean()),
                }
            )
        return table


def evaluate(model, tasks="modcog84", trials_per_task=64, seed=0, rule_tasks=None):
    """Per-task performance of `model` (see `EvaluationData`)."""
    return EvaluationData(tasks, trials_per_task, seed, rule_tasks).evaluate(model)


def mean_performance(table, key="response_accuracy"):
    """The average over tasks of one column of an evaluation table."""
    return float(np.mean([row[key] for row in table]))


class EvaluationCallback(keras.callbacks.Callback):
    """Evaluates on fixed trials every `every` training batches, for `fit`.

    After training, `history` holds `(step, table)` pairs (see
    `EvaluationData.evaluate`); the latest mean response accuracy is also
    added to the batch logs as `eval_response_accuracy`.

    Example:

    >>> callback = EvaluationCallback(EvaluationData("yang20"), every=500)  # doctest: +SKIP
    >>> model.fit(data, callbacks=[callback])  # doctest: +SKIP
    """

    def __init__(self, eval_data, every=500):
        super().__init__()
        self.eval_data, self.every = eval_data, every
        self.step, self.history = 0, []

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step % self.every == 0:
            table = self.eval_data.evaluate(self.model)
            self.history.append((self.step, table))
            if logs is not None:
                logs["eval_response_accuracy"] = mean_performance(table)
