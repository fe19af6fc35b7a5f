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
same sweep (its runs are then added to; a run already there is replaced only
by the same finished run).
"""

import argparse
import json
import pathlib
import shutil
import sys

RUN_FILES = ("config.json", "state.json", "summary.json", "curve.csv", "final_table.csv", ".keras-lmrnn")
SWEEP_FILES = ("sweep.json", ".keras-lmrnn", "report.md", "report.csv", "curves.csv")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=pathlib.Path)
    parser.add_argument("dest", type=pathlib.Path)
    args = parser.parse_args()

    from keras_lmrnn import runs
    from keras_lmrnn.sweeps import FINAL, read_sweep, status

    sweep = read_sweep(args.sweep)
    if args.dest.exists():
        try:
            same = read_sweep(args.dest).record() == sweep.record()
        except Exception:  # not a sweep export at all
            same = False
        if not same:
            sys.exit(f"{args.dest} exists and is not an export of the sweep in {args.sweep}; choose another folder")
    args.dest.mkdir(parents=True, exist_ok=True)
    for name in SWEEP_FILES:
        if (args.sweep / name).is_file():
            runs.atomic_write(args.dest / name, lambda temp, name=name: shutil.copyfile(args.sweep / name, temp))
    exported = 0
    for name, _, _ in sweep.runs():
        if status(args.sweep, name) not in FINAL:
            continue
        target = args.dest / name
        target.mkdir(exist_ok=True)
        for file in RUN_FILES:  # a diverged run has no summary.json nor final_table.csv
            if (args.sweep / name / file).is_file():
                runs.atomic_write(target / file, lambda temp, file=file: shutil.copyfile(args.sweep / name / file, temp))
        exported += 1
    summary = json.dumps({"exported_runs": exported, "of": len(sweep.runs())})
    print(f"{args.dest}: {summary}")


if __name__ == "__main__":
    main()
