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

import numpy as np


def rows_of(folder, at, metric):
    from keras_lmrnn.specs import ModelSpec
    from keras_lmrnn.sweep_report import collect

    sweep, found = collect(folder)
    kinds = {ModelSpec.parse(spec).kind: spec for spec in found}
    dense = kinds.get("dense")
    sparse = next((spec for kind, spec in kinds.items() if kind != "dense"), None)
    if dense is None or sparse is None or len(found) != 2:
        raise SystemExit(f"{folder}: expected one dense and one other model, found {list(found)}")
    row = {"setting": pathlib.Path(folder).name, "models": f"{sparse} vs {dense}",
           "protocol": sweep.options.protocol}
    for step in at:
        a = {e["seed"]: e["curves"][metric].get(step) for e in found[sparse] if e["status"] != "diverged"}
        b = {e["seed"]: e["curves"][metric].get(step) for e in found[dense] if e["status"] != "diverged"}
        paired = [s for s in sweep.seeds if a.get(s) is not None and b.get(s) is not None]
        row[f"lm@{step}"] = np.mean([a[s] for s in paired]) if paired else None
        row[f"dense@{step}"] = np.mean([b[s] for s in paired]) if paired else None
        row[f"diff@{step}"] = [round(a[s] - b[s], 3) for s in paired]
    row["diverged"] = sum(e["status"] == "diverged" for entries in found.values() for e in entries)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweeps", nargs="+", type=pathlib.Path)
    parser.add_argument("--at", default="1000,2000")
    parser.add_argument("--metric", default="response_accuracy",
                        choices=["response_accuracy", "trial_accuracy", "last_step_accuracy"])
    parser.add_argument("--csv", type=pathlib.Path)
    args = parser.parse_args()
    at = [int(s) for s in args.at.split(",")]
    rows = [rows_of(folder, at, args.metric) for folder in args.sweeps]

    def cell(value):
        return "-" if value is None else f"{value:.3f}"

    head = ["setting", *[f"LM / dense / LM-dense per seed @ {s}" for s in at], "diverged"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        cells = [f"{cell(row[f'lm@{s}'])} / {cell(row[f'dense@{s}'])} / "
                 f"{', '.join(f'{d:+.3f}' for d in row[f'diff@{s}']) or '-'}" for s in at]
        print(f"| {row['setting']} | " + " | ".join(cells) + f" | {row['diverged']} |")
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            for row in rows:
                writer.writerow({k: (";".join(map(str, v)) if isinstance(v, list) else v) for k, v in row.items()})


if __name__ == "__main__":
    main()
