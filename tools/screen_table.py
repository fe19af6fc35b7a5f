"""The table of a protocol screen: LM-RNN against dense, one row per setting.

    python tools/screen_table.py runs/screen/lmrnn-v1 runs/screen/alpha1 ... --at 1000,2000 [--csv out.csv]

Each folder is a sweep of two models, an LM-RNN and a dense RNN (e.g. made by
docs/protocol_screen/run_screen.sh). For each step of `--at` the row shows the
LM-RNN's and the dense RNN's mean response accuracy over the seeds finished
there, and their difference (LM-RNN minus dense) per seed, paired by seed
(both saw the same batches); "-" where a run has not reached the step.
"""

import argparse
import csv
import pathlib


def rows_of(folder, at, metric):
    """The row of one screen sweep; the same as the docs' rendered screen tables."""
    from render_results import screen_row   # tools/ is on sys.path when this script runs

    return screen_row(pathlib.Path(folder).resolve(), at, metric)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweeps", nargs="+", type=pathlib.Path)
    parser.add_argument("--at", default="1000,2000")
    parser.add_argument("--metric", default="response_accuracy",
                        choices=["response_accuracy", "trial_accuracy", "last_step_accuracy"])
    parser.add_argument("--csv", type=pathlib.Path)
    args = parser.parse_args()
    at = [int(s) for s in args.at.split(",")]
    from render_results import screen   # tools/ is on sys.path when this script runs

    folders = [folder.resolve() for folder in args.sweeps]
    print(screen(folders, at, args.metric))
    rows = [rows_of(folder, at, args.metric) for folder in folders]
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            for row in rows:
                writer.writerow({k: (";".join(map(str, v)) if isinstance(v, list) else v) for k, v in row.items()})


if __name__ == "__main__":
    main()
