"""Seconds per training step of each recurrence of `LMRNN`, side by side.

One training step: `train_on_batch` of LMRNN + Dense(17) readout, Adam
(lr 1e-3), global gradient norm clipped at 1, softmax cross-entropy at every
step, 117 inputs, on random data of the two protocols' shapes (batch 4 x 350
with alpha 1, as the default protocol; batch 64 x 100 with alpha 0.2, as
lmrnn-v1). For each size and model, the recurrences ("step": today's Keras
RNN loop; "fused"; "sparse" where the mask has a sparse form; "auto": what
the layer picks) are timed in turn, step by step, in one process per
backend, so their ratios hold on a busy machine. The tiled "sparse" product
is not timed above batch 16 (it measured 0.1-0.5x of "fused" there, taking
up to a minute per step, and "auto" never picks it); the autapses' diagonal
is.

Usage:

    python benchmarks/recurrence_speed.py                   # everything (hours)
    python benchmarks/recurrence_speed.py --backends jax --sizes 2500 \\
        --shapes 4x350 --models dense d6 d10 random10 autapse --steps 3

Prints a markdown table: median seconds per step of each recurrence, the
speed-up of each against "step", and what "auto" chose.
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

INPUTS, CLASSES = 117, 17
SMALL_BATCH = 16  # keras_lmrnn.recurrence.SMALL_BATCH
MODELS = {  # name -> LMRNN mask arguments
    "dense": {"mask": "dense"},
    "d6": {"d": 6},
    "d10": {"d": 10},
    "random10": {"mask": "random", "d": 10},
    "autapse": {"d": 0},
}
SHAPES = {"4x350": (4, 350, 1.0), "64x100": (64, 100, 0.2)}
RECURRENCES = ("step", "fused", "sparse")


def build(n, model, recurrence, alpha):
    import keras

    import keras_lmrnn

    layer = keras_lmrnn.LMRNN(
        n=n, alpha=alpha, return_sequences=True, seed=0,
        recurrence=recurrence, **MODELS[model],
    )
    net = keras.Sequential(
        [keras.Input((None, INPUTS)), layer, keras.layers.Dense(CLASSES)]
    )
    net.compile(
        keras.optimizers.Adam(1e-3, global_clipnorm=1.0),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return net, layer


def measure(n, model, shape, steps, warmup):
    batch, seq, alpha = SHAPES[shape]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, seq, INPUTS)).astype("float32")
    y = rng.integers(0, CLASSES, size=(batch, seq)).astype("int32")
    nets, chosen = {}, None
    for recurrence in RECURRENCES:
        try:
            net, layer = build(n, model, recurrence, alpha)
        except ValueError:
            continue  # e.g. "sparse" for a random mask
        tiles = recurrence == "sparse" and layer._product("sparse").layout is not None
        if tiles and batch > SMALL_BATCH:
            continue  # tiles at large batches: 0.1-0.5x, never picked, minutes per step
        nets[recurrence] = net
        if recurrence == "step":
            auto = build(n, model, "auto", alpha)[1]
            chosen = auto.path(batch, seq)
    times = {name: [] for name in nets}
    for name, net in nets.items():
        for _ in range(warmup):
            net.train_on_batch(x, y)
    for _ in range(steps):
        for name, net in nets.items():
            start = time.perf_counter()
            net.train_on_batch(x, y)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}, chosen


def worker(args):
    import keras

    from keras_lmrnn import devices

    print(f"# backend {keras.backend.backend()} on {devices.describe()}", flush=True)
    for n in args.sizes:
        for shape in args.shapes:
            for model in args.models:
                medians, chosen = measure(n, model, shape, args.steps, args.warmup)
                print("RESULT " + json.dumps({
                    "backend": keras.backend.backend(), "n": n, "shape": shape,
                    "model": model, "seconds": medians, "auto": chosen,
                }), flush=True)


def table(results):
    lines = [
        "| backend | N | batch x steps | model | step s | fused s | sparse s "
        "| fused / step | sparse / step | auto picks | auto vs step |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        s = r["seconds"]
        fmt = lambda k: f"{s[k]:.3f}" if k in s else "-"
        speed = lambda k: f"{s['step'] / s[k]:.2f}x" if k in s else "-"
        lines.append(
            f"| {r['backend']} | {r['n']} | {r['shape'].replace('x', ' x ')} | "
            f"{r['model']} | {fmt('step')} | {fmt('fused')} | {fmt('sparse')} | "
            f"{speed('fused')} | {speed('sparse')} | {r['auto']} | "
            f"{speed(r['auto'])} |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["jax", "torch", "tensorflow"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[400, 1225, 2500])
    parser.add_argument("--shapes", nargs="+", choices=sorted(SHAPES), default=sorted(SHAPES))
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--steps", type=int, default=5, help="timed steps per recurrence")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (compilation)")
    parser.add_argument("--csv", metavar="FILE", help="also save the table's cells to FILE (CSV)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    results = []
    for backend in args.backends:
        command = [sys.executable, __file__, "--worker", "--sizes", *map(str, args.sizes),
                   "--shapes", *args.shapes, "--models", *args.models,
                   "--steps", str(args.steps), "--warmup", str(args.warmup)]
        env = {**os.environ, "KERAS_BACKEND": backend}
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        for line in proc.stdout:
            if line.startswith("RESULT "):
                results.append(json.loads(line[7:]))
                print(table(results[-1:]).splitlines()[-1], flush=True)
            else:
                print(line.rstrip(), flush=True)
        if proc.wait():
            sys.exit(f"the {backend} worker failed (exit {proc.returncode})")
    print()
    print(table(results))
    if args.csv:
        table_csv.save(args.csv, table(results).splitlines())


if __name__ == "__main__":
    main()
