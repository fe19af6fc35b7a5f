"""What Adam's first updates do to the recurrent weights, by fan-in (issue #11, item 8).

For each model (LM-RNN d=2, d=6, dense) and size N, trains on the protocol's
data (default: neurogym, batch 4 x 350, Adam 1e-3, clipped) and records after
0, 1, 10, 100, ... updates: the recurrent matrix's Frobenius norm, largest
singular value and spectral radius, the mean and max hidden activity on a
fixed batch, the size of the last update of W, and the first update at which
anything turns non-finite. Variants test the "Adam step x fan-in" account:

    adam        the protocol's optimizer
    sgd         plain SGD (same learning rate unless --sgd-lr): the update
                follows the gradient's size, not its sign
    adam_fanin  Adam with each recurrent row's update scaled by k_ref / k_i
                (k_i: the unit's in-degree; k_ref: --k-ref, default 113 =
                d=6's in-degree), i.e. a learning rate proportional to
                1 / fan-in for the recurrent weights

Writes a CSV (one row per model, variant and checkpoint) and a figure.

Usage:

    KERAS_BACKEND=jax python benchmarks/mechanism.py --out docs/mechanism
    KERAS_BACKEND=jax python benchmarks/mechanism.py --sizes 400 --updates 100 --variants adam --out /tmp/m
"""

import argparse
import csv
import math
import pathlib
import time

import numpy as np


def checkpoints(total):
    points, k = [0], 1
    while k <= total:
        points.append(k)
        k *= 10
    if points[-1] != total:
        points.append(total)
    return points


def measure(model, x):
    import keras

    from keras_lmrnn import models

    cell = models.recurrent_layer(model).cell
    w = keras.ops.convert_to_numpy(cell.recurrent_kernel).astype(np.float64)
    finite = bool(np.isfinite(w).all())
    rnn = keras.Model(model.input, models.recurrent_layer(model).output)
    h = keras.ops.convert_to_numpy(rnn(x)) if finite else np.full(1, np.nan)
    return {
        "w_frobenius": float(np.linalg.norm(w)) if finite else math.nan,
        "w_spectral_norm": float(np.linalg.norm(w, 2)) if finite else math.nan,
        "w_spectral_radius": float(np.abs(np.linalg.eigvals(w)).max()) if finite else math.nan,
        "h_mean": float(np.mean(h)),
        "h_max": float(np.max(h)),
        # units that fire (h > 0) at least once on the probe batch: ReLU units that never do get no gradient
        "h_active_fraction": float(np.mean(np.max(h, axis=(0, 1)) > 0)) if finite else math.nan,
    }, w


def run_one(spec, variant, args, writer, out_rows):
    import keras

    from keras_lmrnn import models, runner, tasks, training

    shape = {key: value for key, value in [("batch_size", args.batch_size), ("seq_len", args.seq_len),
                                           ("clipnorm", args.clipnorm)] if value is not None}
    options = runner.RunOptions(protocol=args.protocol, steps=args.updates, seed=args.seed, **shape)
    data = tasks.TaskDataset("modcog84", batch_size=options.batch_size, seq_len=options.seq_len,
                             num_batches=args.updates + 1, layout=options.layout,
                             loss_weighting=options.loss_weighting, seed=args.seed)
    model = runner.build(spec, options, data.input_size)
    lr = args.sgd_lr if variant == "sgd" else options.learning_rate
    training.compile_for_tasks(model, lr, options.clipnorm, "sgd" if variant == "sgd" else "adam")
    cell = models.recurrent_layer(model).cell
    in_degree = cell.mask_array.sum(axis=1)  # (post,) in-degree of each unit
    row_scale = (args.k_ref / np.maximum(in_degree, 1))[None, :]  # kernel is (pre, post)
    probe = data[args.updates][0]  # a fixed batch, never trained on
    stats, w_prev = measure(model, probe)
    row = {"model": spec, "variant": variant, "n": cell.n, "mean_in_degree": float(in_degree.mean()), "update": 0,
           "loss": math.nan, **stats, "w_change_since_last_row": 0.0, "diverged_at": ""}
    writer.writerow(row)
    out_rows.append(row)
    marks = set(checkpoints(args.updates))
    diverged_at = None
    started = time.perf_counter()
    last_update = 0.0
    for step in range(1, args.updates + 1):
        x, y, w = data[step - 1]
        before = keras.ops.convert_to_numpy(cell.recurrent_kernel) if variant == "adam_fanin" else None
        loss = float(np.asarray(model.train_on_batch(x, y, sample_weight=w)))
        if variant == "adam_fanin":
            after = keras.ops.convert_to_numpy(cell.recurrent_kernel)
            cell.recurrent_kernel.assign(before + (after - before) * row_scale.astype(after.dtype))
        if diverged_at is None and not math.isfinite(loss):
            diverged_at = step
        if step in marks or (diverged_at == step):
            stats, w_now = measure(model, probe)
            last_update = float(np.linalg.norm(w_now - w_prev)) if np.isfinite(w_now).all() else math.nan
            w_prev = w_now
            if diverged_at is None and not math.isfinite(stats["h_mean"]):
                diverged_at = step
            row = {"model": spec, "variant": variant, "n": cell.n, "mean_in_degree": float(in_degree.mean()),
                   "update": step, "loss": loss, **stats, "w_change_since_last_row": last_update,
                   "diverged_at": diverged_at or ""}
            writer.writerow(row)
            out_rows.append(row)
            print(f"{spec:24s} {variant:10s} update {step:5d} loss {loss:9.4g} |W| {stats['w_frobenius']:9.4g} "
                  f"rho {stats['w_spectral_radius']:8.4g} h_mean {stats['h_mean']:9.4g} "
                  f"active {stats['h_active_fraction']:.3f}", flush=True)
            if diverged_at is not None:
                break
    if diverged_at is None:
        from keras_lmrnn.evaluation import EvaluationData, mean_performance

        table = EvaluationData("modcog84", trials_per_task=16).evaluate(model)
        perf = mean_performance(table)
    else:
        perf = math.nan
    print(f"{spec} {variant}: {time.perf_counter() - started:.0f} s, diverged at {diverged_at}, "
          f"response accuracy {perf:.3f}", flush=True)
    return perf, diverged_at


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [("w_spectral_radius", "spectral radius of W"), ("w_frobenius", "|W| (Frobenius)"),
            ("h_mean", "mean hidden activity")]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    groups = {}
    for row in rows:
        groups.setdefault((row["model"], row["variant"]), []).append(row)
    for (spec, variant), members in groups.items():
        members = [r for r in members if math.isfinite(r["w_frobenius"])]
        steps = [max(r["update"], 0.5) for r in members]  # update 0 drawn at 0.5 on the log axis
        for ax, (key, label) in zip(axes, keys):
            values = [r[key] for r in members]
            ax.plot(steps, values, marker="o", ms=3, ls="-" if variant == "adam" else "--",
                    label=f"{spec} {variant}")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("updates (0 drawn at 0.5)")
            ax.set_title(label)
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[400, 1225])
    parser.add_argument("--ds", nargs="+", default=["2", "6", "dense"])
    parser.add_argument("--variants", nargs="+", default=["adam"], choices=["adam", "sgd", "adam_fanin"])
    parser.add_argument("--protocol", default="neurogym")
    parser.add_argument("--extra", default="", help="spec keys added to every model, e.g. ,alpha=1")
    parser.add_argument("--batch-size", type=int, help="overrides the protocol's batch size")
    parser.add_argument("--seq-len", type=int, help="overrides the protocol's sequence length")
    parser.add_argument("--clipnorm", type=float, help="overrides the protocol's gradient clipping (0: none)")
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sgd-lr", type=float, default=1e-3)
    parser.add_argument("--k-ref", type=float, default=113.0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    import keras

    rows, summary = [], []
    fields = ["model", "variant", "n", "mean_in_degree", "update", "loss", "w_frobenius", "w_spectral_norm",
              "w_spectral_radius", "h_mean", "h_max", "h_active_fraction", "w_change_since_last_row", "diverged_at"]
    extra = args.extra.replace(",", "_").replace("=", "")
    shape = "".join(f"_{key}{value}" for key, value in [("b", args.batch_size), ("t", args.seq_len),
                                                         ("clip", args.clipnorm)] if value is not None)
    tag = f"{args.protocol}{extra}{shape}_{'_'.join(map(str, args.sizes))}_{'_'.join(args.variants)}_{args.updates}"
    with open(out / f"mechanism_{tag}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for n in args.sizes:
            for d in args.ds:
                spec = (f"dense:n={n}" if d == "dense" else f"lmrnn:n={n},d={d}") + args.extra
                for variant in args.variants:
                    perf, diverged = run_one(spec, variant, args, writer, rows)
                    f.flush()
                    summary.append((spec, variant, perf, diverged))
    plot(rows, out / f"mechanism_{tag}.png")
    with open(out / f"mechanism_{tag}_summary.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["model", "variant", "response_accuracy_at_end", "diverged_at", "backend", "updates"])
        for spec, variant, perf, diverged in summary:
            writer.writerow([spec, variant, f"{perf:.4f}", diverged or "", keras.backend.backend(), args.updates])


if __name__ == "__main__":
    main()
