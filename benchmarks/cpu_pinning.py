"""Two sweep workers on a CPU: unpinned against one core each; speed and numerics.

A sweep with `--jobs 2` on a 2-core machine starts two workers, each told to
use one thread (`keras_lmrnn.sweeps.worker_env`). This script trains the same
two runs (`lmrnn:n=400,d=6`, seeds 0 and 1, Mod-Cog 84, under a protocol)
twice at once, as such workers, in one invocation:

- unpinned: each process sees every core (as the sweep starts them today);
- pinned: each process is confined to its own core (Linux `sched_setaffinity`).

Each setting runs at two step counts, so that start-up (imports, building,
the one evaluation) cancels: seconds per step = (wall(long) - wall(short)) /
(long - short). Then it loads the seed-0 models of both settings at the long
step count and prints the largest weight difference: under JAX on a CPU, how
many cores XLA's thread pool may use changes the float rounding, so a run
continued on a machine with another core count is not bit-for-bit the same.

Usage (Linux; the machine otherwise idle):

    KERAS_BACKEND=jax python benchmarks/cpu_pinning.py                    # 20 and 220 steps
    KERAS_BACKEND=jax python benchmarks/cpu_pinning.py --steps 20 120 --protocol lmrnn-v1
"""

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

from keras_lmrnn import sweeps

SCRIPT = pathlib.Path(sys.executable).parent / "keras-lmrnn"


def train_two(folder, steps, protocol, pinned):
    """Trains seeds 0 and 1 at once as two sweep workers; returns the wall time."""
    import keras

    env = sweeps.worker_env(keras.backend.backend(), threads=1)
    cores = sorted(os.sched_getaffinity(0))
    procs = []
    started = time.perf_counter()
    for seed in (0, 1):
        command = [str(SCRIPT), "train", "--protocol", protocol, "--model", "lmrnn:n=400,d=6",
                   "--battery", "modcog84", "--steps", str(steps), "--eval-every", str(steps),
                   "--trials-per-task", "1", "--seed", str(seed), "--out", str(folder / f"seed{seed}")]
        if pinned:  # the child confines itself to one core, then becomes the training process
            core = cores[seed % len(cores)]
            command = [sys.executable, "-c", f"import os, sys; os.sched_setaffinity(0, {{{core}}}); "
                       "os.execv(sys.argv[1], sys.argv[1:])", *command]
        procs.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode:
            raise SystemExit(f"a training process failed:\n{err.decode()[-2000:]}")
    return time.perf_counter() - started


def weights(folder):
    from keras_lmrnn import training

    model, _step = training.load_checkpoint(folder)
    return model.get_weights()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs=2, default=[20, 220], metavar=("SHORT", "LONG"))
    parser.add_argument("--protocol", default="lmrnn-v1")
    args = parser.parse_args()
    import keras

    from keras_lmrnn import devices, runner

    short, long = args.steps
    print(f"backend {keras.backend.backend()}, device {devices.describe()}, {runner.machine()}, "
          f"protocol {args.protocol}, two processes at once")
    root = pathlib.Path(tempfile.mkdtemp(prefix="keras-lmrnn-pinning-"))
    per_step = {}
    for setting in ("unpinned", "pinned"):
        walls = {steps: train_two(root / f"{setting}_{steps}", steps, args.protocol, setting == "pinned")
                 for steps in (short, long)}
        per_step[setting] = (walls[long] - walls[short]) / (long - short)
        print(f"{setting:9s} wall {walls[short]:.1f} s ({short} steps), {walls[long]:.1f} s ({long} steps): "
              f"{per_step[setting]:.3f} s per step")
    print(f"pinned / unpinned seconds per step: {per_step['pinned'] / per_step['unpinned']:.2f}")
    a, b = (weights(root / f"{setting}_{long}" / "seed0") for setting in ("unpinned", "pinned"))
    difference = max(float(np.abs(x - y).max()) for x, y in zip(a, b))
    print(f"seed 0 after {long} steps, largest weight difference pinned vs unpinned: {difference:.3g}")


if __name__ == "__main__":
    main()
