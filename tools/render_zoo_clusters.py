"""Clusters every zoo preset's units by task variance; writes its feature map, metadata and card section.

    KERAS_BACKEND=jax python tools/render_zoo_clusters.py [PRESET ...]
    KERAS_BACKEND=jax python tools/render_zoo_clusters.py [PRESET ...] --no-write [--trials-per-task N] [--k-max K] [--rotate] [--csv FILE]
    KERAS_BACKEND=jax python tools/render_zoo_clusters.py PRESET --no-write --lesions FIGURE.png

For each preset (default: all registered ones), with the fixed settings of
SETTINGS (32 seeded evaluation trials per task, seed 0, the "stimulus" window,
max normalisation of active units, k = 2..40), the paper's agglomerative (ward)
clustering and Yang et al.'s k-means, the number of clusters chosen by the best
silhouette score (see keras_lmrnn.analysis and ANALYSIS.md), each with its
stability (`analysis.cluster_stability`: split-half agreement at the chosen k,
the rotation control, the edge of the range; a k that fails any of them is
reported as "no clear k"). It then writes, in the preset's folder:

- `feature_map.png`: the normalised task variance sorted by agglomerative cluster;
- metadata.json: a "clusters" entry (settings, command, active units, and per
  method the chosen k, the silhouette curve, cluster sizes, preferred tasks
  and stability; the two methods' agreement);
- README.md: a "## Clusters" section (added before "## Loading", or replaced);
- manifest.json, rewritten last with `zoo.write_manifest` (it covers feature_map.png).

The weights are only read (the preset is verified by `zoo.load` first), and the
output depends only on the weights, the settings and the backend's arithmetic:
a second run gives byte-identical files. `tools/make_preset.py` calls `render`
on a new preset before writing its manifest.

`--no-write` prints a Markdown table of the measurements instead of writing
(it may use other trial counts or another largest k; `--rotate` clusters the
control, the activity rotated by a random orthogonal matrix, seed 0, which
mixes the units and so removes any unit-level specialisation while keeping
the population's geometry; `--csv FILE` also writes the table's numbers, one
row per preset and method, for `tools/render_results.py`); with `--lesions FIGURE.png` (one preset) it
also lesions each agglomerative cluster (`analysis.lesion_clusters`, 64
trials per task), draws `analysis.plot_lesions` (colour scale -1..1) to
FIGURE.png and prints the tasks that drop most and least per cluster, beside
the control: as many randomly drawn active units as the cluster has, lesioned
the same way (3 seeded draws per cluster).
"""

import argparse
import csv
import io
import json
import os
import pathlib
import re
import sys

import numpy as np

FEATURE_MAP = "feature_map.png"
SCRIPT = "tools/render_zoo_clusters.py"
# The fixed settings every preset's clusters are computed with.
SETTINGS = {
    "trials_per_task": 32,
    "seed": 0,
    "window": "stimulus",
    "normalization": "max",
    "active_threshold": 1e-3,
    "k_max": 40,
    "agglomerative": "scipy ward linkage, one partition per k (fcluster maxclust), Euclidean silhouette",
    "kmeans": "scikit-learn KMeans (lloyd, n_init 20, random_state 0), Euclidean silhouette",
    "stability": "analysis.cluster_stability: 10 random splits of each task's trials into halves (seed 0), "
                 "adjusted Rand index of the halves' partitions at the chosen k; a clear k has mean ARI >= 0.5, "
                 "a silhouette above the rotation control's best and is not in the top fifth of the k scored",
}
METHODS = ("agglomerative", "kmeans")
LESION_TRIALS = 64
RANDOM_DRAWS = 3  # random lesions of each cluster's size, the control of --lesions


def command(name, backend):
    """The one-line command that re-renders preset `name`."""
    return f"KERAS_BACKEND={backend} python {SCRIPT} {name}"


def measure(model, battery, trials_per_task=SETTINGS["trials_per_task"], k_max=SETTINGS["k_max"], rotate=False,
            stability=True):
    """Task variance and both clusterings of `model` on `battery`.

    Returns a dict: activity, ntv (active units x tasks), units, and per method
    a `ClusterResult` (key "results"), or an "error" string when fewer than 3
    units are active. `rotate`: cluster the rotation control instead (no stability is
    measured for it); `stability=False`: measure none (the slow part).
    """
    from keras_lmrnn import analysis

    act = analysis.activity(model, battery, trials_per_task=trials_per_task, seed=SETTINGS["seed"])
    if rotate:
        act = analysis.rotate_activity(act, seed=SETTINGS["seed"])
    tv = analysis.task_variance(act, window=SETTINGS["window"])
    ntv, units = analysis.normalize(tv, SETTINGS["normalization"], SETTINGS["active_threshold"])
    out = {"activity": act, "ntv": ntv, "units": units, "results": {}, "stability": {}, "error": None}
    try:
        for method in METHODS:
            out["results"][method] = analysis.cluster_units(
                ntv, method, k_max=k_max, seed=SETTINGS["seed"], units=units
            )
    except ValueError as error:
        out["results"], out["error"] = {}, str(error)
        return out
    if stability and not rotate:
        for method, result in out["results"].items():
            out["stability"][method] = analysis.cluster_stability(
                act, result, seed=SETTINGS["seed"], window=SETTINGS["window"], k_max=k_max
            )
    if not rotate:
        out["agreement"] = analysis.method_agreement(*out["results"].values())
    return out


def summary(measured, name, backend):
    """The metadata.json "clusters" entry of a measurement."""
    names = measured["activity"].task_names
    entry = {
        "settings": dict(SETTINGS),
        "backend": backend,
        "command": command(name, backend),
        "units": int(measured["activity"].n_units),
        "active_units": int(len(measured["units"])),
    }
    if measured["error"]:
        entry["error"] = measured["error"]
        return entry
    for method, result in measured["results"].items():
        entry[method] = {
            "k": int(result.k),
            "best_silhouette": _score(result.scores.max()),
            "sizes": [int(s) for s in result.sizes],
            "preferred_tasks": [names[i] for i in result.preferred],
            "ks": [int(k) for k in result.ks],
            "silhouette": [_score(s) for s in result.scores],
            "stability": measured["stability"][method].record(),
        }
    entry["method_agreement_ari"] = _score(measured["agreement"])
    entry["figure"] = FEATURE_MAP
    return entry


def _score(value):
    """A silhouette score as metadata.json records it (4 decimals; cards and tables show 3 of these)."""
    return round(float(value), 4)


def feature_map_png(measured, name):
    """The agglomerative feature map as PNG bytes (no software or date stamp: reproducible)."""
    from keras_lmrnn import analysis

    result = measured["results"]["agglomerative"]
    fig = analysis.plot_feature_map(measured["ntv"], result, measured["activity"].task_names)
    fig.suptitle(
        f"{name}\n{len(measured['units'])} active units, "
        f"{SETTINGS['trials_per_task']} trials per task, window \"{SETTINGS['window']}\"",
        fontsize=9,
    )
    # Task names readable at 84 tasks (plot_feature_map sizes them down to 4 pt; a row is about 9 pt).
    fig.axes[0].tick_params(axis="y", labelsize=6.5)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, metadata={"Software": None})
    return buffer.getvalue()


def card_section(entry):
    """The card's "## Clusters" section (ending with a blank line)."""
    settings = entry["settings"]
    how = (
        f"Units clustered by their normalised task variance ({settings['trials_per_task']} seeded evaluation "
        f"trials per task, seed {settings['seed']}, window \"{settings['window']}\" from stimulus onset, "
        f"{entry['active_units']} of {entry['units']} units active), k = 2..{settings['k_max']} chosen by the "
        "best silhouette score (see `keras_lmrnn.analysis`)."
    )
    if "error" in entry:
        body = f"{how}\n\nNo clusters: {entry['error']}\n"
    else:
        agg, km = entry["agglomerative"], entry["kmeans"]
        body = (
            f"{how} A k is reported as a number only when it holds up: the partitions of two disjoint halves "
            "of the trials agree (mean adjusted Rand index >= 0.5 over 10 splits), its silhouette beats the "
            "best of the rotation control (activity rotated so no unit is task-specific), and it is not in the "
            "top fifth of the k scored (there a flat curve may still rise past the range).\n\n"
            f"- agglomerative (ward, the paper's appendix B): {agg['stability']['verdict']}; best silhouette "
            f"{agg['best_silhouette']:.3f} at k = {agg['k']}\n"
            f"- k-means (Yang et al. 2019): {km['stability']['verdict']}; best silhouette "
            f"{km['best_silhouette']:.3f} at k = {km['k']}\n"
            f"- agreement of the two partitions: adjusted Rand index {entry['method_agreement_ari']:.3f}\n\n"
            f"![Feature map: normalised task variance, units sorted by agglomerative cluster]({FEATURE_MAP})\n\n"
            "Silhouette curves, cluster sizes and preferred tasks are in metadata.json (\"clusters\"). "
            "The chosen k depends on the trials per task: see docs/analysis/README.md in the repository.\n"
        )
    return f"## Clusters\n\n{body}\n    {entry['command']}\n\n"


def with_section(card, section):
    """`card` with its "## Clusters" section replaced, or `section` inserted before "## Loading" (else appended)."""
    found = re.search(r"^## Clusters\n.*?(?=^## |\Z)", card, re.S | re.M)
    if found:
        return card[: found.start()] + section + card[found.end():]
    loading = re.search(r"^## Loading\n", card, re.M)
    if loading:
        return card[: loading.start()] + section + card[loading.start():]
    return card.rstrip("\n") + "\n\n" + section


def render(folder, model, name=None):
    """Measures `model` (the preset's, unchanged) and writes feature_map.png, metadata.json's
    "clusters" and the card's section into `folder`. Does not write the manifest: call
    `zoo.write_manifest(folder)` after. Returns the "clusters" entry."""
    import keras

    folder = pathlib.Path(folder)
    name = name or folder.name
    meta = json.loads((folder / "metadata.json").read_text())
    measured = measure(model, meta["battery"])
    entry = summary(measured, name, keras.backend.backend())
    png = None if "error" in entry else feature_map_png(measured, name)
    meta["clusters"] = entry
    card = with_section((folder / "README.md").read_text(), card_section(entry))
    # Everything computed: now write, close together.
    (folder / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
    (folder / "README.md").write_text(card)
    if png is None:
        (folder / FEATURE_MAP).unlink(missing_ok=True)
    else:
        (folder / FEATURE_MAP).write_bytes(png)
    return entry


def report_row(name, meta, measured):
    d = "-" if meta["d"] is None else meta["d"]
    cells = [name, meta["battery"], str(d), str(len(measured["units"]))]
    if measured["error"]:
        cells += ["-"] * 4
    else:
        for method in METHODS:
            result = measured["results"][method]
            cells += [str(result.k), f"{_score(result.scores.max()):.3f}"]  # as the card shows it
            stability = measured["stability"].get(method)
            cells.append("-" if stability is None else stability.verdict())
    return "| " + " | ".join(cells) + " |"


CSV_COLUMNS = ("preset", "battery", "d", "trials_per_task", "k_max", "rotate", "backend", "active_units",
               "method", "k", "best_silhouette", "stability")


def csv_rows(name, meta, measured, trials_per_task, k_max, rotate, backend):
    """The `--csv` rows of one preset's measurement: one per method (none
    when too few units are active to cluster)."""
    common = {"preset": name, "battery": meta["battery"], "d": "" if meta["d"] is None else meta["d"],
              "trials_per_task": trials_per_task, "k_max": k_max, "rotate": int(rotate), "backend": backend,
              "active_units": len(measured["units"])}
    rows = []
    for method, result in measured["results"].items():
        stability = measured["stability"].get(method)
        rows.append({**common, "method": method, "k": int(result.k),
                     "best_silhouette": f"{_score(result.scores.max()):.3f}",
                     "stability": "" if stability is None else stability.verdict()})
    return rows


def write_csv(path, rows):
    """Writes `rows` (dicts with CSV_COLUMNS) to `path` atomically."""
    from keras_lmrnn import folders

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    folders.atomic_write_text(path, out.getvalue())


def lesions(model, measured, battery, figure):
    """Lesions each agglomerative cluster and, as the control, as many random active units
    (RANDOM_DRAWS seeded draws per cluster); draws the figure, writes every score to the
    CSV beside it (FIGURE with .csv) and prints the tables tools/render_results.py makes of it."""
    from keras_lmrnn import analysis, folders

    result = measured["results"]["agglomerative"]
    found = analysis.lesion_clusters(model, result, battery, trials_per_task=LESION_TRIALS, seed=SETTINGS["seed"])
    rng = np.random.default_rng(SETTINGS["seed"])
    draws = [rng.choice(measured["units"], size, replace=False) for size in result.sizes for _ in range(RANDOM_DRAWS)]
    control = analysis.lesion_clusters(model, draws, battery, trials_per_task=LESION_TRIALS, seed=SETTINGS["seed"])
    names = found.task_names
    rows = [("intact", "", "", 0, "", found.intact)]
    for c, scores in enumerate(found.lesioned):
        rows.append(("cluster", c + 1, "", result.sizes[c], names[result.preferred[c]], scores))
        for j in range(RANDOM_DRAWS):
            rows.append(("random", c + 1, j, result.sizes[c], "", control.lesioned[c * RANDOM_DRAWS + j]))
    table = io.StringIO()
    table.write("lesion,cluster,draw,units,preferred_task,task,response_accuracy\n")
    for lesion, cluster, draw, units, preferred, scores in rows:
        for task, score in zip(names, scores):
            table.write(f"{lesion},{cluster},{draw},{units},{preferred},{task},{score:.6f}\n")
    figure = pathlib.Path(figure)
    figure.parent.mkdir(parents=True, exist_ok=True)
    folders.atomic_write_text(figure.with_suffix(".csv"), table.getvalue())
    # Colour scale -1..1 (Yang et al. use -0.5..0.5): these lesions take tasks down by up to 1.
    fig = analysis.plot_lesions(found, vmin=-1, vmax=1)
    width, height = fig.get_size_inches()
    fig.set_size_inches(max(width, 6.5), height)  # room for the title
    fig.savefig(figure, dpi=80, metadata={"Software": None})
    import render_results  # tools/ (this script's folder): the one owner of the tables

    print(f"\nintact mean response accuracy {found.intact.mean():.3f} ({LESION_TRIALS} trials per task)")
    print(render_results.lesion_clusters_table(figure.with_suffix(".csv")))
    print()
    print(render_results.lesion_families_table(figure.with_suffix(".csv")))
    print(f"wrote {figure} and {figure.with_suffix('.csv')}")


def main(argv=None):
    os.environ.setdefault("KERAS_BACKEND", "jax")  # the zoo's recorded clusters are JAX's
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("presets", nargs="*", help="preset names (default: all registered)")
    parser.add_argument("--no-write", action="store_true", help="print a table; write nothing into the presets")
    parser.add_argument("--trials-per-task", type=int, default=SETTINGS["trials_per_task"],
                        help="with --no-write only: trials per task (default %(default)s)")
    parser.add_argument("--k-max", type=int, default=SETTINGS["k_max"],
                        help="with --no-write only: the largest k tried (default %(default)s)")
    parser.add_argument("--rotate", action="store_true", help="with --no-write only: cluster the rotation control")
    parser.add_argument("--lesions", metavar="FIGURE", help="with --no-write and one preset: lesion figure")
    parser.add_argument("--csv", metavar="FILE", help="with --no-write only: also write the table's numbers to FILE")
    parser.add_argument("--no-stability", action="store_true",
                        help="with --no-write only: skip the split-half stability (its slowest part)")
    args = parser.parse_args(argv)
    fixed = args.trials_per_task == SETTINGS["trials_per_task"] and args.k_max == SETTINGS["k_max"]
    if not args.no_write and not (fixed and not args.rotate and not args.lesions):
        parser.error(
            "--trials-per-task, --k-max, --rotate and --lesions need --no-write: presets are written "
            "with the fixed settings"
        )
    if (args.csv or args.no_stability) and not args.no_write:
        parser.error("--csv and --no-stability are for the --no-write table: add --no-write")
    if args.lesions and args.rotate:
        parser.error("--lesions lesions the model's own clusters: leave out --rotate")
    if args.lesions and len(args.presets) != 1:
        parser.error("--lesions takes exactly one preset")

    import keras

    from keras_lmrnn import zoo

    names = args.presets or zoo.list_presets()
    unknown = [n for n in names if n not in zoo.list_presets()]
    if unknown:
        parser.error(f"unknown presets {unknown}; see keras_lmrnn.zoo.list_presets()")
    if args.no_write:
        control = ", rotation control (seed 0)" if args.rotate else ""
        print(
            f"{args.trials_per_task} trials per task, k = 2..{args.k_max}{control}, "
            f"Keras {keras.__version__} on {keras.backend.backend()}\n"
        )
        print("| preset | battery | d | active units | k agglomerative | silhouette | stability | k k-means | silhouette "
              "| stability |")
        print("|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for name in names:
        model = zoo.load(name)  # verified first: never rewrite the manifest over an edited file
        folder = zoo.preset_path(name)
        if args.no_write:
            meta = zoo.metadata(name)
            measured = measure(model, meta["battery"], args.trials_per_task, args.k_max, args.rotate,
                               stability=not args.no_stability)
            print(report_row(name, meta, measured), flush=True)
            rows += csv_rows(name, meta, measured, args.trials_per_task, args.k_max, args.rotate,
                             keras.backend.backend())
            if args.lesions:
                lesions(model, measured, meta["battery"], args.lesions)
            continue
        entry = render(folder, model, name)
        zoo.write_manifest(folder)  # last: it checksums the files above as written
        ks = "no clusters" if "error" in entry else (
            f"agglomerative {entry['agglomerative']['stability']['verdict']}, "
            f"k-means {entry['kmeans']['stability']['verdict']}"
        )
        print(f"{name}: {entry['active_units']} active units, {ks}", flush=True)
    if args.csv:
        write_csv(args.csv, rows)
        print(f"wrote {args.csv}")


if __name__ == "__main__":
    sys.exit(main())
