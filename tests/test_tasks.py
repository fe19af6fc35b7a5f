import numpy as np
import pytest

from keras_lmrnn import tasks
from keras_lmrnn.tasks import catalogue

ALL = tasks.names("modcog132")
TRIALS = 25
STEP = {"l": -1, "r": +1}


def draw(name, n=TRIALS, seed=0, **overrides):
    env = tasks.make(name, seed=seed, **overrides)
    out = []
    for _ in range(n):
        info = env.new_trial()
        out.append((env.ob.copy(), env.gt.copy(), info))
    return out


@pytest.fixture(scope="module", params=ALL)
def task_trials(request):
    return request.param, draw(request.param)


def test_shapes_dtypes_and_target_range(task_trials):
    name, trials = task_trials
    for ob, gt, info in trials:
        assert ob.dtype == np.float32 and ob.ndim == 2 and ob.shape[1] == 33
        assert np.issubdtype(gt.dtype, np.integer) and gt.shape == (ob.shape[0],)
        assert gt.min() >= 0 and gt.max() <= 16
        assert info["task"] == name


def test_fixation_input_is_the_go_cue(task_trials):
    _, trials = task_trials
    for ob, gt, info in trials:
        start, end = info["response"]
        assert end == len(gt) and 0 < start < end
        assert (ob[:start, 0] == 1).all()
        assert (ob[start:, 0] == 0).all()


def test_targets_fixate_outside_the_response(task_trials):
    _, trials = task_trials
    for ob, gt, info in trials:
        start, _ = info["response"]
        assert (gt[:start] == 0).all()
        if info["answer"] is None:  # no-go
            assert (gt == 0).all()
        else:
            assert (gt[start:] > 0).all()
            assert gt[start] == info["answer"] + 1


def test_stimulus_appears_before_or_with_the_response(task_trials):
    _, trials = task_trials
    for ob, _, info in trials:
        assert np.abs(ob[:, 1:]).max() > 0.3


INTERVAL = [t for t in ALL if catalogue.spec(t).interval]
SEQUENCE = [t for t in ALL if catalogue.spec(t).sequence]


@pytest.mark.parametrize("name", INTERVAL)
def test_int_rotates_the_answer_by_the_delay(name):
    direction = STEP[catalogue.spec(name).interval]
    trials = draw(name, n=60)
    delays = {info["delay"] for *_, info in trials}
    assert len(delays) > 3 and delays <= set(range(0, 1200, 100))
    went = 0
    for ob, gt, info in trials:
        shift = direction * int(info["delay"] // 100)
        assert info["rotation"] == shift
        assert info["periods"]["delay"] * 100 == info["delay"]
        if info["base_answer"] is None:
            assert info["answer"] is None and (gt == 0).all()
            continue
        went += 1
        assert info["answer"] == (info["base_answer"] + shift) % 16
    assert went > 0


@pytest.mark.parametrize("name", ["dlygo_intr", "dms_intl"])
def test_int_does_not_move_the_stimulus(name):
    for ob, gt, info in draw(name, n=20):
        if info.get("stimulus_position") is not None:
            a = info["periods"]["fixation"]
            assert ob[a, 1:].reshape(2, 16).max(axis=0).argmax() == info["stimulus_position"]


@pytest.mark.parametrize("name", SEQUENCE)
def test_seq_target_drifts_one_position_per_100ms(name):
    direction = STEP[catalogue.spec(name).sequence]
    for ob, gt, info in draw(name):
        start, end = info["response"]
        assert end - start == 10  # 1000 ms at dt = 100
        if info["answer"] is None:
            continue
        response = gt[start:]
        assert (response >= 1).all() and (response <= 16).all()
        expected = (info["answer"] + direction * np.arange(end - start)) % 16 + 1
        np.testing.assert_array_equal(response, expected)


def test_seq_wraps_around_without_fixating():
    env = tasks.make("go_seqr", seed=0)
    info = env.new_trial(answer=14)
    start = info["response"][0]
    np.testing.assert_array_equal(env.gt[start : start + 4], [15, 16, 1, 2])
    env = tasks.make("go_seql", seed=0)
    info = env.new_trial(answer=1)
    np.testing.assert_array_equal(env.gt[start : start + 4], [2, 1, 16, 15])


def test_seq_drift_follows_time_not_steps():
    env = tasks.make("go_seqr", seed=0, dt=50)
    info = env.new_trial(answer=0)
    start, end = info["response"]
    assert end - start == 20
    np.testing.assert_array_equal(env.gt[start : start + 6], [1, 1, 2, 2, 3, 3])


def test_dmc_categories_split_the_ring_once():
    trials = draw("dmc", n=200)
    for *_, info in trials:
        same = (info["sample"] // 8) == (info["test"] // 8)
        assert same == info["match"]


def test_anti_answers_opposite_the_stimulus():
    for *_, info in draw("anti", n=20):
        assert (info["stimulus_position"] - info["base_answer"]) % 16 == 8


def test_go_keeps_the_stimulus_but_dlygo_does_not():
    ob_go = draw("go", n=1)[0]
    ob_dly = draw("dlygo", n=1)[0]
    assert np.abs(ob_go[0][-1, 1:]).max() > 0.5
    assert np.abs(ob_dly[0][-1, 1:]).max() == 0
    assert ob_dly[2]["periods"]["delay"] > 0


def test_batteries_have_the_documented_order():
    yang, mod84, mod132 = (tasks.names(b) for b in ("yang20", "modcog84", "modcog132"))
    assert (len(yang), len(set(mod84)), len(set(mod132))) == (20, 84, 132)
    assert yang[:6] == ["go", "rtgo", "dlygo", "anti", "rtanti", "dlyanti"]
    assert yang[-4:] == ["dms", "dnms", "dmc", "dnmc"]
    assert mod84[:20] == yang and mod132[:84] == mod84
    assert mod84[20:22] == ["go_intl", "go_intr"]
    assert mod84[44:46] == ["go_seql", "go_seqr"]
    assert mod132[84:88] == ["go_intl_seql", "go_intl_seqr", "go_intr_seql", "go_intr_seqr"]
    assert sum("_int" in t for t in mod84) == 24 and sum("_seq" in t for t in mod84) == 40


@pytest.mark.parametrize(
    "alias, name",
    [
        ("DlyGo_IntL_SeqR", "dlygo_intl_seqr"),
        ("dlygointl", "dlygo_intl"),
        ("goseqr", "go_seqr"),
        ("CtxDlyDM1_IntR", "ctxdlydm1_intr"),
        ("DNMC", "dnmc"),
    ],
)
def test_aliases_resolve(alias, name):
    assert tasks.resolve(alias) == name
    assert tasks.make(alias).name == name


def test_unknown_task_suggests_close_names():
    with pytest.raises(ValueError, match="dlygo_intl") as info:
        tasks.make("dlygo_intll")
    assert "Did you mean" in str(info.value)


def test_environment_is_seeded():
    a = draw("multidlydm_intr_seql", n=5, seed=3)
    b = draw("multidlydm_intr_seql", n=5, seed=3)
    c = draw("multidlydm_intr_seql", n=5, seed=4)
    for (oa, ga, _), (ob_, gb, _) in zip(a, b):
        np.testing.assert_array_equal(oa, ob_)
        np.testing.assert_array_equal(ga, gb)
    assert any(oa.shape != oc.shape or not np.array_equal(oa, oc) for (oa, _, _), (oc, _, _) in zip(a, c))


def test_overrides_win_over_catalogue_and_extensions():
    env = tasks.make("dlygo_intr_seql", dt=50, timing={"delay": 300, "decision": 600})
    info = env.new_trial()
    assert info["delay"] == 300 and info["rotation"] == 3
    assert info["response"][1] - info["response"][0] == 12
    assert tasks.make("go", dim_ring=8).observation_space.shape == (17,)


def test_env_runs_the_gymnasium_loop():
    env = tasks.make("dms_seqr", seed=0)
    ob, _ = env.reset(seed=0)
    assert ob.shape == (33,)
    for _ in range(50):
        ob, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert "gt" in info and ob.shape == (33,)


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: tasks.names("mod84"), "battery='mod84'"),
        (lambda: tasks.make("go", dt=0), "dt=0"),
        (lambda: tasks.make("go", dt=-100), "dt=-100"),
        (lambda: tasks.make("rtgo", interval="r"), "interval='r'"),
        (lambda: tasks.make("go", sequence="up"), "sequence='up'"),
        (lambda: tasks.make("go", timing={"delya": 100}), "delya"),
        (lambda: tasks.make("go", timing={"delay": "long"}), "'long'"),
    ],
)
def test_bad_task_arguments_raise(call, words):
    with pytest.raises(ValueError) as info:
        call()
    assert words in str(info.value)


def test_plot_trial_draws_a_figure():
    import matplotlib

    matplotlib.use("Agg")
    fig = tasks.plot_trial("dlygo_intl_seqr", seed=2)
    assert len(fig.axes) == 4
    assert "dlygo_intl_seqr" in fig.axes[0].get_title()


# reset(seed=s) follows gymnasium's contract: it reseeds the task as seed(s).
RESET_TASKS = ["go_intl_seqr", "ctxdlydm1_intr", "multidm", "dnms_intr", "dmc_seql"]


def after_reset(env, seed=None, trials=3):
    """The reset's observation, then (ob, gt, info) of its trial and the next ones."""
    first, _ = env.reset(seed=seed)
    out = [(env.ob.copy(), env.gt.copy(), env.trial)]
    for _ in range(trials - 1):
        info = env.new_trial()
        out.append((env.ob.copy(), env.gt.copy(), info))
    return first, out


def same(a, b):
    (first_a, trials_a), (first_b, trials_b) = a, b
    return np.array_equal(first_a, first_b) and all(
        oa.shape == ob_.shape and np.array_equal(oa, ob_) and np.array_equal(ga, gb) and ia == ib
        for (oa, ga, ia), (ob_, gb, ib) in zip(trials_a, trials_b)
    )


@pytest.mark.parametrize("name", RESET_TASKS)
def test_reset_with_a_seed_repeats_the_trials(name):
    env = tasks.make(name, seed=0)
    a = after_reset(env, seed=7)
    for _ in range(5):  # move the generator on
        env.new_trial()
    assert same(a, after_reset(env, seed=7))
    # Whatever seed the env was made with.
    assert same(a, after_reset(tasks.make(name, seed=1), seed=7))


@pytest.mark.parametrize("name", RESET_TASKS)
def test_reset_with_another_seed_gives_other_trials(name):
    a = after_reset(tasks.make(name, seed=0), seed=7)
    b = after_reset(tasks.make(name, seed=0), seed=8)
    assert not same(a, b)


@pytest.mark.parametrize("name", RESET_TASKS)
def test_reset_with_a_seed_is_seed_then_reset(name):
    env = tasks.make(name, seed=0)
    env.new_trial()
    env.seed(11)
    expected = after_reset(env)
    assert same(after_reset(tasks.make(name, seed=0), seed=11), expected)


def test_reset_without_a_seed_goes_on():
    env = tasks.make("dmc_seql", seed=0)
    a = after_reset(env, seed=7)
    b = after_reset(env)  # draws on from the generator, does not rewind
    assert not same(a, b)
    other = tasks.make("dmc_seql", seed=1)
    other.reset(seed=7)
    other.new_trial()
    other.new_trial()  # the three trials of `a`
    assert same(b, after_reset(other))
