"""Seconds per training step: LMRNN vs keras.layers.SimpleRNN vs a native loop.

One training step: batch 64, 100 time steps, 117 inputs, 17 classes,
Adam (lr 1e-3), softmax cross-entropy at every step. Three implementations of
the same network size N are timed in turn, step by step, in one process per
backend:

- `LMRNN`: keras_lmrnn.LMRNN(n=N, d=4) + Dense readout, `train_on_batch`;
- `SimpleRNN`: keras.layers.SimpleRNN(N, activation="relu") + Dense readout;
- `native`: a hand-written leaky masked RNN in the backend itself
  (`tf.scan` in a `tf.function`, a Python loop in PyTorch, `lax.scan` in JAX),
  with the mask re-applied after each Adam update.

Usage:

    python benchmarks/step_time.py                       # all backends, N = 400 1225 2500
    python benchmarks/step_time.py --backends jax --sizes 400 --steps 5

Prints the median seconds per step and the ratios LMRNN/SimpleRNN and
LMRNN/native measured in the same run.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import table_csv

BATCH, TIME, INPUTS, CLASSES, D, ALPHA, LR = 64, 100, 117, 17, 4, 0.2, 1e-3


def data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(BATCH, TIME, INPUTS)).astype("float32")
    y = rng.integers(0, CLASSES, size=(BATCH, TIME)).astype("int32")
    return x, y


def time_round_robin(steps_by_name, steps, warmup):
    """Median seconds per call of each step function, timed in turn.

    The models take turns step by step, so that a slow spell of the machine
    weighs on all of them alike and their ratios stay meaningful.
    """
    for step in steps_by_name.values():
        for _ in range(warmup):
            step()
    times = {name: [] for name in steps_by_name}
    for _ in range(steps):
        for name, step in steps_by_name.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def keras_step(layer_name, n):
    import keras

    import keras_lmrnn

    inputs = keras.Input((TIME, INPUTS))
    if layer_name == "LMRNN":
        hidden = keras_lmrnn.LMRNN(n=n, d=D, return_sequences=True, seed=0)(inputs)
    else:
        hidden = keras.layers.SimpleRNN(
            n, activation="relu", return_sequences=True, seed=0
        )(inputs)
    model = keras.Model(inputs, keras.layers.Dense(CLASSES)(hidden))
    model.compile(
        keras.optimizers.Adam(LR),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    x, y = data()
    return lambda: model.train_on_batch(x, y)


def native_step(backend, n):
    from keras_lmrnn import masks

    rng = np.random.default_rng(0)
    mask = masks.locality_mask((int(np.sqrt(n)),) * 2, D).T.astype("float32")
    init = [
        rng.normal(size=(INPUTS, n)) / np.sqrt(INPUTS),
        rng.uniform(-0.1, 0.1, size=(n, n)) * mask,
        np.zeros(n),
        rng.normal(size=(n, CLASSES)) / np.sqrt(n),
        np.zeros(CLASSES),
    ]
    init = [p.astype("float32") for p in init]
    x, y = data()
    return {"jax": _jax_step, "torch": _torch_step, "tensorflow": _tf_step}[
        backend
    ](init, mask, x, y)


def _jax_step(init, mask, x, y):
    import jax
    import jax.numpy as jnp

    def loss_fn(params, x, y):
        U, W, b, R, bo = params
        drive = jnp.swapaxes(x @ U + b, 0, 1)

        def step(h, d):
            h = h + ALPHA * (jax.nn.relu(d + h @ W) - h)
            return h, h

        _, hs = jax.lax.scan(step, jnp.zeros((x.shape[0], W.shape[0])), drive)
        logits = hs @ R + bo
        logp = jax.nn.log_softmax(logits)
        return -jnp.mean(jnp.take_along_axis(logp, y.T[..., None], -1))

    @jax.jit
    def train(params, m, v, t, x, y):
        grads = jax.grad(loss_fn)(params, x, y)
        t = t + 1
        m = [0.9 * mi + 0.1 * g for mi, g in zip(m, grads)]
        v = [0.999 * vi + 0.001 * g * g for vi, g in zip(v, grads)]
        lr = LR * jnp.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        params = [p - lr * mi / (jnp.sqrt(vi) + 1e-7) for p, mi, vi in zip(params, m, v)]
        params[1] = params[1] * mask
        return params, m, v, t

    state = [
        [jnp.asarray(p) for p in init],
        [jnp.zeros_like(p) for p in init],
        [jnp.zeros_like(p) for p in init],
        jnp.asarray(0.0),
    ]
    x, y = jnp.asarray(x), jnp.asarray(y)

    def step():
        state[:] = train(*state, x, y)
        jax.block_until_ready(state[0])

    return step


def _torch_step(init, mask, x, y):
    import torch

    import keras

    device = keras.ops.convert_to_tensor(0.0).device  # where Keras' torch backend runs
    params = [torch.tensor(p, requires_grad=True, device=device) for p in init]
    mask_t = torch.tensor(mask, device=device)
    opt = torch.optim.Adam(params, lr=LR)
    x, y = torch.tensor(x, device=device), torch.tensor(y, dtype=torch.long, device=device)

    def step():
        U, W, b, R, bo = params
        drive = x @ U + b
        h = torch.zeros(x.shape[0], W.shape[0], device=device)
        hs = []
        for t in range(x.shape[1]):
            h = h + ALPHA * (torch.relu(drive[:, t] + h @ W) - h)
            hs.append(h)
        logits = torch.stack(hs, 1) @ R + bo
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, CLASSES), y.reshape(-1)
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            W.mul_(mask_t)
        loss.item()  # wait for the device: time the work, not its launch

    return step


def _tf_step(init, mask, x, y):
    import tensorflow as tf

    params = [tf.Variable(p) for p in init]
    m = [tf.Variable(tf.zeros_like(p)) for p in init]
    v = [tf.Variable(tf.zeros_like(p)) for p in init]
    t = tf.Variable(0.0)
    mask_t = tf.constant(mask)
    x, y = tf.constant(x), tf.constant(y)

    @tf.function
    def train():
        with tf.GradientTape() as tape:
            U, W, b, R, bo = params
            drive = tf.transpose(x @ U + b, [1, 0, 2])
            hs = tf.scan(
                lambda h, d: h + ALPHA * (tf.nn.relu(d + h @ W) - h),
                drive,
                initializer=tf.zeros((x.shape[0], W.shape[0])),
            )
            logits = tf.transpose(hs, [1, 0, 2]) @ R + bo
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits)
            )
        grads = tape.gradient(loss, params)
        t.assign_add(1.0)
        lr = LR * tf.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        for p, mi, vi, g in zip(params, m, v, grads):
            mi.assign(0.9 * mi + 0.1 * g)
            vi.assign(0.999 * vi + 0.001 * g * g)
            p.assign_sub(lr * mi / (tf.sqrt(vi) + 1e-7))
        params[1].assign(params[1] * mask_t)
        return loss

    return lambda: train().numpy()  # .numpy() waits for the device


def worker(backend, sizes, steps, warmup):
    from keras_lmrnn import devices

    device = devices.describe()
    for n in sizes:
        steps_by_name = {
            "LMRNN": keras_step("LMRNN", n),
            "SimpleRNN": keras_step("SimpleRNN", n),
            "native": native_step(backend, n),
        }
        row = {"backend": backend, "device": device, "N": n}
        row.update(time_round_robin(steps_by_name, steps, warmup))
        print(json.dumps(row), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "torch", "jax"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[400, 1225, 2500])
    parser.add_argument("--steps", type=int, default=10, help="timed steps per model")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--csv", metavar="FILE", help="also save the table's cells to FILE (CSV)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.sizes, args.steps, args.warmup)
        return
    rows = []
    for backend in args.backends:
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
        out = subprocess.run(
            [sys.executable, __file__, "--worker", backend, "--steps", str(args.steps),
             "--warmup", str(args.warmup), "--sizes", *map(str, args.sizes)],
            env=env, capture_output=True, text=True,
        )
        if out.returncode != 0:
            sys.exit(f"{backend} failed:\n{out.stderr[-3000:]}")
        rows += [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    print(f"batch {BATCH} x {TIME} steps, {INPUTS} inputs, {CLASSES} classes, Adam; "
          f"median s/step over {args.steps} steps")
    lines = ["| backend | device | N | LMRNN s | SimpleRNN s | native s | LMRNN/SimpleRNN | LMRNN/native |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['backend']} | {r['device']} | {r['N']} | {r['LMRNN']:.3f} | {r['SimpleRNN']:.3f} | "
                     f"{r['native']:.3f} | {r['LMRNN'] / r['SimpleRNN']:.2f} | "
                     f"{r['LMRNN'] / r['native']:.2f} |")
    print("\n".join(lines))
    if args.csv:
        table_csv.save(args.csv, lines)


if __name__ == "__main__":
    main()
