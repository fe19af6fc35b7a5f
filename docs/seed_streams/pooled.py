"""Seeds 0-9 of the rerun (two sweeps: seeds 0-4 and 5-9) in one table.

Mean +- standard error over the seeds that trained, the diverged seeds
counted, and the paired difference from dense(400) on the seeds where dense
trained (runs of one seed saw the same batches). Reads the exported runs.

    python docs/seed_streams/pooled.py > docs/seed_streams/pooled.md
"""

import json
import pathlib

import numpy as np

from keras_lmrnn import training

HERE = pathlib.Path(__file__).parent
SWEEPS = [HERE / "rerun", HERE / "rerun_5-9"]
MODELS = ["lmrnn:n=400,d=6", "dense:n=400", "random:n=400,d=4"]
STEPS = [1000, 2000, 5000, 10000]
METRICS = [("response_accuracy", "response"), ("trial_accuracy", "trial")]


def runs():
    """{model: {seed: curve metrics or None (diverged)}}."""
    found = {model: {} for model in MODELS}
    for sweep in SWEEPS:
        for run in sorted(p for p in sweep.iterdir() if p.is_dir()):
            config = json.loads((run / "config.json").read_text())
            state = json.loads((run / "state.json").read_text())
            diverged = "diverged_at_step" in state
            found[config["model"]][config["seed"]] = None if diverged else training.read_curve_metrics(run)
    return found


def mean_se(values):
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return f"{values.mean():.3f} (n={len(values)})" if len(values) else "-"
    return f"{values.mean():.3f} ± {values.std(ddof=1) / np.sqrt(len(values)):.3f} (n={len(values)})"


def main():
    found = runs()
    for metric, label in METRICS:
        print(f"\n{label} accuracy, seeds 0-9:\n")
        print("| model | seeds trained | " + " | ".join(f"@ {s}" for s in STEPS) + " |")
        print("|---|---|" + "---|" * len(STEPS))
        for model in MODELS:
            trained = {s: c for s, c in found[model].items() if c is not None}
            diverged = len(found[model]) - len(trained)
            cells = [mean_se([c[metric][step] for c in trained.values()]) for step in STEPS]
            note = f" ({diverged} diverged)" if diverged else ""
            print(f"| `{model}` | {len(trained)}/{len(found[model])}{note} | " + " | ".join(cells) + " |")
        dense = {s: c for s, c in found["dense:n=400"].items() if c is not None}
        print(f"\n{label} accuracy, paired difference from `dense:n=400` on its {len(dense)} trained seeds "
              f"({', '.join(map(str, sorted(dense)))}):\n")
        print("| model | " + " | ".join(f"@ {s}" for s in STEPS) + " |")
        print("|---|" + "---|" * len(STEPS))
        for model in MODELS[::2]:
            cells = []
            for step in STEPS:
                diffs = [found[model][s][metric][step] - dense[s][metric][step] for s in sorted(dense)]
                ahead = sum(d > 0 for d in diffs)
                cells.append(f"{'+' if np.mean(diffs) >= 0 else ''}{mean_se(diffs)} ahead on {ahead}/{len(diffs)}")
            print(f"| `{model}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
