"""Draws the paper's Fig. 7a: performance at 10,000 steps against d at N = 400, 1225 and 2500.

    python tools/plot_fig7a.py

Reads the runs through `render_results.performance_vs_d_values(render_results.FIG7A)` (the
same numbers as the README's Fig. 7a table): per size, the mean response accuracy over the
84 Mod-Cog tasks at 10,000 steps of each seed that trained, for each LM-RNN d (d = 0: the
autapse pool) and for the dense RNN of that size. Draws each size's LM-RNNs as a line
(mean over seeds, error bar = standard error where there are two or more) and its dense RNN
as a dashed horizontal line of the same colour; a model with no trained run is left out.
Writes docs/paper_scale/fig7a.png (through a temporary file).
"""

import os
import pathlib

os.environ.setdefault("MPLBACKEND", "Agg")

import math  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402

import render_results  # noqa: E402  (tools/, this script's folder: the one reader of the runs)

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIGURE = ROOT / "docs" / "paper_scale" / "fig7a.png"


def _mean_and_error(values):
    """(mean, SE, n) as the table computes them (`sweep_report.mean_and_error`); a single seed's SE drawn as 0."""
    mean, error, n = render_results.sweep_report.mean_and_error(values)
    return mean, 0.0 if math.isnan(error) else error, n


def main():
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for n, by_spec in render_results.performance_vs_d_values(render_results.FIG7A).items():
        points = sorted((render_results._spec_d(spec), *_mean_and_error(values))
                        for spec, (values, _) in by_spec.items()
                        if values and render_results._spec_d(spec) is not None)
        color = None
        if points:
            ds, means, errors, counts = zip(*points)
            line = ax.errorbar(ds, means, yerr=errors, marker="o", capsize=3,
                               label=f"LM-RNN, N = {n} (seeds per point: {min(counts)}-{max(counts)})")
            color = line[0].get_color()
        dense = [values for spec, (values, _) in by_spec.items() if render_results._spec_d(spec) is None and values]
        if dense:
            mean, _, count = _mean_and_error(dense[0])
            ax.axhline(mean, ls="--", color=color, lw=1, label=f"dense RNN({n}) ({count} seeds)")
    ax.set_xlabel("locality radius d (0: autapse pool)")
    ax.set_ylabel("mean response accuracy at 10k steps (84 tasks)")
    ax.set_title("Mod-Cog 84, default protocol (paper Fig. 7a)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    tmp = FIGURE.with_name(f".{FIGURE.name}.tmp.png")
    fig.savefig(tmp, dpi=90)
    tmp.replace(FIGURE)
    print(f"wrote {FIGURE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
