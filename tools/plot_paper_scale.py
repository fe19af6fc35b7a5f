"""Draws the N = 2500 learning curves of docs/paper_scale (the paper's Fig. 5a at Table 1's size).

    python tools/plot_paper_scale.py

Reads every docs/paper_scale/runs/<spec>__seed<k>/curve.csv (mean response
accuracy over the 84 tasks at each evaluation) and the runs of
docs/paper_scale/curves_from_table.csv (the curves of the first runs, whose files
were lost before they were committed: their per-checkpoint means as the README's
table gave them, 3 decimals), groups the runs by model spec and draws each
model's mean over its seeds, with a standard-error band where there are two or
more; diverged runs (no curve past step 0) are left out. Writes
docs/paper_scale/curves.png (through a temporary file).
"""

import collections
import os
import pathlib

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import render_results  # noqa: E402  (tools/, this script's folder: the one reader of the runs' curves)

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIGURE = ROOT / "docs" / "paper_scale" / "curves.png"


def curves():
    """{spec: [[(step, accuracy), ...] per seed]} of the runs that trained past step 0."""
    found = collections.defaultdict(list)
    for name, curve in sorted(render_results.paper_scale_runs().items()):
        if len(curve) > 1:
            found[name.split("__seed")[0]].append(list(curve))
    return found


def main():
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for spec, runs in curves().items():
        steps = [s for s, _ in runs[0]]
        values = np.array([[a for _, a in run] for run in runs if [s for s, _ in run] == steps])
        mean = values.mean(axis=0)
        line, = ax.plot(steps, mean, marker=".", label=f"{spec.replace('_n=', ' n=').replace('_d=', ', d=')} (n={len(values)})")
        if len(values) > 1:
            error = values.std(axis=0, ddof=1) / np.sqrt(len(values))
            ax.fill_between(steps, mean - error, mean + error, color=line.get_color(), alpha=0.2, lw=0)
    ax.set_xlabel("gradient steps")
    ax.set_ylabel("mean response accuracy (84 tasks)")
    ax.set_ylim(0, 1)
    ax.set_title("Mod-Cog 84, Table 1 models, default protocol; band = SE over seeds")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    tmp = FIGURE.with_name(f".{FIGURE.name}.tmp.png")
    fig.savefig(tmp, dpi=90)
    tmp.replace(FIGURE)
    print(f"wrote {FIGURE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
