"""Task variance, clusters, lesions and their figures (keras_lmrnn.analysis)."""

import io
import subprocess
import sys

import keras
import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

import keras_lmrnn
from keras_lmrnn import analysis, zoo

# Planted modules: each group of units varies across trials only on its tasks.
PLANTED_TASKS = [[0, 1, 2], [3, 4, 5], [6, 7]]
UNITS_PER_GROUP = 12
DEAD_UNITS = 4


def planted_activity(seed=0, trials=16, steps=12, onset=3, noise=0.01):
    """Synthetic activity: 3 planted modules, then DEAD_UNITS silent units.

    Trials differ in length (8..steps) so that the NaN padding is used.
    """
    rng = np.random.default_rng(seed)
    tasks = 8
    units = len(PLANTED_TASKS) * UNITS_PER_GROUP + DEAD_UNITS
    rates, lengths, periods = [], [], []
    for task in range(tasks):
        n = rng.integers(8, steps + 1, size=trials)
        r = np.full((trials, steps, units), np.nan)
        signal = rng.standard_normal((trials, steps))
        for i in range(trials):
            r[i, : n[i], :] = noise * rng.standard_normal((n[i], units))
            r[i, : n[i], -DEAD_UNITS:] = 0.0
        for group, group_tasks in enumerate(PLANTED_TASKS):
            if task in group_tasks:
                cols = slice(group * UNITS_PER_GROUP, (group + 1) * UNITS_PER_GROUP)
                gain = rng.uniform(0.8, 1.2, size=UNITS_PER_GROUP)
                r[:, :, cols] += signal[:, :, None] * gain  # NaN stays NaN
        rates.append(r.astype(np.float32))
        lengths.append(n)
        periods.append([{"fixation": (0, onset), "stimulus": (onset, k)} for k in n])
    return analysis.Activity([f"task{t}" for t in range(tasks)], rates, lengths, periods)


def planted_labels():
    return np.repeat(np.arange(len(PLANTED_TASKS)), UNITS_PER_GROUP)


@pytest.fixture(scope="module")
def planted():
    act = planted_activity()
    tv = analysis.task_variance(act)
    ntv, units = analysis.normalize(tv)
    return act, tv, ntv, units


@pytest.fixture(scope="module")
def yang20_d2():
    """The yang20 d=2 preset, its activity, normalised task variance and clusters."""
    model = zoo.load("yang20_lmrnn_16x16_d2_lmrnn-v1")
    act = analysis.activity(model, "yang20", trials_per_task=32)
    ntv, units = analysis.normalize(analysis.task_variance(act))
    clusters = analysis.cluster_units(ntv, "agglomerative", units=units)
    return model, act, ntv, clusters


# --- task variance ------------------------------------------------------------


def test_task_variance_of_a_hand_made_case():
    # One unit, two trials of 3 steps, stimulus onset at step 1.
    rates = np.array([[[0.0], [1.0], [3.0]], [[0.0], [3.0], [5.0]]])
    periods = [{"fixation": (0, 1), "stimulus": (1, 3)}] * 2
    act = analysis.Activity(["go"], [rates], [np.array([3, 3])], [periods])
    # Variance across trials at steps 1 and 2: 1 and 1; at step 0: 0.
    np.testing.assert_allclose(analysis.task_variance(act, "stimulus"), [[1.0]], rtol=1e-12)
    np.testing.assert_allclose(analysis.task_variance(act, "trial"), [[2.0 / 3.0]], rtol=1e-12)
    # A step that only one trial reaches (variance 0 by definition) is left out.
    longer = np.array([[[0.0], [1.0], [3.0], [np.nan]], [[0.0], [3.0], [5.0], [100.0]]])
    periods = [{"fixation": (0, 1), "stimulus": (1, 3)}, {"fixation": (0, 1), "stimulus": (1, 4)}]
    act = analysis.Activity(["go"], [longer], [np.array([3, 4])], [periods])
    np.testing.assert_allclose(analysis.task_variance(act, "stimulus"), [[1.0]], rtol=1e-12)


def test_task_variance_equals_a_direct_numpy_computation():
    rng = np.random.default_rng(1)
    equal = rng.standard_normal((2, 7, 10, 5))  # (tasks, trials, time, units)
    periods = [{"fixation": (0, 4), "stimulus": (4, 10)}] * 7
    act = analysis.Activity(["a", "b"], list(equal), [np.full(7, 10)] * 2, [periods] * 2)
    expected = np.stack([r[:, 4:].var(axis=0).mean(axis=0) for r in equal], axis=1)
    np.testing.assert_allclose(analysis.task_variance(act), expected, rtol=1e-12)
    expected = np.stack([r.var(axis=0).mean(axis=0) for r in equal], axis=1)
    np.testing.assert_allclose(analysis.task_variance(act, "trial"), expected, rtol=1e-12)


def test_task_variance_of_unequal_trials_aligns_at_stimulus_onset():
    act = planted_activity(seed=3)
    tv = analysis.task_variance(act)
    for k in range(act.n_tasks):
        onsets, lengths, r = act.onsets(k), act.lengths[k], act.rates[k].astype(np.float64)
        per_step = []
        for t in range(max(lengths - onsets)):
            reaching = [r[i, onsets[i] + t] for i in range(len(r)) if onsets[i] + t < lengths[i]]
            if len(reaching) >= 2:
                per_step.append(np.var(reaching, axis=0))
        np.testing.assert_allclose(tv[:, k], np.mean(per_step, axis=0), rtol=1e-10)
    assert tv.shape == (act.n_units, act.n_tasks) and tv.dtype == np.float64


def test_epoch_task_variance_has_one_column_per_task_and_period(planted):
    act = planted[0]
    tv, columns = analysis.epoch_task_variance(act)
    assert columns[:2] == [("task0", "fixation"), ("task0", "stimulus")]
    assert tv.shape == (act.n_units, 2 * act.n_tasks)
    np.testing.assert_allclose(tv[:, 1::2], analysis.task_variance(act), rtol=1e-12)


def test_task_variance_refuses_a_bad_window(planted):
    with pytest.raises(ValueError, match="`window`.*'stimulus', 'trial'.*window='response'"):
        analysis.task_variance(planted[0], window="response")


# --- active units, normalisation ---------------------------------------------------


def test_dead_units_are_filtered_never_nan(planted):
    act, tv, ntv, units = planted
    live = len(PLANTED_TASKS) * UNITS_PER_GROUP
    assert tv[live:].sum() == 0.0  # the dead units
    np.testing.assert_array_equal(units, np.arange(live))
    assert np.isfinite(ntv).all()
    np.testing.assert_allclose(ntv.max(axis=1), 1.0)
    # Below the threshold counts as dead too, also with method="sum".
    tv = np.array([[0.5, 0.1], [0.0, 0.0], [2e-4, 3e-4], [0.2, 0.4]])
    for method in analysis.NORMALIZATIONS:
        ntv, units = analysis.normalize(tv, method=method)
        np.testing.assert_array_equal(units, [0, 3])
        assert np.isfinite(ntv).all()


def test_too_few_active_units_is_a_clear_error():
    ntv, units = analysis.normalize(np.array([[0.5, 0.1], [0.0, 0.0], [0.2, 0.4]]))
    for method in analysis.METHODS:
        with pytest.raises(ValueError, match="at least 3 active units.*found 2"):
            analysis.cluster_units(ntv, method, units=units)
    with pytest.raises(ValueError, match="fewer than 2 distinct groups"):
        analysis.cluster_units(np.ones((6, 3)))
    with pytest.raises(ValueError, match="`ntv`.*NaN"):
        analysis.cluster_units(np.full((6, 3), np.nan))


# --- clustering ----------------------------------------------------------------------


@pytest.mark.parametrize("method", analysis.METHODS)
def test_planted_modules_are_recovered_exactly(planted, method):
    act, tv, ntv, units = planted
    result = analysis.cluster_units(ntv, method, units=units)
    assert result.k == len(PLANTED_TASKS)
    assert adjusted_rand_score(planted_labels(), result.labels) == 1.0
    # Numbered by preferred task: module 0 prefers tasks 0-2, and so on.
    for c, group_tasks in enumerate(PLANTED_TASKS):
        assert result.preferred[c] in group_tasks
        np.testing.assert_array_equal(result.members(c), np.arange(c * 12, (c + 1) * 12))
    assert (np.diff(result.labels[result.order]) >= 0).all()
    assert result.ks[0] == 2 and result.ks[-1] <= min(40, len(units) - 1)
    assert result.scores.argmax() == list(result.ks).index(result.k)


@pytest.mark.parametrize("method", analysis.METHODS)
def test_the_same_call_twice_gives_the_same_labels(method):
    # Weak structure (uniform noise): where ties and restarts would show.
    ntv = np.random.default_rng(5).uniform(size=(60, 6))
    first = analysis.cluster_units(ntv, method, k_max=12)
    second = analysis.cluster_units(ntv, method, k_max=12)
    np.testing.assert_array_equal(first.labels, second.labels)
    np.testing.assert_array_equal(first.order, second.order)
    np.testing.assert_array_equal(first.scores, second.scores)


def test_cluster_units_refuses_bad_arguments(planted):
    ntv, units = planted[2], planted[3]
    with pytest.raises(ValueError, match="`method`.*method='ward'"):
        analysis.cluster_units(ntv, "ward")
    with pytest.raises(ValueError, match="`k_max`"):
        analysis.cluster_units(ntv, k_max=1)
    with pytest.raises(ValueError, match="`units`"):
        analysis.cluster_units(ntv, units=units[:-1])


# --- fractional task variance ----------------------------------------------------------


def test_fractional_task_variance_and_its_rotation_control(planted):
    act, tv = planted[0], planted[1]
    ftv = analysis.fractional_task_variance(tv, "task0", "task3", act.task_names)
    # Module 0 varies on task0 only, module 1 on task3 only; the rest are below threshold.
    assert len(ftv) == 2 * UNITS_PER_GROUP
    assert (np.abs(np.abs(ftv) - 1) < 0.01).all()
    rotated = analysis.task_variance(analysis.rotate_activity(act, seed=0))
    # A rotation keeps each task's total variance and mixes the modules.
    np.testing.assert_allclose(rotated.sum(axis=0), tv.sum(axis=0), rtol=1e-6)
    control = analysis.fractional_task_variance(rotated, "task0", "task3", act.task_names)
    assert np.mean(np.abs(np.abs(control) - 1) < 0.01) < 0.2
    with pytest.raises(ValueError, match="`task_b`.*task_b='nope'"):
        analysis.fractional_task_variance(tv, "task0", "nope", act.task_names)


# --- activity ----------------------------------------------------------------------------


def test_activity_of_a_user_built_model():
    tasks = ["go", "dm1", "dlydm1"]
    inputs = keras.Input((None, 33 + 20))
    hidden = keras_lmrnn.LMRNN(n=16, d=1, return_sequences=True, seed=1)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(17)(hidden))
    act = analysis.activity(model, tasks, trials_per_task=4)  # rule input: yang20 (width 53)
    assert act.task_names == tasks
    for k, r in enumerate(act.rates):
        assert r.shape[0] == 4 and r.shape[2] == 16
        for i, n in enumerate(act.lengths[k]):
            assert np.isfinite(r[i, :n]).all() and np.isnan(r[i, n:]).all()
            assert max(end for _, end in act.periods[k][i].values()) == n
        assert list(act.periods[k][0])[0] == "fixation"
        assert (act.onsets(k) == [p["fixation"][1] for p in act.periods[k]]).all()
    # The same rates as the layer itself on the same trials.
    x, *_ = keras_lmrnn.tasks.evaluation_set(tasks, 4, seed=0, rule_tasks="yang20")["dm1"]
    direct = np.asarray(keras.Model(inputs, hidden).predict(x, verbose=0))
    n = act.lengths[1]
    np.testing.assert_allclose(act.rates[1][0, : n[0]], direct[0, : n[0]], rtol=1e-5, atol=1e-6)
    # A layer that returns only its last state: every step's rates still.
    last = keras_lmrnn.LMRNN(n=16, d=1)
    other = keras.Model(inputs, keras.layers.Dense(17)(last(inputs)))
    last.set_weights(model.layers[1].get_weights())
    again = analysis.activity(other, tasks, trials_per_task=4)
    np.testing.assert_allclose(np.nan_to_num(again.rates[1]), np.nan_to_num(act.rates[1]), rtol=1e-5, atol=1e-6)


def test_activity_refuses_a_model_of_unknown_width():
    inputs = keras.Input((None, 40))
    model = keras.Model(inputs, keras_lmrnn.LMRNN(n=4, d=0, return_sequences=True)(inputs))
    with pytest.raises(ValueError, match="width 40"):
        analysis.activity(model, ["go"], trials_per_task=2)


# --- lesions ---------------------------------------------------------------------------------


def test_lesioned_units_have_no_outgoing_influence():
    inputs = keras.Input((None, 33 + 20))
    layer = keras_lmrnn.LMRNN(n=16, d=2, return_sequences=True, seed=0)
    model = keras.Model(inputs, keras.layers.Dense(17, name="readout")(layer(inputs)))
    units = np.arange(0, 16, 2)
    lesioned = analysis.lesioned_model(model, units)
    x, *_ = keras_lmrnn.tasks.evaluation_set(["go"], 4, seed=0, rule_tasks="yang20")["go"]
    before = np.asarray(lesioned.predict(x, verbose=0))
    # Change what drives the lesioned units: the output must not move.
    kernel = keras.ops.convert_to_numpy(lesioned.layers[1].cell.kernel).copy()
    kernel[:, units] += 1.0
    lesioned.layers[1].cell.kernel.assign(kernel)
    np.testing.assert_allclose(np.asarray(lesioned.predict(x, verbose=0)), before, rtol=1e-5, atol=1e-6)
    # ... whereas it moves for the intact model.
    intact = np.asarray(model.predict(x, verbose=0))
    assert np.abs(intact - before).max() > 1e-3


def test_lesion_clusters_leaves_the_callers_model_unchanged(yang20_d2):
    model, act, ntv, clusters = yang20_d2
    weights = [w.copy() for w in model.get_weights()]
    lesions = analysis.lesion_clusters(model, clusters, ["go", "dm1", "dms"], trials_per_task=4)
    assert lesions.change.shape == (clusters.k, 3) and lesions.readout_layers == ["readout"]
    assert np.abs(lesions.change).max() > 0  # the lesions did something
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)
    # An empty cluster changes nothing.
    nothing = analysis.lesion_clusters(model, [[]], ["go", "dm1"], trials_per_task=4)
    np.testing.assert_array_equal(nothing.change, 0.0)
    with pytest.raises(ValueError, match="`clusters`.*0..255"):
        analysis.lesion_clusters(model, [[300]], ["go"], trials_per_task=2)


def test_lesioning_a_cluster_hurts_the_tasks_it_varies_on(yang20_d2):
    """Yang et al.: a cluster's lesion hurts where its normalised variance is high.

    For every cluster, the mean drop on the tasks where the cluster's mean nTV
    is above its median exceeds the mean drop on the other tasks. Measured:
    smallest margin 0.09 here (0.05 on the seed-0 trials; 32 trials per task,
    agglomerative, k = 4). It also holds with 48 trials, but not for every
    cluster with 24 or 64 (the silhouette then picks k = 3 or 2, and a cluster
    of half the units hurts every task) nor with k-means (one of 4 fails).
    """
    model, act, ntv, clusters = yang20_d2
    lesions = analysis.lesion_clusters(model, clusters, "yang20", trials_per_task=32, seed=1)
    drop = -lesions.change
    assert lesions.intact.mean() > 0.85  # the preset's own: 0.92
    margins = []
    for c in range(clusters.k):
        profile = ntv[clusters.labels == c].mean(axis=0)
        high = profile > np.median(profile)
        margins.append(drop[c, high].mean() - drop[c, ~high].mean())
    assert min(margins) > 0, margins


# --- figures ---------------------------------------------------------------------------------


def test_every_analysis_figure_is_drawn(planted):
    from matplotlib.figure import Figure

    act, tv, ntv, units = planted
    agglomerative = analysis.cluster_units(ntv, "agglomerative", units=units)
    kmeans = analysis.cluster_units(ntv, "kmeans", units=units, n_init=2)
    change = -np.random.default_rng(0).uniform(0, 0.5, size=(agglomerative.k, act.n_tasks))
    lesions = analysis.LesionResult(act.task_names, np.full(act.n_tasks, 0.9), 0.9 + change,
                                    "response_accuracy", ["readout"])
    control = analysis.task_variance(analysis.rotate_activity(act))
    pairs = [("task0", "task3"), ("task1", "task2"), ("task6", "task7")]
    figures = [
        analysis.plot_feature_map(ntv, agglomerative, act.task_names),
        analysis.plot_silhouette([agglomerative, kmeans]),
        analysis.plot_lesions(lesions),
        analysis.plot_ftv(tv, act.task_names, pairs=pairs, control=control),
        analysis.plot_clusters_over_training([(1000, agglomerative), (500, 5), (2000, 3)]),
        analysis.plot_clusters_over_training({"d=2": [(1, 4), (2, 3)], "d=6": [(1, 6), (2, 5)]}),
    ]
    for fig in figures:
        assert isinstance(fig, Figure)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        assert buffer.tell() > 1000
    labels = [t.get_text() for t in figures[0].axes[0].get_yticklabels()]
    assert labels == act.task_names
    with pytest.raises(ValueError, match="`pairs`"):
        analysis.plot_ftv(tv, act.task_names)  # none of Yang's pairs among task0..task7


def _grouped_activity(groups, trials=8, steps=6, noise=0.01, seed=0):
    """Units in `groups` blocks; block g varies across trials on task g only."""
    rng = np.random.default_rng(seed)
    units = sum(groups)
    owner = np.repeat(np.arange(len(groups)), groups)
    rates = []
    for task in range(len(groups)):
        r = noise * rng.standard_normal((trials, steps, units))
        r[:, :, owner == task] += rng.standard_normal((trials, steps, int((owner == task).sum())))
        rates.append(np.abs(r))
    periods = [[{"fixation": (0, 1), "stimulus": (1, steps)}] * trials for _ in groups]
    return analysis.Activity([f"t{k}" for k in range(len(groups))], rates, [np.full(trials, steps)] * len(groups),
                             periods)


def test_a_clear_partition_is_stable_and_beats_its_control():
    act = _grouped_activity([10, 10, 10])
    ntv, units = analysis.normalize(analysis.task_variance(act))
    result = analysis.cluster_units(ntv, "agglomerative", units=units)
    assert result.k == 3
    stability = analysis.cluster_stability(act, result, repeats=4)
    assert stability.agreement > 0.9 and stability.clear
    assert stability.silhouette > stability.control_silhouette
    assert stability.verdict().startswith("k = 3 (split-half ARI")
    assert stability.record()["clear"] is True


def test_structureless_activity_reads_no_clear_k():
    rng = np.random.default_rng(1)
    act = _grouped_activity([30], trials=8)
    act = analysis.Activity(["t0", "t1", "t2"], [np.abs(rng.standard_normal((8, 6, 30))) for _ in range(3)],
                            act.lengths * 3, act.periods * 3)
    ntv, units = analysis.normalize(analysis.task_variance(act))
    result = analysis.cluster_units(ntv, "kmeans", units=units, n_init=2)
    stability = analysis.cluster_stability(act, result, repeats=4, n_init=2)
    assert not stability.clear and stability.verdict().startswith("no clear k (")


def test_stability_needs_four_trials_per_task():
    act = _grouped_activity([5, 5], trials=3)
    ntv, units = analysis.normalize(analysis.task_variance(act))
    result = analysis.cluster_units(ntv, units=units)
    with pytest.raises(ValueError, match="at least 4 trials"):
        analysis.cluster_stability(act, result)


def test_method_agreement_compares_partitions_of_the_same_units():
    act = _grouped_activity([6, 6, 6])
    ntv, units = analysis.normalize(analysis.task_variance(act))
    ward = analysis.cluster_units(ntv, "agglomerative", units=units)
    kmeans = analysis.cluster_units(ntv, "kmeans", units=units)
    assert analysis.method_agreement(ward, kmeans) == pytest.approx(1.0)
    other = analysis.cluster_units(ntv[:-1], "kmeans", units=units[:-1])
    with pytest.raises(ValueError, match="other units"):
        analysis.method_agreement(ward, other)


def test_the_package_reexports_each_jobs_module_whole_and_once():
    import importlib
    import inspect

    jobs = ("recording", "variance", "clusters", "lesions", "figures")
    owner = {}
    for job in jobs:
        module = importlib.import_module(f"keras_lmrnn.analysis.{job}")
        for name, value in vars(module).items():
            if not name.startswith("_") and (inspect.isfunction(value) or inspect.isclass(value)) \
                    and value.__module__ == module.__name__:
                assert name not in owner, f"{name} in {owner.get(name)} and {job}"
                owner[name] = job
                assert getattr(analysis, name) is value, name
    assert set(owner) <= set(analysis.__all__)
    assert {"activity", "cluster_units", "lesion_clusters", "plot_feature_map", "task_variance"} <= set(owner)
    # no job module shadows one of the package's functions (analysis.activity is the function)
    assert not set(jobs) & set(analysis.__all__) and callable(analysis.activity)


def test_the_old_module_name_still_works_with_a_warning():
    # keras_lmrnn.analyze was renamed keras_lmrnn.analysis.full (#28): a user's import keeps working
    # for a release, and says so.
    code = ("import warnings\n"
            "with warnings.catch_warnings(record=True) as caught:\n"
            "    warnings.simplefilter('always')\n"
            "    from keras_lmrnn import analyze\n"
            "from keras_lmrnn.analysis import full\n"
            "assert analyze.analyze is full.analyze and analyze.write is full.write\n"
            "print([str(w.message) for w in caught if w.category is FutureWarning])\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "keras_lmrnn.analyze is now keras_lmrnn.analysis.full" in result.stdout
