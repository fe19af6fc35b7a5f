"""Figures of the analyses (matplotlib `Figure` objects, drawn without pyplot).

Example:

>>> import numpy as np
>>> from keras_lmrnn.analysis import clusters, figures
>>> ntv = np.repeat(np.eye(3), 4, axis=0)
>>> fig = figures.plot_feature_map(ntv, clusters.cluster_units(ntv, k_max=4))
"""

import numpy as np

from keras_lmrnn.analysis.clusters import ClusterResult
from keras_lmrnn.analysis.variance import _check_tv, available_pairs, fractional_task_variance

# ----------------------------------------------------------------------------
# Figures


def _figure(width, height):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _colors(count):
    from matplotlib import colormaps

    cmap = colormaps["tab20"]
    return [cmap(i % 20) for i in range(count)]


def _task_labels(task_names, count):
    if task_names is None:
        return [str(i) for i in range(count)]
    task_names = list(task_names)
    if len(task_names) != count:
        raise ValueError(
            f"Invalid value for argument `task_names`: expected {count} names (one per column). "
            f"Received: {len(task_names)}"
        )
    return task_names


def plot_feature_map(ntv, clusters, task_names=None, cmap="hot"):
    """The normalised task variance of units sorted by cluster.

    Tasks on the y axis, units on the x axis (sorted by cluster), colour
    0..1, and a coloured, numbered segment per cluster along the bottom
    (the paper's Fig. 3a, Yang et al.'s Fig. 2).

    Args:
        ntv: (units, tasks) normalised task variances, the rows that
            `clusters` labels (see `normalize`).
        clusters: the `ClusterResult` of `ntv`.
        task_names: the names of `ntv`'s columns (default: 0, 1, ...).
        cmap: a matplotlib colormap name (default "hot").

    Returns:
        A matplotlib `Figure`.

    Example:

    >>> from keras_lmrnn.analysis import cluster_units
    >>> ntv = np.repeat(np.eye(3), 4, axis=0) + 0.05 * np.random.default_rng(0).random((12, 3))
    >>> fig = plot_feature_map(ntv, cluster_units(ntv), ["go", "dm1", "dms"])
    >>> fig.savefig("feature_map.png")                          # doctest: +SKIP
    """
    from matplotlib.patches import Rectangle

    ntv = _check_tv(ntv, "ntv")
    if ntv.shape[0] != len(clusters.labels):
        raise ValueError(
            f"Invalid value for argument `clusters`: it labels {len(clusters.labels)} units, "
            f"but `ntv` has {ntv.shape[0]} rows"
        )
    names = _task_labels(task_names, ntv.shape[1])
    fig = _figure(max(6.0, min(16.0, ntv.shape[0] / 25)), max(3.0, 0.13 * len(names) + 1.5))
    grid = fig.add_gridspec(2, 2, height_ratios=[20, 1], width_ratios=[40, 1])
    ax = fig.add_subplot(grid[0, 0])
    image = ax.imshow(ntv[clusters.order].T, aspect="auto", cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names, fontsize=max(4, min(9, 400 // max(len(names), 1))))
    ax.set_xticks([])
    ax.set_title(f"Normalised task variance, {clusters.k} clusters ({clusters.method})")
    bar = fig.add_subplot(grid[1, 0], sharex=ax)
    sorted_labels = clusters.labels[clusters.order]
    colors = _colors(clusters.k)
    for c in range(clusters.k):
        where = np.flatnonzero(sorted_labels == c)
        start, width = where[0] - 0.5, len(where)
        bar.add_patch(Rectangle((start, 0), width, 1, color=colors[c]))
        bar.text(start + width / 2, 0.5, str(c + 1), ha="center", va="center", fontsize=7)
    bar.set_ylim(0, 1)
    bar.set_yticks([])
    bar.set_xlabel("Units (sorted by cluster)")
    fig.colorbar(image, cax=fig.add_subplot(grid[0, 1]), label="Normalised task variance")
    return fig


def plot_silhouette(results, labels=None):
    """Silhouette score against the number of clusters, the chosen k marked.

    Args:
        results: a `ClusterResult` or a list of them (one line each).
        labels: legend labels (default: each result's method).

    Returns:
        A matplotlib `Figure`.

    Example:

    >>> from keras_lmrnn.analysis import cluster_units
    >>> ntv = np.repeat(np.eye(3), 4, axis=0) + 0.05 * np.random.default_rng(0).random((12, 3))
    >>> agglomerative = cluster_units(ntv)
    >>> kmeans = cluster_units(ntv, "kmeans", n_init=2)
    >>> fig = plot_silhouette([agglomerative, kmeans])
    """
    results = [results] if isinstance(results, ClusterResult) else list(results)
    labels = [r.method for r in results] if labels is None else list(labels)
    fig = _figure(5, 3.5)
    ax = fig.add_subplot()
    for result, label, color in zip(results, labels, _colors(len(results) * 2)[::2]):
        ax.plot(result.ks, result.scores, "o-", ms=3, color=color, label=f"{label} (k = {result.k})")
        chosen = result.scores[list(result.ks).index(result.k)]
        ax.plot([result.k], [chosen], "*", ms=14, color=color)
    ax.set_xlabel("Number of clusters k")
    ax.set_ylabel("Silhouette score")
    ax.legend(frameon=False)
    return fig


def plot_lesions(lesions, vmin=-0.5, vmax=0.5, cmap="coolwarm"):
    """Change in performance with each cluster lesioned (tasks x clusters).

    Args:
        lesions: a `LesionResult` (see `lesion_clusters`).
        vmin: the change drawn in the colormap's lowest colour (default
            -0.5).
        vmax: the change drawn in its highest colour (default 0.5).
        cmap: a matplotlib colormap name (default "coolwarm").

    Returns:
        A matplotlib `Figure`.

    Example:

    >>> from keras_lmrnn.analysis import LesionResult
    >>> lesions = LesionResult(["go", "dm1"], np.array([1.0, 0.75]), np.array([[0.5, 0.75], [1.0, 0.25]]),
    ...                        "response_accuracy", ["readout"])
    >>> fig = plot_lesions(lesions)
    >>> fig = plot_lesions(lesion_clusters(model, clusters, "yang20"))   # doctest: +SKIP
    """
    change = lesions.change
    fig = _figure(max(4.0, 0.3 * change.shape[0] + 3), max(3.0, 0.13 * len(lesions.task_names) + 1.5))
    ax = fig.add_subplot()
    image = ax.imshow(change.T, aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_yticks(range(len(lesions.task_names)))
    ax.set_yticklabels(lesions.task_names, fontsize=max(4, min(9, 400 // len(lesions.task_names))))
    ax.set_xticks(range(change.shape[0]))
    ax.set_xticklabels([str(c + 1) for c in range(change.shape[0])], fontsize=7)
    for tick, color in zip(ax.get_xticklabels(), _colors(change.shape[0])):
        tick.set_color(color)
    ax.set_xlabel("Lesioned cluster")
    ax.set_title(f"Change in {lesions.metric.replace('_', ' ')} (intact mean {lesions.intact.mean():.3f})")
    fig.colorbar(image, ax=ax, label="Lesioned - intact")
    return fig


def plot_ftv(tv, task_names, pairs=None, control=None, bins=20):
    """Histograms of the fractional task variance of task pairs.

    Args:
        tv: (units, tasks) task variances.
        task_names: the names of `tv`'s columns.
        pairs: (task_a, task_b) pairs (default: Yang et al.'s pairs present
            in `task_names`).
        control: optional task variances of rotated activity (see
            `rotate_activity`), drawn as a grey line.
        bins: bins on [-1, 1] (default 20); bars show fractions of units.

    Returns:
        A matplotlib `Figure`.

    Example:

    >>> tv = np.random.default_rng(0).random((50, 3))
    >>> fig = plot_ftv(tv, ["dm1", "dm2", "go"])                  # Yang et al.'s pair (dm1, dm2)
    >>> control = task_variance(rotate_activity(act))                   # doctest: +SKIP
    >>> fig = plot_ftv(tv, act.task_names, control=control)            # doctest: +SKIP
    """
    pairs = available_pairs(task_names) if pairs is None else list(pairs)
    if not pairs:
        raise ValueError(
            "Invalid value for argument `pairs`: no task pair to draw (none of Yang et al.'s pairs is "
            f"among task_names {list(task_names)[:5]}...). Pass pairs=[(task_a, task_b), ...]."
        )
    cols = min(4, len(pairs))
    rows = -(-len(pairs) // cols)
    fig = _figure(3 * cols, 2.4 * rows)
    edges = np.linspace(-1, 1, bins + 1)
    for i, (a, b) in enumerate(pairs):
        ax = fig.add_subplot(rows, cols, i + 1)
        values = fractional_task_variance(tv, a, b, task_names)
        counts = np.histogram(values, edges)[0] / max(len(values), 1)
        ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="tab:blue", alpha=0.8)
        if control is not None:
            rotated = fractional_task_variance(control, a, b, task_names)
            fractions = np.histogram(rotated, edges)[0] / max(len(rotated), 1)
            ax.step(edges, np.append(fractions, fractions[-1]), where="post", color="grey", label="rotated")
        ax.set_xlim(-1, 1)
        ax.set_title(f"{a} vs {b}", fontsize=9)
        ax.set_xlabel("FTV")
        if i % cols == 0:
            ax.set_ylabel("Fraction of units")
    return fig


def _checkpoint_point(point):
    """(step, k, clear) of one entry of a cluster history."""
    if hasattr(point, "clusters"):
        return point.step, point.clusters.k, point.stability is None or point.stability.clear
    step, value = point
    return step, (value.k if isinstance(value, ClusterResult) else int(value)), True


def plot_clusters_over_training(history, label=None):
    """The chosen number of clusters at each saved checkpoint (paper Fig. 7b).

    A k whose stability was measured and found not clear ("no clear k") is
    drawn as an open marker; every other k as a filled one.

    Args:
        history: a list of `(step, k)` or `(step, ClusterResult)` pairs or of
            checkpoints with `.step`, `.clusters` and `.stability` (as
            `analysis.full.cluster_history` gives), or a dict `label -> such
            a list` for several lines.
        label: the legend label of a single list.

    Example:

    >>> fig = plot_clusters_over_training([(1000, 18), (5000, 14), (10000, 12)])
    """
    series = history if isinstance(history, dict) else {label: history}
    fig = _figure(5, 3.5)
    ax = fig.add_subplot()
    unclear_drawn = False
    for (name, points), color in zip(series.items(), _colors(len(series))):
        points = sorted((_checkpoint_point(point) for point in points), key=lambda point: point[0])
        steps = [step for step, _, _ in points]
        ks = [k for _, k, _ in points]
        ax.plot(steps, ks, "-", color=color, label=name)
        for step, k, clear in points:
            ax.plot([step], [k], "o", color=color, markerfacecolor=color if clear else "white")
            unclear_drawn = unclear_drawn or not clear
    ax.set_xlabel("Training step")
    ax.set_ylabel("Number of clusters")
    if unclear_drawn:
        ax.set_title("open marker: no clear k", fontsize=8)
    if any(name is not None for name in series):
        ax.legend(frameon=False)
    return fig
