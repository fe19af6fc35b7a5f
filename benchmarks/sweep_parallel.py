"""Wall time of a sweep of four N=400 runs: one at a time against two at a time.

The same four runs (lmrnn:n=400,d=2 / d=6, dense:n=400, random:n=400,d=4;
Mod-Cog 84, seed 0) are trained by `keras_lmrnn.sweeps.run_sweep` twice in
one invocation, into fresh temporary folders:

- `--jobs 1`: one run at a time, each worker given all the cores' threads;
- `--jobs 2` (or more): that many runs at once, each worker given its share
  (cores // jobs threads: OMP_NUM_THREADS, which PyTorch follows, TF
  intra-op threads; JAX 0.10's XLA CPU pool keeps one thread per visible
  core, see benchmarks/cpu_pinning.py).

Every run's startup (imports), training and final evaluation are included,
as a user's sweep would see them.

Usage:

    KERAS_BACKEND=jax python benchmarks/sweep_parallel.py              # 300 steps per run
    KERAS_BACKEND=jax python benchmarks/sweep_parallel.py --steps 100 --jobs 2

Prints each wall time and their ratio (parallel / sequential).
"""

import argparse
import os
import tempfile
import time

from keras_lmrnn import runner, sweeps

MODELS = ["lmrnn:n=400,d=2", "lmrnn:n=400,d=6", "dense:n=400", "random:n=400,d=4"]


def timed_sweep(jobs, options):
    folder = os.path.join(tempfile.mkdtemp(prefix="keras-lmrnn-bench-"), "sweep")
    started = time.perf_counter()
    states = sweeps.run_sweep(folder, MODELS, [0], options, jobs=jobs, quiet=True, write=lambda line: None)
    wall = time.perf_counter() - started
    assert all(state == "complete" for state in states.values()), states
    return wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--jobs", type=int, default=2, help="parallel runs to compare with one at a time")
    parser.add_argument("--protocol", default="lmrnn-v1", help="training protocol (the README's numbers: lmrnn-v1)")
    args = parser.parse_args()
    options = runner.RunOptions(
        battery="modcog84", protocol=args.protocol, steps=args.steps, batch_size=args.batch_size, seq_len=100,
        eval_every=args.steps, trials_per_task=8,
    )
    import keras

    print(f"backend {keras.backend.backend()}, {os.cpu_count()} cores, 4 runs of {args.steps} steps, "
          f"batch {args.batch_size}, N=400")
    sequential = timed_sweep(1, options)
    print(f"--jobs 1: {sequential:.0f} s")
    parallel = timed_sweep(args.jobs, options)
    print(f"--jobs {args.jobs}: {parallel:.0f} s")
    print(f"ratio (--jobs {args.jobs} / --jobs 1): {parallel / sequential:.2f}")


if __name__ == "__main__":
    main()
