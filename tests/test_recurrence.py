"""The fused and sparse recurrences equal the step-by-step loop (issue #24)."""

import os

import numpy as np
import pytest

import keras
from keras import ops

from keras_lmrnn import LMRNN, recurrence

MASKS = {  # name -> LMRNN mask arguments, all on a 20 x 20 sheet
    "dense": {"mask": "dense"},
    "locality": {"d": 1.5},
    "random": {"mask": "random", "d": 1.5},
    "autapse": {"d": 0},
}
PATHS = {"dense": ("fused",), "locality": ("fused", "sparse"),
         "random": ("fused",), "autapse": ("fused", "sparse")}
N = 400


def data(batch=3, steps=11, features=5, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, steps, features)).astype("float32")
    y = rng.normal(size=(batch, steps, N)).astype("float32")
    return x, y


def layer(recurrence_, **kwargs):
    return LMRNN(n=N, seed=3, return_sequences=True, recurrence=recurrence_, **kwargs)


def loss_and_gradients(rnn, x, y, training=False, initial_state=None):
    """The loss sum((rnn(x) * y)) and its gradients, by the backend's autodiff."""
    backend = keras.backend.backend()
    if not rnn.built:
        rnn(x) if initial_state is None else rnn(x, initial_state=initial_state)
    weights = rnn.trainable_weights
    if backend == "jax":
        import jax

        def loss(values):
            mapping = list(zip(weights, values))
            with keras.StatelessScope(state_mapping=mapping):
                out = rnn(x, training=training, initial_state=initial_state)
            return (out * y).sum()

        value, grads = jax.value_and_grad(loss)([w.value for w in weights])
        return float(value), [np.asarray(g) for g in grads]
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = tf.reduce_sum(rnn(x, training=training, initial_state=initial_state) * y)
        grads = tape.gradient(value, [w.value for w in weights])
        return float(value), [g.numpy() for g in grads]
    for w in weights:
        w.value.grad = None
    value = (rnn(x, training=training, initial_state=initial_state) * ops.convert_to_tensor(y)).sum()
    value.backward()
    return float(value), [w.value.grad.cpu().numpy() for w in weights]


def relative_error(a, b):
    return float(np.abs(a - b).max() / (np.abs(b).max() + 1e-30))


@pytest.mark.parametrize("alpha", [1.0, 0.3])
@pytest.mark.parametrize("mask", list(MASKS))
def test_fast_paths_equal_the_step_loop(mask, alpha):
    x, y = data()
    reference = layer("step", alpha=alpha, **MASKS[mask])
    ref_loss, ref_grads = loss_and_gradients(reference, x, y)
    kernel_mask = reference.mask_array.T
    for path in PATHS[mask]:
        rnn = layer(path, alpha=alpha, **MASKS[mask])
        assert rnn.path(3, 11) == path
        value, grads = loss_and_gradients(rnn, x, y)
        assert abs(value - ref_loss) <= 1e-5 * abs(ref_loss), (path, value, ref_loss)
        for g, r, w in zip(grads, ref_grads, rnn.trainable_weights):
            assert relative_error(g, r) < 1e-5, (path, w.name)
        recurrent = grads[[w.name for w in rnn.trainable_weights].index("recurrent_kernel")]
        assert not recurrent[~kernel_mask].any()  # a forbidden synapse gets no gradient


@pytest.mark.parametrize("path", ["fused", "sparse"])
def test_noise_initial_state_and_return_state(path):
    x, y = data()
    h0 = np.random.default_rng(1).normal(size=(3, N)).astype("float32") * 0.1
    kwargs = dict(d=1.5, alpha=0.5, recurrent_noise=0.3)
    reference = layer("step", **kwargs)
    rnn = layer(path, **kwargs)
    ref_loss, ref_grads = loss_and_gradients(reference, x, y, training=True, initial_state=[h0])
    value, grads = loss_and_gradients(rnn, x, y, training=True, initial_state=[h0])
    assert abs(value - ref_loss) <= 1e-5 * abs(ref_loss)
    for g, r in zip(grads, ref_grads):
        assert relative_error(g, r) < 1e-5
    for return_sequences in (True, False):
        a = LMRNN(n=N, d=1.5, seed=3, recurrence=path, return_state=True,
                  return_sequences=return_sequences)(x, initial_state=[h0])
        b = LMRNN(n=N, d=1.5, seed=3, recurrence="step", return_state=True,
                  return_sequences=return_sequences)(x, initial_state=[h0])
        assert len(a) == len(b) == 2
        for u, v in zip(a, b):
            np.testing.assert_allclose(ops.convert_to_numpy(u), ops.convert_to_numpy(v), atol=1e-5)


def test_gradient_with_respect_to_the_initial_state():
    if keras.backend.backend() != "jax":
        pytest.skip("the initial state's gradient is checked once, under JAX")
    import jax

    x, y = data()
    h0 = np.random.default_rng(2).normal(size=(3, N)).astype("float32")
    grads = {}
    for path in ("step", "fused", "sparse"):
        rnn = layer(path, d=1.5, alpha=0.4)
        rnn(x)
        grads[path] = np.asarray(jax.grad(lambda h: (rnn(x, initial_state=[h]) * y).sum())(h0))
    for path in ("fused", "sparse"):
        assert relative_error(grads[path], grads["step"]) < 1e-5


@pytest.mark.parametrize("path", ["fused", "sparse", "auto"])
def test_training_keeps_masked_weights_zero_and_follows_the_step_curve(path):
    """A short training run: the same losses as the step loop, step by step."""
    x, y_float = data(batch=4, steps=20)
    y = np.argmax(y_float[..., :7], -1)
    losses = {}
    for p in ("step", path):
        keras.utils.set_random_seed(0)
        net = keras.Sequential([keras.Input((20, 5)), layer(p, d=1.5, alpha=1.0),
                                keras.layers.Dense(7, kernel_initializer=keras.initializers.GlorotUniform(0))])
        net.compile(keras.optimizers.Adam(1e-2, global_clipnorm=1.0),
                    keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        losses[p] = [float(net.train_on_batch(x, y)) for _ in range(30)]
        kernel = ops.convert_to_numpy(net.layers[0].cell.recurrent_kernel)
        assert not kernel[~net.layers[0].mask_array.T].any()
    np.testing.assert_allclose(losses[path], losses["step"], rtol=1e-4)
    assert losses[path][-1] < losses[path][0]  # it trained


def test_a_model_saved_under_one_path_runs_under_every_other(tmp_path):
    x, _ = data()
    rnn = layer("sparse", d=1.5)
    model = keras.Sequential([keras.Input((11, 5)), rnn])
    expected = ops.convert_to_numpy(model(x))
    file = str(tmp_path / "model.keras")
    model.save(file)
    loaded = keras.saving.load_model(file)
    assert loaded.layers[0].recurrence == "sparse"
    np.testing.assert_allclose(ops.convert_to_numpy(loaded(x)), expected, atol=1e-6)
    for path in ("step", "fused", "auto"):
        other = keras.Sequential([keras.Input((11, 5)), layer(path, d=1.5)])
        other.set_weights(model.get_weights())
        np.testing.assert_allclose(ops.convert_to_numpy(other(x)), expected, atol=1e-5)


def test_a_config_without_recurrence_loads_as_auto():
    config = layer("auto", d=1.5).get_config()
    del config["recurrence"]
    assert LMRNN.from_config(config).recurrence == "auto"


def test_auto_picks_the_path_the_benchmark_measured_fastest():
    backend = keras.backend.backend()
    tiles_pay = backend in recurrence.SPARSE_BACKENDS
    assert layer("auto", d=0).path(4, 350) == "sparse"  # autapses: a diagonal
    assert layer("auto", mask="dense").path(4, 350) == "fused"
    assert layer("auto", mask="random", d=1.5).path(4, 350) == "fused"
    # batch 64 at N = 400: the step loop, but under PyTorch
    assert layer("auto", d=1.5).path(64, 100) == ("fused" if backend == "torch" else "step")
    big = LMRNN(n=2500, d=6)  # tiles of 10 hold 19% of N^2
    assert big.path(4, 350) == ("sparse" if tiles_pay else "fused")
    assert big.path(64, 100) == ("step" if backend == "jax" else "fused")  # large batches
    assert LMRNN(n=2500, d=10).path(4, 350) == ("sparse" if tiles_pay else "fused")  # 25% of N^2, N = 2500
    assert LMRNN(n=1225, d=6).path(4, 350) == "fused"  # 24%
    assert layer("auto", d=1.5).path(3, 11, timestep_mask=np.ones((3, 11), bool)) == "step"


def test_auto_runs_a_timestep_mask_through_the_step_loop():
    x, _ = data()
    mask = np.ones((3, 11), bool)
    mask[:, -3:] = False
    out = layer("auto", d=1.5)(x, mask=mask)
    ref = layer("step", d=1.5)(x, mask=mask)
    np.testing.assert_allclose(ops.convert_to_numpy(out), ops.convert_to_numpy(ref), atol=1e-6)
    with pytest.raises(ValueError, match="timestep mask"):
        layer("fused", d=1.5)(x, mask=mask)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(recurrence="fast", d=1.5), "argument `recurrence`.*'fast'"),
        (dict(recurrence="sparse", mask="random", d=1.5), "recurrence='sparse' needs a local mask.*'random'"),
        (dict(recurrence="sparse", mask="dense"), "recurrence='sparse' needs"),
        (dict(recurrence="fused", d=1.5, unroll=True), "unroll"),
        (dict(recurrence="fused", d=1.5, activation="elu"), "activation"),
    ],
)
def test_bad_recurrence_arguments_raise_clearly(kwargs, words):
    with pytest.raises(ValueError, match=words):
        LMRNN(n=N, **kwargs)


def test_tile_product_covers_exactly_the_mask():
    from keras_lmrnn import masks

    for d, periodic in [(1.5, True), (3, True), (2, False)]:
        kernel_mask = masks.locality_mask((20, 20), d, periodic).T
        product = recurrence.tile_product(kernel_mask, (20, 20), periodic, tile=5)
        assert product is not None
        assert product.block_mask.sum() == kernel_mask.sum()
        assert sorted(product.layout) == list(range(400))


@pytest.mark.parametrize("path", ["fused", "sparse"])
def test_go_backwards_and_bidirectional_equal_the_step_loop(path):
    x, _ = data()
    a = layer(path, d=1.5, go_backwards=True)(x)
    b = layer("step", d=1.5, go_backwards=True)(x)
    np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b), atol=1e-5)
    both = keras.layers.Bidirectional(layer(path, d=1.5))
    assert tuple(both(x).shape) == (3, 11, 2 * N)


@pytest.mark.parametrize("path", ["fused", "sparse"])
def test_a_stateful_layer_trains_on_the_fast_paths(path):
    x, y_float = data(batch=3, steps=11)
    losses = {}
    for p in ("step", path):
        net = keras.Sequential([keras.Input((11, 5), batch_size=3), layer(p, d=1.5, stateful=True),
                                keras.layers.Dense(2, kernel_initializer=keras.initializers.GlorotUniform(0))])
        net.compile(keras.optimizers.Adam(1e-2), "mse")
        losses[p] = [float(net.train_on_batch(x, y_float[..., :2])) for _ in range(3)]
    np.testing.assert_allclose(losses[path], losses["step"], rtol=1e-4)


def test_a_stored_mask_runs_sparse_after_loading(tmp_path):
    from keras_lmrnn import masks

    mask = masks.locality_mask((20, 20), 1.5)
    x, _ = data()
    model = keras.Sequential([keras.Input((11, 5)), LMRNN(n=N, mask=mask, seed=3, return_sequences=True,
                                                          recurrence="sparse")])
    expected = ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(
        expected, ops.convert_to_numpy(layer("step", d=1.5)(x)), atol=1e-5)  # the same mask and weights
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.layers[0].path(3, 11) == "sparse"
    np.testing.assert_allclose(ops.convert_to_numpy(loaded(x)), expected, atol=1e-6)
