"""A Markdown table comparing finished training runs, e.g. an L1 sweep.

    python tools/sweep_table.py RUN_FOLDER ... [--threshold 1e-3] [--at 2000,5000]

For each run (a `keras-lmrnn train` output evaluated with `keras-lmrnn
evaluate RUN --csv RUN/eval.csv`): its model spec, the mean response accuracy
of its training curve at the `--at` steps, that of eval.csv, and its weight
counts above `--threshold`.
"""

import argparse
import csv
import pathlib

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=pathlib.Path)
    parser.add_argument("--threshold", type=float, default=1e-3)
    parser.add_argument("--at", default="2000,5000", help="training steps whose curve values to show")
    args = parser.parse_args()

    import keras

    from keras_lmrnn import folders, models, training

    steps = [int(s) for s in args.at.split(",")]
    rows = [
        f"| model | {' | '.join(f'curve@{s}' for s in steps)} | response acc. (eval.csv) | "
        f"non-zero (abs w > {args.threshold:g}) | non-zero recurrent |",
        "|---|" + "---|" * (len(steps) + 3),
    ]
    for run in args.runs:
        config = folders.RunFolder(run).read_config()
        curve = dict(training.read_curve(run))
        evaluated = np.mean([float(r["response_accuracy"]) for r in csv.DictReader(open(run / "eval.csv"))])
        counts = models.count_weights(keras.models.load_model(folders.RunFolder(run).checkpoint), args.threshold)
        at = " | ".join(f"{curve[s]:.3f}" if s in curve else "-" for s in steps)
        rows.append(
            f"| `{config['model']}` | {at} | {evaluated:.3f} | {counts['nonzero']} of {counts['total']} | "
            f"{counts['recurrent_nonzero']} |"
        )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
