"""The report of a sweep: mean and standard error over seeds.

For each model of a sweep (see `keras_lmrnn.sweeps`): its learning curve
averaged over seeds with standard-error bands (paper Fig. 5a), performance at
chosen steps against the locality radius d, one line per N (Figs. 5b, 7a;
models that differ only in d are grouped from their specs, autapse pools at
d = 0, dense networks as horizontal lines), a CSV and a Markdown table, and
each model's difference to a baseline (by default the sweep's first dense
network) paired by seed: runs of one seed saw the same batches, so the paired
difference is the sharper comparison. It works on a partial sweep: every
number says how many seeds it averages.
Diverged runs are counted and never scored.

Example:

>>> from keras_lmrnn import sweep_report
>>> rows = sweep_report.summarize("runs/sweep", at=[500, 2000])   # doctest: +SKIP
>>> sweep_report.write_report("runs/sweep")                       # doctest: +SKIP
"""

import csv
import io
import math
import pathlib

import numpy as np

from keras_lmrnn import folders, protocols, training
from keras_lmrnn.specs import ModelSpec
from keras_lmrnn.sweeps import brief, read_sweep, run_name, status

METRICS = training.CURVE_FIELDS[2:]  # response, trial and last-step accuracy


class UnreadableRun(ValueError):
    """A run's curve.csv cannot be read or lacks its last evaluation."""


def read_curves(run, last_step=None):
    """{metric: {step: mean over tasks}} from a run folder's curve.csv;
    `UnreadableRun` if the file is damaged (not UTF-8, a non-numeric cell,
    a missing column), or holds no row at `last_step` when given."""
    path = folders.RunFolder(run).curve
    if not path.exists():
        if last_step is not None:
            raise UnreadableRun("curve.csv is missing")
        return {metric: {} for metric in METRICS}
    try:
        curves = training.read_curve_metrics(run)
    except UnicodeDecodeError:
        raise UnreadableRun("curve.csv is not UTF-8 text") from None
    except (OSError, ValueError, KeyError, TypeError, csv.Error) as error:
        raise UnreadableRun(f"curve.csv is malformed ({type(error).__name__})") from None
    if last_step is not None and last_step not in curves["response_accuracy"]:
        raise UnreadableRun(f"curve.csv has no evaluation at step {last_step} (empty or truncated)")
    return curves


def collect(folder):
    """Every run of the sweep: {model: [{seed, status, curves, problem}, ...]},
    in grid order. A run whose files cannot be read has status "unreadable",
    empty curves (never scored) and the reason in `problem`."""
    folder = pathlib.Path(folder)
    sweep = read_sweep(folder)
    found = {}
    for spec in sweep.models:
        found[spec] = []
        for seed in sweep.seeds:
            name = run_name(spec, seed)
            state, problem = status(folder, name), None
            curves = {m: {} for m in METRICS}
            if state in ("complete", "started"):
                try:
                    curves = read_curves(folder / name, sweep.options.steps if state == "complete" else None)
                except UnreadableRun as error:
                    state, problem = "unreadable", str(error)
            found[spec].append({"seed": seed, "status": state, "curves": curves, "problem": problem})
    return sweep, found


def problems(found):
    """One line per unreadable run of `collect`'s result."""
    return [f"{run_name(spec, e['seed'])}: {e['problem']} (not scored)"
            for spec, entries in found.items() for e in entries if e["status"] == "unreadable"]


def mean_and_error(values):
    """(mean, standard error, n); the error is NaN below two values."""
    values = [v for v in values if v is not None and math.isfinite(v)]
    if not values:
        return math.nan, math.nan, 0
    n = len(values)
    error = float(np.std(values, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return float(np.mean(values)), error, n


def curve_statistics(entries, metric="response_accuracy"):
    """[(step, mean, standard error, n)] over the runs that reached each step."""
    steps = sorted({s for e in entries for s in e["curves"][metric]})
    return [(s, *mean_and_error([e["curves"][metric].get(s) for e in entries])) for s in steps]


def default_steps(sweep):
    """1k, 2k, 5k and 10k steps where the sweep has them, and its last step."""
    steps, every = sweep.options.steps, sweep.options.eval_every
    return [s for s in (1000, 2000, 5000, 10000) if s < steps and training.is_evaluation_step(s, steps, every)] + [steps]


def summarize(folder, at=None):
    """One row per model: seeds complete/diverged, mean and error at each step of `at`."""
    sweep, found = collect(folder)
    at = list(at or default_steps(sweep))
    rows = []
    for spec, entries in found.items():
        row = {
            "model": spec,
            "seeds_complete": sum(e["status"] == "complete" for e in entries),
            "seeds_diverged": sum(e["status"] == "diverged" for e in entries),
            "seeds_unreadable": sum(e["status"] == "unreadable" for e in entries),
            "seeds_planned": len(entries),
        }
        for metric in METRICS:
            for step in at:
                mean, error, n = mean_and_error([e["curves"][metric].get(step) for e in entries])
                row[f"{metric}@{step}"] = mean
                row[f"{metric}@{step}_se"] = error
                row[f"{metric}@{step}_n"] = n
        rows.append(row)
    return rows, at


def default_baseline(specs):
    """The first `dense` spec of `specs` (the reference of paired differences), or None."""
    return next((spec for spec in specs if ModelSpec.parse(spec).kind == "dense"), None)


def paired(values, reference):
    """(mean, standard error, n, ahead) of `values` minus `reference`
    ({seed: value}, None where a run has none) over the n seeds where both
    are finite, in seed order; `ahead` counts the seeds where `values` is higher.

    >>> paired({0: 0.7, 1: 0.6, 2: None}, {0: 0.5, 1: 0.65, 2: 0.4})[2:]
    (2, 1)
    """
    diffs = [values[s] - reference[s] for s in sorted(values)
             if values[s] is not None and reference.get(s) is not None and math.isfinite(values[s] - reference[s])]
    return (*mean_and_error(diffs), sum(d > 0 for d in diffs))


def sweep_model(models, spec):
    """The sweep's own text of the model `spec` names (equal by meaning: key
    order aside); ValueError naming the sweep's models if none is.

    >>> sweep_model(["lmrnn:n=64,d=2", "dense:n=64"], "lmrnn:d=2,n=64")
    'lmrnn:n=64,d=2'
    """
    wanted = ModelSpec.parse(spec)
    for model in models:
        if ModelSpec.parse(model) == wanted:
            return model
    raise ValueError(f"Invalid value for argument `baseline`: expected one of the sweep's models {list(models)}. "
                     f"Received: baseline={spec!r}")


def paired_differences(folder, baseline, at=None, metric="response_accuracy"):
    """Each other model minus `baseline` (a model of the sweep), seed by seed.

    Returns (rows, at): one row per model, {"model": spec, step: (mean, standard
    error, n, ahead)} over the n seeds where both runs reached the step; `ahead`
    counts the seeds on which the model scored higher than the baseline.

    >>> rows, at = paired_differences("runs/sweep", "dense:n=400")   # doctest: +SKIP
    """
    sweep, found = collect(folder)
    baseline = sweep_model(list(found), baseline)
    at = list(at or default_steps(sweep))
    reference = {e["seed"]: e["curves"][metric] for e in found[baseline]}
    rows = []
    for spec, entries in found.items():
        if spec == baseline:
            continue
        row = {"model": spec}
        for step in at:
            row[step] = paired({e["seed"]: e["curves"][metric].get(step) for e in entries},
                               {seed: curves.get(step) for seed, curves in reference.items()})
        rows.append(row)
    return rows, at


def paired_table(rows, at, baseline):
    """A Markdown table of `paired_differences` rows."""
    head = ["model minus " + f"`{baseline}`", *[f"@ {s}" for s in at]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = []
        for step in at:
            mean, error, n, ahead = row[step]
            if n == 0:
                cells.append("-")
            elif n == 1:
                cells.append(f"{mean:+.3f} (n=1)")
            else:
                cells.append(f"{mean:+.3f} ± {error:.3f} (ahead on {ahead}/{n})")
        lines.append("| " + " | ".join([f"`{row['model']}`", *cells]) + " |")
    return "\n".join(lines) + "\n"


def group_by_d(specs):
    """{(kind, n, rest): [(d, spec)]} for specs that differ only in d, and
    {(n, rest): spec} for dense networks (drawn as horizontal lines; a spec
    may add the protocol's keys alpha, init and linear_init to either; `rest`
    holds them as sorted (key, value) pairs, so two dense networks of one
    size under different settings stay two lines)."""
    groups, dense = {}, {}
    for spec in specs:
        parsed = ModelSpec.parse(spec)
        kind, kwargs = parsed.kind, parsed.kwargs
        if kind == "dense" and set(kwargs) <= {"n", *protocols.MODEL_KEYS}:
            n = kwargs.pop("n")
            dense[(n, tuple(sorted(kwargs.items())))] = spec
            continue
        if kind == "autapse":
            kind, kwargs["d"] = "lmrnn", 0
        if "d" not in kwargs:
            continue
        d = kwargs.pop("d")
        key = (kind, kwargs.pop("n"), tuple(sorted(kwargs.items())))
        groups.setdefault(key, []).append((d, spec))
    return {k: sorted(v) for k, v in groups.items()}, dense


def _settings_label(rest):
    """",alpha=1,init=identity" for the (key, value) pairs of `group_by_d`."""
    return "".join(f",{k}={v}" for k, v in rest)


def _legend_or_note(ax):
    """A legend, or, when no run has a finished evaluation yet, a note saying so."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "no evaluated run yet", ha="center", va="center", transform=ax.transAxes)


def plot_curves(folder, metric="response_accuracy"):
    """Mean learning curve of each model with standard-error bands (Fig. 5a)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    sweep, found = collect(folder)
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for spec, entries in found.items():
        stats = curve_statistics(entries, metric)
        if not stats:
            continue
        steps, means, errors, counts = map(np.array, zip(*stats))
        line, = ax.plot(steps, means, label=f"{spec} (n={max(counts)})")
        band = np.nan_to_num(errors)
        ax.fill_between(steps, means - band, means + band, color=line.get_color(), alpha=0.2, lw=0)
    ax.set_xlabel("gradient steps")
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_ylim(0, 1)
    ax.set_title(f"{sweep.options.battery}: mean over seeds, band = standard error")
    ax.grid(alpha=0.3)
    _legend_or_note(ax)
    fig.tight_layout()
    return fig


def plot_against_d(folder, step=None, metric="response_accuracy"):
    """Performance at `step` against d, one line per N (Figs. 5b, 7a)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    rows, at = summarize(folder, at=None if step is None else [step])
    step = at[-1] if step is None else step
    by_spec = {r["model"]: r for r in rows}
    groups, dense = group_by_d(list(by_spec))
    fig, ax = plt.subplots(figsize=(5.5, 4))
    colors = {}
    for (kind, n, rest), members in groups.items():
        ds = [d for d, _ in members]
        means = [by_spec[s][f"{metric}@{step}"] for _, s in members]
        errors = [np.nan_to_num(by_spec[s][f"{metric}@{step}_se"]) for _, s in members]
        extra = _settings_label(rest)
        bar = ax.errorbar(ds, means, yerr=errors, marker="o", capsize=3, label=f"{kind} N={n}{extra}")
        colors.setdefault(n, bar[0].get_color())
    for (n, rest), spec in dense.items():
        extra = _settings_label(rest)
        mean, error = by_spec[spec][f"{metric}@{step}"], np.nan_to_num(by_spec[spec][f"{metric}@{step}_se"])
        color = colors.get(n, "gray")
        ax.axhline(mean, color=color, ls="--", lw=1, label=f"dense N={n}{extra}")
        ax.axhspan(mean - error, mean + error, color=color, alpha=0.1, lw=0)
    ax.set_xlabel("locality radius d")
    ax.set_ylabel(f"{metric.replace('_', ' ')} at step {step}")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    _legend_or_note(ax)
    fig.tight_layout()
    return fig


def _cell(row, metric, step):
    mean, error, n = row[f"{metric}@{step}"], row[f"{metric}@{step}_se"], row[f"{metric}@{step}_n"]
    if n == 0:
        return "-"
    return f"{mean:.3f} ± {error:.3f} (n={n})" if n > 1 else f"{mean:.3f} (n=1)"


def markdown_table(rows, at, metric="response_accuracy"):
    """A Markdown table: one row per model, mean ± standard error (seeds) at each step."""
    head = ["model", "seeds done", *[f"{metric.split('_')[0]} @ {s}" for s in at]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        done = f"{row['seeds_complete']}/{row['seeds_planned']}"
        if row["seeds_diverged"]:
            done += f" ({row['seeds_diverged']} diverged)"
        if row.get("seeds_unreadable"):
            done += f" ({row['seeds_unreadable']} unreadable, not scored)"
        lines.append("| " + " | ".join([f"`{row['model']}`", done, *[_cell(row, metric, s) for s in at]]) + " |")
    return "\n".join(lines) + "\n"


def curves_csv(folder):
    """CSV text of every model's mean curve: model, metric, step, mean, se, n."""
    _, found = collect(folder)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["model", "metric", "step", "mean", "se", "n"])
    for spec, entries in found.items():
        for metric in METRICS:
            for step, mean, error, n in curve_statistics(entries, metric):
                writer.writerow([spec, metric, step, f"{mean:.6f}", "" if math.isnan(error) else f"{error:.6f}", n])
    return buffer.getvalue()


def read_curves_csv(path):
    """{model: [(step, mean, se, n)]} of the response accuracy in a curves.csv."""
    curves = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["metric"] == "response_accuracy":
                se = float(row["se"]) if row["se"] else math.nan
                curves.setdefault(row["model"], []).append((int(row["step"]), float(row["mean"]), se, int(row["n"])))
    return curves


def _settings(sweep):
    """The sweep's common options (sweep.json's) as `key=value` pairs."""
    return ", ".join(f"{key}={value}" for key, value in sweep.record()["options"].items())


def write_report(folder, at=None, baseline=None):
    """Writes report.csv, curves.csv, report.md, curves.png and
    performance_vs_d.png (response accuracy; the same figures suffixed with
    _trial_accuracy and _last_step_accuracy for the other metrics) into the
    sweep folder; returns the Markdown text. report.md ends with every model's
    paired difference to `baseline` (default: `default_baseline` of the
    sweep's models; none when the sweep has no dense network)."""
    folder = pathlib.Path(folder)
    with folders.lock(folder):  # not while a sweep writes into it
        return _write_report(folder, at, baseline)


def _write_report(folder, at, baseline):
    import matplotlib.pyplot as plt

    sweep = read_sweep(folder)
    baseline = baseline or default_baseline(sweep.models)
    paired = [paired_differences(folder, baseline, at, metric) for metric in METRICS] if baseline else []
    rows, at = summarize(folder, at)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    files = folders.SweepFolder(folder)
    folders.atomic_write_text(files.report_csv, buffer.getvalue())
    folders.atomic_write_text(files.curves_csv, curves_csv(folder))
    text = (
        f"# Sweep report: {sweep.options.battery}, {sweep.options.steps} steps, seeds {brief(sweep.seeds)}, "
        f"protocol {sweep.options.protocol}\n\n"
        f"Settings of every run (sweep.json): {_settings(sweep)}.\n\n"
        f"Mean ± standard error over seeds of the mean response accuracy over tasks "
        f"({sweep.options.trials_per_task} evaluation trials per task).\n\n"
        + markdown_table(rows, at)
        + "\nTrial accuracy (Yang et al. 2019):\n\n"
        + markdown_table(rows, at, "trial_accuracy")
        + "\nLast-step accuracy (the decision at each trial's last step, as neurogym's examples score):\n\n"
        + markdown_table(rows, at, "last_step_accuracy")
    )
    for metric, (differences, _) in zip(METRICS, paired):
        text += (f"\nPaired by seed (runs of one seed saw the same batches), {metric.replace('_', ' ')}: "
                 f"mean ± standard error of the difference, and on how many seeds the model is ahead:\n\n"
                 + paired_table(differences, at, baseline))
    unreadable = problems(collect(folder)[1])
    if unreadable:
        text += "\nRuns whose files could not be read (counted as unreadable, never scored):\n\n" + "".join(
            f"- {line}\n" for line in unreadable)
    folders.atomic_write_text(files.report, text)
    for metric in METRICS:  # response accuracy: curves.png, performance_vs_d.png; others suffixed
        suffix = "" if metric == "response_accuracy" else f"_{metric}"
        figures = ((f"curves{suffix}.png", plot_curves(folder, metric)),
                   (f"performance_vs_d{suffix}.png", plot_against_d(folder, at[-1], metric)))
        for name, fig in figures:
            folders.atomic_write(folder / name, lambda temp, fig=fig: fig.savefig(temp, dpi=100, format="png"))
            plt.close(fig)
    return text

