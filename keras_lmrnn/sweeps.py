"""Sweeps: many model specs x many seeds, one run folder each, never redone.

Every (model, seed) pair is one run folder under the sweep folder, named
`run_name(spec, seed)`, trained by the same code path as `keras-lmrnn train`
(`keras_lmrnn.runner.run`) in a worker process of its own. The sweep folder
holds `sweep.json` (the grid and the common options). Running the same sweep
again is the resume: finished runs (complete or diverged: training is
deterministic) are skipped, interrupted ones continue
from their checkpoint (exactly), missing ones start; a request that differs
from `sweep.json` is refused.

Engines: local worker processes (`jobs` at a time, the default), or Ray
tasks (`use_ray=True`, on a running cluster or a local Ray), one CPU each,
retried when a worker dies.

Example:

>>> from keras_lmrnn import runner, sweeps
>>> options = runner.RunOptions(battery="yang20", steps=200, batch_size=16, seq_len=50, eval_every=50)
>>> sweeps.run_sweep("runs/sweep", ["lmrnn:n=64,d=2", "dense:n=64"], [0, 1], options, jobs=2)  # doctest: +SKIP
>>> from keras_lmrnn import sweep_report
>>> sweep_report.write_report("runs/sweep")  # report.md, report.csv, figures  # doctest: +SKIP
"""

import collections
import contextlib
import dataclasses
import json
import os
import pathlib
import shlex
import signal
import subprocess
import sys
import threading
import time

import keras

from keras_lmrnn import folders, protocols, runner, training
from keras_lmrnn.models import check_spec
from keras_lmrnn.specs import ModelSpec

SWEEP_FILE = folders.SweepFolder.RECORD
FORMAT = 1
# The states of a run that a rerun of its sweep leaves as they are.
FINAL = ("complete", "diverged")
# Worker exit statuses: 0 done, 3 diverged, 2 refused (bad request or folder);
# anything else (a signal, a crash: 1) is a dead worker, retried.
DONE, REFUSED, DIVERGED = 0, 2, 3

# What a user calls; the worker plumbing (worker_main, worker_command) stays
# importable but is not part of the API.
__all__ = [
    "FINAL",
    "MAX_RUNS",
    "SWEEP_FILE",
    "Sweep",
    "SweepError",
    "brief",
    "check_finished",
    "check_size",
    "parse_seeds",
    "read_sweep",
    "run_name",
    "run_sweep",
    "status",
    "parse_visible_devices",
    "trained_under",
    "visible_gpus",
    "worker_env",
    "worker_threads",
]


# The most runs (models x seeds) a sweep takes unless told otherwise (`max_runs`,
# `keras-lmrnn sweep --max-runs`): a typo such as 0-1000000 is refused at once.
MAX_RUNS = 1000


class SweepError(ValueError):
    """A sweep request cannot be run as asked; the message says why.

    A `ValueError`, so code that catches bad arguments catches it too.

    Example:

    >>> parse_seeds("4-2")
    Traceback (most recent call last):
    ...
    keras_lmrnn.sweeps.SweepError: cannot read seeds '4-2': a range runs from a seed >= 0 up to a larger one
    """


def brief(values, keep=6):
    """A list for a message: whole when short, else its ends and its length.

    Args:
        values: any iterable.
        keep: the most items shown (default 6).

    Returns:
        A string.

    Example:

    >>> brief([1, 2])
    '[1, 2]'
    >>> brief(list(range(100)))
    '[0, 1, 2, ..., 98, 99] (100 items)'
    """
    values = list(values)
    if len(values) <= keep:
        return repr(values)
    head, tail = values[: keep // 2], values[-(keep // 2) + 1:]
    return f"[{', '.join(map(repr, head))}, ..., {', '.join(map(repr, tail))}] ({len(values)} items)"


def parse_seeds(text, max_runs=MAX_RUNS):
    """Seeds from "0-4", "0,2,7" or "0-2,10": a sorted list without repeats,
    at most `max_runs` of them (None: no bound).

    Args:
        text: the seeds, as `keras-lmrnn sweep --seeds` takes them.
        max_runs: the most seeds allowed (default `MAX_RUNS`); None: no
            bound.

    Returns:
        A sorted list of distinct ints.

    Raises:
        SweepError: unreadable text, or more than `max_runs` seeds.

    Example:

    >>> parse_seeds("0-2,7")
    [0, 1, 2, 7]
    >>> len(parse_seeds("0-4999", max_runs=None))
    5000
    """
    seeds = set()
    too_many = SweepError(f"seeds {text!r} name more than {max_runs} seeds; a sweep takes at most "
                          f"{max_runs} runs unless --max-runs allows more")
    for part in filter(None, str(text).replace(" ", "").split(",")):
        low, dash, high = part.partition("-")
        try:
            first, last = int(low), int(high if dash else low)
        except ValueError:
            raise SweepError(f"cannot read seeds {text!r}: expected e.g. 0-4 or 0,2,7") from None
        if first < 0 or last < first:
            raise SweepError(f"cannot read seeds {text!r}: a range runs from a seed >= 0 up to a larger one")
        if max_runs is not None and last - first + 1 > max_runs:  # refused before any list is built
            raise too_many
        seeds.update(range(first, last + 1))
        if max_runs is not None and len(seeds) > max_runs:
            raise too_many
    if not seeds:
        raise SweepError(f"cannot read seeds {text!r}: expected e.g. 0-4 or 0,2,7")
    return sorted(seeds)


def run_name(spec, seed):
    """The run folder name of `spec` at `seed`, e.g. "lmrnn_n=400_d=4__seed0".

    Characters other than letters, digits, "=", "." and "-" become "_".

    Args:
        spec: a model spec.
        seed: the run's seed.

    Example:

    >>> run_name("lmrnn:n=400,d=4", 0), run_name("l1:n=400,l1=1e-4", 12)
    ('lmrnn_n=400_d=4__seed0', 'l1_n=400_l1=1e-4__seed12')
    """
    return folders.folder_name(spec) + f"__seed{seed}"


@dataclasses.dataclass(frozen=True)
class Sweep:
    """A grid of model specs and seeds with common training options.

    Args:
        models: a tuple of distinct model specs.
        seeds: a tuple of distinct run seeds (integers >= 0).
        options: a `keras_lmrnn.runner.RunOptions`; its seed is replaced by
            each run's.

    Raises:
        SweepError: no model, a model or seed given twice, a bad seed, or
            two specs with the same run folder name.

    Example:

    >>> from keras_lmrnn import runner
    >>> sweep = Sweep(("lmrnn:n=64,d=2", "dense:n=64"), (0, 1), runner.RunOptions(battery="yang20", steps=100))
    >>> [name for name, _, _ in sweep.runs()][:3]                 # seeds outermost
    ['lmrnn_n=64_d=2__seed0', 'dense_n=64__seed0', 'lmrnn_n=64_d=2__seed1']
    >>> sweep.run_options(1).seed, sweep.record()["seeds"]
    (1, [0, 1])
    """

    models: tuple
    seeds: tuple
    options: runner.RunOptions  # its seed is replaced by each run's

    def __post_init__(self):
        bad = [s for s in self.seeds if isinstance(s, bool) or not isinstance(s, int) or s < 0]
        if not self.seeds or bad or len(set(self.seeds)) != len(self.seeds):
            raise SweepError(f"Invalid value for argument `seeds`: expected distinct integers >= 0. "
                             f"Received: seeds={list(self.seeds)!r}")
        if not self.models:
            raise SweepError("a sweep needs at least one model spec")
        if len(set(self.models)) != len(self.models):
            raise SweepError(f"a model spec is given twice: {list(self.models)}")
        names = collections.Counter(run_name(m, 0) for m in self.models)
        clash = [n for n, c in names.items() if c > 1]
        if clash:
            raise SweepError(f"model specs {list(self.models)} give the same run folder name {clash[0]}")

    def runs(self):
        """(name, spec, seed) of every run, seeds outermost.

        Runs start in this order, so a sweep stopped part way holds whole
        seeds: every model on seed 0 before any model on seed 1.
        """
        return [(run_name(m, s), m, s) for s in self.seeds for m in self.models]

    def run_options(self, seed):
        return dataclasses.replace(self.options, seed=seed)

    def record(self):
        """What sweep.json holds."""
        common = self.options.as_dict()
        del common["seed"]
        return {"format": FORMAT, "models": list(self.models), "seeds": list(self.seeds), "options": common}

    @classmethod
    def from_record(cls, record):
        options = {"protocol": protocols.UNRECORDED, **record["options"]}  # older sweeps ran under lmrnn-v1
        return cls(tuple(record["models"]), tuple(record["seeds"]), runner.RunOptions(**options, seed=0))


def read_sweep(folder):
    """The `Sweep` recorded in a sweep folder's sweep.json.

    Args:
        folder: the sweep folder.

    Raises:
        SweepError: there is no sweep.json, or it is unreadable or names an
            invalid model spec.

    Example:

    >>> import json, pathlib, tempfile
    >>> from keras_lmrnn import runner
    >>> sweep = Sweep(("lmrnn:n=64,d=2", "dense:n=64"), (0, 1), runner.RunOptions(battery="yang20", steps=100))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (pathlib.Path(tmp) / SWEEP_FILE).write_text(json.dumps(sweep.record()))
    ...     read_sweep(tmp) == sweep
    True
    """
    path = folders.SweepFolder(folder).record
    try:
        sweep = Sweep.from_record(json.loads(path.read_text()))
    except FileNotFoundError:
        raise SweepError(f"{folder} holds no {SWEEP_FILE}: not a sweep folder") from None
    except (OSError, ValueError, KeyError, TypeError):
        raise SweepError(f"{path} is unreadable; start the sweep again in another folder") from None
    for spec in sweep.models:
        try:
            ModelSpec.parse(spec)
        except (ValueError, TypeError) as error:
            raise SweepError(f"{path} names an invalid model spec {spec!r} ({error}); "
                             "start the sweep again in another folder") from None
    return sweep


def check_finished(folder, sweep, finished):
    """Refuses (`SweepError`, naming the run and the setting) a finished run
    of `finished` ((name, spec, seed) triples) whose config.json records
    another model, seed or option than the sweep: it would be counted as
    this sweep's result otherwise.

    Args:
        folder: the sweep folder.
        sweep: the `Sweep` asked for.
        finished: the finished runs to check, `(name, spec, seed)` triples
            of `sweep.runs()`.

    Example:

    >>> import tempfile
    >>> from keras_lmrnn import runner
    >>> sweep = Sweep(("lmrnn:n=64,d=2", "dense:n=64"), (0, 1), runner.RunOptions(battery="yang20", steps=100))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     check_finished(tmp, sweep, [])                          # nothing to check
    ...     check_finished(tmp, sweep, sweep.runs()[:1])
    Traceback (most recent call last):
    ...
    keras_lmrnn.sweeps.SweepError: finished run .../lmrnn_n=64_d=2__seed0 has no readable config.json; ...
    """
    for name, spec, seed in finished:
        run = pathlib.Path(folder) / name
        try:
            recorded = folders.RunFolder(run).read_config()
            if not isinstance(recorded, dict):
                raise ValueError
        except (OSError, ValueError):
            raise SweepError(f"finished run {run} has no readable config.json; move it out of {folder} "
                             "so that it is trained again") from None
        options = sweep.run_options(seed)
        problem = None
        if recorded.get("steps") != options.steps:
            problem = f"steps={recorded.get('steps')} (sweep.json: {options.steps})"
        else:
            try:  # the backend aside: a finished run's numbers do not depend on resuming exactly
                runner.check_record({k: v for k, v in recorded.items() if k != "backend"}, spec, options, run)
            except (runner.RunConfigError, ValueError, TypeError) as error:  # e.g. an unknown protocol
                problem = str(error)
        if problem:
            raise SweepError(f"finished run {name} does not match {SWEEP_FILE}: {problem}; move it out of "
                             f"{folder} (it is then trained again) or use another --out")


def _names(names, keep=6):
    """Run names for a message: all of a few, else the first ones and a count."""
    if len(names) <= keep:
        return ", ".join(names)
    return f"{', '.join(names[:keep])} and {len(names) - keep} more"


def check_size(models, seeds, max_runs=MAX_RUNS):
    """Refuses a grid of more than `max_runs` runs (None: no bound).

    Args:
        models: the model specs.
        seeds: the seeds.
        max_runs: the most runs allowed (default `MAX_RUNS`).

    Raises:
        SweepError: more than `max_runs` runs.

    Example:

    >>> check_size(["dense:n=64"] * 2, range(600), max_runs=None)
    >>> check_size(["dense:n=64"] * 2, range(600))
    Traceback (most recent call last):
    ...
    keras_lmrnn.sweeps.SweepError: 2 models x 600 seeds make 1200 runs; a sweep takes at most 1000 unless ...
    """
    count = len(models) * len(seeds)
    if max_runs is not None and count > max_runs:
        raise SweepError(f"{len(models)} models x {len(seeds)} seeds make {count} runs; a sweep takes at most "
                         f"{max_runs} unless --max-runs allows more")


def _difference(recorded, requested):
    for key in ("models", "seeds"):
        if recorded[key] != requested[key]:
            return f"{key} {brief(requested[key])} (recorded: {brief(recorded[key])})"
    options = requested["options"]
    for key in sorted(options, key=lambda k: k != "protocol"):  # the protocol first: it sets other options
        value = options[key]
        if recorded["options"].get(key) != value:
            return f"{key}={value} (recorded: {recorded['options'].get(key)})"
    return None


def trained_under(folder, names):
    """{backend: first run name} of the runs of `names` in `folder` that recorded one.

    Args:
        folder: the sweep folder.
        names: run folder names (missing or unreadable runs are passed
            over).

    Example:

    >>> import json, pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for name in ("a", "b"):
    ...         (pathlib.Path(tmp) / name).mkdir()
    ...         _ = (pathlib.Path(tmp) / name / "config.json").write_text(json.dumps({"backend": "jax"}))
    ...     trained_under(tmp, ["a", "b", "c"])
    {'jax': 'a'}
    """
    found = {}
    for name in names:
        try:
            backend = folders.RunFolder(pathlib.Path(folder) / name).read_config().get("backend")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(backend, str):
            found.setdefault(backend, name)
    return found


def status(folder, name):
    """"complete", "diverged", "started" or "missing" for a run of a sweep.

    Args:
        folder: the sweep folder.
        name: the run's folder name (`run_name`).

    Example:

    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     before = status(tmp, "dense_n=64__seed0")
    ...     (pathlib.Path(tmp) / "dense_n=64__seed0").mkdir()
    ...     _ = (pathlib.Path(tmp) / "dense_n=64__seed0" / "config.json").write_text("{}")
    ...     before, status(tmp, "dense_n=64__seed0")
    ('missing', 'started')
    """
    return folders.RunFolder(pathlib.Path(folder) / name).status()


def first_trained_run(folder, spec):
    """The run of `spec` that stands for it where one seed must: the lowest seed that
    finished without diverging, passing only seeds that diverged (a diverged run is
    reported, never scored, and the next seed is tried; issue #25's rule for presets).

    Args:
        folder: the sweep folder.
        spec: one of the sweep's model specs.

    Returns:
        The run's folder name, or None while a lower seed has not ended, or when
        every seed diverged.

    Raises:
        SweepError: `spec` is not one of the sweep's models.

    Example:

    >>> import json, pathlib, tempfile
    >>> from keras_lmrnn import runner
    >>> sweep = Sweep(("dense:n=64",), (0, 1), runner.RunOptions(battery="yang20", steps=100))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (pathlib.Path(tmp) / SWEEP_FILE).write_text(json.dumps(sweep.record()))
    ...     first_trained_run(tmp, "dense:n=64")       # seed 0 has not started
    """
    sweep = read_sweep(folder)
    if spec not in sweep.models:
        raise SweepError(f"Invalid value for argument `spec`: expected one of the sweep's models "
                         f"{list(sweep.models)}. Received: spec={spec!r}")
    for seed in sorted(sweep.seeds):
        name = run_name(spec, seed)
        state = status(folder, name)
        if state == "complete":
            return name
        if state != "diverged":
            return None
    return None


def _step(folder, name):
    return folders.RunFolder(pathlib.Path(folder) / name).step() or 0


def worker_threads(jobs):
    """The cores each of `jobs` local workers gets (at least one).

    Args:
        jobs: the number of workers running at a time.

    Example:

    >>> import os
    >>> worker_threads(1) == (os.cpu_count() or 1), worker_threads(100_000)
    (True, 1)
    """
    return max(1, (os.cpu_count() or 1) // jobs)


def worker_env(backend, threads):
    """Environment of a worker process: the backend and its share of the cores.

    A worker with one core runs JAX's CPU matrix products single-threaded
    (`XLA_FLAGS`, recorded in the run's config.json as `numerics_env`); the
    same run started with that environment gives the same bits.

    Args:
        backend: the Keras backend (`KERAS_BACKEND`) the worker runs.
        threads: the number of cores it may use (`worker_threads`).

    Returns:
        A new dict: this process's environment with those settings.

    Example:

    >>> env = worker_env("jax", 1)
    >>> env["KERAS_BACKEND"], env["OMP_NUM_THREADS"], "intra_op_parallelism_threads=1" in env["XLA_FLAGS"]
    ('jax', '1', True)
    """
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"))
    threads = str(threads)
    env.update(
        OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads,
        TF_NUM_INTRAOP_THREADS=threads, TF_NUM_INTEROP_THREADS="1",
    )
    # Several workers may share one GPU: JAX would give the first worker 75% of
    # its memory and TensorFlow all of it, so each takes memory as it needs it
    # (a value the user set is kept).
    env.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    env.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
    if threads == "1":
        flags = env.get("XLA_FLAGS", "")
        env["XLA_FLAGS"] = f"{flags} --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1".strip()
    return env


def parse_visible_devices(text):
    """The GPU ids of a `CUDA_VISIBLE_DEVICES` value, as CUDA reads it.

    CUDA stops at the first invalid entry, so "-1" (or "") hides every GPU.

    Args:
        text: the variable's value, e.g. "0,1" or "GPU-5d2c...,GPU-9a1f...".

    Returns:
        A list of the ids, as strings.

    Example:

    >>> parse_visible_devices("0, 2")
    ['0', '2']
    >>> parse_visible_devices("1,-1,3")
    ['1']
    >>> parse_visible_devices("")
    []
    """
    found = []
    for entry in str(text).split(","):
        entry = entry.strip()
        if not entry or entry.startswith("-"):
            break
        found.append(entry)
    return found


def visible_gpus():
    """The GPUs a sweep's local workers are spread over: those `CUDA_VISIBLE_DEVICES`
    names when it is set, else those `nvidia-smi -L` lists, else none (no Keras
    backend is asked: the sweep's own process never starts one).

    Returns:
        A list of GPU ids (strings); [] on a machine without NVIDIA GPUs.

    Example:

    >>> isinstance(visible_gpus(), list)
    True
    """
    if "CUDA_VISIBLE_DEVICES" in os.environ:
        return parse_visible_devices(os.environ["CUDA_VISIBLE_DEVICES"])
    try:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return []
    if listed.returncode != 0:
        return []
    return [str(i) for i, line in enumerate(l for l in listed.stdout.splitlines() if l.startswith("GPU "))]


class _DevicePool:
    """Hands each starting worker the GPU with the fewest workers on it (the
    first of them on a tie, so workers started together go round-robin)."""

    def __init__(self, gpus):
        self.users = {gpu: 0 for gpu in gpus}

    def take(self):
        if not self.users:
            return None
        gpu = min(self.users, key=self.users.get)
        self.users[gpu] += 1
        return gpu

    def give(self, gpu):
        if gpu is not None:
            self.users[gpu] -= 1


PARENT_ENV = "KERAS_LMRNN_SWEEP_PARENT"  # the pid of the process a worker belongs to (_stop_with_parent)


def worker_command(folder, name):
    """The command line of the worker process that trains one run of a sweep.

    Args:
        folder: the sweep folder.
        name: the run's folder name.

    Example:

    >>> worker_command("runs/sweep", "dense_n=64__seed0")[1:]
    ['-m', 'keras_lmrnn.sweeps', 'runs/sweep', 'dense_n=64__seed0']
    """
    return [sys.executable, "-m", "keras_lmrnn.sweeps", str(folder), name]


def _start_worker(folder, name, env):
    """Starts one worker process, its output appended to `<name>.log`, telling
    it which process it belongs to."""
    folder = pathlib.Path(folder)
    env = dict(env, **{PARENT_ENV: str(os.getpid())})
    with open(folder / f"{name}.log", "ab") as log:
        return subprocess.Popen(worker_command(folder, name), env=env, stdout=log, stderr=log)


def _run_worker(folder, name, env):
    """Runs one worker process to its end; returns its exit status."""
    process = _start_worker(folder, name, env)
    try:
        return process.wait()
    except BaseException:  # this task was interrupted: so is its worker
        process.terminate()
        process.wait()
        raise


def _print_now(text):
    print(text, flush=True)


class _Progress:
    """One line per run as it starts and ends, and an overall bar with ETA."""

    def __init__(self, sweep, folder, write, quiet=False):
        self.total = len(sweep.runs()) * sweep.options.steps
        self.folder, self.write, self.quiet = folder, write, quiet
        self.started = time.perf_counter()
        self.base = None
        self.tty = hasattr(sys.stderr, "isatty") and sys.stderr.isatty() and not quiet
        self.names = [name for name, _, _ in sweep.runs()]

    def done_steps(self):
        return sum(_step(self.folder, name) for name in self.names)

    def bar(self):
        done = self.done_steps()
        if self.base is None:
            self.base = done
        elapsed = time.perf_counter() - self.started
        rate = (done - self.base) / elapsed if elapsed > 0 else 0
        eta = (self.total - done) / rate if rate > 0 else None
        filled = int(30 * done / max(self.total, 1))
        eta_text = f"ETA {_duration(eta)}" if eta is not None else "ETA --"
        return f"[{'#' * filled}{'.' * (30 - filled)}] {done}/{self.total} steps, {eta_text}"

    def line(self, text):
        if self.tty:
            sys.stderr.write("\r\033[K")
        self.write(text)
        self.tick()

    def tick(self):
        if self.tty:
            sys.stderr.write("\r" + self.bar())
            sys.stderr.flush()

    def close(self):
        if self.tty:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _duration(seconds):
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _finished_line(folder, name, spec, seed, code, wall):
    run = pathlib.Path(folder) / name
    if code == DONE:
        summary = folders.RunFolder(run).read_summary()
        return f"done     {spec} seed {seed}: response accuracy {summary['response_accuracy']:.3f}, " \
               f"trial accuracy {summary['trial_accuracy']:.3f} (trained in {_duration(summary['wall_s'])})"
    if code == DIVERGED:
        return f"diverged {spec} seed {seed} (see {run / 'state.json'}; not scored)"
    log = pathlib.Path(folder) / f"{name}.log"
    last = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
    return f"failed   {spec} seed {seed}: {last[0] if last else f'exit status {code}'}"


def run_sweep(folder, models, seeds, options, jobs=None, use_ray=False, ray_address=None, retries=2,
              overwrite=False, write=None, quiet=False):
    """Runs every (model, seed) pair of a grid; returns {name: status}.

    Writes no report: `keras_lmrnn.sweep_report.write_report(folder)` does,
    after it (as `keras-lmrnn sweep` does).

    Args:
        folder: the sweep folder (made if missing; an existing one must hold
            the same sweep).
        models: model specs.
        seeds: run seeds.
        options: a `keras_lmrnn.runner.RunOptions` (its seed is ignored).
        jobs: runs at a time on this machine (default: the number of cores).
        use_ray: run the runs as Ray tasks instead, one CPU each.
        ray_address: "auto", "host:port" or None (RAY_ADDRESS, else a local Ray).
        retries: how often a run whose worker died is started again.
        overwrite: replace an existing sweep folder (one keras-lmrnn made).
        write: where the per-run lines go (default: printed and flushed at
            once, so a pipe or a log file sees each line as it happens).
        quiet: no progress bar.

    Raises:
        SweepError: a bad request, or one that differs from the folder's sweep.json.
        KeyboardInterrupt: after reporting the unfinished runs.

    Returns:
        {run name: "complete", "diverged", "started" or "missing"} of every
        run of the grid (see `status`).

    Example:

    >>> from keras_lmrnn import runner
    >>> options = runner.RunOptions(battery="yang20", steps=200, batch_size=16, seq_len=50, eval_every=50)
    >>> run_sweep("runs/sweep", ["dense:n=64"], [0, 0], options)       # refused before anything runs
    Traceback (most recent call last):
    ...
    keras_lmrnn.sweeps.SweepError: Invalid value for argument `seeds`: expected distinct integers >= 0. ...
    >>> run_sweep("runs/sweep", ["lmrnn:n=64,d=2", "dense:n=64"], [0, 1], options, jobs=2)  # doctest: +SKIP
    {'lmrnn_n=64_d=2__seed0': 'complete', 'dense_n=64__seed0': 'complete', ...}
    """
    if options.callbacks:
        raise SweepError(
            "options.callbacks cannot travel to the sweep's worker processes; train single runs with "
            "runner.run(..., RunOptions(callbacks=...)) or leave callbacks out"
        )
    sweep = Sweep(tuple(models), tuple(seeds), options)
    for spec in sweep.models:
        check_spec(spec, input_size=runner.input_size(options.battery))
    jobs = (os.cpu_count() or 1) if jobs is None else jobs
    if not isinstance(jobs, int) or jobs < 1:
        raise SweepError(f"jobs must be an integer >= 1, got {jobs!r}")
    write = _print_now if write is None else write
    folder = pathlib.Path(folder)
    exists = (folder / folders.MARKER).exists() and not overwrite
    with folders.open_folder(folder, "sweep", overwrite=overwrite, resume=exists) as out:
        requested = sweep.record()
        if folders.SweepFolder(out).record.exists():
            recorded = read_sweep(out).record()
            different = _difference(recorded, requested)
            if different:
                raise SweepError(f"{out} holds another sweep: {different}; use another --out, or --overwrite")
        else:
            folders.atomic_write_text(folders.SweepFolder(out).record, json.dumps(requested, indent=2) + "\n")
        backend = keras.backend.backend()
        # Training is deterministic: a diverged run would diverge again, so it is final too.
        before = {name: status(out, name) for name, _, _ in sweep.runs()}
        check_finished(out, sweep, [run for run in sweep.runs() if before[run[0]] in FINAL])
        todo = [(name, spec, seed) for name, spec, seed in sweep.runs() if before[name] not in FINAL]
        # The workers' logs are ours: an --overwrite may replace them, never a user's *.log.
        folders.record_files(out, [f"{name}.log" for name, _, _ in todo])
        # Only when something is left to train: reading every run's config.json is not free.
        recorded = trained_under(out, [name for name, _, _ in sweep.runs()]) if todo else {}
        other = {b: n for b, n in recorded.items() if b != backend}
        if other:
            found, example = next(iter(other.items()))
            raise SweepError(f"{out}'s runs were trained under KERAS_BACKEND={found} (e.g. {example}); continue the "
                             f"sweep under that backend (running: {backend}) so that its runs stay comparable")
        skipped = len(sweep.runs()) - len(todo)
        if skipped:
            diverged = sum(state == "diverged" for state in before.values())
            note = f" ({diverged} of them diverged; delete a run's folder to train it again)" if diverged else ""
            write(f"{skipped} of {len(sweep.runs())} runs already finished: skipped{note}")
        progress = _Progress(sweep, out, write, quiet)
        engine = _ray_engine if use_ray else _local_engine
        try:
            with _sigterm_as_interrupt():
                results = engine(out, todo, backend, jobs, retries, progress, ray_address)
        finally:
            progress.close()
        states = {name: status(out, name) for name, _, _ in sweep.runs()}
        unfinished = [name for name, state in states.items() if state not in FINAL]
        diverged = [name for name, state in states.items() if state == "diverged"]
        if overwrite and not results.get("interrupted") and not folders.has_result(out):
            # open_folder puts the old contents back when this raises
            raise SweepError(
                f"--overwrite: none of the {len(todo)} new runs reached a first checkpoint, so {out} keeps "
                "what it held before (put back); check that one run trains with `keras-lmrnn train` first"
            )
        if diverged:
            write(f"{len(diverged)} runs diverged (not scored): {_names(diverged)}")
        refused = [name for name in results.get("refused", []) if name in unfinished]
        if refused:
            write(f"{len(refused)} runs refused: {_names(refused)}; the reason is the last line of each run's log "
                  f"(e.g. {out / (refused[0] + '.log')}): the same command would be refused again, so change "
                  "the request or move those run folders away first")
        resumable = [name for name in unfinished if name not in refused]
        if resumable:
            write(f"{len(resumable)} runs unfinished: {_names(resumable)}; run the same command again to continue them")
        if results.get("interrupted"):
            raise KeyboardInterrupt
        return states


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _interrupt_on_sigterm():
    """From now on SIGTERM raises KeyboardInterrupt (in the main thread only);
    returns the handler it replaced."""
    if threading.current_thread() is threading.main_thread():
        return signal.signal(signal.SIGTERM, _interrupt)
    return None


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """While it lasts, SIGTERM (`kill PID`) stops the sweep as Ctrl-C does, workers included."""
    previous = _interrupt_on_sigterm()
    try:
        yield
    finally:
        if previous is not None:  # (None: a handler set outside Python, which cannot be put back)
            signal.signal(signal.SIGTERM, previous)


def _local_engine(folder, todo, backend, jobs, retries, progress, ray_address=None):
    env = worker_env(backend, worker_threads(jobs))
    gpus = _DevicePool(visible_gpus())  # several GPUs: each worker gets one (CUDA_VISIBLE_DEVICES)
    pending = collections.deque((name, spec, seed, 0) for name, spec, seed in todo)
    running, refused = {}, []
    try:
        while pending or running:
            while pending and len(running) < jobs:
                name, spec, seed, attempt = pending.popleft()
                gpu = gpus.take()
                # The line first: once a worker can be seen, its start has been reported.
                progress.line(f"start    {spec} seed {seed}" + (f" on GPU {gpu}" if gpu is not None else "")
                              + (f" (retry {attempt})" if attempt else ""))
                process = _start_worker(folder, name, env if gpu is None else dict(env, CUDA_VISIBLE_DEVICES=gpu))
                running[name] = (process, spec, seed, attempt, time.perf_counter(), gpu)
            time.sleep(0.5)
            for name, (process, spec, seed, attempt, began, gpu) in list(running.items()):
                code = process.poll()
                if code is None:
                    continue
                del running[name]
                gpus.give(gpu)
                if code not in (DONE, DIVERGED, REFUSED) and attempt < retries:
                    progress.line(f"worker of {spec} seed {seed} died (exit status {code}): resuming it")
                    pending.appendleft((name, spec, seed, attempt + 1))
                    continue
                if code == REFUSED:
                    refused.append(name)
                progress.line(_finished_line(folder, name, spec, seed, code, time.perf_counter() - began))
            progress.tick()
    except KeyboardInterrupt:
        for process, *_ in running.values():
            process.terminate()
        for process, *_ in running.values():
            process.wait()
        return {"interrupted": True}
    return {"refused": refused}


def _ray_engine(folder, todo, backend, jobs, retries, progress, ray_address=None):
    try:
        import ray
    except ImportError:
        raise SweepError('--ray needs Ray: pip install "keras-lmrnn[ray]"') from None

    class WorkerDied(RuntimeError):
        pass

    def one_run(folder, name, env):
        if "CUDA_VISIBLE_DEVICES" in os.environ:  # the GPU share Ray gave this task
            env = dict(env, CUDA_VISIBLE_DEVICES=os.environ["CUDA_VISIBLE_DEVICES"])
        code = _run_worker(folder, name, env)
        if code not in (DONE, DIVERGED, REFUSED):
            raise WorkerDied(f"worker of {name} exited with status {code}")
        return code

    address = ray_address or os.environ.get("RAY_ADDRESS") or None
    started_here = not ray.is_initialized()
    try:
        if started_here:
            if address is None:  # a local Ray for this sweep only
                ray.init(num_cpus=jobs, num_gpus=len(visible_gpus()), include_dashboard=False, log_to_driver=False,
                         configure_logging=False)
            else:
                ray.init(address=address, log_to_driver=False, configure_logging=False)
        # ray.init installs a SIGTERM handler of its own that aborts the sweep: ours again, up to
        # the end of the sweep (run_sweep's _sigterm_as_interrupt puts back what was there before).
        _interrupt_on_sigterm()
        return _ray_loop(ray, WorkerDied, one_run, folder, todo, backend, retries, progress, jobs)
    finally:
        if started_here and ray.is_initialized():
            ray.shutdown()


def ray_gpus_per_run(gpus, jobs):
    """The share of a GPU each Ray task asks for: the cluster's GPUs spread
    over `jobs` runs at a time, at most one each (0 without GPUs).

    Args:
        gpus: the GPUs Ray knows (`ray.cluster_resources()["GPU"]`).
        jobs: the runs meant to train at once.

    Example:

    >>> ray_gpus_per_run(1, 4), ray_gpus_per_run(4, 2), ray_gpus_per_run(0, 2)
    (0.25, 1.0, 0)
    """
    if not gpus:
        return 0
    return min(1.0, int(10000 * gpus / jobs) / 10000)  # Ray takes at most 4 decimals


def _ray_loop(ray, WorkerDied, one_run, folder, todo, backend, retries, progress, jobs=1):
    share = ray_gpus_per_run(ray.cluster_resources().get("GPU", 0), jobs)
    task = ray.remote(num_cpus=1, num_gpus=share, max_retries=retries, retry_exceptions=[WorkerDied])(one_run)
    if share:
        progress.line(f"each run asks Ray for {share:g} of a GPU")
    env = worker_env(backend, 1)
    refs, refused = {}, []
    for name, spec, seed in todo:
        refs[task.remote(str(folder), name, env)] = (name, spec, seed, time.perf_counter())
        progress.line(f"queued   {spec} seed {seed}")
    try:
        while refs:
            done, _ = ray.wait(list(refs), num_returns=1, timeout=1.0)
            for ref in done:
                name, spec, seed, began = refs.pop(ref)
                try:
                    code = ray.get(ref)
                except Exception:  # retries exhausted
                    code = -1
                if code == REFUSED:
                    refused.append(name)
                progress.line(_finished_line(folder, name, spec, seed, code, time.perf_counter() - began))
            progress.tick()
    except KeyboardInterrupt:
        for ref in refs:
            ray.cancel(ref, force=True)
        # A cancelled task's worker process stops by itself (_stop_with_parent): wait for it.
        busy = _wait_until_free(folder, [name for name, *_ in refs.values()])
        if busy:
            progress.line(f"still being written after 60 s (a worker that did not stop): {', '.join(busy)}")
        return {"interrupted": True}
    return {"refused": refused}


def _wait_until_free(folder, names, timeout=60.0):
    """Waits (at most `timeout` seconds in all) until no process writes these
    runs; returns the names of those still being written."""
    deadline = time.monotonic() + timeout
    busy = []
    for name in names:
        while True:
            try:
                folders.check_free(folder / name)
                break
            except folders.FolderBusyError:
                if time.monotonic() >= deadline:
                    busy.append(name)
                    break
                time.sleep(0.2)
            except (folders.RunFolderError, OSError):  # gone or unreadable: nobody writes it
                break
    return busy


def worker_main(folder, name):
    """A worker process: trains one run of the sweep in `folder`; exit status.

    Args:
        folder: the sweep folder (holding sweep.json).
        name: the run's folder name.

    Returns:
        `DONE` (0), `DIVERGED` (3) or `REFUSED` (2: the request cannot be
        run; the reason goes to stderr).

    Example:

    >>> import json, pathlib, tempfile
    >>> from keras_lmrnn import runner
    >>> sweep = Sweep(("lmrnn:n=64,d=2", "dense:n=64"), (0, 1), runner.RunOptions(battery="yang20", steps=100))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (pathlib.Path(tmp) / SWEEP_FILE).write_text(json.dumps(sweep.record()))
    ...     worker_main(tmp, "not_a_run") == REFUSED
    True
    """
    folder = pathlib.Path(folder)
    try:
        sweep = read_sweep(folder)
        match = [(spec, seed) for n, spec, seed in sweep.runs() if n == name]
        if not match:
            raise SweepError(f"{name} is not a run of the sweep in {folder}")
        spec, seed = match[0]
        options = sweep.run_options(seed)
        out = folder / name
        command = shlex.join(["keras-lmrnn", "train", "--model", spec, *_flags(options), "--out", str(out)])
        resume = folders.RunFolder(out).config.exists()
        runner.run(out, spec, options, resume=resume, command=command, part="sweep")
    except training.TrainingDiverged as error:
        print(error, file=sys.stderr)
        return DIVERGED
    except (SweepError, *runner.refusals()) as error:  # the same again would fail the same way: no retry
        print(error, file=sys.stderr)
        return REFUSED
    return DONE


def _flags(options):
    """The `keras-lmrnn train` flags of `options`."""
    flags = []
    for key, value in options.as_dict().items():
        flags += ["--" + ("lr" if key == "learning_rate" else key.replace("_", "-")), str(value)]
    return flags


def _stop_with_parent(interval=1.0):
    """Makes this worker stop (SIGTERM) once the process that started it is
    gone: a sweep killed outright, or a Ray task cancelled by force, must not
    leave a worker training unseen and holding its run's lock. The run
    resumes from its last checkpoint when the sweep is run again. The starter
    names itself in the environment (PARENT_ENV), so a worker whose starter
    died while it was still importing stops too."""
    named = os.environ.get(PARENT_ENV, "")
    parent = int(named) if named.isdigit() else os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(interval)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="stop-with-parent", daemon=True).start()


if __name__ == "__main__":
    from keras_lmrnn import _quiet_tf

    _stop_with_parent()
    _quiet_tf.install()  # TensorFlow's start-up lines stay out of the worker logs
    sys.exit(worker_main(sys.argv[1], sys.argv[2]))
