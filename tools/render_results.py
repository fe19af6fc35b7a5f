"""Rewrites the results tables of the README and the docs from the committed run files.

    python tools/render_results.py           # rewrite every block
    python tools/render_results.py --check   # rewrite nothing; exit 1 naming each block that differs

Each table sits between `<!-- results:NAME -->` and `<!-- /results:NAME -->` in its
file. `BLOCKS` says, for every block, which file holds it and how it is rendered from
which committed folder (a sweep export: each run's config.json, state.json and
curve.csv). Only those blocks change; each file is read right before it is written,
and written whole to a temporary file that then replaces it. The tables are rendered,
never edited by hand: tests/test_results_tables.py compares every block with this
tool's output, so a table and its files cannot drift apart.

Example: the README's headline table is

    Block("README.md", "grid-neurogym-indegree", grid, ANSWER / "neurogym_indegree",
          at=STEPS, models=[...])
"""

import argparse
import csv
import dataclasses
import decimal
import functools
import importlib.util
import math
import os
import pathlib
import re
import sys
import tempfile

from keras_lmrnn import runner, sweep_report, zoo

from keras_lmrnn.specs import ModelSpec, matched_dense_size

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _load_table_csv():
    """benchmarks/table_csv.py (the benchmarks' tables as CSV), loaded from its file."""
    spec = importlib.util.spec_from_file_location("table_csv", ROOT / "benchmarks" / "table_csv.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


table_csv = _load_table_csv()
ANSWER = pathlib.Path("docs/protocol_answer")
SCREEN = pathlib.Path("docs/protocol_screen")
STEPS = [1000, 2000, 5000, 10000]
METRIC = "response_accuracy"


# ---------------------------------------------------------------- labels


def label(spec, sheet=False):
    """A model's name in a results table, e.g. "LM-RNN d=6" or "dense(400)"."""
    spec = ModelSpec.parse(spec)
    n = spec["n"]
    if spec.kind == "lmrnn":
        side = math.isqrt(n)
        return f"LM-RNN {side}x{side}, d={spec['d']}" if sheet else f"LM-RNN d={spec['d']}"
    if spec.kind == "random":
        return f"random sparse (d={spec['d']}'s in-degree)"
    if spec.kind == "autapse":
        return "autapse pool"
    if spec.kind == "dense":
        return f"dense({n})"
    if spec.kind == "dense-matched":
        return f"dense, d={spec['d']}'s synapse count (N = {matched_dense_size(n, spec['d'])})"
    return f"L1 RNN({n}), lambda {spec['l1']:g}".replace("e-0", "e-")


def short_label(spec):
    """A model's name in a difference, e.g. "d=6" or "random(d=4)"."""
    spec = ModelSpec.parse(spec)
    if spec.kind == "lmrnn":
        return f"d={spec['d']}"
    if spec.kind == "random":
        return f"random(d={spec['d']})"
    return {"dense": "dense", "autapse": "autapse"}.get(spec.kind, label(spec))


def _ms(mean, error):
    return f"{mean:.3f}" if math.isnan(error) else f"{mean:.3f} ± {error:.3f}"


def _table(head, rows):
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(map(str, row)) + " |" for row in rows])


@functools.lru_cache(maxsize=None)
def _collect(folder):
    """`sweep_report.collect` of a folder, read once per process."""
    return sweep_report.collect(ROOT / folder)


def _folders(folders):
    return list(folders) if isinstance(folders, (list, tuple)) else [folders]


def _runs(folders):
    """{spec: {seed: curves, or None for a diverged run}} of the finished and diverged runs of
    one or more sweep folders (e.g. seeds 0-4 and 5-9 of one grid); a seed in two folders is refused."""
    found = {}
    for folder in _folders(folders):
        for spec, entries in _collect(folder)[1].items():
            for e in entries:
                if e["status"] not in ("complete", "diverged"):
                    continue
                if e["seed"] in found.setdefault(spec, {}):
                    raise ValueError(f"{spec} seed {e['seed']} is in two of the folders {folders}")
                found[spec][e["seed"]] = e["curves"] if e["status"] == "complete" else None
    return found


def _models(found, models):
    if models is None:
        return list(found)
    unknown = [m for m in models if m not in found]
    if unknown:
        raise ValueError(f"Invalid value for argument `models`: {unknown} are not models of the sweep; "
                         f"expected some of {list(found)}")
    return list(models)


def _trained(runs, metric, step):
    """{seed: value at `step`} of the runs that trained."""
    return {seed: c[metric][step] for seed, c in runs.items() if c is not None and step in c[metric]}


def _seeds(runs):
    """"5", or "4 + 1 diverged": how many seeds trained (are scored) and how many diverged."""
    trained = sum(c is not None for c in runs.values())
    diverged = len(runs) - trained
    return f"{trained} + {diverged} diverged" if diverged else str(trained)


def _mean(runs, metric, step):
    """(mean, SE, n) over the runs that trained."""
    return sweep_report.mean_and_error(list(_trained(runs, metric, step).values()))


def _differences(found, model, baseline, metric, step):
    """Model minus baseline on each seed where both trained, in seed order."""
    a, b = _trained(found[model], metric, step), _trained(found[baseline], metric, step)
    return [a[seed] - b[seed] for seed in sorted(a) if seed in b]


def _difference(found, model, baseline, metric, step):
    """(mean, SE, n, ahead) of model minus baseline over the seeds where both trained."""
    return sweep_report.paired(_trained(found[model], metric, step), _trained(found[baseline], metric, step))


def _signed(mean, error, n, ahead):
    return f"{mean:+.3f} ± {error:.3f} (ahead on {ahead} of {n})"


# ---------------------------------------------------------------- renderers


def grid(folders, at=STEPS, models=None, bold_best=False, metric=METRIC):
    """Mean ± SE over the seeds that trained, one row per model; "seeds" says how many
    trained and how many diverged (never scored). `bold_best` marks each column's best mean."""
    found = _runs(folders)
    models = _models(found, models)
    means = {(m, s): _mean(found[m], metric, s) for m in models for s in at}
    best = {s: max(means[m, s][0] for m in models) for s in at}
    body = []
    for m in models:
        cells = []
        for s in at:
            cell = _ms(*means[m, s][:2])
            cells.append(f"**{cell}**" if bold_best and means[m, s][0] == best[s] else cell)
        body.append([label(m), _seeds(found[m]), *cells])
    return _table(["model", "seeds", *[f"@ {s}" for s in at]], body)


def pairs_per_seed(folders, baseline, models, at=STEPS, metric=METRIC):
    """Each model minus `baseline`, one value per seed on which both trained (seed order)."""
    found = _runs(folders)
    body = []
    for m in _models(found, [baseline, *models])[1:]:
        cells = [", ".join(f"{d:+.3f}" for d in _differences(found, m, baseline, metric, s)) or "-" for s in at]
        body.append([f"{short_label(m)} - {short_label(baseline)}", *cells])
    return _table(["pair", *[f"@ {s}" for s in at]], body)


def seed_by_seed(folders, model, baseline, at=STEPS, metric=METRIC):
    """One row per seed: model / baseline / model minus baseline at each step."""
    found = _runs(folders)
    _models(found, [model, baseline])
    a = {s: _trained(found[model], metric, s) for s in at}
    b = {s: _trained(found[baseline], metric, s) for s in at}
    seeds = sorted(set.intersection(*(set(a[s]) & set(b[s]) for s in at)))
    body = [[seed, *[f"{a[s][seed]:.3f} / {b[s][seed]:.3f} / {a[s][seed] - b[s][seed]:+.3f}" for s in at]]
            for seed in seeds]
    return _table(["seed", *[f"@ {s}" for s in at]], body)


def paired_means(folders, baseline, models=None, at=STEPS, metric=METRIC):
    """Each model minus `baseline`: mean ± SE over the seeds where both trained, and on how many
    of them the model is ahead."""
    found = _runs(folders)
    models = [m for m in _models(found, models) if m != baseline]
    _models(found, [baseline])
    body = [[label(m), *[_signed(*_difference(found, m, baseline, metric, s)) for s in at]] for m in models]
    return _table(["model", *[f"@ {s}" for s in at]], body)


def side_by_side(pairs, at, names, metric=METRIC):
    """Two grids of the same models, side by side: `pairs` is [(label, (folders, spec), (folders, spec))],
    `names` the two grids' names; per grid the seeds that trained and the mean ± SE at each step of `at`."""
    head = ["model"]
    for which in names:
        head += [f"{which}: seeds", *[f"{which} @ {s}" for s in at]]
    body = []
    for name, *grids in pairs:
        row = [name]
        for folders, spec in grids:
            runs = _runs(folders)[spec]
            row += [_seeds(runs), *[_ms(*_mean(runs, metric, s)[:2]) for s in at]]
        body.append(row)
    return _table(head, body)


def paired_side_by_side(pairs, step, names, metric=METRIC):
    """Model minus baseline in two grids at one step: `pairs` is [(label, (folders, model, baseline), ...)],
    `names` the two grids' names."""
    body = [[name, *[_signed(*_difference(_runs(f), m, b, metric, step)) for f, m, b in grids]]
            for name, *grids in pairs]
    return _table(["pair", *names], body)


def one_seed_curves(folder, seed=0, every=1000):
    """One seed's value at every `every` steps, one row per model (its sheet shown)."""
    sweep, found = _collect(folder)
    steps = list(range(every, sweep.options.steps + 1, every))
    body = []
    for spec, entries in found.items():
        curve = next(e["curves"][METRIC] for e in entries if e["seed"] == seed)
        body.append([label(spec, sheet=True), *[f"{curve[s]:.3f}" if s in curve else "-" for s in steps]])
    return _table(["model", *[f"@ {s // 1000}k" for s in steps]], body)


def screen_row(folder, at, metric=METRIC):
    """One protocol-screen sweep (one LM-RNN, one dense RNN): per step the two means over the
    seeds where both reached it and the paired differences, and the number of diverged runs."""
    sweep, found = _collect(folder)
    kinds = {ModelSpec.parse(spec).kind: spec for spec in found}
    dense = kinds.get("dense")
    sparse = next((spec for kind, spec in kinds.items() if kind != "dense"), None)
    if dense is None or sparse is None or len(found) != 2:
        raise ValueError(f"{folder}: expected one dense and one other model, found {list(found)}")
    row = {"setting": pathlib.Path(folder).name, "models": f"{sparse} vs {dense}",
           "protocol": sweep.options.protocol}
    for step in at:
        a = {e["seed"]: e["curves"][metric].get(step) for e in found[sparse] if e["status"] != "diverged"}
        b = {e["seed"]: e["curves"][metric].get(step) for e in found[dense] if e["status"] != "diverged"}
        paired = [s for s in sweep.seeds if a.get(s) is not None and b.get(s) is not None]
        row[f"lm@{step}"] = sum(a[s] for s in paired) / len(paired) if paired else None
        row[f"dense@{step}"] = sum(b[s] for s in paired) / len(paired) if paired else None
        row[f"diff@{step}"] = [round(a[s] - b[s], 3) for s in paired]
    row["diverged"] = sum(e["status"] == "diverged" for entries in found.values() for e in entries)
    return row


def screen(folders, at, metric=METRIC):
    """The screen's table: LM / dense / LM-dense per seed at each step, one row per setting."""
    def cell(value):
        return "-" if value is None else f"{value:.3f}"

    with_diverged = len(at) > 1   # the single-step follow-up tables leave the column out
    body = []
    for folder in folders:
        row = screen_row(folder, at, metric)
        cells = [f"{cell(row[f'lm@{s}'])} / {cell(row[f'dense@{s}'])} / "
                 f"{', '.join(f'{d:+.3f}' for d in row[f'diff@{s}']) or '-'}" for s in at]
        body.append([row["setting"], *cells, *([row["diverged"]] if with_diverged else [])])
    head = ["setting", *[f"LM / dense / LM-dense per seed @ {s}" for s in at], *(["diverged"] if with_diverged else [])]
    return _table(head, body)


def export_counts(folders):
    """One row per exported sweep: its seeds, its finished runs of those planned, how many diverged."""
    body = []
    for folder in folders:
        sweep, found = _collect(folder)
        entries = [e for runs in found.values() for e in runs]
        finished = sum(e["status"] in ("complete", "diverged") for e in entries)
        diverged = sum(e["status"] == "diverged" for e in entries)
        body.append([f"[{folder.name}]({folder.name}/report.md)", _seed_list(sweep.seeds), f"{finished} of {len(entries)}",
                     str(diverged)])
    return _table(["folder", "seeds", "runs finished", "diverged"], body)


def sweep_report_table(folder, at):
    """The table `keras-lmrnn report FOLDER --at AT` prints (a sweep or its export)."""
    return sweep_report.markdown_table(*sweep_report.summarize(ROOT / folder, at)).rstrip("\n")


# ---------------------------------------------------------------- the mechanism probes

MECHANISM = pathlib.Path("docs/mechanism")
# benchmarks/mechanism.py trains with the run options' learning rate (Adam's, 1e-3) unless told.
PROBE_LR = runner.RunOptions().learning_rate
# The first probe file predates its update-0 row: W started at 0.5 I (the `neurogym` protocol).
NEUROGYM_START_NORM = 0.5


def _probe_rows(path):
    """The rows of a benchmarks/mechanism.py file, numbers as floats ("" as NaN)."""
    def number(text):
        return float(text) if text not in ("", None) else math.nan

    keep = ("model", "variant", "backend")
    with open(ROOT / path, newline="") as f:
        return [{k: (v if k in keep else number(v)) for k, v in row.items()} for row in csv.DictReader(f)]


def _probe_row(rows, model, update, variant="adam"):
    found = [r for r in rows if r["model"] == model and r["variant"] == variant and r["update"] == update]
    if len(found) != 1:
        raise ValueError(f"{len(found)} rows for {model} {variant} at update {update}")
    return found[0]


def _probe_label(spec):
    spec = ModelSpec.parse(spec)
    name = f"LM-RNN N={spec['n']}, d={spec['d']}" if spec.kind == "lmrnn" else f"dense N={spec['n']}"
    return name


def first_update(path, models):
    """The spectral norm of W after the first Adam update, against lr x fan-in."""
    rows = _probe_rows(path)
    body = []
    for model in models:
        row = _probe_row(rows, model, 1)
        increase = row["w_spectral_norm"] - NEUROGYM_START_NORM
        body.append([_probe_label(model), f"{row['mean_in_degree']:.0f}", f"{row['w_spectral_norm']:.4f}",
                     f"{increase:.4f}", f"{increase / (PROBE_LR * row['mean_in_degree']):.2f}"])
    return _table(["model", "fan-in", "after update 1", "increase", "increase / (lr x fan-in)"], body)


VARIANTS = {"adam": "Adam", "adam_fanin": "Adam, recurrent lr x 113 / fan-in", "sgd": "plain SGD, lr 1e-3"}


def _g(value, digits=3):
    if math.isnan(value):
        return "NaN"
    return f"{value:.1e}" if abs(value) >= 1e4 else f"{value:.{digits}f}"


def first_updates(path, entries, last=10):
    """Per model and variant: spectral norm after update 1 and `last`, the loss at `last`, and
    where it diverged (NaN loss) if it did."""
    rows = _probe_rows(path)
    body = []
    for model, variant in entries:
        mine = [r for r in rows if r["model"] == model and r["variant"] == variant]
        diverged = [r["diverged_at"] for r in mine if not math.isnan(r["diverged_at"])]
        at = {int(r["update"]): r for r in mine}
        end = at.get(last)
        norms = f"{_g(at[1]['w_spectral_norm'])} / {_g(end['w_spectral_norm']) if end else '-'}"
        outcome = f"diverged at update {int(diverged[0])}" if diverged else "finite"
        body.append([label(model), VARIANTS[variant], norms, _g(end["loss"]) if end else "-", outcome])
    return _table(["model", "variant", f"spectral norm after 1 / {last} updates", f"loss at update {last}",
                   "outcome"], body)


def final_by_variant(path, models, variants):
    """Response accuracy at the probe's last update, one column per variant."""
    rows = _probe_rows(path)
    body = []
    for model in models:
        cells = []
        for variant in variants:
            found = [r for r in rows if r["model"] == model and r["variant"] == variant]
            if len(found) != 1:
                raise ValueError(f"{len(found)} rows for {model} {variant} in {path}")
            cells.append(_g(found[0]["response_accuracy_at_end"]))
        body.append([label(model), *cells])
    return _table(["model", *(VARIANTS[v] for v in variants)], body)


def probe_states(entries):
    """Chosen rows of probe files: (file, model, update) each; loss, W's norm and radius, activity."""
    body = []
    for path, model, update in entries:
        row = _probe_row(_probe_rows(path), model, update)
        active = row.get("h_active_fraction", math.nan)
        body.append([label(model), update, "-" if math.isnan(row["loss"]) and update == 0 else _g(row["loss"]),
                     _g(row["w_spectral_norm"]), _g(row["w_spectral_radius"]), _g(row["h_mean"]),
                     "-" if math.isnan(active) else f"{active:.2f}"])
    return _table(["model", "update", "loss", "spectral norm of W", "spectral radius", "mean activity",
                   "units ever active"], body)


# ---------------------------------------------------------------- clusters over training (Fig. 7b)


def clusters_over_training(path):
    """k at every kept checkpoint, one row per run, from tools/clusters_over_training.py's CSV:
    a clear k in bold, a k that is not clear in parentheses; the last column counts the clear ones."""
    with open(ROOT / path, newline="") as f:
        rows = list(csv.DictReader(f))
    runs = list(dict.fromkeys((r["model"], int(r["seed"])) for r in rows))
    steps = sorted({int(r["step"]) for r in rows})
    body = []
    for model, seed in runs:
        mine = {int(r["step"]): r for r in rows if r["model"] == model and int(r["seed"]) == seed}
        cells = [("-" if s not in mine else f"**{mine[s]['k']}**" if mine[s]["clear"] == "True"
                  else f"({mine[s]['k']})") for s in steps]
        clear = sum(r["clear"] == "True" for r in mine.values())
        body.append([label(model), seed, *cells, f"{clear} of {len(mine)}"])
    return _table(["model", "seed", *(f"{s // 1000}k" if s else "0" for s in steps), "clear"], body)


# ---------------------------------------------------------------- the main job (keras-lmrnn compare)


def comparison(path):
    """A `keras-lmrnn compare` comparison.csv: each model's weights and its accuracy at each
    checkpoint named `perf@STEP`."""
    with open(ROOT / path, newline="") as f:
        rows = list(csv.DictReader(f))
    steps = [c for c in rows[0] if c.startswith("perf@")]
    body = [[f"{label(r['model'], sheet=True).replace('dense(', 'dense RNN(')} (`{r['model']}`)", r["total"],
             r["nonzero"], r["recurrent_nonzero"], *(f"{float(r[c]):.3f}" for c in steps)] for r in rows]
    return _table(["model", "total weights", "non-zero", "non-zero recurrent", *steps], body)


# ---------------------------------------------------------------- fixed points (tools/fixed_points_survey.py)


def fixed_point_survey(path, tasks=("go", "dm1"), suffix="_neurogym-indegree", prefix="modcog84_"):
    """Per preset: the fixed points found for each task (stable / unstable) and how many of the
    search's end points were dropped, from a tools/fixed_points_survey.py CSV."""
    with open(ROOT / path, newline="") as f:
        rows = list(csv.DictReader(f))
    presets = list(dict.fromkeys(r["preset"] for r in rows))
    body = []
    for preset in presets:
        found = {r["task"]: r for r in rows if r["preset"] == preset}
        cells = [f"{found[t]['points']} ({found[t]['stable']} / {found[t]['unstable']})" for t in tasks]
        dropped = " / ".join(found[t]["end_points_dropped"] for t in tasks)
        body.append([preset.removeprefix(prefix).removesuffix(suffix), *cells, dropped])
    total = rows[0]["end_points"]
    return _table([f"preset (`{prefix}..._{suffix.lstrip('_')}`)", *(f"{t}: points (stable / unstable)" for t in tasks),
                   f"end points dropped, {' / '.join(tasks)} (of {total})"], body)


# ---------------------------------------------------------------- paper scale (docs/paper_scale)

PAPER_SCALE = pathlib.Path("docs/paper_scale")


def paper_scale_runs():
    """{run name: [(step, mean response accuracy), ...]} of the N = 2500 runs: each
    docs/paper_scale/runs/<spec>__seed<k>/curve.csv, and the runs of curves_from_table.csv (the
    first runs, whose files were lost before they were committed: their values as the page's
    table gave them, 3 decimals). A run's own files win over the table."""
    from keras_lmrnn import training

    runs = ROOT / PAPER_SCALE / "runs"
    found = {run.name: list(training.read_curve(run)) for run in sorted(runs.iterdir())} if runs.is_dir() else {}
    with open(ROOT / PAPER_SCALE / "curves_from_table.csv", newline="") as f:
        for row in csv.DictReader(f):
            if not (runs / row["run"]).is_dir():
                found.setdefault(row["run"], []).append((int(row["step"]), float(row["response_accuracy"])))
    return found


def paper_scale_diverged():
    """{run name: step} of the N = 2500 full runs that diverged (full_runs_diverged.csv)."""
    return {row["run"]: int(row["diverged_at_step"]) for row in _read_csv(PAPER_SCALE / "full_runs_diverged.csv")}


def paper_scale_curves(models):
    """Mean response accuracy at every checkpoint, one row per run that trained (past step 0),
    models in the order given, seeds in order."""
    runs = paper_scale_runs()
    body, steps = [], None
    for model in models:
        name = _run_prefix(model)
        for run in sorted((r for r in runs if r.split("__seed")[0] == name), key=lambda r: int(r.split("__seed")[1])):
            curve = runs[run]
            if len(curve) < 2:
                continue
            steps = steps or [s for s, _ in curve]
            if [s for s, _ in curve] != steps:
                raise ValueError(f"{run} has other checkpoints than the runs above it")
            body.append([f"{label(model)}, seed {run.split('__seed')[1]}", *(f"{a:.3f}" for _, a in curve)])
    return _table(["step", *(f"{s // 1000}k" if s else "0" for s in steps)], body)


def paper_scale_run_table(paper, step=10000):
    """Every N = 2500 run of run_log.csv (spec, seed, device, backend, wall time): its
    accuracy at `step` from its curve (paper_scale_runs), or the step it diverged at
    (full_runs_diverged.csv), beside the paper's value (`paper`: {spec: text}). Runs
    of one spec that differ only in their seed share a row."""
    runs, diverged = paper_scale_runs(), paper_scale_diverged()
    body = []
    for row in _read_csv(PAPER_SCALE / "run_log.csv"):
        run = f"{_run_prefix(row['spec'])}__seed{row['seed']}"
        if run in diverged:
            outcome = f"diverged at step {diverged[run]} (not scored)"
        else:
            outcome = f"{dict(runs[run])[step]:.3f}"
        cells = [f"{label(row['spec']).replace('dense(', 'dense RNN(')} (`{row['spec']}`)", row["seed"],
                 row["device"], row["backend"], row["wall_time"], outcome, paper[row["spec"]]]
        previous = body[-1] if body else None
        if previous and previous[0] == cells[0] and previous[2:] == cells[2:]:
            previous[1] += f", {row['seed']}"
        else:
            body.append(cells)
    return _table(["model", "seed", "device", "backend, precision", "wall time", f"response acc. at {step // 1000}k",
                   "paper (Table 1)"], body)


def _spec_d(spec):
    """A spec's place on Fig. 7a's axis: its radius, 0 for autapses, None for dense."""
    spec = ModelSpec.parse(spec)
    if spec.kind not in ("lmrnn", "autapse", "dense"):
        raise ValueError(f"Fig. 7a places LM-RNNs, autapse pools and dense RNNs on its axis, not {str(spec)!r}")
    return {"autapse": 0, "dense": None}.get(spec.kind, spec.get("d"))


def _in_degree_fraction(n, d):
    """The fraction of the N units each unit of LM-RNN(n, d) receives input from."""
    from keras_lmrnn import masks

    return float(masks.locality_mask(masks.sheet_shape(n), d).sum()) / n ** 2


def performance_vs_d_values(sizes, step=10000):
    """{N: {spec: ([mean response accuracy at `step` of each seed that trained], diverged seeds)}}
    for Fig. 7a. `sizes`: [(N, source, specs)], source a sweep folder (or list of them) or
    "paper_scale" (paper_scale_runs and full_runs_diverged.csv); a spec with no runs yet gets ([], 0)."""
    out = {}
    for n, source, specs in sizes:
        out[n] = {}
        if source == "paper_scale":
            runs = paper_scale_runs()
            diverged = [run.split("__seed")[0] for run in paper_scale_diverged()]
            for spec in specs:
                prefix = _run_prefix(spec)
                values = [dict(c)[step] for r, c in sorted(runs.items())
                          if r.split("__seed")[0] == prefix and step in dict(c)]
                out[n][spec] = (values, diverged.count(prefix))
        else:
            found = _runs(source)
            for spec in specs:
                seeds = found.get(spec, {})
                values = [v for _, v in sorted(_trained(seeds, METRIC, step).items())]
                out[n][spec] = (values, sum(c is None for c in seeds.values()))
    return out


def performance_vs_d(sizes, step=10000):
    """Fig. 7a as a table: one row per N, mean ± SE (seeds) at `step` for each d and for the
    dense RNN of that N, and the best d (highest mean over the LM-RNNs with d >= 1) with the
    fraction of the sheet each unit reads at that d."""
    values = performance_vs_d_values(sizes, step)
    ds = sorted({_spec_d(spec) for n in values for spec in values[n] if _spec_d(spec) is not None})
    body = []
    for n, by_spec in values.items():
        cells, scored = {}, {}
        for spec, (seeds, diverged) in by_spec.items():
            d = _spec_d(spec)
            if d in cells:
                raise ValueError(f"two models at d={d} for N = {n}: {list(by_spec)}")
            mean, error, count = sweep_report.mean_and_error(seeds)
            note = f"{count} seed{'s' if count != 1 else ''}" + (f", {diverged} diverged" if diverged else "")
            if count:
                cells[d] = f"{_ms(mean, error)} ({note})" if count > 1 else f"{mean:.3f} ({note})"
                if d:
                    scored[d] = (mean, error if count > 1 else math.nan)
            else:
                cells[d] = f"not trained ({diverged} diverged)" if diverged else "not run"
        body.append([str(n), *(cells.get(d, "-") for d in ds), cells.get(None, "-"), _best_d(n, scored)])
    return _table(["N", *(f"d={d}" for d in ds), "dense(N)", "highest mean (inputs per unit)"], body)


def _best_d(n, scored):
    """The LM-RNN d >= 1 with the highest mean, the fraction of the N units each unit reads
    there, and how sure: whether it is the largest d run at N, and which d are within
    the two standard errors' sum of it (a single seed has no SE: not compared)."""
    if not scored:
        return "-"
    best = max(scored, key=lambda d: scored[d][0])
    mean, error = scored[best]
    notes = [f"{_in_degree_fraction(n, best):.1%} of N"]
    if best == max(scored):
        notes.append("the largest d run")
    close = [d for d, (m, e) in sorted(scored.items()) if d != best and mean - m <= error + e]
    if close:
        notes.append(f"d={', '.join(map(str, close))} within 1 SE + 1 SE")
    if math.isnan(error):
        notes.append("one seed")
    return f"d={best} ({'; '.join(notes)})"


def _seed_list(seeds):
    """"0-3" or "4, 6, 7, 9": sorted seeds, runs of three or more as a range."""
    seeds, parts, i = sorted(seeds), [], 0
    while i < len(seeds):
        j = i
        while j + 1 < len(seeds) and seeds[j + 1] == seeds[j] + 1:
            j += 1
        parts += [f"{seeds[i]}-{seeds[j]}"] if j - i >= 2 else [str(s) for s in seeds[i:j + 1]]
        i = j + 1
    return ", ".join(parts)


def paper_table1(rows, step=10000, census=None):
    """The paper's Table 1 beside ours: `rows` are (spec, paper's accuracy, paper's non-zero
    weights, paper's recurrent non-zero weights). Ours: mean ± SE at `step` over the runs that
    trained (paper_scale_runs), the seeds that diverged in full runs (full_runs_diverged.csv) and
    in the 40-step check (first_40_steps.csv), and the weights `models.count_weights` counts in
    the untrained model (an L1 model's depend on its trained weights: not counted). `census`:
    {spec: a CSV of seeds run for a few hundred steps (seed, diverged_at_step or "-")}."""
    from keras_lmrnn import models

    runs, diverged = paper_scale_runs(), paper_scale_diverged()
    with open(ROOT / PAPER_SCALE / "first_40_steps.csv", newline="") as f:
        check = [row for row in csv.DictReader(f)]
    width = runner.input_size("modcog84")
    body = []
    for spec, paper, paper_weights, paper_recurrent in rows:
        prefix = _run_prefix(spec)
        trained = {int(r.split("__seed")[1]): dict(c)[step] for r, c in runs.items()
                   if r.split("__seed")[0] == prefix and dict(c).get(step) is not None}
        full = {int(r.split("__seed")[1]): at for r, at in diverged.items() if r.split("__seed")[0] == prefix}
        early = sorted(int(r["seed"]) for r in check if r["model"] == spec and r["outcome"] == "diverged"
                       and int(r["seed"]) not in full)
        mean, error, n = sweep_report.mean_and_error([trained[s] for s in sorted(trained)])
        ours = _ms(mean, error) if n else ("not scored" if full else "not run")
        seeds = [f"{_seed_list(trained) or 'none'} trained"]
        for at in sorted(set(full.values())):
            those = [s for s in full if full[s] == at]
            seeds.append(f"full run{'s' if len(those) > 1 else ''} of seed{'s' if len(those) > 1 else ''} "
                         f"{_seed_list(those)} diverged at step {at}")
        if early:
            seeds.append(f"seed{'s' if len(early) > 1 else ''} {_seed_list(early)} "
                         f"diverge{'' if len(early) > 1 else 's'} in the 40-step check")
        if spec in (census or {}):
            with open(ROOT / census[spec], newline="") as f:
                lines = [line for line in f if not line.startswith("#")]
            finite = [int(r["seed"]) for r in csv.DictReader(lines) if r["diverged_at_step"] == "-"]
            steps = re.search(r"(\d+)_steps", str(census[spec])).group(1)
            seeds.append(f"seeds {_seed_list(finite)} stay finite for {steps} steps")
        if ModelSpec.parse(spec).kind == "l1":
            ours_weights = ours_recurrent = "-"
        else:
            counts = models.count_weights(models.build_model(spec, width))
            ours_weights, ours_recurrent = f"{counts['nonzero']:,}", f"{counts['recurrent_nonzero']:,}"
        body.append([label(spec), paper, ours, "; ".join(seeds), f"{paper_weights} / {ours_weights}",
                     f"{paper_recurrent} / {ours_recurrent}"])
    return _table(["model", "paper", "ours", "seeds", "non-zero weights, paper / ours", "recurrent, paper / ours"],
                  body)


def _run_prefix(spec):
    """The folder name of a spec's runs without its seed (`sweeps.run_name`)."""
    from keras_lmrnn import sweeps

    return sweeps.run_name(spec, 0).split("__seed")[0]


# ---------------------------------------------------------------- the zoo's clusters (presets' metadata)

PRESETS = pathlib.Path("zoo/presets")


def _cluster_cell(method):
    stability = method["stability"]
    best = stability["k"]
    edge = ", top edge" if stability["at_edge"] else ""  # in the top fifth of the k scored
    verdict = f"**k = {best}**" if stability["clear"] else "no clear k"
    return (f"{verdict} (best at {best}{edge}; ARI {stability['split_half_ari_mean']:.2f}; "
            f"silhouette {stability['silhouette']:.3f} / control {stability['control_silhouette']:.3f})")


def zoo_clusters(names):
    """Each preset's recorded clusters (metadata.json "clusters", written by
    tools/render_zoo_clusters.py): per method the verdict, its best k, split-half ARI and
    silhouette against the rotation control; the ARI between the two methods' partitions."""
    import json

    body = []
    for name in names:
        clusters = json.loads((ROOT / PRESETS / name / "metadata.json").read_text())["clusters"]
        body.append([name, clusters["active_units"], _cluster_cell(clusters["agglomerative"]),
                     _cluster_cell(clusters["kmeans"]), f"{clusters['method_agreement_ari']:.2f}"])
    return _table(["preset", "active units", "agglomerative", "k-means", "ARI between the methods"], body)


def _preset_clusters(name):
    """A preset's metadata (its recorded clusters under "clusters")."""
    return zoo.metadata(name)


def _trial_counts(path):
    """{(preset, trials per task, rotated, method): row} of a `render_zoo_clusters.py --no-write --csv`
    file; every row measured with the presets' own largest k, each key once."""
    found = {}
    for r in _read_csv(path):
        key = (r["preset"], int(r["trials_per_task"]), r["rotate"] == "1", r["method"])
        if key in found:
            raise ValueError(f"{path}: {key} is measured twice")
        if int(r["k_max"]) != _preset_clusters(r["preset"])["clusters"]["settings"]["k_max"]:
            raise ValueError(f"{path}: {key} was measured with k_max {r['k_max']}, not the presets' own")
        found[key] = r
    return found


def _ks(name, measured, method, trials):
    """"36 / 19 / 18": the chosen k at each trial count (the preset's own at its 32 trials)."""
    own = _preset_clusters(name)["clusters"]
    return " / ".join(str(own[method]["k"]) if t == own["settings"]["trials_per_task"]
                      else measured[(name, t, False, method)]["k"] for t in trials)


def _rotated(name, measured, trials):
    return measured[(name, trials, True, "agglomerative")]


def zoo_clusters_by_trials(names, path, trials=(32, 64, 128)):
    """Each preset's chosen k at several trial counts (its recorded clusters at 32, the others and
    the rotation control from `path`, a `render_zoo_clusters.py --no-write --csv` file), with the
    best silhouette at 32 trials."""
    measured = _trial_counts(path)
    body = []
    for name in names:
        meta = _preset_clusters(name)
        own = meta["clusters"]
        rotated = _rotated(name, measured, trials[0])
        body.append([name, "-" if meta["d"] is None else str(meta["d"]), str(own["active_units"]),
                     _ks(name, measured, "agglomerative", trials), f"{own['agglomerative']['best_silhouette']:.3f}",
                     _ks(name, measured, "kmeans", trials), f"{own['kmeans']['best_silhouette']:.3f}",
                     f"{rotated['k']}, {rotated['best_silhouette']}"])
    return _table(["preset", "d", "active units", "k agglomerative", "silhouette", "k k-means", "silhouette",
                   "rotated control: k agglomerative, silhouette"], body)


def final_k_against_d(rows, path, trials=(32, 64, 128)):
    """Fig. 7b read at the end of training: `rows` [(label, preset)], each preset's card accuracy,
    chosen k at each trial count, best agglomerative silhouette at 32 trials and the rotation
    control's."""
    measured = _trial_counts(path)
    body = []
    for text, name in rows:
        meta = _preset_clusters(name)
        body.append([text, f"{meta['metrics']['response_accuracy']:.3f}", _ks(name, measured, "agglomerative", trials),
                     _ks(name, measured, "kmeans", trials),
                     f"{meta['clusters']['agglomerative']['best_silhouette']:.3f}",
                     _rotated(name, measured, trials[0])["best_silhouette"]])
    return _table(["20x20 model", "response accuracy (card)",
                   f"k agglomerative ({' / '.join(map(str, trials))} trials)", "k k-means",
                   "silhouette (agglomerative, 32)", "rotated control"], body)


# ---------------------------------------------------------------- lesions (tools/render_zoo_clusters.py --lesions)


def _lesion_scores(path):
    """{(lesion, cluster, draw): {task: score}} and {cluster: (units, preferred task)} of a lesion CSV."""
    scores, clusters = {}, {}
    with open(ROOT / path, newline="") as f:
        for row in csv.DictReader(f):
            key = (row["lesion"], int(row["cluster"] or 0), int(row["draw"] or 0))
            scores.setdefault(key, {})[row["task"]] = float(row["response_accuracy"])
            if row["lesion"] == "cluster":
                clusters[int(row["cluster"])] = (int(row["units"]), row["preferred_task"])
    return scores, clusters


def _change(scores, key, tasks):
    intact = scores[("intact", 0, 0)]
    return [scores[key][t] - intact[t] for t in tasks]


def _draws(scores, cluster):
    return sorted(draw for lesion, c, draw in scores if lesion == "random" and c == cluster)


def _correlation(a, b):
    a, b = [x - sum(a) / len(a) for x in a], [x - sum(b) / len(b) for x in b]
    norm = math.sqrt(sum(x * x for x in a) * sum(x * x for x in b))
    return sum(x * y for x, y in zip(a, b)) / norm if norm else math.nan


def lesion_clusters_table(path, shown=5):
    """Per cluster: its lesion's mean change and tasks down by more than 0.5, beside the same
    numbers for as many random active units (mean over the draws), how alike the two damage
    profiles are over tasks, and the tasks it takes down most and spares most."""
    scores, clusters = _lesion_scores(path)
    tasks = list(scores[("intact", 0, 0)])
    n_draws = max((len(_draws(scores, c)) for c in clusters), default=0)
    body = []
    for c, (units, preferred) in sorted(clusters.items()):
        change = _change(scores, ("cluster", c, 0), tasks)
        randoms = [_change(scores, ("random", c, j), tasks) for j in _draws(scores, c)]
        random_mean = [sum(col) / len(col) for col in zip(*randoms)]
        ranked = sorted(range(len(tasks)), key=lambda i: (change[i], i))
        drops = ", ".join(f"{tasks[i]} {change[i]:+.2f}" for i in ranked[:shown])
        spared = ", ".join(f"{tasks[i]} {change[i]:+.2f}" for i in ranked[::-1][:shown])
        body.append([c, units, preferred, f"{sum(change) / len(tasks):+.3f}", sum(x < -0.5 for x in change),
                     f"{sum(random_mean) / len(tasks):+.3f} ({min(sum(r) for r in randoms) / len(tasks):+.3f} to "
                     f"{max(sum(r) for r in randoms) / len(tasks):+.3f})",
                     f"{sum(sum(x < -0.5 for x in r) for r in randoms) / len(randoms):.1f}",
                     f"{_correlation(change, random_mean):.2f}", drops, spared])
    head = ["cluster", "units", "preferred task", "mean change", "tasks down > 0.5",
            f"random units, same number: mean change (range over {n_draws} draws)", "tasks down > 0.5 (mean)",
            "correlation over tasks, cluster vs random", "largest drops", "least affected"]
    return _table(head, body)


# Mod-Cog's families: Yang's tasks and the two directions of the interval and sequence extensions
# (_r: the answer moves towards increasing ring index, _l: decreasing; ../MODCOG.md).
FAMILIES = {"": "Yang", "intl": "_intl", "intr": "_intr", "seql": "_seql", "seqr": "_seqr"}


def task_family(task):
    """A Mod-Cog task's family: "Yang" or its extension's suffix ("_intl", "_intr", "_seql", "_seqr")."""
    suffix = task.rsplit("_", 1)[-1] if "_" in task else ""
    return FAMILIES.get(suffix, "Yang")


def lesion_families_table(path):
    """Mean response accuracy by task family (`task_family`): intact, each cluster lesioned, and
    as many random units lesioned (mean over the draws)."""
    scores, clusters = _lesion_scores(path)
    tasks = list(scores[("intact", 0, 0)])
    families = [task_family(t) for t in tasks]
    present = [f for f in FAMILIES.values() if f in families]

    def means(values):
        return [f"{sum(v for v, f in zip(values, families) if f == family) / families.count(family):.3f}"
                for family in present]

    intact = [scores[("intact", 0, 0)][t] for t in tasks]
    body = [["intact", *means(intact)]]
    for c, (units, _) in sorted(clusters.items()):
        body.append([f"cluster {c} lesioned", *means([scores[("cluster", c, 0)][t] for t in tasks])])
        draws = _draws(scores, c)
        mean = [sum(scores[("random", c, j)][t] for j in draws) / len(draws) for t in tasks]
        body.append([f"{units} random units lesioned (mean of {len(draws)})", *means(mean)])
    return _table(["mean response accuracy", *(f"{f} ({families.count(f)} tasks)" for f in present)], body)


# ---------------------------------------------------------------- lmrnn-v1's early results (docs/results/lmrnn-v1.md)


@dataclasses.dataclass(frozen=True)
class Value:
    """A cell read from a CSV with a "model" column (a `keras-lmrnn compare` table or
    a file of curve means): `column` of the row whose model is `model`, 3 decimals."""

    path: pathlib.Path
    model: str
    column: str

    def text(self):
        rows = [r for r in _read_csv(self.path) if r["model"] == self.model]
        if len(rows) != 1:
            raise ValueError(f"{self.path}: {len(rows)} rows for model {self.model!r}, expected 1")
        return f"{float(rows[0][self.column]):.3f}"


def _preset_recurrent(name):
    """A preset's recurrent synapses: its non-zero recurrent weights (above the threshold
    an L1 model is counted at, where it has one)."""
    meta = zoo.metadata(name)
    above = meta.get("weight_counts_above_threshold")
    if above:
        return f"{above['recurrent_nonzero']} above {above['threshold']:g}"
    return str(meta["weight_counts"]["recurrent_nonzero"])


def cells(head, rows):
    """A table whose cells are text, `Value`s read from CSVs, or `Recurrent(preset)`."""
    return _table(head, [[c if isinstance(c, str) else c.text() for c in row] for row in rows])


@dataclasses.dataclass(frozen=True)
class Recurrent:
    """A cell: the preset's recurrent synapses (`_preset_recurrent`)."""

    preset: str

    def text(self):
        return _preset_recurrent(self.preset)


# ---------------------------------------------------------------- benchmarks (their --csv files and logs)


def _read_csv(path):
    with open(ROOT / path, newline="") as f:
        return list(csv.DictReader(f))


def _picked(row, where):
    return all(row[k] == str(v) for k, v in (where or {}).items())


def benchmark_table(path, columns=None, where=None):
    """A benchmark's `--csv` file as a table: `columns` {column: heading}
    (default: all, as saved), the rows matching `where` {column: value}."""
    rows = [r for r in _read_csv(path) if _picked(r, where)]
    if not rows:
        raise ValueError(f"{path}: no rows match {where}")
    columns = columns or {c: c for c in rows[0]}
    return _table(list(columns.values()), [[r[c] for c in columns] for r in rows])


def _ratio(text):
    """A ratio cell as the benchmark printed it ("18.85x", 2 decimals) shortened to 1 decimal
    from 10x on ("18.9x", halves rounded up); below 10x it is kept as printed."""
    value = decimal.Decimal(text.rstrip("x"))
    places = 2 if value < 10 else 1
    return f"{value.quantize(decimal.Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP)}x"


def recurrence_summary(path, n, shape, models, backends, picks=None):
    """`benchmarks/recurrence_speed.py`'s rows at one size and batch shape, one line per model:
    per backend the step loop's seconds and what `recurrence="auto"` picks (seconds, name,
    speed-up). `models`: [(model, label)]; `backends`: [(backend, label)]; `picks`
    {(backend, model): recurrence} where the rule has changed since the run (else the run's
    "auto picks")."""
    rows = {(r["backend"], r["model"]): r for r in _read_csv(path)
            if r["N"] == str(n) and r["batch x steps"] == shape}
    body = []
    for model, name in models:
        cells = [name]
        for backend, _ in backends:
            r = rows[(backend, model)]
            pick = (picks or {}).get((backend, model), r["auto picks"])
            if pick == r["auto picks"] and (backend, model) in (picks or {}):
                raise ValueError(f"{path}: {backend} {model} already picks {pick}; drop the override")
            ratio = "1.00x" if pick == "step" else _ratio(r[f"{pick} / step"])
            cells += [r["step s"], f"{r[f'{pick} s']} {pick} ({ratio})"]
        body.append(cells)
    head = ["model"] + [f"{b} {what}" for _, b in backends for what in ("step", "auto")]
    return _table(head, body)


def _logged_tables(path):
    return table_csv.markdown_tables((ROOT / path).read_text())


def gpu_step_time(log, cpu_csv):
    """`benchmarks/step_time.py`'s table in a GPU run's log, beside the LM-RNN's time on
    the CPU (`cpu_csv`, the same benchmark's --csv) at the same backend and N."""
    cpu = {(r["backend"], r["N"]): r["LMRNN s"] for r in _read_csv(cpu_csv)}
    columns = ["backend", "N", "LMRNN s", "SimpleRNN s", "native s", "LMRNN/SimpleRNN", "LMRNN/native"]
    body = [[r[c] for c in columns] + [cpu[(r["backend"], r["N"])]] for r in _logged_tables(log)[0]]
    return _table(columns + ["on the 2-core CPU ([speed](../guide/speed.md)), LMRNN s"], body)


def gpu_precision(log, model="lmrnn d=6 s"):
    """`benchmarks/protocol_step_time.py`'s two tables in a log (default float32 matmul
    precision, then `highest`), the LM-RNN's seconds per step side by side."""
    default, highest = _logged_tables(log)
    body = [[a["protocol"], a["batch x seq"], a["N"].split(" ")[0], a[model], b[model]]
            for a, b in zip(default, highest, strict=True)]
    return _table(["protocol", "batch x seq", "N", "s/step, default precision", "s/step, `highest`"], body)


# ---------------------------------------------------------------- the blocks


@dataclasses.dataclass(frozen=True)
class Block:
    """A rendered table: `render(*args, **kwargs)` between the markers NAME in `path`."""

    path: str
    name: str
    render: object
    args: tuple = ()
    kwargs: dict = dataclasses.field(default_factory=dict)

    def text(self):
        return self.render(*self.args, **self.kwargs)


NG = ANSWER / "neurogym_indegree"
V1 = ANSWER / "lmrnn-v1"
NG_DENSE = "dense:n=400,init=indegree"
SETTINGS = ["lmrnn-v1", "neurogym", "alpha1", "alpha1_seed1", "identity_init", "batch4x350", "clip1",
            "continuous", "torch_init", "neurogym_indegree"]
SCREEN_TABLE = (screen, ([SCREEN / s for s in SETTINGS], [500, 1000, 2000]))
SCREEN_3000 = (screen, ([SCREEN / "lmrnn-v1", SCREEN / "neurogym"], [3000]))

BLOCKS = [
    Block("README.md", "grid-neurogym-indegree", grid, (NG,), {"models": [
        f"{kind}:n=400,{rest}init=indegree" for kind, rest in
        [("autapse", ""), ("lmrnn", "d=2,"), ("lmrnn", "d=4,"), ("lmrnn", "d=6,"), ("lmrnn", "d=8,"),
         ("random", "d=4,"), ("dense", "")]]}),
    Block("docs/results/protocol-question.md", "screen", *SCREEN_TABLE),
    Block("docs/results/protocol-question.md", "grid-neurogym-indegree", grid, (NG,)),
    Block("docs/results/protocol-question.md", "grid-lmrnn-v1", grid, (V1,)),
    Block("docs/protocol_screen/README.md", "screen", *SCREEN_TABLE),
    Block("docs/protocol_screen/README.md", "screen-3000", *SCREEN_3000),
    Block("docs/protocol_answer/README.md", "grid-neurogym-indegree", grid, (NG,), {"bold_best": True}),
    Block("docs/protocol_answer/README.md", "pairs-neurogym-indegree", pairs_per_seed, (NG, NG_DENSE, [
        "lmrnn:n=400,d=6,init=indegree", "lmrnn:n=400,d=4,init=indegree", "lmrnn:n=400,d=8,init=indegree",
        "random:n=400,d=4,init=indegree"])),
    Block("docs/protocol_answer/README.md", "seeds-lmrnn-v1", seed_by_seed, (V1, "lmrnn:n=400,d=6", "dense:n=400")),
    Block("docs/protocol_answer/README.md", "grid-lmrnn-v1", grid, (V1,)),
    Block("docs/protocol_answer/README.md", "paired-lmrnn-v1", paired_means, (V1, "dense:n=400")),
    Block("docs/protocol_answer/README.md", "curves-35x35", one_seed_curves, (ANSWER / "35x35_neurogym-indegree",)),
]


BLOCKS += [Block("docs/analysis/README.md", "zoo-clusters", zoo_clusters, (tuple(zoo.list_presets()),))]

BLOCKS += [Block("docs/clusters_over_training/README.md", "k-over-training", clusters_over_training,
                 (pathlib.Path("docs/clusters_over_training/clusters_over_training.csv"),))]
BLOCKS += [Block("docs/dynamics/README.md", "survey", fixed_point_survey, (pathlib.Path("docs/dynamics/survey.csv"),))]
BLOCKS += [Block(page, "main-job", comparison, (pathlib.Path("docs/main_job/comparison.csv"),))
           for page in ("README.md", "docs/getting-started.md")]
BLOCKS += [Block("docs/paper_scale/README.md", "curves", paper_scale_curves, ([
    "lmrnn:n=2500,d=6", "autapse:n=2500", "lmrnn:n=2500,d=10", "dense:n=676", "dense:n=2500"],))]

# The paper's Table 1 (spec, accuracy, non-zero weights, recurrent non-zero weights).
PAPER_TABLE1 = [
    ("lmrnn:n=2500,d=6", "0.799 ± 0.007", "6.17e5", "2.82e5"),
    ("lmrnn:n=2500,d=10", "0.815 ± 0.005", "1.13e6", "7.92e5"),
    ("dense:n=676", "0.69 ± 0.01", "5.47e5", "4.57e5"),
    ("dense:n=2500", "0.71 ± 0.02", "6.58e6", "6.25e6"),
    ("l1:n=2500,l1=1e-5", "0.72 ± 0.01", "5.16e5", "1.81e5"),
]
BLOCKS += [Block("docs/paper_scale/README.md", "table1", paper_table1, (PAPER_TABLE1,),
                 {"census": {"dense:n=2500": PAPER_SCALE / "census_dense2500_300_steps.csv"}}),
           Block("docs/paper_scale/README.md", "runs", paper_scale_run_table, (
               {spec: paper for spec, paper, _, _ in PAPER_TABLE1} | {"autapse:n=2500": "not in Table 1 (Fig. 7a at d=0)"},))]

FIG7A_1225 = PAPER_SCALE / "fig7a_1225"
# Fig. 7a's sizes: N, where the runs are, and the models at that N.
FIG7A = [
    (400, NG, [f"{kind}:n=400,{rest}init=indegree" for kind, rest in
               [("autapse", ""), ("lmrnn", "d=1,"), ("lmrnn", "d=2,"), ("lmrnn", "d=4,"), ("lmrnn", "d=6,"),
                ("lmrnn", "d=8,"), ("dense", "")]]),
    (1225, FIG7A_1225, [*(f"lmrnn:n=1225,d={d}" for d in (2, 4, 6, 8, 10)), "dense:n=1225"]),
    (2500, "paper_scale", ["autapse:n=2500", "lmrnn:n=2500,d=6", "lmrnn:n=2500,d=10", "dense:n=2500"]),
]
BLOCKS += [Block("docs/paper_scale/README.md", "fig7a", performance_vs_d, (FIG7A,))]
BLOCKS += [Block("docs/paper_scale/README.md", "fig7a-1225-curves", sweep_report_table,
                 (FIG7A_1225, [1000, 2000, 5000, 10000]))]
BLOCKS += [Block("docs/protocol_answer/README.md", "exports", export_counts, ([NG, V1],))]
BLOCKS += [Block("docs/guide/sweeps.md", "example", sweep_report_table,
                 (pathlib.Path("docs/sweeps/guide_example"), [500, 1000]))]


ANALYSIS = pathlib.Path("docs/analysis")
for _csv, _short in [("lesions_modcog84_lmrnn_20x20_d6_neurogym-indegree.csv", "d6"),
                     ("lesions_modcog84_dense_400_neurogym-indegree.csv", "dense400"),
                     ("lesions_d6.csv", "d6-v1")]:
    BLOCKS += [
        Block("docs/analysis/README.md", f"lesions-{_short}", lesion_clusters_table, (ANALYSIS / _csv,)),
        Block("docs/analysis/README.md", f"lesions-{_short}-families", lesion_families_table, (ANALYSIS / _csv,)),
    ]

ZOO_TRIALS = ANALYSIS / "zoo_clusters_by_trials.csv"
_V1_PRESETS = [n for n in zoo.list_presets() if n.endswith("_lmrnn-v1")]  # the registry's order
BLOCKS += [
    Block("docs/analysis/README.md", "zoo-clusters-by-trials", zoo_clusters_by_trials, (_V1_PRESETS, ZOO_TRIALS)),
    Block("docs/analysis/README.md", "final-k-against-d", final_k_against_d, ([
        ("d = 0 (autapse pool)", "modcog84_autapse_20x20_lmrnn-v1"), ("d = 2", "modcog84_lmrnn_20x20_d2_lmrnn-v1"),
        ("d = 4", "modcog84_lmrnn_20x20_d4_lmrnn-v1"), ("d = 6", "modcog84_lmrnn_20x20_d6_lmrnn-v1"),
        ("dense RNN(400)", "modcog84_dense_400_lmrnn-v1")], ZOO_TRIALS)),
]


MECH_README = "docs/mechanism/README.md"
B4 = MECHANISM / "mechanism_lmrnn-v1_alpha1_b4_t350_clip1.0_400_adam"
BLOCKS += [
    Block(MECH_README, "first-update", first_update, (MECHANISM / "mechanism_neurogym_400_1225_adam_1000.csv", [
        "lmrnn:n=400,d=2", "lmrnn:n=400,d=6", "dense:n=400", "lmrnn:n=1225,d=2", "lmrnn:n=1225,d=6",
        "dense:n=1225"])),
    Block(MECH_README, "first-updates-2500", first_updates,
          (MECHANISM / "mechanism_neurogym_2500_adam_sgd_adam_fanin_10.csv", [
              ("lmrnn:n=2500,d=6", "adam"), ("dense:n=2500", "adam"), ("dense:n=2500", "adam_fanin"),
              ("lmrnn:n=2500,d=6", "sgd"), ("dense:n=2500", "sgd")])),
    Block(MECH_README, "fanin-prediction", final_by_variant,
          (MECHANISM / "mechanism_lmrnn-v1_alpha1_400_adam_adam_fanin_1000_summary.csv",
           ["lmrnn:n=400,d=6,alpha=1", "dense:n=400,alpha=1"], ["adam", "adam_fanin"])),
    Block(MECH_README, "dense-that-diverged", probe_states, ([
        (pathlib.Path(f"{B4}_5.csv"), "dense:n=400,alpha=1", 0),
        (pathlib.Path(f"{B4}_5.csv"), "dense:n=400,alpha=1", 5),
        (pathlib.Path(f"{B4}_8.csv"), "dense:n=400,alpha=1", 8),
        (pathlib.Path(f"{B4}_1000.csv"), "lmrnn:n=400,d=6,alpha=1", 1000)],)),
]

RERUN = [pathlib.Path("docs/seed_streams/rerun"), pathlib.Path("docs/seed_streams/rerun_5-9")]
POOLED = "docs/seed_streams/pooled.md"
STREAMS = "docs/seed_streams/README.md"
for _metric in ("response", "trial"):
    BLOCKS += [
        Block(POOLED, f"pooled-{_metric}", grid, (RERUN,), {"metric": f"{_metric}_accuracy"}),
        Block(POOLED, f"pooled-{_metric}-paired", paired_means, (RERUN, "dense:n=400"),
              {"metric": f"{_metric}_accuracy"}),
    ]
BLOCKS += [
    Block(STREAMS, "seed-streams-grids", side_by_side, ([
        ("LM-RNN d=6", (RERUN, "lmrnn:n=400,d=6"), (NG, "lmrnn:n=400,d=6,init=indegree")),
        ("random sparse (d=4's in-degree)", (RERUN, "random:n=400,d=4"), (NG, "random:n=400,d=4,init=indegree")),
        ("dense(400)", (RERUN, "dense:n=400"), (NG, NG_DENSE)),
    ], [2000, 10000], ("rerun", "committed grid"))),
    Block(STREAMS, "seed-streams-pairs", paired_side_by_side, ([
        ("d=6 - dense", (RERUN, "lmrnn:n=400,d=6", "dense:n=400"),
         (NG, "lmrnn:n=400,d=6,init=indegree", NG_DENSE)),
        ("random(d=4) - dense", (RERUN, "random:n=400,d=4", "dense:n=400"),
         (NG, "random:n=400,d=4,init=indegree", NG_DENSE)),
    ], 10000, ("rerun", "committed grid"))),
]


BENCH = pathlib.Path("docs/benchmarks")
H200 = pathlib.Path("docs/gpu/h200_2026-11-30")
BLOCKS += [
    Block("docs/recurrence/speed_cpu.md", "recurrence-speed", benchmark_table, (BENCH / "recurrence_speed_cpu.csv",)),
    Block("docs/guide/speed.md", "recurrence-speed-2500", recurrence_summary, (
        BENCH / "recurrence_speed_cpu.csv", 2500, "4 x 350",
        [("dense", "dense RNN(2500)"), ("d6", "LM-RNN d=6"), ("d10", "LM-RNN d=10"),
         ("random10", "random sparse, d=10's in-degree"), ("autapse", "autapse pool (N = 2500)")],
        [("jax", "JAX"), ("torch", "PyTorch"), ("tensorflow", "TensorFlow")]),
        # since 41b2979 the rule takes the tiles for JAX's d=10 at N = 2500 (docs/recurrence)
        {"picks": {("jax", "d10"): "sparse"}}),
    Block("docs/guide/speed.md", "step-time-cpu", benchmark_table, (BENCH / "step_time_cpu.csv",)),
    Block("docs/guide/protocols.md", "protocol-step-time-cpu", benchmark_table, (BENCH / "protocol_step_time_cpu.csv",)),
    Block("docs/guide/tasks.md", "dataset-speed-cpu", benchmark_table, (BENCH / "dataset_speed_cpu.csv",)),
    Block("docs/gpu/README.md", "step-time-h200", gpu_step_time, (H200 / "step_time.log", BENCH / "step_time_cpu.csv")),
    Block("docs/gpu/README.md", "precision-h200", gpu_precision, (H200 / "precision_step_time.log",)),
]


V1_PAGE = "docs/results/lmrnn-v1.md"
V1_CURVES = pathlib.Path("docs/results/lmrnn-v1_preset_curves.csv")  # the presets' runs' curve means
INIT = pathlib.Path("docs/init_experiment")
SEED1 = pathlib.Path("docs/seed_experiment/curve_means_seed1.csv")
_V1_MODELS = [("autapse pool (d=0), 400 units", "autapse:n=400", "modcog84_autapse_20x20_lmrnn-v1"),
              ("LM-RNN 20x20, d=2", "lmrnn:n=400,d=2", "modcog84_lmrnn_20x20_d2_lmrnn-v1"),
              ("LM-RNN 20x20, d=4", "lmrnn:n=400,d=4", "modcog84_lmrnn_20x20_d4_lmrnn-v1"),
              ("random sparse, d=4's in-degree", "random:n=400,d=4", "modcog84_random_20x20_d4_lmrnn-v1"),
              ("dense RNN(140), d=4's synapses", "dense-matched:n=400,d=4", "modcog84_dense_140_lmrnn-v1"),
              ("LM-RNN 20x20, d=6", "lmrnn:n=400,d=6", "modcog84_lmrnn_20x20_d6_lmrnn-v1"),
              ("dense RNN(400) + L1 (1e-4)", "l1:n=400,l1=1e-4", "modcog84_l1_400_lmrnn-v1"),
              ("dense RNN(400)", "dense:n=400", "modcog84_dense_400_lmrnn-v1")]
_V1_STEPS = ("perf@2000", "perf@5000", "perf@10000")
_V1_ROWS = {spec: name for name, spec, _ in _V1_MODELS}
BLOCKS += [
    Block(V1_PAGE, "presets", cells, (["model", "recurrent synapses", "2k steps", "5k steps", "10k steps"], [
        [name, Recurrent(preset), *(Value(V1_CURVES, spec, c) for c in _V1_STEPS)]
        for name, spec, preset in _V1_MODELS])),
    Block(V1_PAGE, "init", cells, (["model", "init", "2k steps", "5k steps", "10k steps"], [
        row for spec in ("lmrnn:n=400,d=4", "lmrnn:n=400,d=6", "dense:n=400") for row in (
            [_V1_ROWS[spec], "in-degree (default)", *(Value(V1_CURVES, spec, c) for c in _V1_STEPS)],
            [_V1_ROWS[spec], "uniform", *(Value(INIT / "compare_10k.csv", f"{spec},init=uniform", c)
                                        for c in _V1_STEPS)])])),
    Block(V1_PAGE, "seed", cells, (["model", "seed", "1k steps", "2k steps", "5k steps", "10k steps"], [
        row for spec in ("lmrnn:n=400,d=4", "lmrnn:n=400,d=6", "dense:n=400") for row in (
            [_V1_ROWS[spec], "0 (preset)",
             "-" if spec == "lmrnn:n=400,d=6" else Value(INIT / "compare_2k.csv", spec, "perf@1000"),
             *(Value(V1_CURVES, spec, c) for c in _V1_STEPS)],
            [_V1_ROWS[spec], "1", *(Value(SEED1, spec, c) for c in ("perf@1000", *_V1_STEPS))])])),
]


def _pattern(name):
    return re.compile(rf"(<!-- results:{re.escape(name)} -->\n)(.*?)(<!-- /results:{re.escape(name)} -->)", re.S)


def current(block):
    """The text now between the block's markers (None when the markers are missing)."""
    match = _pattern(block.name).search((ROOT / block.path).read_text())
    return None if match is None else match.group(2)


def rendered(block):
    """What the block's markers should hold."""
    return block.text() + "\n"


def _write(path, text):
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w") as f:
        f.write(text)
    os.replace(temporary, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="rewrite nothing; exit 1 if a block differs")
    args = parser.parse_args(argv)
    stale = []
    for block in BLOCKS:
        old, new = current(block), rendered(block)
        if old is None:
            raise SystemExit(f"{block.path}: no <!-- results:{block.name} --> ... <!-- /results:{block.name} --> markers")
        if old == new:
            continue
        stale.append(f"{block.path}: {block.name}")
        if not args.check:
            path = ROOT / block.path
            text = path.read_text()
            _write(path, _pattern(block.name).sub(lambda m: m.group(1) + new + m.group(3), text, count=1))
    for line in stale:
        print(("differs: " if args.check else "rewrote: ") + line)
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
