"""Run folders (keras_lmrnn.folders): ownership, locks, atomic writes."""

import contextlib
import json
import os
import pathlib
import signal
import subprocess
import sys

import pytest

from keras_lmrnn import folders


def make_run(folder, files=("config.json", "checkpoint.keras"), part=None):
    with folders.open_folder(folder, "run", part=part) as out:
        for name in files:
            folders.atomic_write_text(out / name, name)
    return folder


def test_new_folder_is_marked_and_unlocked_after(tmp_path):
    folder = make_run(tmp_path / "a" / "run")
    assert folders.kind_of(folder) == "run"
    assert not folders.holds_lock(folder)
    assert folders.foreign_entries(folder) == []


def test_existing_run_is_refused_without_overwrite_or_resume(tmp_path):
    folder = make_run(tmp_path / "run")
    with pytest.raises(folders.RunFolderError, match="exists; pass --overwrite"):
        with folders.open_folder(folder, "run"):
            pass
    assert (folder / "checkpoint.keras").read_text() == "checkpoint.keras"


def test_overwrite_replaces_only_our_files(tmp_path):
    folder = make_run(tmp_path / "run")
    with folders.open_folder(folder, "run", overwrite=True) as out:
        assert sorted(p.name for p in out.iterdir()) == [folders.MARKER, folders.LOCK]


@pytest.mark.parametrize("intruder", ["notes.txt", "config.json.bak", "sub/file"])
def test_overwrite_refuses_a_run_holding_a_user_file(tmp_path, intruder):
    folder = make_run(tmp_path / "run")
    path = folder / intruder
    path.parent.mkdir(exist_ok=True)
    path.write_text("mine")
    with pytest.raises(folders.RunFolderError, match="did not write"):
        with folders.open_folder(folder, "run", overwrite=True):
            pass
    assert path.read_text() == "mine"
    assert (folder / "checkpoint.keras").exists()


def test_overwrite_refuses_a_symlink_to_a_user_file(tmp_path):
    folder = make_run(tmp_path / "run")
    (tmp_path / "precious.txt").write_text("mine")
    (folder / "curve.png").unlink(missing_ok=True)
    (folder / "curve.png").symlink_to(tmp_path / "precious.txt")
    with pytest.raises(folders.RunFolderError, match="did not write"):
        with folders.open_folder(folder, "run", overwrite=True):
            pass
    assert (tmp_path / "precious.txt").read_text() == "mine"


@pytest.mark.parametrize("kind", ["run", "comparison"])
def test_a_users_folder_is_never_touched(tmp_path, kind):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "data.csv").write_text("1,2")
    for options in ({"overwrite": True}, {"resume": True}, {}):
        with pytest.raises(folders.RunFolderError, match="not made by keras-lmrnn"):
            with folders.open_folder(folder, kind, **options):
                pass
    assert sorted(p.name for p in folder.iterdir()) == ["data.csv"]


def test_a_comparison_is_not_a_run(tmp_path):
    with folders.open_folder(tmp_path / "cmp", "comparison"):
        pass
    with pytest.raises(folders.RunFolderError, match="comparison folder, not a run folder"):
        with folders.open_folder(tmp_path / "cmp", "run", overwrite=True):
            pass


def test_comparison_overwrite_recurses_into_its_runs(tmp_path):
    with folders.open_folder(tmp_path / "cmp", "comparison") as out:
        make_run(out / "0_model", part="comparison")
        folders.atomic_write_text(out / "comparison.csv", "x")
    (tmp_path / "cmp" / "0_model" / "mine.txt").write_text("mine")
    with pytest.raises(folders.RunFolderError, match="mine.txt"):
        with folders.open_folder(tmp_path / "cmp", "comparison", overwrite=True):
            pass
    (tmp_path / "cmp" / "0_model" / "mine.txt").unlink()
    with folders.open_folder(tmp_path / "cmp", "comparison", overwrite=True) as out:
        assert not (out / "0_model").exists()


def test_a_failed_new_folder_is_removed_so_the_retry_is_not_blocked(tmp_path):
    with pytest.raises(RuntimeError):
        with folders.open_folder(tmp_path / "run", "run") as out:
            folders.atomic_write_text(out / "config.json", "{}")
            raise RuntimeError("bad")
    assert not (tmp_path / "run").exists()
    make_run(tmp_path / "run")


def test_a_failed_resume_keeps_the_folder(tmp_path):
    folder = make_run(tmp_path / "run")
    with pytest.raises(RuntimeError):
        with folders.open_folder(folder, "run", resume=True):
            raise RuntimeError("bad")
    assert (folder / "checkpoint.keras").exists()


@pytest.mark.parametrize("where", ["under_file", "read_only"])
def test_unusable_places_are_refused(tmp_path, where):
    if where == "under_file":
        (tmp_path / "file").write_text("x")
        target, words = tmp_path / "file" / "run", "is a file"
    else:
        if os.geteuid() == 0:  # root writes anywhere a mode allows; /proc refuses it
            target, words = "/proc/keras-lmrnn-test/run", "cannot make"
        else:
            (tmp_path / "ro").mkdir(mode=0o555)
            target, words = tmp_path / "ro" / "run", "not writable"
    with pytest.raises(folders.RunFolderError, match=words):
        with folders.open_folder(target, "run"):
            pass


HOLD = """
import sys, time
from keras_lmrnn import folders
with folders.lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path):
    folder = make_run(tmp_path / "run")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        for options in ({"overwrite": True}, {"resume": True}):
            with pytest.raises(folders.FolderBusyError, match=f"another process \\(pid {holder.pid}\\)"):
                with folders.open_folder(folder, "run", **options):
                    pass
        assert (folder / "checkpoint.keras").exists()
    finally:
        holder.kill()
        holder.wait()
    with folders.open_folder(folder, "run", resume=True):  # a dead holder's lock is gone
        pass


def test_lock_is_reentrant_within_a_process(tmp_path):
    folder = make_run(tmp_path / "run")
    with folders.lock(folder):
        with folders.open_folder(folder, "run", resume=True):
            assert folders.holds_lock(folder)
        assert folders.holds_lock(folder)
    assert not folders.holds_lock(folder)


def test_atomic_writes_get_normal_permissions(tmp_path):
    folders.atomic_write_text(tmp_path / "a.json", "{}")
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == folders.FILE_MODE
    assert folders.FILE_MODE == 0o666 & ~folders._umask()


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    folders.atomic_write_text(tmp_path / "a.json", "old")

    def broken(temp):
        open(temp, "w").write("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        folders.atomic_write(tmp_path / "a.json", broken)
    assert (tmp_path / "a.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


KILLED_WRITE = """
import os, signal, sys
from keras_lmrnn import folders
def write(temp):
    open(temp, "w").write("half")
    os.kill(os.getpid(), signal.SIGKILL)
folders.atomic_write(sys.argv[1], write)
"""


def test_a_killed_write_leaves_a_temp_that_the_next_write_removes(tmp_path):
    folders.atomic_write_text(tmp_path / "a.json", "old")
    done = subprocess.run([sys.executable, "-c", KILLED_WRITE, str(tmp_path / "a.json")])
    assert done.returncode == -signal.SIGKILL
    temps = list(tmp_path.glob(folders.TEMP_PREFIX + "*"))
    assert len(temps) == 1 and (tmp_path / "a.json").read_text() == "old"
    folders.atomic_write_text(tmp_path / "b.json", "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json"]


def test_marker_records_its_kind(tmp_path):
    make_run(tmp_path / "run")
    marker = json.loads((tmp_path / "run" / folders.MARKER).read_text())
    assert marker["kind"] == "run" and marker["made_by"] == "keras-lmrnn"


def test_a_failed_new_folder_keeps_a_file_the_user_put_in_it(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with folders.open_folder(tmp_path / "run", "run") as out:
            folders.atomic_write_text(out / "config.json", "{}")
            (out / "my_notes.txt").write_text("mine")
            raise KeyboardInterrupt
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["my_notes.txt"]


def test_a_failed_run_in_an_empty_folder_leaves_it_empty_and_usable(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(RuntimeError):
        with folders.open_folder(tmp_path / "empty", "run") as out:
            folders.atomic_write_text(out / "config.json", "{}")
            raise RuntimeError
    assert list((tmp_path / "empty").iterdir()) == []
    make_run(tmp_path / "empty")


def test_a_failed_new_folder_removes_the_parents_it_made(tmp_path):
    with pytest.raises(RuntimeError):
        with folders.open_folder(tmp_path / "deep" / "a" / "run", "run"):
            raise RuntimeError
    assert list(tmp_path.iterdir()) == []


def test_a_lock_file_that_is_a_link_is_refused_and_its_target_kept(tmp_path):
    folder = make_run(tmp_path / "run")
    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    (folder / folders.LOCK).unlink()
    (folder / folders.LOCK).symlink_to(victim)
    with pytest.raises(folders.RunFolderError, match="is a link"):
        with folders.open_folder(folder, "run", overwrite=True):
            pass
    assert victim.read_text() == "mine"


def test_a_folder_named_like_a_temp_file_is_not_ours(tmp_path):
    folder = make_run(tmp_path / "run")
    (folder / (folders.TEMP_PREFIX + "mydata")).mkdir()
    (folder / (folders.TEMP_PREFIX + "mydata") / "thesis.tex").write_text("mine")
    with pytest.raises(folders.RunFolderError, match="did not write"):
        with folders.open_folder(folder, "run", overwrite=True):
            pass
    assert (folder / (folders.TEMP_PREFIX + "mydata") / "thesis.tex").read_text() == "mine"


@pytest.mark.parametrize("kind", ["run", "comparison"])
def test_a_new_folder_inside_a_keras_lmrnn_folder_is_refused(tmp_path, kind):
    with folders.open_folder(tmp_path / "outer", kind):
        pass
    with pytest.raises(folders.RunFolderError, match="inside a keras-lmrnn"):
        with folders.open_folder(tmp_path / "outer" / "inner", "run"):
            pass
    assert not (tmp_path / "outer" / "inner").exists()


def test_recording_a_file_in_a_busy_folder_is_refused(tmp_path):
    folder = make_run(tmp_path / "run")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(folders.FolderBusyError):
            folders.check_free(folder)
        with pytest.raises(folders.FolderBusyError):
            folders.record_file(folder / "eval.csv")
    finally:
        holder.kill()
        holder.wait()


def contents(folder):
    """{relative path: text} of every file in `folder` but its lock file."""
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != folders.LOCK}


def leftovers(tmp_path):
    """Hidden folders of replaced contents left beside the run folders."""
    return sorted(p.name for p in tmp_path.iterdir() if folders.REPLACED in p.name)


@pytest.mark.parametrize("failure", [RuntimeError, KeyboardInterrupt])
def test_an_overwrite_that_fails_before_its_first_checkpoint_puts_the_old_run_back(tmp_path, failure):
    folder = make_run(tmp_path / "run", files=("config.json", "checkpoint.keras", "curve.csv"))
    before = contents(folder)
    with pytest.raises(failure):
        with folders.open_folder(folder, "run", overwrite=True) as out:
            assert sorted(p.name for p in out.iterdir()) == [folders.MARKER, folders.LOCK]  # the old run is aside
            assert len(leftovers(tmp_path)) == 1
            folders.atomic_write_text(out / "config.json", "new")
            raise failure()
    assert contents(folder) == before
    assert leftovers(tmp_path) == []


def test_an_overwrite_that_checkpoints_deletes_the_old_run(tmp_path):
    folder = make_run(tmp_path / "run", files=("config.json", "checkpoint.keras", "curve.csv"))
    before = contents(folder)
    with folders.open_folder(folder, "run", overwrite=True) as out:  # ends without a checkpoint: the old is back
        folders.atomic_write_text(out / "config.json", "new")
    assert contents(folder) == before and leftovers(tmp_path) == []
    with folders.open_folder(folder, "run", overwrite=True) as out:
        folders.atomic_write_text(out / "config.json", "new")
        folders.atomic_write_text(out / "checkpoint.keras", "new")
    assert contents(folder) == {folders.MARKER: (folder / folders.MARKER).read_text(), "config.json": "new",
                                "checkpoint.keras": "new"}
    with pytest.raises(RuntimeError):  # failing after its first checkpoint: the new run stands
        with folders.open_folder(folder, "run", overwrite=True) as out:
            folders.atomic_write_text(out / "checkpoint.keras", "new")
            raise RuntimeError()
    assert (folder / "checkpoint.keras").read_text() == "new" and not (folder / "config.json").exists()
    assert leftovers(tmp_path) == []


def test_an_overwrite_that_ends_in_a_result_to_keep_deletes_the_old_run(tmp_path):
    class Diverged(RuntimeError):
        keeps_folder = True

    folder = make_run(tmp_path / "run", files=("config.json", "checkpoint.keras"))
    with pytest.raises(Diverged):
        with folders.open_folder(folder, "run", overwrite=True) as out:
            folders.atomic_write_text(out / "state.json", "diverged")
            raise Diverged()
    assert (folder / "state.json").read_text() == "diverged" and not (folder / "checkpoint.keras").exists()
    assert leftovers(tmp_path) == []


def test_an_overwrite_that_cannot_keep_the_old_run_aside_is_refused(tmp_path, monkeypatch):
    folder = make_run(tmp_path / "run")
    before = contents(folder)

    def read_only(**kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(folders.tempfile, "mkdtemp", read_only)
    with pytest.raises(folders.RunFolderError, match="not writable"):
        with folders.open_folder(folder, "run", overwrite=True):
            pytest.fail("the body must not run")
    assert contents(folder) == before


def test_a_failed_comparison_overwrite_puts_every_old_run_back(tmp_path):
    with folders.open_folder(tmp_path / "cmp", "comparison") as out:
        make_run(out / "0_model", part="comparison")
        folders.atomic_write_text(out / "comparison.csv", "x")
    before = contents(tmp_path / "cmp")
    with pytest.raises(RuntimeError):
        with folders.open_folder(tmp_path / "cmp", "comparison", overwrite=True) as out:
            make_run(out / "0_other", files=("config.json",), part="comparison")
            raise RuntimeError()
    assert contents(tmp_path / "cmp") == before
    assert leftovers(tmp_path) == []


def test_losing_the_race_for_an_empty_folder_leaves_the_winners_files(tmp_path, monkeypatch):
    folder = tmp_path / "run"
    folder.mkdir()  # empty: both processes may adopt it; the other one locks it first

    @contextlib.contextmanager
    def taken(path):
        folders._write_marker(folder, "run")
        (folder / "config.json").write_text("the winner's")
        raise folders.FolderBusyError(f"{path} is being written by another process")
        yield  # pragma: no cover

    monkeypatch.setattr(folders, "lock", taken)
    with pytest.raises(folders.FolderBusyError):
        with folders.open_folder(folder, "run"):
            pytest.fail("the body must not run")
    assert (folder / "config.json").read_text() == "the winner's" and folders.kind_of(folder) == "run"


def test_cleanup_deletes_the_marker_last(tmp_path, monkeypatch):
    """A cleanup cut short (a second Ctrl-C) must leave a folder still marked as ours."""
    folder = make_run(tmp_path / "run", files=("config.json", "curve.csv", "summary.json"))
    deleted, unlink = [], folders.pathlib.Path.unlink

    def logged(path, *args, **kwargs):
        deleted.append(path.name)
        return unlink(path, *args, **kwargs)

    monkeypatch.setattr(folders.pathlib.Path, "unlink", logged)
    folders._remove_ours(folder)
    assert deleted[-1] == folders.MARKER and {"config.json", "curve.csv", "summary.json"} <= set(deleted)


# A process killed while it makes a run folder: the Nth file it writes is cut
# short (1: the marker, 2: the run's first file), as `kill -9` or a lost
# machine would leave it.
KILLED_MAKE = """
import os, signal, sys
from keras_lmrnn import folders
writes = [0]
real_write = folders.atomic_write
def atomic_write(path, write):
    writes[0] += 1
    if writes[0] == int(sys.argv[2]):
        def write(temp):
            open(temp, "w").write("half")
            os.kill(os.getpid(), signal.SIGKILL)
    real_write(path, write)
folders.atomic_write = atomic_write
with folders.open_folder(sys.argv[1], "run", part=sys.argv[3] or None) as out:
    folders.atomic_write_text(out / "config.json", "{}")
"""


@pytest.mark.parametrize("killed_at, left", [(1, [folders.LOCK]), (2, [folders.MARKER, folders.LOCK])])
@pytest.mark.parametrize("part", [None, "sweep"])
def test_a_folder_left_by_a_run_killed_as_it_began_can_be_used_again(tmp_path, killed_at, left, part):
    folder = tmp_path / "run"
    if part:
        folders._write_marker(tmp_path, "sweep")  # a sweep's run folder, as its worker makes it
    done = subprocess.run([sys.executable, "-c", KILLED_MAKE, str(folder), str(killed_at), part or ""])
    assert done.returncode == -signal.SIGKILL
    names = sorted(p.name for p in folder.iterdir())
    assert [n for n in names if not n.startswith(folders.TEMP_PREFIX)] == sorted(left)
    assert len(names) == len(left) + 1  # the cut-short temporary file
    make_run(folder, part=part)  # without --overwrite or --resume, as a sweep's worker retries it
    assert sorted(p.name for p in folder.iterdir()) == sorted([folders.MARKER, folders.LOCK, "config.json", "checkpoint.keras"])
    assert folders.kind_of(folder) == "run"


def _dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize("extra", ["user_file", "live_temp"])
def test_a_folder_with_more_than_a_killed_runs_leftovers_is_refused(tmp_path, extra):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / folders.LOCK).write_text("")
    (folder / f"{folders.TEMP_PREFIX}{_dead_pid()}-x-.json").write_text("half")
    if extra == "user_file":
        (folder / "notes.txt").write_text("mine")
    else:  # a temporary file of a process still running: not a leftover
        (folder / f"{folders.TEMP_PREFIX}{os.getppid()}-y-.json").write_text("being written")
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(folders.RunFolderError, match="not made by keras-lmrnn"):
        make_run(folder)
    assert sorted(p.name for p in folder.iterdir()) == before


def test_a_failed_run_is_cleaned_up_while_its_lock_is_held(tmp_path, monkeypatch):
    """Another process never finds the folder half cleaned and unlocked."""
    held = []
    remove_ours = folders._remove_ours

    def watched(folder):
        held.append(folders.holds_lock(folder))
        return remove_ours(folder)

    monkeypatch.setattr(folders, "_remove_ours", watched)
    with pytest.raises(RuntimeError):
        with folders.open_folder(tmp_path / "run", "run") as out:
            folders.atomic_write_text(out / "config.json", "{}")
            raise RuntimeError
    assert held == [True] and not (tmp_path / "run").exists()


# --- #29 item 4: locks without fcntl, durable atomic writes -------------------


class _FakeMsvcrt:
    """msvcrt.locking's behaviour, per file: one holder of byte 0 at a time."""

    LK_NBLCK, LK_UNLCK = 2, 0

    def __init__(self):
        self.held = set()

    def locking(self, fd, mode, nbytes):
        key = os.fstat(fd).st_ino
        if mode == self.LK_UNLCK:
            self.held.discard(key)
        elif key in self.held:
            raise OSError(13, "Permission denied")
        else:
            self.held.add(key)


def test_without_fcntl_a_windows_lock_keeps_one_writer(tmp_path, monkeypatch):
    fake = _FakeMsvcrt()
    monkeypatch.setattr(folders, "fcntl", None)
    monkeypatch.setattr(folders, "msvcrt", fake)
    folder = tmp_path / "run"
    folder.mkdir()
    with folders.lock(folder):
        assert fake.held
        folders._HELD.clear()  # as if another process asked: this one's handle is still open and locked
        try:
            with pytest.raises(folders.FolderBusyError, match="another process"):
                with folders.lock(folder):
                    pass
        finally:
            folders._HELD[folders._key(folder)] = [None, 1]
    assert not fake.held  # released on leaving
    with folders.lock(folder):
        pass


def test_without_any_lock_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setattr(folders, "fcntl", None)
    monkeypatch.setattr(folders, "msvcrt", None)
    with pytest.raises(folders.RunFolderError, match="no file lock"):
        with folders.open_folder(tmp_path / "run", "run"):
            pass
    assert not (tmp_path / "run" / "config.json").exists()


def test_atomic_write_syncs_the_file_before_it_takes_the_name(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    folders.atomic_write_text(tmp_path / "f.txt", "x")
    assert (tmp_path / "f.txt").read_text() == "x"
    assert events[:2] == ["fsync", "replace"]


def test_run_folder_names_the_files_and_reads_the_status(tmp_path):
    run = folders.RunFolder(tmp_path / "r")
    assert run.status() == "missing" and run.step() is None and not run.is_complete()
    run.path.mkdir()
    run.write_config({"steps": 20})
    assert run.status() == "started"
    run.write_state({"step": 10})
    assert run.step() == 10 and run.status() == "started"
    run.write_state({"step": 20})
    assert run.status() == "started"  # no summary yet: not finished
    run.write_summary({"response_accuracy": 0.5})
    assert run.status() == "complete" and run.is_complete() and not run.is_complete(steps=30)
    run.write_state({"step": 10, "stopped_early": {"step": 10, "by": ["EarlyStopping"]}})
    assert run.status() == "complete"  # a callback ended it: finished, shorter
    run.write_state({"step": 10, "diverged_at_step": 12})
    assert run.status() == "diverged" and run.diverged()
    run.state.write_text("[damaged")
    assert run.step() is None and run.status() == "started"
    for not_an_object in ("[1, 2]", "7", '"step"'):  # valid JSON, not a record: unreadable, never a crash
        run.state.write_text(not_an_object)
        assert run.step() is None and not run.diverged() and run.status() == "started"
        with pytest.raises(ValueError, match="not a JSON object"):
            run.read_state()
    run.config.write_text("[]")
    assert run.status() == "started" and not run.is_complete()
    assert sorted(p.name for p in run.path.iterdir()) == ["config.json", "state.json", "summary.json"]
    assert {run.CONFIG, run.STATE, run.CHECKPOINT, run.CURVE, run.SUMMARY} <= folders.FILES["run"]
    assert folders.folder_name("l1:n=400,l1=1e-4") == "l1_n=400_l1=1e-4"


def test_the_folders_small_files_are_files_their_kind_may_hold():
    # RunFolder/SweepFolder name the files an export commits; the ownership rules must allow each.
    for folder, kind in ((folders.RunFolder, "run"), (folders.SweepFolder, "sweep")):
        assert folders.MARKER in folder.SMALL_FILES
        assert set(folder.SMALL_FILES) - {folders.MARKER} <= folders.FILES[kind], kind
    assert folders.RunFolder.CHECKPOINT not in folders.RunFolder.SMALL_FILES  # weights are never committed
    sweep = folders.SweepFolder("s")
    assert sweep.run("dense_n=8__seed0").config == pathlib.Path("s/dense_n=8__seed0/config.json")
    assert (sweep.record.name, sweep.report.name) == ("sweep.json", "report.md")
