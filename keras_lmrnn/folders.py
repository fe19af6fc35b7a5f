"""Run and sweep folders: their files by name, and made, locked, replaced and written safely.

`RunFolder` and `SweepFolder` name the files of a run and of a sweep.

A run folder is a folder that keras-lmrnn made. It holds a marker file
(`.keras-lmrnn`, JSON naming its kind) and, while a process writes to it, a
lock on `.keras-lmrnn.lock`. The rules that keep a user's files safe:

- a folder without the marker is never written into, replaced or deleted;
- `overwrite` replaces a run folder only when every file in it is one that
  keras-lmrnn writes (a user's own file inside refuses the overwrite), and
  only under the folder's lock; the old contents are moved aside (into a
  hidden folder beside it, `.NAME.keras-lmrnn-replaced-*`) and deleted only
  once the new run has its first checkpoint (or a diverged run's record): a
  replacement that ends before that, failed or not, gets the old contents
  back;
- a second process that wants to write a locked folder is refused;
- every file is written to a temporary file and renamed into place
  (`atomic_write`), with the user's normal permissions; temporary files
  left by a killed process are removed by the next write to that folder.

Example:

>>> from keras_lmrnn import folders
>>> with folders.open_folder("runs/d4", kind="run") as folder:     # doctest: +SKIP
...     folders.atomic_write_text(folder / "config.json", "{}")
"""

import contextlib
import csv
import datetime
import errno
import fnmatch
import json
import os
import pathlib
import shutil
import tempfile
import warnings

import numpy as np

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None
try:
    import msvcrt  # Windows: byte-range locks
except ImportError:
    msvcrt = None

MARKER = ".keras-lmrnn"
LOCK = ".keras-lmrnn.lock"
TEMP_PREFIX = ".keras-lmrnn-tmp-"
REPLACED = ".keras-lmrnn-replaced-"  # infix of the folder that holds an overwritten folder's old contents

# What each kind of folder may hold (besides the marker, the lock and
# temporary files). A "comparison" folder also holds run folders.
FILES = {
    "run": {
        "config.json", "checkpoint.keras", "state.json", "curve.csv", "curve.png",
        "final_table.csv", "summary.json",  # RunFolder's files, and two figures/tables
    },
    "comparison": {"comparison.csv", "comparison.txt", "curves.png"},
    "sweep": {
        "sweep.json", "report.csv", "curves.csv", "report.md", "curves.png", "performance_vs_d.png",
        "curves_trial_accuracy.png", "performance_vs_d_trial_accuracy.png",
        "curves_last_step_accuracy.png", "performance_vs_d_last_step_accuracy.png",
    },
    "analysis": {
        "analysis.npz", "clusters.json", "feature_map_agglomerative.png", "feature_map_kmeans.png",
        "silhouette.png", "lesions.png", "ftv.png", "clusters_over_training.png",
    },
    "dynamics": {"fixed_points.npz", "fixed_points.json", "fixed_points.png", "eigenvalues.png"},
}
SUBFOLDERS = {"run": False, "comparison": True, "sweep": True, "analysis": False, "dynamics": False}
# Files named after a run folder of this kind beside them: a sweep's worker
# logs, `<run>.log` (listed in the marker too when the sweep starts a worker).
RUN_SUFFIXES = {"run": (), "comparison": (), "sweep": (".log",), "analysis": (), "dynamics": ()}
# Kinds whose contents are results only once a run has a checkpoint or a
# diverged run's record: an overwrite that ends without one puts the old back.
RUN_KINDS = ("run", "comparison", "sweep")
# Weights kept over training (`keep_checkpoints`): KEPT_FOLDER/step_000400.weights.h5.
KEPT_FOLDER = "checkpoints"
KEPT_PATTERN = "step_*.weights.h5"
# Plain subfolders and the file patterns they may hold.
PLAIN_FOLDERS = {"run": {KEPT_FOLDER: KEPT_PATTERN}, "comparison": {}, "sweep": {}, "analysis": {}, "dynamics": {}}
# A run folder written before markers existed: resumable, never deleted.
LEGACY_RUN = ("config.json", "state.json", "checkpoint.keras")


class RunFolderError(ValueError):
    """A folder cannot be used as asked; the message says why and what to do."""


class FolderBusyError(RunFolderError):
    """Another process holds the folder's lock."""


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()
FOLDER_MODE = 0o777 & ~_umask()  # what mkdir would give; mkdtemp's folders are private (0o700)


# --- atomic writes --------------------------------------------------------


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temps(folder):
    """Removes temporary files in `folder` left by processes that died."""
    folder = pathlib.Path(folder)
    try:
        entries = list(folder.glob(TEMP_PREFIX + "*"))
    except OSError:
        return
    for path in entries:
        if _is_stale_temp(path):
            with contextlib.suppress(OSError):
                path.unlink()


def _is_stale_temp(path):
    """Whether `path` is a temporary file of ours whose process died."""
    if not path.name.startswith(TEMP_PREFIX) or not path.is_file() or path.is_symlink():
        return False
    pid_text = path.name[len(TEMP_PREFIX) :].split("-", 1)[0]
    return pid_text.isdigit() and int(pid_text) != os.getpid() and not _pid_alive(int(pid_text))


def _only_leftovers(folder, keep=(LOCK,)):
    """Whether `folder` holds nothing but the plain files named in `keep` and
    temporary files of dead processes: what a process killed while it made
    the folder leaves behind, nothing worth keeping."""
    return all(
        (entry.name in keep and entry.is_file() and not entry.is_symlink()) or _is_stale_temp(entry)
        for entry in pathlib.Path(folder).iterdir()
    )


def atomic_write(path, write):
    """Calls `write(temp_path)`, then renames the finished file onto `path`.

    The temporary file lies next to `path` (so the rename is atomic), gets
    the user's normal permissions and is removed if `write` fails.
    """
    path = pathlib.Path(path)
    remove_stale_temps(path.parent)
    stem, dot, suffix = path.name.partition(".")  # keep "weights.h5": Keras checks the whole suffix
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f"{TEMP_PREFIX}{os.getpid()}-{stem}-", suffix=dot + suffix)
    os.close(fd)
    try:
        write(temp)
        os.chmod(temp, FILE_MODE)
        _sync(temp)  # on disk before it takes the name: a power cut leaves the old file or the new, never an empty one
        os.replace(temp, path)
        _sync_folder(path.parent)
    finally:
        if os.path.exists(temp):
            os.remove(temp)


def _sync(file):
    fd = os.open(file, os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(folder):
    """Makes a rename in `folder` durable (POSIX; Windows cannot open a folder)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_text(path, text):
    """Writes `text` to `path` atomically (see `atomic_write`)."""
    atomic_write(path, lambda temp: pathlib.Path(temp).write_text(text))


# --- locks ----------------------------------------------------------------

_HELD = {}  # resolved folder -> [open lock file, depth]


def _key(folder):
    return str(pathlib.Path(folder).resolve())


def holds_lock(folder):
    """Whether this process holds the lock of `folder`."""
    return _key(folder) in _HELD


@contextlib.contextmanager
def lock(folder):
    """Holds `folder`'s lock for the duration (re-entrant within a process).

    Raises `FolderBusyError` at once if another process holds it.
    """
    key = _key(folder)
    if key in _HELD:
        _HELD[key][1] += 1
        try:
            yield
        finally:
            _HELD[key][1] -= 1
        return
    path = pathlib.Path(folder) / LOCK
    try:  # never through a link: the lock file is ours, in the folder itself
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), FILE_MODE)
    except OSError as error:
        if path.is_symlink():
            raise RunFolderError(f"{path} is a link, not keras-lmrnn's lock file; remove it or choose another folder") from None
        raise RunFolderError(f"cannot lock {folder}: {error.strerror}") from None
    handle = os.fdopen(fd, "a+")
    locked = False
    try:
        if not _try_lock(handle):
            handle.seek(0)
            try:
                owner = handle.read().strip() or "unknown"
            except OSError:  # a byte-range lock (Windows) also keeps readers out
                owner = "unknown"
            raise FolderBusyError(
                f"{folder} is being written by another process (pid {owner}); "
                "wait for it to finish, stop it, or choose another output folder"
            )
        locked = True
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        _HELD[key] = [handle, 1]
        try:
            yield
        finally:
            del _HELD[key]
    finally:
        if locked:
            _unlock(handle)
        handle.close()  # closing releases an flock too


def _try_lock(handle):
    """An exclusive lock on the open lock file, without waiting: True when
    taken, False when another process holds it. `flock` where there is
    `fcntl` (Linux, macOS), a one-byte `msvcrt.locking` on Windows; with
    neither, one writer per folder cannot be guaranteed, so nothing is
    written (`RunFolderError`)."""
    if fcntl is not None:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            return False
        return True
    if msvcrt is not None:
        handle.seek(0)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    raise RunFolderError(
        "this platform offers no file lock (neither fcntl nor msvcrt), so keras-lmrnn cannot make sure "
        "one process at a time writes a folder; nothing was written"
    )


def _unlock(handle):
    if fcntl is None and msvcrt is not None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)


# --- a run folder's files ------------------------------------------------


def folder_name(text):
    """`text` (e.g. a model spec) as a folder name: characters other than
    letters, digits, "=", "." and "-" become "_".

    Example:

    >>> folder_name("lmrnn:n=400,d=4")
    'lmrnn_n=400_d=4'
    """
    return "".join(c if c.isalnum() or c in "=.-" else "_" for c in str(text))


class RunFolder:
    """The files of one training run's folder (`keras-lmrnn train --out`),
    by name: what it records and whether it finished.

    A run writes `config.json` (its record) when it starts, `checkpoint.keras`
    and `state.json` ({"step": S}, plus "diverged_at_step" or
    "stopped_early" where training ended so) at each checkpoint, `curve.csv`
    as it evaluates and `summary.json` when it finishes.

    Args:
        path: the folder.

    Example:

    >>> import tempfile
    >>> run = RunFolder(pathlib.Path(tempfile.mkdtemp()) / "d4")
    >>> run.checkpoint.name, run.status()
    ('checkpoint.keras', 'missing')
    """

    CONFIG = "config.json"
    STATE = "state.json"
    CHECKPOINT = "checkpoint.keras"
    CURVE = "curve.csv"
    SUMMARY = "summary.json"
    FINAL_TABLE = "final_table.csv"
    # curve.csv's columns: one row per (evaluation step, task).
    CURVE_FIELDS = ("step", "task", "response_accuracy", "trial_accuracy", "last_step_accuracy")
    # What a finished run's results are, without its weights: the files an
    # export copies to be committed (tools/export_sweep.py).
    SMALL_FILES = (CONFIG, STATE, SUMMARY, CURVE, FINAL_TABLE, MARKER)

    def __init__(self, path):
        self.path = pathlib.Path(path)

    def __repr__(self):
        return f"RunFolder({str(self.path)!r})"

    @property
    def final_table(self):
        """Path of final_table.csv, the per-task scores at the last evaluation."""
        return self.path / self.FINAL_TABLE

    @property
    def config(self):
        """Path of the run's record, config.json."""
        return self.path / self.CONFIG

    @property
    def state(self):
        """Path of state.json, the step of the last checkpoint."""
        return self.path / self.STATE

    @property
    def checkpoint(self):
        """Path of checkpoint.keras, the model and optimizer at that step."""
        return self.path / self.CHECKPOINT

    @property
    def curve(self):
        """Path of curve.csv, the learning curve."""
        return self.path / self.CURVE

    @property
    def summary(self):
        """Path of summary.json, written when the run finishes."""
        return self.path / self.SUMMARY

    def read_config(self):
        """The run's record (a dict); OSError or ValueError if unreadable."""
        return _read_record(self.config)

    def read_state(self):
        """The last checkpoint's state (a dict); OSError or ValueError if unreadable."""
        return _read_record(self.state)

    def read_summary(self):
        """The finished run's summary (a dict); OSError or ValueError if unreadable."""
        return _read_record(self.summary)

    def write_config(self, record):
        """Writes the run's record (atomically, indented JSON)."""
        atomic_write_text(self.config, json.dumps(record, indent=2))

    def write_state(self, state):
        """Writes the checkpoint's state (atomically)."""
        atomic_write_text(self.state, json.dumps(state))

    def write_summary(self, summary):
        """Writes the finished run's summary (atomically, indented JSON)."""
        atomic_write_text(self.summary, json.dumps(summary, indent=2))

    def kept_checkpoint(self, step):
        """Path of the weights kept at `step` (`keep_checkpoints`)."""
        return self.path / KEPT_FOLDER / KEPT_PATTERN.replace("*", f"{step:06d}")

    def kept_checkpoints(self):
        """[(step, path)] of the weights kept over training, in step order."""
        prefix, suffix = KEPT_PATTERN.split("*")
        found = sorted((self.path / KEPT_FOLDER).glob(KEPT_PATTERN))
        return [(int(p.name[len(prefix):-len(suffix)]), p) for p in found]

    def start_curve(self):
        """Writes an empty curve.csv (its header only), atomically."""
        atomic_write_text(self.curve, ",".join(self.CURVE_FIELDS) + "\r\n")  # as csv.writer ends rows

    def read_curve_metrics(self):
        """{metric: {step: mean over tasks}} for each accuracy column of
        curve.csv (a metric an older run did not record is left out of its
        steps); OSError or ValueError if unreadable."""
        by_step = {metric: {} for metric in self.CURVE_FIELDS[2:]}
        with open(self.curve, newline="") as f:
            for row in csv.DictReader(f):
                for metric, steps in by_step.items():
                    if row.get(metric) not in (None, ""):
                        steps.setdefault(int(row["step"]), []).append(float(row[metric]))
        return {metric: {s: float(np.mean(v)) for s, v in sorted(steps.items())} for metric, steps in by_step.items()}

    def write_curve_step(self, step, table):
        """Adds one evaluation's rows (`table`: a dict per task with the
        accuracy columns) to curve.csv, atomically. Rows of this step or a
        later one (an interrupted run's) are replaced, so each step appears
        once."""
        with open(self.curve, newline="") as f:
            kept = [r for r in csv.reader(f)][1:]
        width = len(self.CURVE_FIELDS)
        kept = [r + [""] * (width - len(r)) for r in kept if int(r[0]) < step]  # older runs: no last-step column
        rows = kept + [[step, *(r[f] for f in self.CURVE_FIELDS[1:])] for r in table]

        def write(temp):
            with open(temp, "w", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(self.CURVE_FIELDS)
                writer.writerows(rows)

        atomic_write(self.curve, write)

    def step(self):
        """The step of the last checkpoint, or None (no readable state)."""
        try:
            return int(self.read_state()["step"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def diverged(self):
        """Whether training stopped because the loss diverged."""
        try:
            return "diverged_at_step" in self.read_state()
        except (OSError, ValueError):
            return False

    def is_complete(self, steps=None):
        """Whether the run finished: its summary written at its last step
        (`steps`, default: its recorded steps), or at the checkpoint where a
        callback stopped it."""
        try:
            state, config = self.read_state(), self.read_config()
        except (OSError, ValueError):
            return False
        target = config.get("steps") if steps is None else steps
        if "diverged_at_step" in state or not self.summary.is_file():
            return False
        return state.get("step") == target or "stopped_early" in state  # a callback ended it: finished, shorter

    def status(self):
        """"complete", "diverged", "started" (a record, no end) or "missing"
        (as sweeps count their runs)."""
        if self.is_complete():
            return "complete"
        if self.diverged():
            return "diverged"
        return "started" if self.config.exists() else "missing"


class SweepFolder:
    """The files of a sweep's folder (`keras-lmrnn sweep --out`), by name: its
    record, its reports and the run folder of each (model, seed).

    A sweep writes `sweep.json` (models, seeds, options) when it starts, one run
    folder per run (`RunFolder`), and its report (`report.md`, `report.csv`,
    `curves.csv` and figures) when `keras-lmrnn report` or the sweep command
    writes it.

    Args:
        path: the folder.

    Example:

    >>> sweep = SweepFolder("runs/sweep")
    >>> sweep.record.name, sweep.run("dense_n=64__seed0").config.name
    ('sweep.json', 'config.json')
    """

    RECORD = "sweep.json"
    REPORT = "report.md"
    REPORT_CSV = "report.csv"
    CURVES_CSV = "curves.csv"
    # The sweep's own small files, committed with its runs' (tools/export_sweep.py).
    SMALL_FILES = (RECORD, MARKER, REPORT, REPORT_CSV, CURVES_CSV)

    def __init__(self, path):
        self.path = pathlib.Path(path)

    def __repr__(self):
        return f"SweepFolder({str(self.path)!r})"

    @property
    def record(self):
        """Path of sweep.json, what the sweep was asked to train."""
        return self.path / self.RECORD

    @property
    def report(self):
        """Path of report.md, the Markdown report."""
        return self.path / self.REPORT

    @property
    def report_csv(self):
        """Path of report.csv, the report's numbers."""
        return self.path / self.REPORT_CSV

    @property
    def curves_csv(self):
        """Path of curves.csv, every run's learning curve in one table."""
        return self.path / self.CURVES_CSV

    def run(self, name):
        """The `RunFolder` of one run, by its folder name (`sweeps.run_name`)."""
        return RunFolder(self.path / name)


def _read_record(path):
    """The JSON object in `path`; ValueError if it holds anything else."""
    record = json.loads(pathlib.Path(path).read_text())
    if not isinstance(record, dict):
        raise ValueError(f"{path} holds a {type(record).__name__}, not a JSON object")
    return record


# --- ownership ------------------------------------------------------------


def kind_of(folder):
    """The kind recorded in `folder`'s marker, or None if it has none."""
    path = pathlib.Path(folder) / MARKER
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())["kind"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def is_legacy_run(folder):
    """A run folder from before markers: config, state and checkpoint, no marker."""
    folder = pathlib.Path(folder)
    return kind_of(folder) is None and all((folder / name).is_file() for name in LEGACY_RUN)


def _extra_files(folder):
    """Other files keras-lmrnn wrote into a marked folder (see `record_file`)."""
    try:
        extra = json.loads((pathlib.Path(folder) / MARKER).read_text()).get("also_written", [])
    except (OSError, ValueError, AttributeError):
        return set()
    return {name for name in extra if isinstance(name, str)}


def record_file(path):
    """Records in its folder's marker that keras-lmrnn wrote `path`.

    For files a command writes into a run folder on request, such as
    `keras-lmrnn evaluate RUN --csv RUN/eval.csv`: `overwrite` may then
    replace them with the run. Does nothing outside a marked folder.
    """
    path = pathlib.Path(path)
    record_files(path.parent, [path.name])


def record_files(folder, names):
    """Records in `folder`'s marker that keras-lmrnn writes the files `names`
    (see `record_file`); one rewrite of the marker for all of them."""
    folder = pathlib.Path(folder)
    if kind_of(folder) is None:
        return
    with lock(folder):
        marker = json.loads((folder / MARKER).read_text())
        known = set(marker.get("also_written", []))
        if known.issuperset(names):
            return
        marker["also_written"] = sorted(known | set(names))
        atomic_write_text(folder / MARKER, json.dumps(marker, indent=2) + "\n")


def _is_run_file(folder, name, kind):
    """Whether `name` is a file named after a run folder of this kind in `folder` (a worker's log)."""
    for suffix in RUN_SUFFIXES[kind]:
        run = folder / name[: -len(suffix)] if name.endswith(suffix) else None
        if run is not None and run.is_dir() and not run.is_symlink() and part_of(run) == kind:
            return True
    return False


def has_result(folder):
    """Whether `folder`, or a run folder inside it, holds a checkpoint or a
    diverged run's record (a result an overwrite may replace the old with)."""
    folder = pathlib.Path(folder)
    subfolders = [sub for sub in folder.iterdir() if sub.is_dir() and not sub.is_symlink()]
    return any(run.checkpoint.exists() or run.diverged() for run in map(RunFolder, [folder, *subfolders]))


def check_free(folder):
    """Refuses (`FolderBusyError`) a marked folder another process is writing."""
    if kind_of(folder) is not None:
        with lock(folder):
            pass


def foreign_entries(folder):
    """Entries of a marked folder that keras-lmrnn did not write (recursive)."""
    folder = pathlib.Path(folder)
    kind = kind_of(folder)
    if kind not in FILES:
        return [folder]
    foreign = []
    ours = FILES[kind] | _extra_files(folder)
    for entry in sorted(folder.iterdir()):
        name = entry.name
        plain_file = entry.is_file() and not entry.is_symlink()
        if plain_file and (name in (MARKER, LOCK) or name.startswith(TEMP_PREFIX)):
            continue
        if plain_file and (name in ours or _is_run_file(folder, name, kind)):
            continue
        pattern = PLAIN_FOLDERS[kind].get(name)
        if pattern and entry.is_dir() and not entry.is_symlink():
            foreign += [p for p in sorted(entry.iterdir())
                        if not (p.is_file() and not p.is_symlink()
                                and (fnmatch.fnmatch(p.name, pattern) or p.name.startswith(TEMP_PREFIX)))]
            continue
        if SUBFOLDERS[kind] and entry.is_dir() and not entry.is_symlink() and part_of(entry) == kind:
            foreign += foreign_entries(entry)
            continue
        foreign.append(entry)
    return foreign


def part_of(folder):
    """The kind of folder ("comparison", "sweep") this run folder was made as
    a part of, or None."""
    try:
        return json.loads((pathlib.Path(folder) / MARKER).read_text()).get("part_of")
    except (OSError, ValueError, AttributeError):
        return None


def _write_marker(folder, kind, part=None):
    marker = {
        "kind": kind,
        "part_of": part,
        "made_by": "keras-lmrnn",
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    atomic_write_text(pathlib.Path(folder) / MARKER, json.dumps(marker, indent=2) + "\n")


def _move_aside(folder):
    """Moves everything in `folder` but its lock file into a new hidden folder
    beside it (same file system, so every move is a rename); returns that folder.
    Nothing is moved if any move fails."""
    real = pathlib.Path(folder).resolve()
    try:
        aside = pathlib.Path(tempfile.mkdtemp(dir=real.parent, prefix=f".{real.name}{REPLACED}"))
    except OSError as error:
        raise RunFolderError(
            f"--overwrite refused: the old contents of {folder} are kept in {real.parent} until the new run "
            f"has its first checkpoint, and that folder is not writable ({error.strerror}); choose another output folder"
        ) from None
    moved = []
    try:
        for entry in list(real.iterdir()):
            if entry.name != LOCK:
                os.rename(entry, aside / entry.name)
                moved.append(entry.name)
    except OSError as error:
        for name in reversed(moved):
            os.rename(aside / name, real / name)
        aside.rmdir()
        raise RunFolderError(f"--overwrite refused: cannot move the old contents of {folder} aside ({error.strerror})") from None
    return aside


def _restore(folder, aside):
    """Moves the old contents in `aside` back into `folder` (whose new files are gone)."""
    folder = pathlib.Path(folder)
    for entry in list(aside.iterdir()):
        if not (folder / entry.name).exists():
            os.rename(entry, folder / entry.name)
    if any(aside.iterdir()):  # a name taken meanwhile (a user's new file): keep both
        warnings.warn(f"{folder}: some of its old contents could not be put back; they are in {aside}", stacklevel=3)
    else:
        aside.rmdir()


def _remove_ours(folder):
    """Deletes what keras-lmrnn wrote in `folder` (except the lock file) and
    leaves everything else; returns whether only the lock file is left."""
    folder = pathlib.Path(folder)
    if kind_of(folder) is not None:
        foreign = set(foreign_entries(folder))
        # The marker goes last: a cleanup cut short leaves a folder still known as ours.
        for entry in sorted(folder.iterdir(), key=lambda e: e.name == MARKER):
            if entry.name == LOCK or entry in foreign:
                continue
            if entry.is_dir() and not entry.is_symlink():
                if not any(entry in path.parents for path in foreign):
                    shutil.rmtree(entry)
                elif kind_of(entry) is not None:
                    _remove_ours(entry)
                else:  # a plain folder of ours (checkpoints/) holding a user's file
                    for item in entry.iterdir():
                        if item not in foreign:
                            item.unlink()
            else:
                entry.unlink()
    return all(entry.name == LOCK for entry in folder.iterdir())


def check_parent_writable(folder):
    """Refuses a folder that cannot be made: under a file, or read-only."""
    folder = pathlib.Path(folder)
    ancestor = folder.parent
    while not ancestor.exists():
        if ancestor.is_symlink():
            raise RunFolderError(f"cannot make {folder}: {ancestor} is a broken link")
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise RunFolderError(f"cannot make {folder}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise RunFolderError(f"cannot make {folder}: {ancestor} is not writable; choose another place")


def check_usable(folder, kind="run", overwrite=False, resume=False, part=None):
    """The checks `open_folder` makes before touching anything, for a command
    to make before slow work: returns "new" (to be made), "empty" (an empty
    folder) or "existing"; raises `RunFolderError` otherwise."""
    if kind not in FILES:
        raise ValueError(f"Invalid value for argument `kind`: expected one of {list(FILES)}. Received: kind={kind!r}")
    if overwrite and resume:
        raise RunFolderError("choose either overwrite or resume, not both")
    folder = pathlib.Path(folder)
    if not str(folder).strip():
        raise RunFolderError("the output folder is empty: name one")
    parent_kind = kind_of(folder.absolute().parent)
    if parent_kind is not None and parent_kind != part:
        raise RunFolderError(
            f"{folder} would lie inside a keras-lmrnn {parent_kind} folder ({folder.absolute().parent}); "
            "choose an output folder outside it"
        )
    if not (folder.exists() or folder.is_symlink()):
        check_parent_writable(folder)
        return "new"
    if not folder.is_dir():
        raise RunFolderError(f"{folder} exists and is not a folder; choose another output folder")
    found = kind_of(folder)
    if resume and found is None and kind == "run" and is_legacy_run(folder):
        found = "run"  # adopted by open_folder, under the lock
    if found is None:
        if _only_leftovers(folder) and not resume:
            return "empty"  # nothing to lose (at most what a killed run left as it began)
        raise RunFolderError(
            f"{folder} was not made by keras-lmrnn (no {MARKER} marker); it is left "
            "untouched: choose another output folder"
            )
    if found != kind:
        raise RunFolderError(f"{folder} holds a keras-lmrnn {found} folder, not a {kind} folder; choose another output folder")
    if not (overwrite or resume) and not _only_leftovers(folder, keep=(MARKER, LOCK)):
        raise RunFolderError(
            f"output folder {folder} exists; pass --overwrite to replace it"
            + (", --resume to continue it," if kind == "run" else "")
            + " or choose another output folder"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise RunFolderError(f"{folder} is not writable; choose another output folder")
    return "existing"


@contextlib.contextmanager
def open_folder(folder, kind="run", overwrite=False, resume=False, part=None):
    """Makes, replaces or reopens a run folder and holds its lock meanwhile.

    Args:
        folder: the folder's path.
        kind: "run" (one training run), "comparison" or "sweep" (folders
            of runs).
        overwrite: replace an existing folder of this kind made by
            keras-lmrnn (refused if it holds anything else).
        resume: reopen an existing folder of this kind as it is.
        part: the kind of folder this one is made inside ("comparison" or
            "sweep"); a new folder inside another keras-lmrnn folder is
            refused otherwise.

    In a process that already holds the folder's lock (a command that
    opened it, then trains into it), it only yields the folder.

    Yields the folder as a `pathlib.Path`. If the body fails before a
    checkpoint is written in a folder this call made (or found empty), what
    it wrote is removed again (never anything else), so the corrected
    command is not blocked by it; unless the failure is a result to keep
    (an exception whose `keeps_folder` is true, as a diverged run's: its
    state.json records where it diverged).
    """
    folder = pathlib.Path(folder)
    if holds_lock(folder):  # this process made and checked it already: write on
        with lock(folder):
            yield folder
        return
    state = check_usable(folder, kind, overwrite, resume, part)
    made, adopted, made_parents, aside = False, state == "empty", [], None
    if state == "new":
        ancestor = folder.absolute().parent
        while not ancestor.exists():
            made_parents.append(ancestor)
            ancestor = ancestor.parent
        try:
            folder.mkdir(parents=True)
        except FileExistsError:
            raise RunFolderError(f"output folder {folder} was just made by another process; choose another") from None
        except OSError as error:
            raise RunFolderError(f"cannot make {folder}: {error.strerror}") from None
        made = True
    try:
        with lock(folder):  # a failure is cleaned up inside the lock, so no other process sees it half done
            try:
                if not made:
                    if overwrite:
                        foreign = foreign_entries(folder)
                        if foreign:
                            names = ", ".join(str(p) for p in foreign[:3]) + (" ..." if len(foreign) > 3 else "")
                            raise RunFolderError(
                                f"--overwrite refused: {folder} holds files keras-lmrnn did not write ({names}); "
                                "move them or choose another output folder"
                            )
                        aside = _move_aside(folder)
                    remove_stale_temps(folder)
                if kind_of(folder) is None:
                    _write_marker(folder, kind, part)
                yield folder
                if aside and kind in RUN_KINDS and not has_result(folder):
                    # the replacement ended without a first checkpoint: the old contents come back
                    _remove_ours(folder)
                    _restore(folder, aside)
                    aside = None
            except BaseException as error:
                checkpointed = has_result(folder)  # a checkpoint or a diverged run's record
                # A failure that is itself a result (a diverged run) keeps its record.
                undone = not checkpointed and not getattr(error, "keeps_folder", False)
                if (made or adopted or aside) and undone:
                    only_lock = _remove_ours(folder)
                    if aside:  # the replacement failed: the old contents come back
                        _restore(folder, aside)
                        aside = None
                    else:  # (still held: a process that opens the path now gets a new lock file)
                        with contextlib.suppress(OSError):
                            (folder / LOCK).unlink()
                    if made and only_lock:
                        for path in [folder, *made_parents]:  # what this call made, if empty
                            with contextlib.suppress(OSError):
                                path.rmdir()
                raise
    finally:
        if aside:  # the new run stands (finished, checkpointed or a result): the old contents go
            shutil.rmtree(aside, ignore_errors=True)
