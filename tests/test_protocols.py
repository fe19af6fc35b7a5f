"""Training protocols and their knobs (issue #11): each knob changes what it
says and nothing else; a protocol round-trips through run records."""

import json
import math
import pathlib

import keras
import numpy as np
import pytest

from keras_lmrnn import cli, devices, metrics, models, protocols, runner, training
from keras_lmrnn.tasks import TaskDataset

TINY = ["--battery", "yang20", "--steps", "4", "--seq-len", "30", "--eval-every", "2", "--trials-per-task", "2",
        "--quiet"]


def recurrent(model):
    cell = models.recurrent_layer(model).cell
    return keras.ops.convert_to_numpy(cell.recurrent_kernel), cell.mask_array.T


# --- model knobs ----------------------------------------------------------


@pytest.mark.parametrize("spec", ["lmrnn:n=36,d=2", "dense:n=36", "random:n=36,d=1", "autapse:n=36"])
def test_identity_init_is_exactly_gain_times_identity_inside_the_mask(spec):
    model = models.build_model(spec + ",init=identity", input_size=5, protocol=None)
    kernel, mask = recurrent(model)
    np.testing.assert_array_equal(kernel, models.IDENTITY_GAIN * np.eye(36) * mask)
    if not spec.startswith("random"):  # the diagonal lies inside every locality mask
        np.testing.assert_array_equal(np.diag(kernel), np.full(36, models.IDENTITY_GAIN))


def test_identity_init_changes_only_the_recurrent_kernel():
    plain = models.build_model("lmrnn:n=36,d=2,seed=3", input_size=5, protocol=None)
    identity = models.build_model("lmrnn:n=36,d=2,seed=3,init=identity", input_size=5, protocol=None)
    for a, b in zip(plain.weights, identity.weights, strict=True):
        same = np.array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
        assert same == ("recurrent_kernel" not in a.path), a.path


def test_torch_linear_init_draws_within_pytorchs_bounds():
    inputs, n = 53, 64
    model = models.build_model(f"lmrnn:n={n},d=2,seed=0,linear_init=torch", input_size=inputs, protocol=None)
    cell = models.recurrent_layer(model).cell
    readout = model.get_layer("readout")
    values = {name: keras.ops.convert_to_numpy(w) for name, w in
              [("kernel", cell.kernel), ("bias", cell.bias), ("readout", readout.kernel),
               ("readout_bias", readout.bias)]}
    a, b = 1 / math.sqrt(inputs), 1 / math.sqrt(n)
    assert np.abs(values["kernel"]).max() <= a and np.abs(values["kernel"]).max() > 0.9 * a
    assert np.abs(values["readout"]).max() <= b and np.abs(values["readout_bias"]).max() <= b
    # one bias for two nn.Linear layers: the sum of their uniform draws
    assert np.abs(values["bias"]).max() <= a + b and np.abs(values["bias"]).max() > a
    assert np.abs(values["readout_bias"]).min() >= 0 and np.abs(values["readout_bias"]).std() > 0


def test_torch_linear_init_changes_only_the_linear_weights():
    plain = models.build_model("lmrnn:n=36,d=2,seed=3", input_size=5, protocol=None)
    torch_like = models.build_model("lmrnn:n=36,d=2,seed=3,linear_init=torch", input_size=5, protocol=None)
    for a, b in zip(plain.weights, torch_like.weights, strict=True):
        same = np.array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
        assert same == ("recurrent_kernel" in a.path), a.path


def test_default_linear_init_is_the_keras_one():
    implicit = models.build_model("dense:n=16,seed=1", input_size=5, protocol=None)
    explicit = models.build_model("dense:n=16,seed=1,linear_init=keras,init=indegree", input_size=5, protocol=None)
    for a, b in zip(implicit.get_weights(), explicit.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_torch_init_model_saves_and_loads(tmp_path):
    model = models.build_model("lmrnn:n=16,d=1,seed=0,linear_init=torch,init=identity", input_size=5, protocol=None)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("spec", ["lmrnn:n=16,d=1,init=eye", "lmrnn:n=16,d=1,linear_init=pytorch"])
def test_unknown_init_values_are_refused(spec):
    with pytest.raises(ValueError, match="cannot read .*allowed: .*identity|cannot read .*allowed: keras, torch"):
        models.parse_spec(spec)


# --- training knobs -------------------------------------------------------


def test_uniform_weighting_equals_plain_cross_entropy():
    data = TaskDataset(["go", "dlygo"], batch_size=4, seq_len=40, num_batches=1, loss_weighting="uniform")
    x, y, w = data[0]
    assert (w == 1).all()
    model = models.build_model("lmrnn:n=16,d=1,seed=0", data.input_size, protocol=None)
    logits = model(x)
    plain = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    weighted = float(keras.ops.convert_to_numpy(plain(y, logits, sample_weight=w)))
    unweighted = float(keras.ops.convert_to_numpy(plain(y, logits)))
    assert weighted == pytest.approx(unweighted, rel=1e-6)
    yang = TaskDataset(["go", "dlygo"], batch_size=4, seq_len=40, num_batches=1, loss_weighting="yang")
    np.testing.assert_array_equal(yang[0][0], x)  # same trials, other weights
    assert not (yang[0][2] == 1).all()


def _update_norm(clipnorm, optimizer="sgd"):
    data = TaskDataset("yang20", batch_size=4, seq_len=30, num_batches=1, seed=0)
    model = models.build_model("dense:n=16,seed=0", data.input_size, protocol=None)
    training.compile_for_tasks(model, learning_rate=1.0, clipnorm=clipnorm, optimizer=optimizer)
    x, y, w = data[0]
    before = model.get_weights()
    model.train_on_batch(x, y * 0 + 5, sample_weight=w * 100)  # a large gradient
    return math.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(model.get_weights(), before)))


def test_clipping_bounds_the_update_norm():
    assert _update_norm(0.0) > 0.5  # unclipped: larger than the bound below
    assert _update_norm(0.5) <= 0.5 * (1 + 1e-4)
    assert _update_norm(0.5) > 0.4  # clipped to the bound, not to zero


def test_clipping_is_kept_in_the_checkpoint(tmp_path):
    out = tmp_path / "run"
    assert cli.main(["train", "--model", "dense:n=16", *TINY, "--clipnorm", "0.25", "--out", str(out)]) == 0
    loaded = keras.models.load_model(out / "checkpoint.keras")
    assert loaded.optimizer.global_clipnorm == pytest.approx(0.25)


def test_continuous_stream_joins_trials_across_batch_boundaries():
    pieces = TaskDataset("modcog84", batch_size=3, seq_len=37, num_batches=5, layout="continuous", seed=4,
                         loss_weighting="yang")
    whole = TaskDataset("modcog84", batch_size=3, seq_len=37 * 5, num_batches=1, layout="continuous", seed=4,
                        loss_weighting="yang")
    joined = [np.concatenate([pieces[i][k] for i in range(5)], axis=1) for k in range(3)]
    for a, b in zip(joined, whole[0], strict=True):
        np.testing.assert_array_equal(a, b)
    # trials really cross the boundaries: some row continues a trial (no fresh fixation start)
    x, y, w = joined
    assert pieces[1][0].shape == (3, 37, pieces.input_size)
    assert (w != 1).any()  # yang weights travel with their trial


def test_continuous_stream_is_a_pure_function_of_seed_and_index():
    def make(seed=0):
        return TaskDataset("yang20", batch_size=2, seq_len=50, num_batches=30, layout="continuous", seed=seed)

    walked = make()
    sequential = [walked[i] for i in range(30)]
    for index in (29, 3, 17, 0):  # fresh datasets, any order of access
        for a, b in zip(make()[index], sequential[index], strict=True):
            np.testing.assert_array_equal(a, b)
    assert not np.array_equal(make(seed=1)[5][1], sequential[5][1])
    rows_differ = not np.array_equal(sequential[0][0][0], sequential[0][0][1])
    assert rows_differ


def test_continuous_stream_differs_from_fresh_rows():
    fresh = TaskDataset("yang20", batch_size=2, seq_len=50, num_batches=2, layout="stream", seed=0)
    continuous = TaskDataset("yang20", batch_size=2, seq_len=50, num_batches=2, layout="continuous", seed=0)
    assert not np.array_equal(fresh[1][0], continuous[1][0])


# --- the metric -----------------------------------------------------------


def test_last_step_accuracy_on_hand_made_trials():
    y = np.array([[0, 0, 4, 4, 0], [0, 0, 7, 7, 7], [0, 0, 0, 0, 0]])
    choice = np.array([[0, 0, 9, 4, 1], [0, 0, 7, 7, 8], [0, 3, 0, 0, 0]])
    scores = np.eye(17)[choice]
    per_trial = metrics.last_step_accuracy(scores, y, last=[3, 4, 4], per_trial=True)
    np.testing.assert_array_equal(per_trial, [True, False, True])  # only the last step counts
    assert metrics.last_step_accuracy(scores, y, last=[3, 3, 4]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="`last`"):
        metrics.last_step_accuracy(scores, y, last=[3, 5, 4])


def test_evaluation_reports_the_last_step_accuracy():
    from keras_lmrnn.evaluation import EvaluationData

    data = EvaluationData(["go", "dms"], trials_per_task=3)
    model = models.build_model("lmrnn:n=16,d=1,seed=0", data.x.shape[-1], protocol=None)
    table = data.evaluate(model)
    assert all(0 <= row["last_step_accuracy"] <= 1 for row in table)
    scores = data.scores(model)
    last = data.valid[: data.rows].sum(1) - 1
    expected = metrics.last_step_accuracy(scores[:3], data.y[:3], last[:3])
    assert table[0]["last_step_accuracy"] == pytest.approx(expected)


# --- protocols --------------------------------------------------------------


def test_resolve_spec_fills_only_what_the_spec_leaves_out():
    assert protocols.resolve_spec("dense:n=400", "neurogym") == "dense:n=400,alpha=1,init=identity,linear_init=torch"
    assert protocols.resolve_spec("dense:n=400,alpha=0.5", "neurogym") == \
        "dense:n=400,alpha=0.5,init=identity,linear_init=torch"
    with pytest.raises(ValueError, match="protocol='bogus'"):
        protocols.resolve_spec("dense:n=400", "bogus")


def test_neurogym_indegree_is_neurogym_with_the_indegree_init():
    ng, chosen = protocols.get("neurogym"), protocols.get("neurogym-indegree")
    assert chosen.training == ng.training
    assert chosen.model == {**ng.model, "init": "indegree"} and ng.model["init"] == "identity"
    assert protocols.resolve_spec("lmrnn:n=400,d=6", "neurogym-indegree") == \
        "lmrnn:n=400,d=6,alpha=1,init=indegree,linear_init=torch"


@pytest.mark.parametrize("name", protocols.names())
def test_every_protocol_sets_exactly_the_protocol_model_keys(name):
    assert tuple(protocols.get(name).model) == protocols.MODEL_KEYS


def test_run_options_take_the_protocols_values_unless_given():
    options = runner.RunOptions(protocol="neurogym")
    assert (options.batch_size, options.seq_len, options.layout, options.clipnorm) == (4, 350, "continuous", 1.0)
    assert runner.RunOptions(protocol="neurogym", clipnorm=0.0).clipnorm == 0.0
    assert protocols.DEFAULT == "neurogym-indegree"
    assert runner.RunOptions().as_dict() == runner.RunOptions(protocol="neurogym-indegree", batch_size=4).as_dict()
    with pytest.raises(ValueError, match="layout"):
        runner.RunOptions(layout="rows")
    with pytest.raises(ValueError, match="clipnorm"):
        runner.RunOptions(clipnorm=-1.0)


def test_a_protocol_round_trips_through_the_run_config(tmp_path, monkeypatch):
    monkeypatch.setenv("NVIDIA_TF32_OVERRIDE", "0")
    out = tmp_path / "run"
    assert cli.main(["train", "--model", "lmrnn:n=16,d=1", "--protocol", "neurogym", *TINY, "--out", str(out)]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["protocol"] == "neurogym"
    assert config["resolved_model"] == "lmrnn:n=16,d=1,alpha=1,init=identity,linear_init=torch"
    assert config["protocol_overrides"] == {"seq_len": 30}
    assert config["device"] == devices.describe()  # where it ran: "cpu:0" or "gpu:0"
    assert config["numerics_env"]["NVIDIA_TF32_OVERRIDE"] == "0"
    options = runner.RunOptions.from_config(config)
    assert options.as_dict() == {k: config[k] for k in options.as_dict()}
    assert (options.batch_size, options.layout, options.clipnorm) == (4, "continuous", 1.0)
    model = keras.models.load_model(out / "checkpoint.keras")
    assert models.recurrent_layer(model).cell.alpha == 1.0
    assert json.loads((out / "summary.json").read_text())["protocol"] == "neurogym"


def test_resume_keeps_the_protocol_and_refuses_another(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--model", "lmrnn:n=16,d=1", "--protocol", "neurogym", *TINY, "--out", str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["train", "--resume", "--out", str(out), "--protocol", "lmrnn-v1", "--steps", "6"]) == 2
    assert "recorded with protocol=neurogym" in capsys.readouterr().err
    assert cli.main(["train", "--resume", "--out", str(out), "--steps", "6"]) == 0
    assert json.loads((out / "config.json").read_text())["batch_size"] == 4


def test_resume_refuses_a_run_its_protocol_now_builds_differently(tmp_path, capsys):
    # as if the protocol's definition had changed since the run started: its record says alpha 0.5
    out = tmp_path / "run"
    assert cli.main(["train", "--model", "lmrnn:n=16,d=1", "--protocol", "neurogym", *TINY, "--out", str(out)]) == 0
    config = json.loads((out / "config.json").read_text())
    config["resolved_model"] = config["resolved_model"].replace("alpha=1", "alpha=0.5")
    (out / "config.json").write_text(json.dumps(config))
    capsys.readouterr()
    assert cli.main(["train", "--resume", "--out", str(out), "--steps", "6"]) == 2
    err = capsys.readouterr().err
    assert "was built as lmrnn:n=16,d=1,alpha=0.5" in err and len(err.strip().splitlines()) == 1


def test_a_run_from_before_protocols_resumes_as_lmrnn_v1(tmp_path):
    out = tmp_path / "run"
    assert cli.main(["train", "--model", "lmrnn:n=16,d=1", *TINY, "--protocol", "lmrnn-v1", "--out", str(out)]) == 0
    config = json.loads((out / "config.json").read_text())
    for key in ("protocol", "layout", "loss_weighting", "clipnorm", "resolved_model", "protocol_overrides"):
        del config[key]
    (out / "config.json").write_text(json.dumps(config))
    straight = tmp_path / "straight"
    assert cli.main(["train", "--model", "lmrnn:n=16,d=1", *TINY[:3], "6", *TINY[4:], "--protocol", "lmrnn-v1",
                     "--out", str(straight)]) == 0
    assert cli.main(["train", "--resume", "--out", str(out), "--steps", "6"]) == 0  # no --protocol: the record's
    for a, b in zip(keras.models.load_model(out / "checkpoint.keras").get_weights(),
                    keras.models.load_model(straight / "checkpoint.keras").get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_unknown_protocol_is_one_line(capsys, tmp_path):
    status = cli.main(["train", "--model", "dense:n=16", *TINY, "--protocol", "paper", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert status == 2 and "--protocol" in err and "neurogym" in err and len(err.strip().splitlines()) == 1


def load_make_preset():
    import importlib.util

    path = pathlib.Path(__file__).parent.parent / "tools" / "make_preset.py"
    spec = importlib.util.spec_from_file_location("make_preset", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_make_preset_records_the_protocol():
    make_preset = load_make_preset()
    config = {"model": "lmrnn:n=16,d=1", "protocol": "neurogym", "batch_size": 4, "seq_len": 30,
              "layout": "continuous", "loss_weighting": "uniform", "clipnorm": 1.0}
    record = make_preset.protocol_record(config)
    assert record["name"] == "neurogym" and record["overrides"] == {"seq_len": 30}
    assert record["settings"]["alpha"] == 1.0 and record["settings"]["init"] == "identity"
    old = make_preset.protocol_record({"model": "dense:n=16", "batch_size": 32, "seq_len": 100})
    assert old["name"] == "lmrnn-v1" and old["overrides"] == {"batch_size": 32}


def test_a_run_equal_to_another_protocol_says_so_on_its_card():
    make_preset = load_make_preset()
    config = {"model": "lmrnn:n=16,d=1,init=indegree", "protocol": "neurogym", "batch_size": 4, "seq_len": 350,
              "layout": "continuous", "loss_weighting": "uniform", "clipnorm": 1.0}
    record = make_preset.protocol_record(config)
    assert record["overrides"] == {"init": "indegree"} and record["same_settings_as"] == ["neurogym-indegree"]
    assert "exactly the settings of protocol `neurogym-indegree`" in make_preset.protocol_text({"protocol": record})
    other = make_preset.protocol_record({**config, "seq_len": 30})
    assert other["same_settings_as"] == []
    assert "exactly" not in make_preset.protocol_text({"protocol": other})


def test_run_options_refuse_bad_values_with_the_rules_one_message():
    from keras_lmrnn.runner import RunOptions

    with pytest.raises(ValueError, match=r"argument `battery`: expected one of \['yang20', 'modcog84', 'modcog132'\]"):
        RunOptions(battery="mod99")
    with pytest.raises(ValueError, match="expected a multiple of eval_every=500. Received: keep_checkpoints=750"):
        RunOptions(keep_checkpoints=750)
    assert RunOptions(keep_checkpoints=1000).keep_checkpoints == 1000


def test_one_rule_says_what_a_resumed_run_may_change():
    recorded = {"model": "dense:n=8", "protocol": "neurogym-indegree", "steps": 10, "seed": 1}
    # steps may grow; an option not given always matches; a different value is named
    assert runner.record_mismatches(recorded, {"steps": 20, "seed": None}) == []
    assert runner.record_mismatches(recorded, {"seed": 2}) == [("seed", 2, 1)]
    # a key the record lacks takes the recorded protocol's default (batch 4 under neurogym-indegree)
    assert runner.record_mismatches(recorded, {"batch_size": 4}) == []
    assert runner.record_mismatches(recorded, {"batch_size": 64}) == [("batch_size", 64, 4)]
    # a run from before protocols ran under lmrnn-v1 (batch 64)
    assert runner.record_mismatches({"model": "dense:n=8"}, {"batch_size": 64}) == []
    with pytest.raises(runner.RunConfigError, match="invalid option"):
        runner.record_mismatches({**recorded, "batch_size": -1}, {"seed": 1})
