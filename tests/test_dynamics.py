"""keras_lmrnn.dynamics: fixed points recovered where they are known in closed form."""

import doctest
import json

import keras
import numpy as np
import pytest

from keras_lmrnn import LMRNN, dynamics, models, zoo
from keras_lmrnn.tasks import catalogue

PRESET = "yang20_lmrnn_16x16_d2_neurogym-indegree"


def network(kernel, input_kernel, bias, alpha, activation):
    """A one-layer model whose LMRNN has exactly these weights."""
    n = kernel.shape[0]
    inputs = keras.Input((None, input_kernel.shape[0]))
    layer = LMRNN(n, mask="dense", alpha=alpha, activation=activation, return_sequences=True)
    model = keras.Model(inputs, layer(inputs))
    layer.cell.kernel.assign(input_kernel.astype("float32"))
    layer.cell.recurrent_kernel.assign(kernel.astype("float32"))
    layer.cell.bias.assign(bias.astype("float32"))
    return model


def test_a_linear_network_has_its_one_fixed_point_and_spectrum():
    rng = np.random.default_rng(1)
    kernel = rng.normal(size=(4, 4))
    kernel *= 0.8 / np.abs(np.linalg.eigvals(kernel)).max()  # stable: spectral radius 0.8
    input_kernel, bias, x = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(1, 3))
    model = network(kernel, input_kernel, bias, 0.5, "linear")
    step = dynamics.StepMap.of(model, x)
    found = dynamics.find(step, rng.normal(size=(20, 4)), steps=300)
    # h = h K + c  =>  h = c (I - K)^-1 (float32 weights: compare with what the layer holds)
    k32, c = kernel.astype("float32").astype(float), x @ input_kernel.astype("float32") + bias.astype("float32")
    exact = c @ np.linalg.inv(np.eye(4) - k32)
    assert found.points.shape == (1, 4) and found.hits.tolist() == [40]  # 20 by descent, 20 by iterating
    np.testing.assert_allclose(found.points[0], exact[0], atol=1e-6)
    expected = 0.5 + 0.5 * np.linalg.eigvals(k32)
    np.testing.assert_allclose(np.sort_complex(found.eigenvalues[0]), np.sort_complex(expected), atol=1e-6)
    assert found.stability.tolist() == ["stable"] and found.speeds[0] < 1e-20


def test_two_attractors_and_the_saddle_between_them():
    # h = relu(1 - 2 h_other): attractors (1, 0) and (0, 1), a saddle at (1/3, 1/3)
    kernel = np.array([[0.0, -2.0], [-2.0, 0.0]])
    model = network(kernel, np.zeros((1, 2)), np.ones(2), 0.5, "relu")
    rng = np.random.default_rng(0)
    starts = np.vstack([rng.uniform(0, 1.5, size=(40, 2)), [[0.3, 0.36], [0.36, 0.3]]])
    found = dynamics.find(dynamics.StepMap.of(model, np.zeros((1, 1))), starts, steps=500)
    order = np.lexsort(found.points.T[::-1])
    points, stability = found.points[order], found.stability[order]
    np.testing.assert_allclose(points, [[0, 1], [1 / 3, 1 / 3], [1, 0]], atol=1e-6)
    assert stability.tolist() == ["stable", "unstable", "stable"]
    # Jacobian at the saddle: 0.5 I + 0.5 * [[0, -2], [-2, 0]] -> eigenvalues 1.5 and -0.5
    np.testing.assert_allclose(sorted(found.eigenvalues[order][1].real), [-0.5, 1.5], atol=1e-6)
    np.testing.assert_allclose(found.eigenvalues[order][0], [0.5, 0.5], atol=1e-6)
    assert found.hits.sum() == 2 * len(starts)


@pytest.fixture(scope="module")
def preset():
    return zoo.load(PRESET)


def test_a_preset_twice_gives_the_same_points(preset):
    kwargs = dict(rule_tasks="yang20", initial_states=24, trials_per_task=4, steps=200, newton=2)
    first = dynamics.fixed_points(preset, ["go", "dm1"], **kwargs)
    second = dynamics.fixed_points(preset, ["go", "dm1"], **kwargs)
    assert len(first.points) > 0
    np.testing.assert_array_equal(first.points, second.points)
    np.testing.assert_array_equal(first.tasks, second.tasks)
    assert set(first.stability) <= set(dynamics.STABILITIES)
    assert (first.speeds <= 1e-4).all() and first.settings["period"] == "fixation"
    assert first.hits.sum() + first.settings["end_points_dropped"] == first.settings["end_points"] == 96
    record = dynamics.record(first)
    assert sum(entry["count"] for entry in record["tasks"].values()) == len(first.points)


def test_a_dead_network_is_refused():
    width = catalogue.make("go").observation_space.shape[0] + len(catalogue.names("yang20"))
    model = models.build_model("dense:n=4", input_size=width)
    for weight in model.weights:
        weight.assign(np.zeros(weight.shape, "float32"))
    with pytest.raises(ValueError, match="dead network"):
        dynamics.fixed_points(model, ["go"], rule_tasks="yang20", initial_states=4, trials_per_task=2, steps=1)


def test_diverged_weights_are_refused():
    model = network(np.full((2, 2), np.nan), np.zeros((1, 2)), np.zeros(2), 0.5, "relu")
    with pytest.raises(ValueError, match="not finite"):
        dynamics.StepMap.of(model, np.zeros((1, 1)))


def test_bad_arguments_name_themselves(preset):
    with pytest.raises(ValueError, match="`period`.*'delay'"):
        dynamics.fixed_points(preset, ["go"], rule_tasks="yang20", period="delay", initial_states=2,
                              trials_per_task=2, steps=1)
    step = dynamics.StepMap(np.zeros((2, 2)), np.zeros((1, 2)), 0.5, "relu")
    with pytest.raises(ValueError, match="`states`"):
        dynamics.find(step, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="`rows`"):
        dynamics.find(step, np.zeros((3, 2)), rows=[0, 0, 1])
    with pytest.raises(ValueError, match="`alpha`"):
        dynamics.StepMap(np.zeros((2, 2)), np.zeros((1, 2)), 0.0, "relu")


def test_write_makes_a_dynamics_folder(preset, tmp_path):
    found = dynamics.fixed_points(preset, ["go"], rule_tasks="yang20", initial_states=8, trials_per_task=2,
                                  steps=50, newton=1, max_speed=None)
    out = dynamics.write(found, tmp_path / "fp", source={"model": PRESET})
    assert {p.name for p in out.iterdir() if not p.name.startswith(".")} == set(dynamics.FILES)
    record = json.loads((out / "fixed_points.json").read_text())
    assert record["tasks"]["go"]["count"] == len(found.points) and record["source"]["model"] == PRESET
    with np.load(out / "fixed_points.npz") as arrays:
        np.testing.assert_array_equal(arrays["points"], found.points)
    with pytest.raises(Exception, match="exists|overwrite"):
        dynamics.write(found, out)


def test_the_examples_run():
    result = doctest.testmod(dynamics, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 3 and result.failed == 0


def test_the_command_line_writes_and_reports(capsys, tmp_path):
    from keras_lmrnn import cli

    out = tmp_path / "fp"
    status = cli.main(["fixed-points", PRESET, "--tasks", "go", "dm1", "--out", str(out), "--initial-states", "16",
                       "--trials-per-task", "2", "--steps", "100"])
    text, err = capsys.readouterr()
    assert status == 0, err
    record = json.loads((out / "fixed_points.json").read_text())
    assert list(record["tasks"]) == ["go", "dm1"] and record["source"]["model"] == PRESET
    for task, entry in record["tasks"].items():
        assert f"{task}: {entry['count']} points ({entry['stable']} stable" in text
    # bad input: one line, status 2, nothing written
    for args, words in ((["--tasks", "nosuchtask"], "nosuchtask"), (["--tasks", "go", "--period", "delay"], "period")):
        status = cli.main(["fixed-points", PRESET, *args, "--out", str(tmp_path / "bad"), "--steps", "1",
                           "--initial-states", "2", "--trials-per-task", "2"])
        assert status == 2 and words in capsys.readouterr().err
        assert not (tmp_path / "bad").exists()


def test_the_command_line_defaults_are_the_functions():
    import inspect

    from keras_lmrnn import cli

    args = cli.make_parser().parse_args(["fixed-points", PRESET, "--tasks", "go", "--out", "x"])
    defaults = {**inspect.signature(dynamics.fixed_points).parameters, **inspect.signature(dynamics.find).parameters}
    for name in ("period", "initial_states", "trials_per_task", "seed", "steps"):
        assert getattr(args, name) == defaults[name].default, name
