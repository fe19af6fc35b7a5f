"""The full analysis of one trained model, as `keras-lmrnn analyze` writes it.

`analyze(model, battery)` runs the pieces of `keras_lmrnn.analysis` in turn:
hidden activity on the seeded evaluation trials, task variance, the active
units' normalised variance, clusters by each method (silhouette choice of k)
with their split-half stability and rotation control (k, or "no clear k"),
the lesion of every cluster, fractional task variance of the classic task
pairs with its rotation control. `clusters_over_training(run, ...)` repeats
the clustering on the weights a run kept (`train --keep-checkpoints`), for
paper Fig. 7b. `write(result, folder)` writes the arrays (`analysis.npz`),
`clusters.json` and the figures into an analysis folder.

Example:

>>> from keras_lmrnn import zoo
>>> from keras_lmrnn.analysis import full
>>> result = full.analyze(zoo.load("yang20_lmrnn_16x16_d2_lmrnn-v1"), "yang20")   # doctest: +SKIP
>>> full.write(result, "analysis/d2")                                     # doctest: +SKIP
"""

import dataclasses
import json
import pathlib
import time

import keras
import numpy as np

from keras_lmrnn import analysis, folders, training, zoo


def analyze(model, battery, trials_per_task=32, seed=0, methods=analysis.METHODS, lesions=True, stability=True,
            progress=None):
    """Runs the analysis; returns a dict of its parts (see `write`).

    Args:
        model: a Keras model with one `LMRNN` layer.
        battery: the battery (or task list) it was trained on.
        trials_per_task: evaluation trials per task (default 32).
        seed: seed of the evaluation trials and of k-means (default 0).
        methods: clustering methods, from ("agglomerative", "kmeans").
        lesions: also lesion every cluster of the first method.
        stability: also measure each partition's split-half stability and
            rotation control (`analysis.cluster_stability`; needs >= 4
            trials per task).
        progress: optional `f(stage_name)` called as each stage starts.
    """
    for method in methods:
        if method not in analysis.METHODS:
            raise ValueError(
                f"Invalid value for argument `methods`: expected a subset of {analysis.METHODS}. Received: {method!r}"
            )
    say = progress or (lambda stage: None)
    timings = {}

    def stage(name):
        say(name)
        timings[name] = time.perf_counter()

    stage("activity")
    act = analysis.activity(model, battery, trials_per_task=trials_per_task, seed=seed)
    stage("task variance")
    tv = analysis.task_variance(act)
    ntv, units = analysis.normalize(tv)
    clusters = {}
    for method in methods:
        stage(f"clusters ({method})")
        clusters[method] = analysis.cluster_units(ntv, method=method, seed=seed, units=units)
    result = {"task_names": list(act.task_names), "tv": tv, "ntv": ntv, "units": units, "clusters": clusters,
              "settings": {"battery": battery, "trials_per_task": trials_per_task, "seed": seed, "window": "stimulus"}}
    if stability:
        result["stability"] = {}
        for method in methods:
            stage(f"stability ({method})")
            result["stability"][method] = analysis.cluster_stability(act, clusters[method], seed=seed)
        if len(methods) == 2:
            result["method_agreement"] = analysis.method_agreement(*clusters.values())
    if lesions and methods:
        stage(f"lesions ({methods[0]})")
        result["lesions"] = analysis.lesion_clusters(model, clusters[methods[0]], battery, trials_per_task, seed)
    pairs = analysis.available_pairs(act.task_names)
    if pairs:
        stage("fractional task variance")
        result["ftv_pairs"] = pairs
        result["tv_rotated"] = analysis.task_variance(analysis.rotate_activity(act, seed=seed))
    marks = sorted(timings.items(), key=lambda item: item[1]) + [("end", time.perf_counter())]
    result["seconds"] = {name: round(marks[i + 1][1] - start, 2) for i, (name, start) in enumerate(marks[:-1])}
    return result


@dataclasses.dataclass(frozen=True)
class CheckpointClusters:
    """The clusters of one kept checkpoint of a run (`cluster_history`).

    Attributes:
        step: the training step of the weights.
        clusters: the `analysis.ClusterResult` of the active units.
        stability: its `analysis.ClusterStability` (k or "no clear k"), or None
            when not measured.

    Example:

    >>> CheckpointClusters(1000, None, None).step
    1000
    """

    step: int
    clusters: object
    stability: object = None


def cluster_history(run, battery, trials_per_task=32, seed=0, method="agglomerative", stability=True, repeats=10,
                    progress=None):
    """The clusters of every checkpoint a run kept (`train --keep-checkpoints`): paper Fig. 7b.

    Args:
        run: a run folder trained with `--keep-checkpoints`.
        battery: the battery it was trained on.
        trials_per_task: evaluation trials per task (default 32; stability needs >= 4).
        seed: seed of the trials, k-means, the splits and the rotation control.
        method: "agglomerative" (the paper's ward) or "kmeans".
        stability: also measure each partition's split-half stability and
            rotation control (`analysis.cluster_stability`), so that each k
            reads as a number or "no clear k".
        repeats: split-half repeats of the stability measure.
        progress: optional `f(text)` called at each checkpoint.

    Returns:
        ([CheckpointClusters], skipped steps): steps whose network has too few
        active units to cluster (early training) are skipped and named.

    Example:

    >>> history, skipped = cluster_history("runs/d4", "modcog84")   # doctest: +SKIP
    >>> [(c.step, c.clusters.k, c.stability.clear) for c in history]  # doctest: +SKIP
    """
    kept = training.kept_checkpoints(run)
    if not kept:
        raise ValueError(
            f"Invalid value for argument `run`: {run} kept no weights over training; train it with "
            "--keep-checkpoints EVERY"
        )
    model = keras.models.load_model(folders.RunFolder(run).checkpoint, compile=False)
    history, skipped = [], []
    for step, path in kept:
        if progress:
            progress(f"step {step}")
        model.load_weights(path)
        act = analysis.activity(model, battery, trials_per_task=trials_per_task, seed=seed)
        try:
            ntv, units = analysis.normalize(analysis.task_variance(act))
            found = analysis.cluster_units(ntv, method=method, seed=seed, units=units)
        except ValueError:
            skipped.append(step)
            continue
        measured = analysis.cluster_stability(act, found, repeats=repeats, seed=seed) if stability else None
        history.append(CheckpointClusters(step, found, measured))
    return history, skipped


def clusters_over_training(run, battery, trials_per_task=32, seed=0, method="agglomerative", progress=None):
    """[(step, ClusterResult)] of the weights a run kept over training
    (`cluster_history` without the stability measure).

    Steps whose network has too few active units (early training) are left
    out of the list and named in the second return value.

    Example:

    >>> history, skipped = clusters_over_training("runs/d4", "modcog84")   # doctest: +SKIP
    """
    history, skipped = cluster_history(run, battery, trials_per_task, seed, method, stability=False, progress=progress)
    return [(c.step, c.clusters) for c in history], skipped


def _checkpoint_record(point):
    """clusters.json's entry for one checkpoint: its k, and whether that k is clear."""
    if not isinstance(point, CheckpointClusters):  # a (step, ClusterResult) pair
        point = CheckpointClusters(*point)
    entry = {"step": int(point.step), "k": int(point.clusters.k)}
    if point.stability is not None:
        entry.update(clear=point.stability.clear, verdict=point.stability.verdict(),
                     split_half_ari_mean=round(point.stability.agreement, 4))
    return entry


def clusters_record(result):
    """What clusters.json holds: per method the chosen k, the scores, labels
    and each cluster's units and preferred task."""
    names = result["task_names"]
    record = {"settings": result["settings"], "active_units": int(len(result["units"])),
              "seconds": result.get("seconds", {}), "methods": {}}
    for method, found in result["clusters"].items():
        record["methods"][method] = {
            "k": int(found.k),
            "ks": [int(k) for k in found.ks],
            "silhouette": [float(s) for s in found.scores],
            "labels": {int(u): int(c) for u, c in zip(found.units, found.labels)},
            "clusters": [
                {"cluster": c, "size": int(size), "preferred_task": names[int(found.preferred[c])],
                 "units": [int(u) for u in found.members(c)]}
                for c, size in enumerate(found.sizes)
            ],
        }
        if method in result.get("stability", {}):
            record["methods"][method]["stability"] = result["stability"][method].record()
    if "method_agreement" in result:
        record["method_agreement_ari"] = round(float(result["method_agreement"]), 4)
    if "lesions" in result:
        lesions = result["lesions"]
        record["lesions"] = {
            "method": next(iter(result["clusters"])), "metric": lesions.metric,
            "intact": dict(zip(names, map(float, lesions.intact))),
            "largest_drops": [
                {"cluster": c, "tasks": [names[t] for t in np.argsort(lesions.change[c])[:3]],
                 "change": [round(float(v), 4) for v in np.sort(lesions.change[c])[:3]]}
                for c in range(lesions.change.shape[0])
            ],
        }
    return record


def source_record(source):
    """Which weights an analysis read: {"model": source, "file", "sha256",
    "step"} for a run folder (its checkpoint and the step its state.json
    records), a .keras file (step None) or a zoo preset (its weights file;
    step: the metadata's training steps)."""
    path = pathlib.Path(source)
    step = None
    if zoo.is_preset_name(str(source)) or (path.is_dir() and (path / "metadata.json").exists()):
        file = zoo.preset_path(source) / "model.weights.h5"
        try:
            step = zoo.metadata(source).get("steps")
        except (zoo.PresetError, OSError, ValueError, AttributeError):
            step = None  # (a damaged preset is refused by the loader, in one line)
    elif path.is_dir():
        file = folders.RunFolder(path).checkpoint
        try:
            step = folders.RunFolder(path).read_state().get("step")
        except (OSError, ValueError, AttributeError):
            step = None
    else:
        file = path
    return {"model": str(source), "file": str(file), "sha256": zoo.sha256(file) if file.is_file() else None,
            "step": step}


def write(result, folder, history=None, overwrite=False):
    """Writes analysis.npz, clusters.json and the figures into `folder`.

    `folder` is an analysis folder (see `keras_lmrnn.folders`): made if missing,
    replaced only with `overwrite`. `history` is `cluster_history`'s list (or
    `clusters_over_training`'s pairs).
    """
    import io

    import matplotlib

    matplotlib.use("Agg", force=False)

    with folders.open_folder(folder, "analysis", overwrite=overwrite) as out:
        arrays = {"tv": result["tv"], "ntv": result["ntv"], "units": result["units"],
                  "task_names": np.array(result["task_names"])}
        for method, found in result["clusters"].items():
            arrays[f"labels_{method}"] = found.labels
            arrays[f"order_{method}"] = found.order
        if "lesions" in result:
            arrays["lesion_change"] = result["lesions"].change
            arrays["intact"] = result["lesions"].intact
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        folders.atomic_write(out / "analysis.npz", lambda temp: pathlib.Path(temp).write_bytes(buffer.getvalue()))
        record = clusters_record(result)
        if "source" in result:
            record["source"] = result["source"]
        if history:
            record["over_training"] = [_checkpoint_record(point) for point in history]
        folders.atomic_write_text(out / "clusters.json", json.dumps(record, indent=2) + "\n")
        figures = {f"feature_map_{method}.png": analysis.plot_feature_map(result["ntv"], found, result["task_names"])
                   for method, found in result["clusters"].items()}
        figures["silhouette.png"] = analysis.plot_silhouette(list(result["clusters"].values()))
        if "lesions" in result:
            figures["lesions.png"] = analysis.plot_lesions(result["lesions"])
        if "ftv_pairs" in result:
            figures["ftv.png"] = analysis.plot_ftv(result["tv"], result["task_names"], result["ftv_pairs"],
                                                   control=result["tv_rotated"])
        if history:
            figures["clusters_over_training.png"] = analysis.plot_clusters_over_training(history)
        for name, fig in figures.items():
            folders.atomic_write(out / name, lambda temp, fig=fig: fig.savefig(temp, dpi=100, format="png"))
    return pathlib.Path(folder)
