"""Clusters over training for every run of a sweep (paper Fig. 7b), with each k's stability.

    KERAS_BACKEND=jax python tools/clusters_over_training.py SWEEP --out DIR [--trials-per-task 32]

SWEEP is a `keras-lmrnn sweep` folder whose runs kept their weights over
training (`--keep-checkpoints`; docs/clusters_over_training/run.sh makes it).
For every finished run, each kept checkpoint's active units are clustered by
normalised task variance with the paper's ward clustering and the silhouette
choice of k (`keras_lmrnn.analysis.full.cluster_history`), and the partition's
stability is measured (split-half agreement, rotation control, edge of the
range): a k that fails any of them is "no clear k", never a number.

Writes DIR/clusters_over_training.csv (one row per run and checkpoint: model,
seed, step, k, clear, split-half ARI, silhouette, the rotation control's best
silhouette, the reasons a k is not clear) and DIR/clusters_over_training.png
(k against step per model: each seed's k, open where it is not clear, and the
median over seeds of the clear ones). Runs already in the CSV are skipped, so a
stopped call resumes; each run's rows are added by rewriting the CSV through a
temporary file.
"""

import argparse
import csv
import io
import os
import pathlib
import statistics
import sys

os.environ.setdefault("MPLBACKEND", "Agg")

COLUMNS = ["model", "seed", "step", "k", "clear", "split_half_ari", "silhouette", "control_silhouette", "why_not_clear"]


def read_rows(path):
    """The CSV's rows so far (none when it does not exist)."""
    return list(csv.DictReader(open(path))) if path.exists() else []


def write_rows(path, rows):
    from keras_lmrnn import folders

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    folders.atomic_write_text(path, buffer.getvalue())


def run_rows(run, spec, seed, battery, trials_per_task):
    """The CSV rows of one run: one per kept checkpoint that could be clustered."""
    from keras_lmrnn.analysis import full

    history, skipped = full.cluster_history(run, battery, trials_per_task, seed=0, stability=True,
                                            progress=lambda text: print(f"  {run.name}: {text}", flush=True))
    if skipped:
        print(f"  {run.name}: steps {skipped} have too few active units to cluster; left out")
    return [{
        "model": spec, "seed": seed, "step": point.step, "k": point.clusters.k, "clear": point.stability.clear,
        "split_half_ari": round(point.stability.agreement, 4), "silhouette": round(float(point.stability.silhouette), 4),
        "control_silhouette": ("" if point.stability.control_silhouette is None
                               else round(float(point.stability.control_silhouette), 4)),
        "why_not_clear": "; ".join(point.stability.reasons),
    } for point in history]


def _clear(row):
    """Whether a row's k is clear (a fresh row holds a bool, one read back from the CSV its text)."""
    return row["clear"] in (True, "True")


def plot(rows, path):
    """k against step per model: seeds as points (open: no clear k), the median of the clear ks as a line."""
    import matplotlib.pyplot as plt

    from keras_lmrnn import folders

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    models = list(dict.fromkeys(row["model"] for row in rows))
    for model, color in zip(models, plt.cm.viridis([i / max(1, len(models) - 1) for i in range(len(models))])):
        mine = [row for row in rows if row["model"] == model]
        steps = sorted({int(row["step"]) for row in mine})
        for row in mine:
            ax.plot(int(row["step"]), int(row["k"]), "o", color=color, ms=4, alpha=0.8,
                    markerfacecolor=color if _clear(row) else "white")
        clear_ks = {s: [int(r["k"]) for r in mine if int(r["step"]) == s and _clear(r)] for s in steps}
        medians = [(s, statistics.median(ks)) for s, ks in clear_ks.items() if ks]
        seeds = len({row["seed"] for row in mine})
        ax.plot([s for s, _ in medians], [m for _, m in medians], "-", color=color, label=f"{model} ({seeds} seeds)")
    ax.set_xlabel("training step")
    ax.set_ylabel("number of clusters (ward, silhouette)")
    ax.set_title("points: seeds (open: no clear k); line: median of the clear ks", fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    folders.atomic_write(path, lambda temp: fig.savefig(temp, dpi=90, format="png"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=pathlib.Path)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    parser.add_argument("--trials-per-task", type=int, default=32)
    args = parser.parse_args(argv)

    from keras_lmrnn import sweeps

    sweep = sweeps.read_sweep(args.sweep)
    args.out.mkdir(parents=True, exist_ok=True)
    table = args.out / "clusters_over_training.csv"
    rows = read_rows(table)
    done = {(row["model"], int(row["seed"])) for row in rows}
    for name, spec, seed in sweep.runs():
        if (spec, seed) in done:
            continue
        state = sweeps.status(args.sweep, name)
        if state == "diverged":  # final: the sweep will not train it again
            print(f"{name}: diverged (not scored); skipped")
            continue
        if state != "complete":
            print(f"{name}: not finished; skipped (run the sweep's command again first)")
            continue
        print(f"{name}: clustering its kept checkpoints", flush=True)
        rows += run_rows(args.sweep / name, spec, seed, sweep.options.battery, args.trials_per_task)
        write_rows(table, rows)
    if not rows:
        sys.exit(f"{args.sweep}: no finished run to cluster")
    plot(rows, args.out / "clusters_over_training.png")
    print(f"wrote {table} and {args.out / 'clusters_over_training.png'}")


if __name__ == "__main__":
    main()
