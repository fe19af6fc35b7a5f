"""Seconds per training step of each training protocol, at several sizes.

One step = one `train_on_batch` on a real Mod-Cog 84 batch of the protocol
(lmrnn-v1: 64 rows x 100 steps; neurogym: 4 rows x 350 steps, clipped Adam),
for an LM-RNN (d=6) and a dense RNN of the same N. The models take turns step
by step within one process, so the ratios hold even on a busy machine. Data
generation is timed separately (it runs on the CPU whatever the device).

Usage:

    KERAS_BACKEND=jax python benchmarks/protocol_step_time.py
    KERAS_BACKEND=jax python benchmarks/protocol_step_time.py --sizes 400 --steps 5
"""

import argparse
import statistics
import time

import table_csv
from keras_lmrnn import devices, protocols, runner, tasks, training


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[400, 1225, 2500])
    parser.add_argument("--protocols", nargs="+", default=protocols.names())
    parser.add_argument("--steps", type=int, default=8, help="timed steps per model (after 2 warm-up steps)")
    parser.add_argument("--ds", type=float, nargs="+", default=[6], help="the LM-RNNs' radii (default 6)")
    parser.add_argument("--csv", metavar="FILE", help="also save the table's cells to FILE (CSV)")
    args = parser.parse_args()
    import keras

    print(f"backend {keras.backend.backend()} on {devices.describe()}; median seconds per training step (data generation apart)")
    names = [f"lmrnn d={d:g}" for d in args.ds]
    lines = ["| protocol | batch x seq | N | " + " | ".join(f"{k} s" for k in names) + " | dense s | "
             + " | ".join(f"dense / {k}" for k in names) + " | data s |",
             "|---" * (5 + 2 * len(names)) + "|"]
    print("\n".join(lines))
    for name in args.protocols:
        options = runner.RunOptions(protocol=name, steps=args.steps + 2)
        data = tasks.TaskDataset("modcog84", batch_size=options.batch_size, seq_len=options.seq_len,
                                 num_batches=args.steps + 2, layout=options.layout,
                                 loss_weighting=options.loss_weighting)
        started = time.perf_counter()
        batches = [data[i] for i in range(args.steps + 2)]
        data_s = (time.perf_counter() - started) / len(batches)
        for n in args.sizes:
            side = int(n ** 0.5)
            specs = {**{k: f"lmrnn:n={n},d={d:g}" for k, d in zip(names, args.ds)}, "dense": f"dense:n={n}"}
            models = {}
            for key, spec in specs.items():
                model = runner.build(spec, options, data.input_size)
                training.compile_for_tasks(model, options.learning_rate, options.clipnorm)
                models[key] = model
            times = {key: [] for key in models}
            for i, (x, y, w) in enumerate(batches):
                for key, model in models.items():
                    started = time.perf_counter()
                    model.train_on_batch(x, y, sample_weight=w)
                    if i >= 2:
                        times[key].append(time.perf_counter() - started)
            med = {k: statistics.median(v) for k, v in times.items()}
            lines.append(f"| {name} | {options.batch_size} x {options.seq_len} | {n} ({side}x{side}) | "
                         + " | ".join(f"{med[k]:.3f}" for k in names) + f" | {med['dense']:.3f} | "
                         + " | ".join(f"{med['dense'] / med[k]:.2f}" for k in names) + f" | {data_s:.3f} |")
            print(lines[-1], flush=True)
    if args.csv:
        table_csv.save(args.csv, lines)


if __name__ == "__main__":
    main()
