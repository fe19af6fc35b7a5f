"""Training losses of one model under each recurrence of `LMRNN`, step by step.

Builds `--model` under the default protocol (as `keras-lmrnn train` does:
its alpha, init, batch 4 x 350, global gradient norm clipped at 1), copies
its initial weights into one model per recurrence, and trains each on the
same Mod-Cog batches. Prints each step's loss and the largest relative
difference from the "step" recurrence; `--csv` writes the losses.

Usage:

    KERAS_BACKEND=jax python benchmarks/recurrence_curve.py --model lmrnn:n=400,d=6 --steps 200

Under a checkout older than `LMRNN(recurrence=...)` it trains that code's
only recurrence, as "legacy" (to compare two checkouts' CSVs).
"""

import argparse
import csv

import numpy as np

from keras_lmrnn import layers, runner, tasks, training


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lmrnn:n=400,d=6")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--recurrences", nargs="+", default=["step", "fused", "sparse"])
    parser.add_argument("--clipnorm", type=float, help="override the protocol's (global norm; 0: none)")
    parser.add_argument("--csv", help="write step, then one loss column per recurrence")
    args = parser.parse_args()
    import keras

    extra = {} if args.clipnorm is None else {"clipnorm": args.clipnorm}
    options = runner.RunOptions(steps=args.steps, seed=args.seed, **extra)
    data = tasks.TaskDataset("modcog84", batch_size=options.batch_size, seq_len=options.seq_len,
                             num_batches=args.steps, layout=options.layout,
                             loss_weighting=options.loss_weighting, seed=args.seed)
    base = runner.build(args.model, options, data.input_size)
    if not hasattr(layers, "RECURRENCES"):
        args.recurrences = ["legacy"]
    models = {}
    for name in args.recurrences:
        config = base.get_config()
        for layer in config["layers"]:
            if layer["class_name"] == "LMRNN" and name != "legacy":
                layer["config"]["recurrence"] = name
        try:
            model = base.__class__.from_config(config)
        except ValueError as error:
            print(f"{name}: skipped ({error})")
            continue
        model.set_weights(base.get_weights())
        training.compile_for_tasks(model, options.learning_rate, options.clipnorm)
        models[name] = model
    losses = {name: [] for name in models}
    for i in range(args.steps):
        x, y, w = data[i]
        for name, model in models.items():
            losses[name].append(float(model.train_on_batch(x, y, sample_weight=w)))
        if (i + 1) % 20 == 0:
            print(f"step {i + 1}: " + ", ".join(f"{k} {v[-1]:.5f}" for k, v in losses.items()), flush=True)
    if "step" in losses:
        reference = np.array(losses["step"])
        for name, values in losses.items():
            gap = np.abs(np.array(values) - reference) / np.abs(reference)
            print(f"{name}: largest relative loss difference from step over {args.steps} steps "
                  f"{gap.max():.2e} (at step {int(gap.argmax()) + 1}); last loss {values[-1]:.5f}")
    if args.csv:
        with open(args.csv, "w", newline="") as handle:
            out = csv.writer(handle)
            out.writerow(["step", *(f"loss_{k}" for k in losses)])
            for i in range(args.steps):
                out.writerow([i + 1, *(f"{losses[k][i]:.7g}" for k in losses)])


if __name__ == "__main__":
    main()
