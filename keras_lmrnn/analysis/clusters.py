"""Clustering units by their normalised task variance, and how far the
chosen number of clusters can be trusted (split-half stability, the
rotation control, agreement of the two methods).

Example:

>>> import numpy as np
>>> from keras_lmrnn.analysis import clusters
>>> ntv = np.repeat(np.eye(3), 4, axis=0) + 0.01 * np.random.default_rng(0).random((12, 3))
>>> clusters.cluster_units(ntv, k_max=5).k
3
"""

import dataclasses
import warnings

import numpy as np

from keras_lmrnn.analysis.recording import Activity
from keras_lmrnn.analysis.variance import _check_activity, _check_tv, normalize, rotate_activity, task_variance
from keras_lmrnn.validation import check_int

METHODS = ("agglomerative", "kmeans")
# A best k above this fraction of the largest k scored is "at the edge" (cluster_stability).
EDGE = 0.8

# ----------------------------------------------------------------------------
# Clustering


@dataclasses.dataclass(eq=False)
class ClusterResult:
    """Units clustered by their normalised task-variance profile.

    Attributes:
        labels: (rows,) cluster of each row of the clustered `ntv`, 0..k-1,
            numbered by preferred task (the task of the cluster's largest
            summed nTV), so that figures read like Yang et al.'s.
        k: the chosen number of clusters (best silhouette score).
        ks: the numbers of clusters of the distinct partitions scored.
        scores: their silhouette scores (Euclidean).
        order: row indices sorted by label (stable): the feature map's order.
        units: the unit index (in the layer) of each row.
        preferred: (k,) preferred task index of each cluster.
        method: "agglomerative" or "kmeans".

    Made by `cluster_units`, not by hand.

    Example:

    >>> ntv = np.repeat(np.eye(3), 4, axis=0) + 0.05 * np.random.default_rng(0).random((12, 3))
    >>> result = cluster_units(ntv, units=np.arange(100, 112))
    >>> result.k, result.sizes, result.members(0)
    (3, array([4, 4, 4]), array([100, 101, 102, 103]))
    """

    labels: np.ndarray
    k: int
    ks: np.ndarray
    scores: np.ndarray
    order: np.ndarray
    units: np.ndarray
    preferred: np.ndarray
    method: str

    def members(self, cluster):
        """The unit indices (in the layer) of one cluster."""
        if not 0 <= cluster < self.k:
            raise ValueError(
                f"Invalid value for argument `cluster`: expected 0..{self.k - 1}. Received: cluster={cluster!r}"
            )
        return self.units[self.labels == cluster]

    @property
    def clusters(self):
        """The unit indices of every cluster, a list of k arrays."""
        return [self.members(c) for c in range(self.k)]

    @property
    def sizes(self):
        """The number of units in each cluster."""
        return np.bincount(self.labels, minlength=self.k)


def cluster_units(ntv, method="agglomerative", k_max=40, seed=0, units=None, n_init=20):
    """Clusters units (rows) by their task-variance profile (columns).

    Every number of clusters k = 2..min(k_max, rows - 1) is tried and the
    partition with the best silhouette score (Euclidean) wins; ties go to
    the smaller k. Deterministic: the same call gives the same labels.

    Args:
        ntv: (units, tasks) normalised task variances of active units (see
            `normalize`).
        method: "agglomerative" (default, the paper's: scipy ward linkage,
            one partition per k by `fcluster(..., "maxclust")`, duplicate
            partitions dropped) or "kmeans" (Yang et al.: k-means with
            `n_init` restarts from `seed`).
        k_max: the largest k tried (default 40; the paper's figures show
            up to 25 modules).
        seed: the k-means seed (default 0).
        units: the unit index of each row (default 0..rows-1), e.g. the
            `units` returned by `normalize`; `members` gives these.
        n_init: k-means restarts (default 20, as Yang).

    Returns:
        A `ClusterResult`.

    Raises:
        ValueError: with fewer than 3 rows (silhouette scores need 2..rows-1
            clusters), or when no partition has two or more clusters.

    Example:

    >>> tv = np.repeat(np.eye(3), 4, axis=0) + 0.05 * np.random.default_rng(0).random((12, 3))
    >>> ntv, units = normalize(tv)
    >>> result = cluster_units(ntv, "kmeans", units=units, n_init=2)
    >>> result.k, result.clusters[0]
    (3, array([0, 1, 2, 3]))
    """
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import pdist, squareform
    from sklearn.metrics import silhouette_score

    ntv = _check_tv(ntv, "ntv")
    if method not in METHODS:
        raise ValueError(f"Invalid value for argument `method`: expected one of {METHODS}. Received: method={method!r}")
    k_max = check_int("k_max", k_max, 2)
    seed = check_int("seed", seed, 0)
    n_init = check_int("n_init", n_init, 1)
    rows = ntv.shape[0]
    if rows < 3:
        raise ValueError(
            f"Invalid value for argument `ntv`: clustering needs at least 3 active units (rows), "
            f"found {rows}. The network has too few units with task variance above the activity "
            "threshold (see `normalize`); check that the model is trained and the trials are its battery's."
        )
    if units is None:
        units = np.arange(rows)
    units = np.asarray(units, dtype=int)
    if units.shape != (rows,):
        raise ValueError(
            f"Invalid value for argument `units`: expected one unit index per row of `ntv` ({rows}). "
            f"Received: shape {units.shape}"
        )
    distances = squareform(pdist(ntv))
    tree = linkage(ntv, method="ward") if method == "agglomerative" else None
    best = {}  # number of clusters -> (score, labels)
    seen = set()
    for k in range(2, min(k_max, rows - 1) + 1):
        labels = _partition(ntv, k, tree, seed, n_init)
        key = labels.tobytes()
        found = int(labels.max()) + 1
        if key in seen or not 2 <= found <= rows - 1:
            continue
        seen.add(key)
        score = float(silhouette_score(distances, labels, metric="precomputed"))
        if found not in best or score > best[found][0]:
            best[found] = (score, labels)
    if not best:
        raise ValueError(
            f"Invalid value for argument `ntv`: its {rows} rows form fewer than 2 distinct groups "
            "(identical task-variance profiles), so no number of clusters can be scored."
        )
    ks = np.array(sorted(best))
    scores = np.array([best[k][0] for k in ks])
    k = int(ks[int(np.argmax(scores))])
    labels, preferred = _by_preferred_task(ntv, best[k][1])
    order = np.argsort(labels, kind="stable")
    return ClusterResult(labels, k, ks, scores, order, units, preferred, method)


def _partition(ntv, k, tree, seed, n_init):
    """Labels of one k: a cut of the ward tree, or k-means when `tree` is None."""
    from scipy.cluster.hierarchy import fcluster

    labels = fcluster(tree, k, criterion="maxclust") - 1 if tree is not None else _kmeans(ntv, k, seed, n_init)
    return _canonical(labels)


def _kmeans(ntv, k, seed, n_init):
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    from threadpoolctl import threadpool_limits

    # One OpenMP thread: the same labels on any machine, and on a busy CPU
    # (another job on the cores) 10-100x faster than scikit-learn's default
    # of one thread per core, measured here.
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="openmp"):
        warnings.simplefilter("ignore", ConvergenceWarning)  # duplicate rows: fewer clusters
        model = KMeans(n_clusters=k, n_init=n_init, random_state=seed, algorithm="lloyd")
        return model.fit(ntv).labels_


def _canonical(labels):
    """Labels renumbered by first appearance: equal partitions, equal arrays."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))
    return rank[inverse.ravel()].astype(int)


def _by_preferred_task(ntv, labels):
    """Renumbers clusters by preferred task (then by first row, for ties)."""
    k = int(labels.max()) + 1
    sums = np.stack([ntv[labels == c].sum(axis=0) for c in range(k)])
    preferred = sums.argmax(axis=1)
    new_order = sorted(range(k), key=lambda c: (preferred[c], c))
    mapping = np.empty(k, dtype=int)
    mapping[new_order] = np.arange(k)
    return mapping[labels], preferred[new_order]


# ----------------------------------------------------------------------------
# How far a chosen k can be trusted


@dataclasses.dataclass(eq=False)
class ClusterStability:
    """How well a chosen partition holds up, and whether its k is clear.

    Attributes:
        method: the clustering method.
        k: the partition's number of clusters.
        split_half: (repeats,) adjusted Rand index between the partitions
            (same k, same method, same units) of two disjoint halves of each
            task's trials, one value per random split: 1 for the same
            partition, about 0 for chance agreement.
        silhouette: the partition's silhouette score.
        control_silhouette: the best silhouette score of the same method on
            the rotated activity (`rotate_activity`), whose units are not
            task-specific; None when not computed.
        at_edge: whether k lies in the top fifth of the range scored (k >
            0.8 x the largest k scored, e.g. 33-40 of 2-40): with silhouette
            curves this flat, a best k there cannot be told from a curve
            still rising past the range.
        min_agreement: the split-half agreement a clear k needs.

    Made by `cluster_stability`, not by hand.

    Example:

    >>> stability = ClusterStability("agglomerative", 8, np.array([0.7, 0.8]), 0.3, 0.1, False, 0.5)
    >>> stability.clear, stability.verdict()
    (True, 'k = 8 (split-half ARI 0.75)')
    """

    method: str
    k: int
    split_half: np.ndarray
    silhouette: float
    control_silhouette: object
    at_edge: bool
    min_agreement: float

    @property
    def agreement(self):
        """Mean split-half adjusted Rand index."""
        return float(np.mean(self.split_half))

    @property
    def reasons(self):
        """Why k is not clear (empty when it is)."""
        why = []
        if self.at_edge:
            why.append("k at the top edge of the range searched")
        if self.control_silhouette is not None and self.silhouette <= self.control_silhouette:
            why.append(f"silhouette {self.silhouette:.3f} no better than the rotation control's "
                       f"{self.control_silhouette:.3f}")
        if self.agreement < self.min_agreement:
            why.append(f"split-half agreement {self.agreement:.3f} below {self.min_agreement}")
        return why

    @property
    def clear(self):
        """Whether k can be reported as a number."""
        return not self.reasons

    def verdict(self):
        """`"k = 8 (split-half ARI 0.71)"` or `"no clear k (...)"`.

        >>> ClusterStability("kmeans", 40, np.array([0.9]), 0.3, 0.1, True, 0.5).verdict()
        'no clear k (k at the top edge of the range searched)'
        """
        if self.clear:
            return f"k = {self.k} (split-half ARI {self.agreement:.2f})"
        return f"no clear k ({'; '.join(self.reasons)})"

    def record(self):
        """A JSON-ready dict."""
        return {"k": int(self.k), "clear": self.clear, "verdict": self.verdict(),
                "split_half_ari": [round(float(v), 4) for v in self.split_half],
                "split_half_ari_mean": round(self.agreement, 4), "silhouette": round(float(self.silhouette), 4),
                "control_silhouette": None if self.control_silhouette is None else round(float(self.control_silhouette), 4),
                "at_edge": bool(self.at_edge), "min_agreement": self.min_agreement}


def cluster_stability(act, result, repeats=10, seed=0, window="stimulus", control=True, k_max=40,
                      min_agreement=0.5, n_init=20):
    """Split-half stability of a partition, and its rotation control.

    Each repeat splits every task's trials at random into two disjoint
    halves, computes the task variance of each half, normalises the
    partition's units by their maximum (as `normalize`), partitions both
    halves with the same method at the same k, and scores their agreement
    by the adjusted Rand index. k is "clear" when it is not in the top fifth
    of the range searched, its silhouette beats the rotation control's best,
    and the mean agreement reaches `min_agreement`.

    Args:
        act: the `Activity` the partition was computed from (>= 2 trials
            per task and half, so >= 4 per task).
        result: a `ClusterResult` of `cluster_units` on that activity.
        repeats: random splits (default 10).
        seed: seed of the splits, of k-means and of the rotation.
        window: the task-variance window the partition used.
        control: also cluster the rotated activity (default True).
        k_max: the `k_max` the partition's search used (default 40).
        min_agreement: the split-half ARI a clear k needs (default 0.5).
        n_init: k-means restarts (default 20).

    Returns:
        A `ClusterStability`.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> gain = np.repeat(np.eye(3), 4, axis=1) + 0.1      # units 4g..4g+3 vary on task g
    >>> act = Activity(["go", "dm1", "dms"], [g * rng.standard_normal((8, 5, 12)) for g in gain],
    ...                [np.full(8, 5)] * 3, [[{"fixation": (0, 1), "decision": (1, 5)}] * 8] * 3)
    >>> ntv, units = normalize(task_variance(act))
    >>> clusters = cluster_units(ntv, units=units)
    >>> stability = cluster_stability(act, clusters, repeats=3)
    >>> stability.verdict()
    'k = 3 (split-half ARI 1.00)'
    """
    from scipy.cluster.hierarchy import linkage
    from sklearn.metrics import adjusted_rand_score

    _check_activity(act)
    repeats = check_int("repeats", repeats, 1)
    seed = check_int("seed", seed, 0)
    fewest = min(len(n) for n in act.lengths)
    if fewest < 4:
        raise ValueError(
            f"Invalid value for argument `act`: split halves need at least 4 trials per task (2 per half); "
            f"the activity has {fewest} for some task."
        )
    rng = np.random.default_rng([seed, 0x73706C74])
    agreement = []
    for _ in range(repeats):
        halves = [[], []]
        for n in act.lengths:
            order = rng.permutation(len(n))
            halves[0].append(np.sort(order[: len(n) // 2]))
            halves[1].append(np.sort(order[len(n) // 2 :]))
        labels = []
        for chosen in halves:
            part = _trials(act, chosen)
            tv = task_variance(part, window)[result.units]
            ntv = tv / np.maximum(tv.max(axis=1, keepdims=True), 1e-12)
            tree = linkage(ntv, method="ward") if result.method == "agglomerative" else None
            labels.append(_partition(ntv, result.k, tree, seed, n_init))
        agreement.append(adjusted_rand_score(*labels))
    control_score = None
    if control:
        rotated = task_variance(rotate_activity(act, seed=seed), window)
        ntv, units = normalize(rotated)
        control_score = float(cluster_units(ntv, result.method, k_max=k_max, seed=seed, units=units,
                                            n_init=n_init).scores.max())
    silhouette = float(result.scores[list(result.ks).index(result.k)])
    at_edge = result.k > EDGE * int(max(result.ks))
    return ClusterStability(result.method, int(result.k), np.array(agreement), silhouette, control_score,
                            bool(at_edge), float(min_agreement))


def method_agreement(first, second):
    """Adjusted Rand index between two partitions of the same units.

    Args:
        first: a `ClusterResult`.
        second: another `ClusterResult` of the same units (e.g. by the
            other method).

    Returns:
        The adjusted Rand index, a float: 1.0 for the same partition.

    Raises:
        ValueError: the two partitions cover different units.

    Example:

    >>> a = ClusterResult(np.array([0, 0, 1]), 2, None, None, None, np.arange(3), None, "kmeans")
    >>> method_agreement(a, a)
    1.0
    """
    from sklearn.metrics import adjusted_rand_score

    if not np.array_equal(first.units, second.units):
        raise ValueError("Invalid value for argument `second`: its partition covers other units than `first`'s.")
    return float(adjusted_rand_score(first.labels, second.labels))


def _trials(act, chosen):
    """The activity of the chosen trials of each task."""
    return Activity(act.task_names, [r[c] for r, c in zip(act.rates, chosen)],
                    [n[c] for n, c in zip(act.lengths, chosen)],
                    [[p[i] for i in c] for p, c in zip(act.periods, chosen)])
