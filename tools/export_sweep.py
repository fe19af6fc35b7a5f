"""Copies the small files of a sweep's finished runs, to commit them.

    python tools/export_sweep.py runs/answer/neurogym docs/answer/neurogym

Experiments longer than a session run in pieces: a sweep runs as far as the
session allows, its finished runs are exported here (everything but their
checkpoints: config.json, state.json, summary.json, curve.csv,
final_table.csv and the folder markers), committed, and copied back into a
run folder in the next session, where re-running the same `keras-lmrnn sweep`
command skips them and trains the rest. `keras-lmrnn report` works on an
export as on the sweep itself. Diverged runs are exported too (their record
says where they diverged; the report counts them, unscored). Unfinished runs
are left out (they restart from step 0 next time). DEST must not exist, or be an earlier export of the
same sweep that no process is writing (its runs are then added to; a run
already there is kept when its files are the same, and the export is refused
when they differ). Each run is copied into a hidden folder in DEST first and
renamed into place, so an interrupted export never leaves a run that looks
finished without all its files.
"""

import argparse
import json
import os
import pathlib
import shutil
import sys
import tempfile

from keras_lmrnn.folders import RunFolder, SweepFolder

RUN_FILES = RunFolder.SMALL_FILES
SWEEP_FILES = SweepFolder.SMALL_FILES


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=pathlib.Path)
    parser.add_argument("dest", type=pathlib.Path)
    args = parser.parse_args()

    from keras_lmrnn import folders
    from keras_lmrnn.sweeps import FINAL, read_sweep, status

    sweep = read_sweep(args.sweep)
    if args.dest.exists():
        try:
            same = read_sweep(args.dest).record() == sweep.record()
        except Exception:  # not a sweep export at all
            same = False
        if not same:
            sys.exit(f"{args.dest} exists and is not an export of the sweep in {args.sweep}; choose another folder")
        try:
            folders.check_free(args.dest)
        except folders.FolderBusyError as error:
            sys.exit(str(error))
    args.dest.mkdir(parents=True, exist_ok=True)
    for name in SWEEP_FILES:
        if (args.sweep / name).is_file():
            folders.atomic_write(args.dest / name, lambda temp, name=name: shutil.copyfile(args.sweep / name, temp))
    exported = kept = 0
    for name, _, _ in sweep.runs():
        if status(args.sweep, name) not in FINAL:
            continue
        source, target = args.sweep / name, args.dest / name
        files = [file for file in RUN_FILES if (source / file).is_file()]  # a diverged run has no summary.json
        if target.exists():
            if not same_files(source, target, files):
                sys.exit(f"{target} holds another run than {source} (their files differ); export into a new folder")
            kept += 1
            continue
        staging = pathlib.Path(tempfile.mkdtemp(dir=args.dest, prefix=f".{name}.export-"))
        try:
            for file in files:
                shutil.copyfile(source / file, staging / file)
            os.chmod(staging, folders.FOLDER_MODE)  # mkdtemp's folder is private; a run folder is not
            os.rename(staging, target)
        finally:
            if staging.exists():
                shutil.rmtree(staging)
        exported += 1
    summary = json.dumps({"exported_runs": exported, "already_there": kept, "of": len(sweep.runs())})
    print(f"{args.dest}: {summary}")


def same_files(a, b, files):
    """Whether folders `a` and `b` hold the same `files` (and `b` no other run file)."""
    others = [file for file in RUN_FILES if file not in files and (b / file).exists()]
    return not others and all((b / file).is_file() and (a / file).read_bytes() == (b / file).read_bytes()
                              for file in files)


if __name__ == "__main__":
    main()
