"""Mod-Cog batches for Keras: `TaskDataset` and the evaluation trials.

Inputs are the task observation (fixation + two rings, 33 values) followed by
a one-hot rule input over the dataset's task list; targets are class indices
(0 = fixate, 1..16 = ring direction); sample weights mark which steps count.

Example:

>>> from keras_lmrnn.tasks import TaskDataset
>>> data = TaskDataset("yang20", batch_size=8, seq_len=50, num_batches=10, seed=0)
>>> x, y, w = data[0]
>>> x.shape, y.shape, w.shape
((8, 50, 53), (8, 50), (8, 50))
"""

import threading
import zlib

import numpy as np
from keras.utils import PyDataset

from keras_lmrnn import protocols
from keras_lmrnn.tasks import catalogue
from keras_lmrnn.validation import check_int

LAYOUTS = protocols.LAYOUTS
WEIGHTINGS = (None, *protocols.LOSS_WEIGHTINGS)  # None means "uniform"
YANG_GRACE_MS = 100
YANG_RESPONSE_WEIGHT = 5.0


def resolve_tasks(tasks):
    """A battery name or a list of task names -> a list of canonical names."""
    if isinstance(tasks, str):
        if tasks in catalogue.BATTERIES:
            return catalogue.names(tasks)
        return [catalogue.resolve(tasks)]
    if not isinstance(tasks, (list, tuple)) or not tasks:
        raise ValueError(
            "Invalid value for argument `tasks`: expected a battery name "
            f"{list(catalogue.BATTERIES)} or a non-empty list of task names. "
            f"Received: tasks={tasks!r}"
        )
    names = [catalogue.resolve(t) for t in tasks]
    if len(set(names)) != len(names):
        raise ValueError(
            f"Invalid value for argument `tasks`: a task is listed twice. "
            f"Received: tasks={tasks!r}"
        )
    return names


def _write_weights(w, row, start, stop, response, dt, weighting):
    """Per-step loss weights of one trial placed at w[row, start:stop]."""
    w[row, start:stop] = 1.0
    if weighting == "yang":  # Yang et al. 2019: grace period, then 5x
        go = start + response[0]
        grace = go + int(round(YANG_GRACE_MS / dt))
        w[row, go : min(grace, stop)] = 0.0
        w[row, grace:stop] = YANG_RESPONSE_WEIGHT


class SequenceTooShort(ValueError):
    """A trial does not fit in a row of `layout="trials"` (seq_len too short).

    Raised when the batch holding such a trial is drawn, which may be
    mid-training: the task's trial lengths vary from trial to trial.

    Example:

    >>> data = TaskDataset(["dms"], batch_size=2, seq_len=5, layout="trials", num_batches=1)
    >>> data[0]
    Traceback (most recent call last):
    ...
    keras_lmrnn.tasks.dataset.SequenceTooShort: Invalid value for argument `seq_len`: ... longer than seq_len=5.
    """


class TrialMaker:
    """Draws trials of several tasks into preallocated arrays.

    Holds one environment per task (per thread, so that `PyDataset` workers
    never share one) and points them all at the generator of the batch being
    built, which makes each batch a pure function of its seed.
    """

    def __init__(self, task_names, weighting=None, rule_names=None, **overrides):
        self.task_names = list(task_names)
        self.rule_names = list(rule_names or task_names)
        self.rule_index = [self.rule_names.index(t) for t in self.task_names]
        self.weighting = weighting
        self.overrides = overrides
        self._local = threading.local()
        probe = catalogue.make(self.task_names[0], **overrides)
        self.dt = probe.dt
        self.ob_size = probe.observation_space.shape[0]
        self.input_size = self.ob_size + len(self.rule_names)

    def __getstate__(self):  # for multiprocessing workers: no thread state
        state = dict(self.__dict__)
        del state["_local"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()

    def envs(self):
        envs = getattr(self._local, "envs", None)
        if envs is None:
            envs = [catalogue.make(t, **self.overrides) for t in self.task_names]
            self._local.envs = envs
        return envs

    def trial(self, k, rng):
        """Draws one trial of task `k`; returns (ob, gt, info)."""
        env = self.envs()[k]
        env.rng = rng
        # These environments are private to the maker: skip neurogym's
        # new_trial() bookkeeping (trial counters) and build the trial.
        info = env._new_trial()
        return env.ob, env.gt, info

    def write(self, k, rng, x, y, w, row, start, rule=True, weights=True):
        """Draws a trial of task `k` and writes it at x[row, start:].

        The trial is cut at the row's end. Returns the number of steps
        written and the trial's info.
        """
        trial = self.trial(k, rng)
        return self.place(trial, k, x, y, w, row, start, rule, weights), trial[2]

    def trial_weights(self, trial):
        """The loss weights of a whole drawn trial, a float32 (steps,) array."""
        _, gt, info = trial
        w = np.zeros((1, len(gt)), np.float32)
        _write_weights(w, 0, 0, len(gt), info["response"], self.dt, self.weighting)
        return w[0]

    def place(self, trial, k, x, y, w, row, start, rule=True, weights=True):
        """Writes a drawn trial of task `k` at x[row, start:]; returns its
        number of steps written (cut at the row's end).

        With `rule=False` or `weights=False` the caller fills the rule input
        or the weights itself (the stream does both for a whole batch).
        """
        ob, gt, info = trial
        n = min(len(gt), x.shape[1] - start)
        stop = start + n
        x[row, start:stop, : self.ob_size] = ob[:n]
        y[row, start:stop] = gt[:n]
        if rule:
            x[row, start:stop, self.ob_size + self.rule_index[k]] = 1.0
        if weights:
            _write_weights(w, row, start, stop, info["response"], self.dt, self.weighting)
        return n


class TaskDataset(PyDataset):
    """Batches of Mod-Cog trials as a `keras.utils.PyDataset`.

    Each item is `(x, y, sample_weight)`: x float32 (batch, seq_len,
    33 + number of tasks) with the one-hot rule input after the 33 task
    inputs; y int32 (batch, seq_len) class targets; sample_weight float32
    (batch, seq_len).

    Batch `i` is a pure function of `(seed, i)`: the same seed gives the same
    batches in any order of access and with any number of workers.

    Args:
        tasks: a battery ("yang20", "modcog84", "modcog132") or a list of
            task names; the rule input is one-hot over this list.
        batch_size: rows per batch (>= 1).
        seq_len: time steps per row (>= 1).
        num_batches: number of batches (the dataset's length).
        layout: "stream" (default: each row is a run of independently
            drawn trials of randomly chosen tasks, starting on a fresh trial
            and cut at seq_len; every step counts), "continuous" (as
            neurogym's `Dataset` cuts a `ScheduleEnvs` stream: row r of
            batch i continues row r of batch i-1, so trials run across batch
            boundaries; trial j of row r is a pure function of (seed, r, j))
            or "trials" (one trial of a random task per row, starting at
            step 0 and padded with weight 0; a trial longer than seq_len
            raises).
        seed: integer seed.
        loss_weighting: "uniform" or None (default: weight 1 on every
            step, i.e. plain cross-entropy) or "yang"
            (as Yang et al. 2019: weight 1 before the response period, 0 for
            its first 100 ms, 5 for the rest of it).
        workers: number of workers loading batches in parallel (default
            1; as `keras.utils.PyDataset`).
        use_multiprocessing: use processes instead of threads for the
            workers (default False; as `keras.utils.PyDataset`).
        max_queue_size: batches kept ready in advance by the workers
            (default 10; as `keras.utils.PyDataset`).
        **task_overrides: passed to every task (`dt`, `sigma`, ...; the
            observation size must stay the same for all).

    Example:

    >>> data = TaskDataset(["go", "dlygo_intr"], batch_size=2, seq_len=40,
    ...                    layout="trials", num_batches=3)
    >>> x, y, w, rows = data.batch_with_tasks(0)
    >>> x.shape[-1], rows.shape
    (35, (2,))
    """

    def __init__(
        self,
        tasks="modcog84",
        batch_size=64,
        seq_len=100,
        num_batches=1000,
        layout="stream",
        seed=0,
        loss_weighting=None,
        workers=1,
        use_multiprocessing=False,
        max_queue_size=10,
        **task_overrides,
    ):
        super().__init__(
            workers=workers,
            use_multiprocessing=use_multiprocessing,
            max_queue_size=max_queue_size,
        )
        self.task_names = resolve_tasks(tasks)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.seq_len = check_int("seq_len", seq_len, 1)
        self.num_batches_ = check_int("num_batches", num_batches, 1)
        self.seed = check_int("seed", seed, 0)
        if layout not in LAYOUTS:
            raise ValueError(
                f"Invalid value for argument `layout`: expected one of "
                f"{LAYOUTS}. Received: layout={layout!r}"
            )
        if loss_weighting not in WEIGHTINGS:
            raise ValueError(
                f"Invalid value for argument `loss_weighting`: expected one of "
                f"{WEIGHTINGS}. Received: loss_weighting={loss_weighting!r}"
            )
        self.layout = layout
        self.loss_weighting = loss_weighting
        self.maker = TrialMaker(self.task_names, loss_weighting, **task_overrides)
        self.input_size = self.maker.input_size
        # continuous layout: per row, the lengths of its trials drawn so far
        # and, per batch index reached, where each row stands (trial, offset)
        self._lengths = [[] for _ in range(self.batch_size)]
        self._starts = {0: [(0, 0)] * self.batch_size}
        self._lock = threading.Lock()

    def __getstate__(self):  # for multiprocessing workers: no lock
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def num_batches(self):
        return self.num_batches_

    def __len__(self):
        return self.num_batches_

    def __getitem__(self, index):
        return self.batch_with_tasks(index)[:3]

    def batch_with_tasks(self, index):
        """Batch `index` plus the task index of each trial's row.

        For "trials", the task index of each row; for "stream", that of the
        first trial of each row.
        """
        if not 0 <= index < self.num_batches_:
            raise IndexError(
                f"batch index {index} out of range for {self.num_batches_} batches"
            )
        if self.layout == "continuous":
            return self._continuous_batch(index)
        rng = np.random.default_rng([self.seed, index])
        shape = (self.batch_size, self.seq_len)
        x = np.zeros(shape + (self.input_size,), dtype=np.float32)
        y = np.zeros(shape, dtype=np.int32)
        w = np.zeros(shape, dtype=np.float32)
        rows = rng.integers(len(self.task_names), size=self.batch_size)
        if self.layout == "trials":
            for row, k in enumerate(rows):
                n, info = self.maker.write(k, rng, x, y, w, row, 0)
                if n < info["response"][1]:
                    raise SequenceTooShort(
                        f"Invalid value for argument `seq_len`: a trial of "
                        f"{info['task']} lasts {info['response'][1]} steps, "
                        f"longer than seq_len={self.seq_len}."
                    )
            return x, y, w, rows
        # Stream: rows are filled trial after trial; the rule input (and
        # uniform weights) are then set for the whole batch at once.
        weighted = self.loss_weighting == "yang"
        if not weighted:
            w[:] = 1.0
        segment_tasks, segment_steps = [], []
        for row, k in enumerate(rows):
            start, upcoming = 0, []
            while start < self.seq_len:
                n, _ = self.maker.write(k, rng, x, y, w, row, start, rule=False, weights=weighted)
                segment_tasks.append(k)
                segment_steps.append(n)
                start += n
                if not upcoming:  # draw the next tasks in blocks: fast
                    upcoming = list(rng.integers(len(self.task_names), size=16))
                k = upcoming.pop()
        columns = self.maker.ob_size + np.asarray(self.maker.rule_index)[segment_tasks]
        flat = x.reshape(-1, x.shape[-1])
        flat[np.arange(len(flat)), np.repeat(columns, segment_steps)] = 1.0
        return x, y, w, rows

    # -- the continuous layout ---------------------------------------------

    def stream_trial(self, row, j):
        """Trial `j` of row `row`'s endless stream: (task index, trial)."""
        rng = np.random.default_rng([self.seed, 1, row, j])
        k = int(rng.integers(len(self.task_names)))
        return k, self.maker.trial(k, rng)

    def _trial_length(self, row, j):
        lengths = self._lengths[row]
        while len(lengths) <= j:
            lengths.append(len(self.stream_trial(row, len(lengths))[1][1]))
        return lengths[j]

    def _advance(self, row, j, offset, steps):
        """Where row `row` stands `steps` steps after (trial j, offset)."""
        while steps > 0:
            left = self._trial_length(row, j) - offset
            if steps < left:
                return j, offset + steps
            steps -= left
            j, offset = j + 1, 0
        return j, offset

    def _row_starts(self, index):
        """(trial, offset) of each row at the first step of batch `index`.

        Found by walking the streams from the nearest batch already walked
        to; the result depends only on (seed, index), whatever was asked before.
        """
        with self._lock:
            known = max(i for i in self._starts if i <= index)
            starts = self._starts[known]
            for i in range(known, index):
                starts = [self._advance(r, j, o, self.seq_len) for r, (j, o) in enumerate(starts)]
                self._starts[i + 1] = starts
            return starts

    def _continuous_batch(self, index):
        shape = (self.batch_size, self.seq_len)
        x = np.zeros(shape + (self.input_size,), dtype=np.float32)
        y = np.zeros(shape, dtype=np.int32)
        w = np.zeros(shape, dtype=np.float32)
        rows = np.zeros(self.batch_size, dtype=np.int64)
        maker = self.maker
        for row, (j, offset) in enumerate(self._row_starts(index)):
            start = 0
            while start < self.seq_len:
                k, trial = self.stream_trial(row, j)
                ob, gt, _ = trial
                n = min(len(gt) - offset, self.seq_len - start)
                stop = start + n
                x[row, start:stop, : maker.ob_size] = ob[offset : offset + n]
                x[row, start:stop, maker.ob_size + maker.rule_index[k]] = 1.0
                y[row, start:stop] = gt[offset : offset + n]
                w[row, start:stop] = maker.trial_weights(trial)[offset : offset + n]
                if start == 0:
                    rows[row] = k
                start, j, offset = stop, j + 1, 0
        return x, y, w, rows


def evaluation_set(tasks="modcog84", trials_per_task=64, seed=0, rule_tasks=None, loss_weighting=None, **task_overrides):
    """A fixed, seeded set of trials for each task: the evaluation data.

    Each task's trials depend only on `(seed, task name)`, so adding or
    removing other tasks leaves them unchanged.

    Args:
        tasks: a battery or a list of task names to evaluate.
        trials_per_task: trials drawn per task.
        seed: integer seed.
        rule_tasks: the task list of the rule input (the battery the model
            was trained on); default: `tasks`.
        loss_weighting: the weights `w`: None or "uniform" (default) or
            "yang", as `TaskDataset`.
        **task_overrides: passed to every task, as `TaskDataset`.

    Returns:
        A dict `name -> (x, y, w, info)`: x (trials, T, inputs), y, w
        (trials, T) padded with weight 0 to the task's longest trial, and
        the list of each trial's info dict.

    Example:

    >>> sets = evaluation_set(["go", "dms"], trials_per_task=4)
    >>> x, y, w, info = sets["dms"]
    >>> x.shape[0], info[0]["task"]
    (4, 'dms')
    """
    names = resolve_tasks(tasks)
    rule_names = resolve_tasks(rule_tasks) if rule_tasks is not None else names
    missing = [t for t in names if t not in rule_names]
    if missing:
        raise ValueError(
            f"Invalid value for argument `rule_tasks`: it lacks {missing}, "
            "so these tasks have no rule input."
        )
    check_int("trials_per_task", trials_per_task, 1)
    check_int("seed", seed, 0)
    maker = TrialMaker(names, loss_weighting, rule_names=rule_names, **task_overrides)
    result = {}
    for k, name in enumerate(names):
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        trials = [maker.trial(k, rng) for _ in range(trials_per_task)]
        length = max(len(gt) for _, gt, _ in trials)
        x = np.zeros((trials_per_task, length, maker.input_size), np.float32)
        y = np.zeros((trials_per_task, length), np.int32)
        w = np.zeros((trials_per_task, length), np.float32)
        for i, trial in enumerate(trials):
            maker.place(trial, k, x, y, w, i, 0)
        result[name] = (x, y, w, [info for *_, info in trials])
    return result
