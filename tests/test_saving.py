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
