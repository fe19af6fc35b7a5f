"""How often does a model diverge in its first steps, seed by seed?

Trains `--model` under the default protocol's options (batch 4 x 350,
lr 1e-3, clipnorm 1) for `--steps` steps for each seed and prints, per seed,
the number of steps trained when the loss stopped being finite (or "-") and the loss at the
last step. Runs on the checkout it is started from, so the same script
compares two revisions of the library (run it from each). A census of early
divergence only: a run that survives these steps may still diverge later.

    KERAS_BACKEND=jax python docs/seed_streams/divergence_census.py --model dense:n=400 --seeds 0-19
"""

import argparse
import math

from keras_lmrnn import runner, tasks, training


def census(spec, seeds, steps):
    for seed in seeds:
        options = runner.RunOptions(steps=steps, seed=seed)
        data = tasks.TaskDataset(options.battery, batch_size=options.batch_size, seq_len=options.seq_len,
                                 num_batches=steps, seed=seed, layout=options.layout,
                                 loss_weighting=options.loss_weighting)
        model = runner.build(spec, options, data.input_size)
        training.compile_for_tasks(model, learning_rate=options.learning_rate, clipnorm=options.clipnorm)
        diverged, loss = None, float("nan")
        for step in range(steps):
            x, y, *weights = data[step]
            loss = float(model.train_on_batch(x, y, sample_weight=weights[0] if weights else None))
            if not math.isfinite(loss):
                diverged = step + 1  # steps trained, as a run records it
                break
        yield seed, diverged, loss


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="dense:n=400")
    parser.add_argument("--seeds", default="0-19", help="a range a-b")
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    first, last = (int(s) for s in args.seeds.split("-"))
    print(f"# {args.model}, {args.steps} steps, revision {runner.code_revision()}")
    print("seed,diverged_at_step,last_loss")
    count = 0
    for seed, diverged, loss in census(args.model, range(first, last + 1), args.steps):
        count += diverged is not None
        print(f"{seed},{'-' if diverged is None else diverged},{loss:.4g}", flush=True)
    print(f"# {count} of {last - first + 1} seeds diverged within {args.steps} steps")


if __name__ == "__main__":
    main()
