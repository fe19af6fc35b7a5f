import numpy as np
import pytest

import keras

from keras_lmrnn import models

INPUTS = 10
READOUT = lambda n: n * 17 + 17  # noqa: E731


@pytest.mark.parametrize(
    "spec, n, recurrent",
    [
        ("lmrnn:n=16,d=1", 16, 16 * 5),
        ("random:n=16,d=1", 16, 16 * 5),
        ("autapse:n=16", 16, 16),
        ("dense:n=16", 16, 256),
        ("dense-matched:n=16,d=1", 9, 81),  # sqrt(16 * 5) = 8.9 -> 9 units
        ("l1:n=16,l1=0.01", 16, 256),
        ("lmrnn:n=24,d=1,sheet=4x6,periodic=0", 24, 24 * 5 - 2 * (4 + 6)),
    ],
)
def test_weight_counts_match_hand_computed_values(spec, n, recurrent):
    model = models.build_model(spec, INPUTS)
    counts = models.count_weights(model)
    total = INPUTS * n + n + n * n + READOUT(n)
    assert counts["total"] == total
    assert counts["recurrent_nonzero"] == recurrent
    # biases start at zero: input kernel, allowed recurrent weights, readout kernel
    assert counts["nonzero"] == INPUTS * n + recurrent + n * 17


def test_count_weights_threshold_for_l1_models():
    model = models.build_model("l1:n=16,l1=0.01", INPUTS)
    kernel = models.recurrent_layer(model).cell.recurrent_kernel
    values = np.full((16, 16), 1e-5, "float32")
    values[:4] = 0.5
    kernel.assign(values)
    assert models.count_weights(model)["recurrent_nonzero"] == 256
    assert models.count_weights(model, threshold=1e-3)["recurrent_nonzero"] == 64
    assert len(model.losses) == 1


def test_builders_give_logits_per_step():
    model = models.build_lmrnn(INPUTS, n=25, d=2, seed=0)
    out = model(np.zeros((2, 7, INPUTS), "float32"))
    assert tuple(out.shape) == (2, 7, 17)
    assert models.recurrent_layer(model).d == 2


def test_seeded_builders_are_reproducible():
    a = models.build_model("random:n=25,d=1,seed=4", INPUTS)
    b = models.build_model("random:n=25,d=1,seed=4", INPUTS)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_matched_dense_size_follows_synapse_count():
    assert models.matched_dense_size(2500, 6) == round((2500 * 113) ** 0.5)
    assert models.matched_dense_size(400, 4) == 140  # sqrt(400 * 49)


def test_models_survive_keras_files(tmp_path):
    model = models.build_model("l1:n=16,l1=0.001", INPUTS)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    x = np.ones((1, 3, INPUTS), "float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x)), atol=1e-6)


@pytest.mark.parametrize(
    "spec",
    ["", "lstm:n=4", "lmrnn:n=16", "lmrnn:n=16,d=1,colour=3", "dense:n=many", "lmrnn:n=16,d=1,periodic=yes"],
)
def test_bad_specs_raise(spec):
    with pytest.raises(ValueError, match="Invalid model spec"):
        models.build_model(spec, INPUTS)
