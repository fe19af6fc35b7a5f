import json

import numpy as np
import pytest

import keras
from keras import ops

import keras_lmrnn
from keras_lmrnn import masks
from conftest import BACKENDS, run_python

X = np.random.default_rng(1).normal(size=(3, 7, 5)).astype("float32")


def build_model(**layer_kwargs):
    inp = keras.Input((None, 5))
    hidden = keras_lmrnn.LMRNN(return_sequences=True, seed=0, **layer_kwargs)(inp)
    return keras.Model(inp, keras.layers.Dense(4, name="readout")(hidden))


def train_briefly(model):
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    model.fit(X, np.ones((3, 7, 4), "float32"), epochs=2, verbose=0)
    return model


@pytest.mark.parametrize(
    "layer_kwargs",
    [
        dict(n=25, d=1),
        dict(n=25, d=2, mask="random", mask_seed=3),
        dict(n=25, mask=masks.random_mask(25, 3, seed=9)),
    ],
    ids=["locality", "random", "array"],
)
def test_keras_file_round_trip(tmp_path, layer_kwargs):
    model = train_briefly(build_model(**layer_kwargs))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    layer = loaded.layers[1]
    assert isinstance(layer, keras_lmrnn.LMRNN)
    assert (layer.mask_array == model.layers[1].mask_array).all()
    np.testing.assert_allclose(
        ops.convert_to_numpy(loaded(X)), ops.convert_to_numpy(model(X)), atol=1e-6
    )
    # The loaded model keeps training under its mask.
    train_briefly(loaded)
    kernel = ops.convert_to_numpy(layer.cell.recurrent_kernel)
    assert (kernel[~layer.mask_array.T] == 0).all()


def test_array_mask_is_a_weight_not_config():
    mask = masks.random_mask(400, 5, seed=1)
    model = build_model(n=400, mask=mask)
    config = json.dumps(model.get_config())
    assert len(config) < 10_000
    assert '"mask": "stored"' in config


@pytest.mark.parametrize("other", BACKENDS)
def test_weights_load_under_every_other_backend(tmp_path, backend, other):
    if other == backend:
        pytest.skip("same backend")
    model = build_model(n=36, d=2, mask="random")
    model = train_briefly(model)
    model.save(tmp_path / "model.keras")
    model.save_weights(tmp_path / "model.weights.h5")
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", ops.convert_to_numpy(model(X)))
    code = f"""
import numpy as np, keras, keras_lmrnn
from keras import ops
path = {str(tmp_path)!r}
x, y = np.load(path + "/x.npy"), np.load(path + "/y.npy")
full = keras.models.load_model(path + "/model.keras")
np.testing.assert_allclose(ops.convert_to_numpy(full(x)), y, atol=1e-5)
inp = keras.Input((None, 5))
# the same arguments as the saved layer: its random mask comes from seed 0's stream
h = keras_lmrnn.LMRNN(n=36, d=2, mask="random", seed=0, return_sequences=True)(inp)
fresh = keras.Model(inp, keras.layers.Dense(4)(h))
fresh.load_weights(path + "/model.weights.h5")
np.testing.assert_allclose(ops.convert_to_numpy(fresh(x)), y, atol=1e-5)
print("ok", keras.backend.backend())
"""
    assert run_python(code, other).strip().endswith(f"ok {other}")


def recurrent_kernel_numbers(path):
    """How many numbers the weights file holds for the recurrent kernel."""
    import h5py

    with h5py.File(path) as f:
        found = []
        f.visititems(lambda name, obj: found.append(obj) if isinstance(obj, h5py.Dataset) else None)
        # the cell's variables in order: kernel, recurrent_kernel, bias
        cell = [d for d in found if "/cell/" in d.name or "lmrnn_cell" in d.name]
        return cell[1].size


@pytest.mark.parametrize(
    "layer_kwargs, whole",
    [
        (dict(n=100, d=2), False),
        (dict(n=100, d=2, mask="random"), False),
        (dict(n=100, d=0), False),
        (dict(n=100, mask="dense"), True),
        (dict(n=100, mask=masks.random_mask(100, 5, seed=9)), True),
    ],
    ids=["locality", "random", "autapse", "dense", "stored"],
)
def test_a_masked_kernel_is_saved_as_its_mask_entries(tmp_path, layer_kwargs, whole):
    model = train_briefly(build_model(**layer_kwargs))
    path = tmp_path / "model.weights.h5"
    model.save_weights(path)
    mask = model.layers[1].mask_array
    assert recurrent_kernel_numbers(path) == (mask.size if whole else mask.sum())
    fresh = build_model(**layer_kwargs)
    fresh.load_weights(path)
    for saved, loaded in zip(model.weights, fresh.weights):
        np.testing.assert_array_equal(ops.convert_to_numpy(saved), ops.convert_to_numpy(loaded))


def test_a_whole_saved_kernel_still_loads(tmp_path, monkeypatch):
    # Files written before kernels were saved by their entries hold the whole kernel.
    model = train_briefly(build_model(n=100, d=2))
    path = tmp_path / "model.weights.h5"
    with monkeypatch.context() as patch:
        patch.setattr(keras_lmrnn.LMRNNCell, "_stores_entries", lambda self: False)
        model.save_weights(path)
    assert recurrent_kernel_numbers(path) == 100 * 100
    fresh = build_model(n=100, d=2)
    fresh.load_weights(path)
    np.testing.assert_array_equal(ops.convert_to_numpy(fresh(X)), ops.convert_to_numpy(model(X)))


def test_entries_of_another_mask_are_refused(tmp_path):
    build_model(n=100, d=2).save_weights(tmp_path / "model.weights.h5")
    with pytest.raises(ValueError, match="mask entries"):
        build_model(n=100, d=3).load_weights(tmp_path / "model.weights.h5")
