"""Task variance, unit clusters and cluster lesions of a trained network.

The analyses of Yang et al. (2019) and of the LM-RNN paper (Khona et al.
2022, section 2.3, Fig. 3, Fig. 7b, appendix B), written from their
definitions (see the project's ANALYSIS.md):

1. `activity`: hidden rates (after the nonlinearity, noise off) of the
   model's `LMRNN` layer on the battery's seeded evaluation trials, with each
   trial's period boundaries.
2. `task_variance`: `TV[i, a]`, the variance of unit i's rate across trials
   of task a at each time step (ddof 0), averaged over the time steps of a
   window (from stimulus onset to the end of the trial, Yang's choice, or
   the whole trial); `epoch_task_variance` gives one column per task period.
3. `normalize`: drops inactive units (`TV.sum(axis=1) <= 1e-3`) and scales
   each remaining unit's profile by its maximum.
4. `cluster_units`: ward agglomerative clustering (the paper) or k-means
   (Yang), the number of clusters chosen by the best silhouette score.
5. `lesion_clusters`: per-task performance with each cluster's outgoing
   weights (recurrent and readout) zeroed, against the intact model.
6. `fractional_task_variance` of task pairs, and `rotate_activity`, the
   control that rotates the population activity by a random orthogonal
   matrix first.

Trials of one task differ in length (random fixation and delays), so they
are aligned (at stimulus onset, trial start or period start) and padded with
NaN; variances use only the trials that reach a time step, and time steps
reached by fewer than two trials are left out of the mean.

Figures (matplotlib `Figure` objects, drawn without pyplot): `plot_feature_map`,
`plot_silhouette`, `plot_lesions`, `plot_ftv`, `plot_clusters_over_training`.

The package has one module per job, and each of their public names is also
importable from here: `recording` (`activity`, the rates), `variance`
(statistics: task variance, normalisation, fractional task variance, the
rotation control), `clusters` (clustering and its stability), `lesions`,
`figures`.

Example:

>>> from keras_lmrnn import analysis, zoo
>>> model = zoo.load("yang20_lmrnn_16x16_d2_lmrnn-v1")
>>> act = analysis.activity(model, "yang20", trials_per_task=32)
>>> tv = analysis.task_variance(act)                 # (256 units, 20 tasks)
>>> ntv, units = analysis.normalize(tv)               # active units only
>>> clusters = analysis.cluster_units(ntv, units=units)
>>> clusters.k, clusters.members(0)[:3]               # doctest: +SKIP
>>> lesions = analysis.lesion_clusters(model, clusters, "yang20")
>>> fig = analysis.plot_feature_map(ntv, clusters, act.task_names)
"""

from keras_lmrnn.analysis.recording import (  # noqa: F401
    Activity,
    WINDOWS,
    activity,
    rule_tasks_of,
)
from keras_lmrnn.analysis.variance import (  # noqa: F401
    ACTIVE_THRESHOLD,
    NORMALIZATIONS,
    YANG_FTV_PAIRS,
    active_units,
    available_pairs,
    epoch_task_variance,
    fractional_task_variance,
    normalize,
    rotate_activity,
    task_variance,
)
from keras_lmrnn.analysis.clusters import (  # noqa: F401
    EDGE,
    METHODS,
    ClusterResult,
    ClusterStability,
    cluster_stability,
    cluster_units,
    method_agreement,
)
from keras_lmrnn.analysis.lesions import (  # noqa: F401
    LesionResult,
    lesion_clusters,
    lesioned_model,
)
from keras_lmrnn.analysis.figures import (  # noqa: F401
    plot_clusters_over_training,
    plot_feature_map,
    plot_ftv,
    plot_lesions,
    plot_silhouette,
)

__all__ = [
    "ACTIVE_THRESHOLD",
    "active_units",
    "Activity",
    "activity",
    "available_pairs",
    "cluster_stability",
    "cluster_units",
    "ClusterResult",
    "ClusterStability",
    "EDGE",
    "epoch_task_variance",
    "fractional_task_variance",
    "lesion_clusters",
    "lesioned_model",
    "LesionResult",
    "method_agreement",
    "METHODS",
    "NORMALIZATIONS",
    "normalize",
    "plot_clusters_over_training",
    "plot_feature_map",
    "plot_ftv",
    "plot_lesions",
    "plot_silhouette",
    "rotate_activity",
    "rule_tasks_of",
    "task_variance",
    "WINDOWS",
    "YANG_FTV_PAIRS",
]
