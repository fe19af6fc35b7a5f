"""Quick start: an LM-RNN in a Keras model, trained a few steps on random data.

Run with any backend:

    KERAS_BACKEND=jax python examples/quickstart.py

Shapes follow the paper's Mod-Cog setting: 33 task inputs plus an 84-task
one-hot rule (117 inputs), 17 output classes (fixate + 16 directions) at
every time step.
"""

import time

import numpy as np
import keras

import keras_lmrnn

BATCH, TIME, INPUTS, CLASSES = 32, 50, 117, 17


def build_model(n=400, d=4):
    inputs = keras.Input((None, INPUTS), name="task_inputs")
    hidden = keras_lmrnn.LMRNN(n=n, d=d, return_sequences=True, seed=0)(inputs)
    logits = keras.layers.Dense(CLASSES, name="readout")(hidden)
    return keras.Model(inputs, logits, name=f"lmrnn_{n}_d{d}")


def main():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8 * BATCH, TIME, INPUTS)).astype("float32")
    y = rng.integers(0, CLASSES, size=(8 * BATCH, TIME)).astype("int32")
    model = build_model()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.summary()
    layer = model.layers[1]
    print(
        f"backend={keras.backend.backend()}  N={layer.n}  d={layer.d}  "
        f"sheet={layer.sheet_shape}  recurrent synapses={int(layer.mask_array.sum())}"
    )
    start = time.perf_counter()
    history = model.fit(x, y, batch_size=BATCH, epochs=3, verbose=2)
    kernel = keras.ops.convert_to_numpy(layer.cell.recurrent_kernel)
    print(
        f"loss {history.history['loss'][0]:.4f} -> {history.history['loss'][-1]:.4f} "
        f"in {time.perf_counter() - start:.1f} s; masked recurrent weights all "
        f"zero: {bool((kernel[~layer.mask_array.T] == 0).all())}"
    )


if __name__ == "__main__":
    main()
