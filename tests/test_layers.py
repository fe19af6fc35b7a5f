import numpy as np
import pytest

import keras
from keras import ops

import keras_lmrnn
from keras_lmrnn import masks

RNG = np.random.default_rng(0)
X = RNG.normal(size=(4, 6, 5)).astype("float32")


def numpy(x):
    return ops.convert_to_numpy(x)


def small_model(layer, inputs=5, outputs=3):
    inp = keras.Input((None, inputs))
    out = keras.layers.Dense(outputs)(layer(inp))
    return keras.Model(inp, out)


@pytest.mark.parametrize("return_sequences", [True, False])
def test_output_shapes(return_sequences):
    layer = keras_lmrnn.LMRNN(n=16, d=1, return_sequences=return_sequences)
    out = layer(X)
    assert tuple(out.shape) == ((4, 6, 16) if return_sequences else (4, 16))


def test_return_state_and_initial_state():
    layer = keras_lmrnn.LMRNN(n=16, d=1, return_sequences=True, return_state=True)
    seq, state = layer(X)
    assert tuple(seq.shape) == (4, 6, 16) and tuple(state.shape) == (4, 16)
    np.testing.assert_allclose(numpy(seq)[:, -1], numpy(state), atol=1e-6)
    h0 = np.ones((4, 16), "float32")
    seq2, _ = layer(X, initial_state=[h0])
    assert not np.allclose(numpy(seq2), numpy(seq))


def test_step_follows_the_leaky_equation():
    layer = keras_lmrnn.LMRNN(n=9, d=1, alpha=0.3, return_sequences=True, seed=1)
    out = numpy(layer(X[:, :, :]))
    cell = layer.cell
    U, W, b = numpy(cell.kernel), numpy(cell.recurrent_kernel), numpy(cell.bias)
    h = np.zeros((4, 9), "float32")
    for t in range(X.shape[1]):
        h = 0.7 * h + 0.3 * np.maximum(X[:, t] @ U + h @ W + b, 0)
        np.testing.assert_allclose(out[:, t], h, rtol=1e-5, atol=1e-6)


def test_cell_works_inside_keras_rnn_like_the_layer():
    layer = keras_lmrnn.LMRNN(n=16, d=1, seed=4, return_sequences=True)
    expected = numpy(layer(X))
    cell = keras_lmrnn.LMRNNCell(n=16, d=1, seed=4)
    rnn = keras.layers.RNN(cell, return_sequences=True)
    rnn.build(X.shape)
    rnn.set_weights(layer.get_weights())
    np.testing.assert_allclose(numpy(rnn(X)), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(n=25, d=1),
        dict(n=25, d=2, mask="random", mask_seed=5),
        dict(n=24, d=1.5, sheet_shape=(4, 6), periodic=False),
        dict(n=30, mask="dense"),
        dict(n=25, mask=masks.autapse_mask(25)),
    ],
    ids=["locality", "random", "open-rect", "dense", "array"],
)
def test_adam_keeps_masked_weights_at_exactly_zero(kwargs):
    # tanh: no unit is silent, so every allowed weight gets a gradient.
    layer = keras_lmrnn.LMRNN(
        return_sequences=True, seed=0, activation="tanh", **kwargs
    )
    model = small_model(layer)
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    kernel_mask = layer.mask_array.T
    before = numpy(layer.cell.recurrent_kernel).copy()
    assert (before[~kernel_mask] == 0.0).all()  # masked at initialisation
    y = RNG.normal(size=(4, 6, 3)).astype("float32")
    model.fit(X, y, epochs=3, batch_size=4, verbose=0)
    after = numpy(layer.cell.recurrent_kernel)
    assert (after[~kernel_mask] == 0.0).all()
    assert (after[kernel_mask] != before[kernel_mask]).all()


def test_mask_kinds_give_the_expected_connectivity():
    local = keras_lmrnn.LMRNN(n=100, d=2)
    rand = keras_lmrnn.LMRNN(n=100, d=2, mask="random")
    assert (local.mask_array == masks.locality_mask((10, 10), 2)).all()
    assert (rand.mask_array.sum(1) == 13).all()
    assert (rand.mask_array != local.mask_array).any()
    assert keras_lmrnn.LMRNN(n=100, d=0).mask_array.sum() == 100


@pytest.mark.parametrize("d", [0, 1, 3, None])
def test_default_initialisation_keeps_row_variance_at_gain_squared(d):
    kwargs = dict(d=d) if d is not None else dict(mask="dense")
    layer = keras_lmrnn.LMRNN(n=900, seed=2, recurrent_gain=0.5, **kwargs)
    layer.build((None, None, 3))
    W = numpy(layer.cell.recurrent_kernel).T  # (post, pre)
    row_power = (W**2).sum(axis=1).mean()
    assert row_power == pytest.approx(0.25, rel=0.1)
    assert np.abs(W).max() <= 0.5 * np.sqrt(3) + 1e-6


def test_seed_reproduces_weights_and_differs_across_seeds():
    def weights(seed):
        layer = keras_lmrnn.LMRNN(n=16, d=1, seed=seed)
        layer.build((None, None, 5))
        return [numpy(w) for w in layer.weights]

    a, b, c = weights(7), weights(7), weights(8)
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a[1], c[1])


def test_recurrent_noise_only_while_training():
    layer = keras_lmrnn.LMRNN(n=16, d=1, recurrent_noise=0.5, seed=0)
    quiet = numpy(layer(X, training=False))
    np.testing.assert_array_equal(quiet, numpy(layer(X, training=False)))
    assert not np.allclose(numpy(layer(X, training=True)), quiet)
    # Noise is drawn before the time loop, so it also trains under JAX's scan.
    model = small_model(layer)
    model.compile("adam", "mse")
    history = model.fit(X, np.zeros((4, 3), "float32"), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    silent = keras_lmrnn.LMRNN(n=16, d=1, seed=0)
    np.testing.assert_array_equal(
        numpy(silent(X, training=True)), numpy(silent(X, training=False))
    )


def test_cell_adds_the_noise_it_is_given_in_place_of_a_draw():
    cell = keras_lmrnn.LMRNNCell(n=4, mask="dense", recurrent_noise=0.5, seed=0)
    x, h = np.ones((2, 3), "float32"), np.zeros((2, 4), "float32")
    cell.build((2, 3))
    given = np.full((2, 4), 2.0, "float32")
    out, _ = cell(x, [h], training=True, noise=given)
    pre = x @ numpy(cell.kernel) + numpy(cell.bias) + given
    np.testing.assert_allclose(numpy(out), cell.alpha * np.maximum(pre, 0), rtol=1e-6)
    drawn, _ = cell(x, [h], training=True)  # no noise given: its own draw
    assert not np.allclose(numpy(drawn), numpy(out))


@pytest.mark.parametrize("go_backwards", [False, True])
def test_noise_reaches_each_step_of_keras_loop_as_of_the_fused_one(go_backwards):
    # The step loop gets each step's slice of the pre-drawn noise as the
    # cell's own input; the fused loop adds the same draw to its drive.
    outs = []
    for recurrence in ("step", "fused"):
        layer = keras_lmrnn.LMRNN(
            n=16, d=1, recurrent_noise=0.5, seed=4, return_sequences=True,
            go_backwards=go_backwards, recurrence=recurrence,
        )
        outs.append(numpy(layer(X, training=True)))
    np.testing.assert_allclose(outs[0], outs[1], atol=1e-5)
    assert not np.allclose(outs[0], numpy(layer(X, training=False)))


def test_layer_shows_every_cell_argument_with_the_cells_default():
    import inspect

    from keras_lmrnn.layers import CELL_ARGS

    cell = inspect.signature(keras_lmrnn.LMRNNCell.__init__).parameters
    layer = inspect.signature(keras_lmrnn.LMRNN.__init__).parameters
    assert "sheet_shape" in CELL_ARGS and "seed" in CELL_ARGS
    for name in CELL_ARGS:
        assert name in layer, name  # in the signature, not in **kwargs
        assert layer[name].default == cell[name].default, name
        assert isinstance(keras_lmrnn.LMRNN.__dict__[name], property), name
        assert f"{name}:" in keras_lmrnn.LMRNN.__doc__, name
    built = keras_lmrnn.LMRNN(n=16, d=1, alpha=0.5, mask_seed=7)
    assert (built.n, built.d, built.alpha, built.mask_seed) == (16, 1, 0.5, 7)
    with pytest.raises(AttributeError):
        built.alpha = 0.1  # read-only: the cell owns it


def test_l1_recurrent_regularizer_adds_a_loss():
    layer = keras_lmrnn.LMRNN(
        n=16, mask="dense", recurrent_regularizer=keras.regularizers.L1(0.1)
    )
    layer(X)
    W = numpy(layer.cell.recurrent_kernel)
    assert len(layer.losses) == 1
    assert float(numpy(layer.losses[0])) == pytest.approx(0.1 * np.abs(W).sum(), rel=1e-5)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(n=25, d=2),
        dict(n=25, d=2, mask="random", alpha=0.5, activation="tanh", seed=3),
        dict(n=24, d=1, sheet_shape=(4, 6), periodic=False, use_bias=False),
        dict(n=20, mask="dense", recurrent_regularizer="l1", recurrent_noise=0.1),
    ],
)
def test_config_round_trip(kwargs):
    layer = keras_lmrnn.LMRNN(return_sequences=True, **kwargs)
    config = layer.get_config()
    assert "cell" not in config
    clone = keras_lmrnn.LMRNN.from_config(config)
    assert clone.get_config() == config
    assert (clone.mask_array == layer.mask_array).all()
    for key, value in kwargs.items():
        if key in ("n", "d", "alpha", "mask", "periodic", "seed"):
            assert getattr(clone, key) == value
    cell = keras_lmrnn.LMRNNCell(**kwargs)
    assert keras_lmrnn.LMRNNCell.from_config(cell.get_config()).get_config() == cell.get_config()


def test_config_stays_small_for_paper_sized_layers():
    import json

    layer = keras_lmrnn.LMRNN(n=2500, d=10)
    assert len(json.dumps(layer.get_config())) < 4000
    array_layer = keras_lmrnn.LMRNN(n=2500, mask=masks.locality_mask((50, 50), 3))
    assert len(json.dumps(array_layer.get_config())) < 4000


def test_mask_constraint_serializes():
    mask = masks.random_mask(30, 4, seed=1)
    constraint = keras_lmrnn.MaskConstraint(mask)
    clone = keras.constraints.deserialize(keras.constraints.serialize(constraint))
    assert isinstance(clone, keras_lmrnn.MaskConstraint)
    assert (clone.mask == mask).all()
    w = np.ones((30, 30), "float32")
    np.testing.assert_array_equal(numpy(clone(w)), mask.astype("float32"))


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(n=10, d=1), ValueError, "n=10"),
        (dict(n=24, d=1, sheet_shape=(5, 5)), ValueError, "sheet_shape=(5, 5)"),
        (dict(n=0, d=1), ValueError, "n=0"),
        (dict(n=2.5, d=1), TypeError, "n=2.5"),
        (dict(n=25, d=-1), ValueError, "d=-1"),
        (dict(n=25), ValueError, "d=None"),
        (dict(n=25, d=1, alpha=0), ValueError, "alpha=0"),
        (dict(n=25, d=1, alpha=1.5), ValueError, "alpha=1.5"),
        (dict(n=25, d=1, mask="ring"), ValueError, "mask='ring'"),
        (dict(n=25, mask=np.ones((5, 5), bool)), ValueError, "shape (5, 5)"),
        (dict(n=25, mask=np.ones((25, 25), "int8")), TypeError, "dtype int8"),
        (dict(n=25, mask=[[True]]), TypeError, "list"),
        (dict(n=25, d=2, mask=np.eye(25, dtype=bool)), ValueError, "d=2"),
        (dict(n=25, d=1, recurrent_noise=-0.1), ValueError, "recurrent_noise=-0.1"),
        (dict(n=25, d=1, periodic="yes"), TypeError, "periodic='yes'"),
        (dict(n=25, d=1, seed=-3), ValueError, "seed=-3"),
    ],
)
def test_bad_arguments_raise_clearly(kwargs, error, words):
    with pytest.raises(error, match="Invalid value for argument") as info:
        keras_lmrnn.LMRNN(**kwargs)
    assert words in str(info.value)


def test_random_mask_in_degree_above_n_raises():
    with pytest.raises(ValueError, match="in_degree=30"):
        masks.random_mask(25, 30, seed=0)
