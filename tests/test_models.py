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
    model = models.build_model(spec, INPUTS, protocol=None)
    counts = models.count_weights(model)
    total = INPUTS * n + n + n * n + READOUT(n)
    assert counts["total"] == total
    assert counts["recurrent_nonzero"] == recurrent
    # biases start at zero: input kernel, allowed recurrent weights, readout kernel
    assert counts["nonzero"] == INPUTS * n + recurrent + n * 17


def test_count_weights_threshold_for_l1_models():
    model = models.build_model("l1:n=16,l1=0.01", INPUTS, protocol=None)
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
    a = models.build_model("random:n=25,d=1,seed=4", INPUTS, protocol=None)
    b = models.build_model("random:n=25,d=1,seed=4", INPUTS, protocol=None)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_matched_dense_size_follows_synapse_count():
    assert models.matched_dense_size(2500, 6) == round((2500 * 113) ** 0.5)
    assert models.matched_dense_size(400, 4) == 140  # sqrt(400 * 49)


def test_models_survive_keras_files(tmp_path):
    model = models.build_model("l1:n=16,l1=0.001", INPUTS, protocol=None)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    x = np.ones((1, 3, INPUTS), "float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x)), atol=1e-6)


@pytest.mark.parametrize(
    "spec",
    [
        "", "lstm:n=4", "lmrnn:n=16", "lmrnn:n=16,d=1,colour=3", "dense:n=many", "lmrnn:n=16,d=1,periodic=yes",
        "lmrnn:n=16,d=1,init=orthogonal",
    ],
)
def test_bad_specs_raise(spec):
    with pytest.raises(ValueError, match="Invalid model spec"):
        models.build_model(spec, INPUTS, protocol=None)


def test_uniform_init_is_a_masked_dense_draw():
    """init=uniform: U(-1/sqrt(n), 1/sqrt(n)) then masked, so a sparse row
    keeps k/n of a dense row's variance; the default equalises rows."""
    n, k = 400, 49  # 20x20 torus, d=4
    bound = 1 / np.sqrt(n)

    def kernel(spec):
        layer = models.recurrent_layer(models.build_model(spec, INPUTS, protocol=None))
        return keras.ops.convert_to_numpy(layer.cell.recurrent_kernel), layer.mask_array.T

    sparse, mask = kernel("lmrnn:n=400,d=4,init=uniform,seed=1")
    dense, _ = kernel("dense:n=400,init=uniform,seed=1")
    assert not sparse[~mask].any()
    assert np.abs(sparse).max() <= bound and np.abs(dense).max() <= bound
    # column j holds unit j's inputs (Keras stores W as (pre, post))
    # summed squares of a unit's inputs: k/(3n) for the sparse draw, 1/3 dense
    assert (sparse**2).sum(0).mean() == pytest.approx(k / (3 * n), rel=0.1)
    assert (dense**2).sum(0).mean() == pytest.approx(1 / 3, rel=0.1)
    default, _ = kernel("lmrnn:n=400,d=4,seed=1")
    assert (default**2).sum(0).mean() == pytest.approx(0.25, rel=0.1)  # gain 0.5 squared


def test_init_names_the_model():
    assert models.build_model("dense:n=16,init=uniform", INPUTS, protocol=None).name == "dense_n16_init_uniform"
    assert models.build_model("dense:n=16", INPUTS, protocol=None).name == "dense_n16"


@pytest.mark.parametrize(
    "spec, units",
    [("dense-matched:n=2500,d=6", 532), ("dense-matched:n=400,d=4", 140), ("lmrnn:n=2500,d=6", 2500), ("dense:n=676", 676)],
)
def test_memory_is_sized_by_the_recurrent_units_the_model_has(spec, units):
    # dense-matched builds a dense RNN of the matched size, not of the LM-RNN's n
    assert models.recurrent_units(spec) == units
    assert models.memory_needed(spec) == models.memory_needed(f"dense:n={units}")
    built = models.build_model(spec, 3)
    assert models.recurrent_layer(built).n == units
