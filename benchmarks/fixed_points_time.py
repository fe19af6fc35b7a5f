"""Wall time of `dynamics.fixed_points` for one task of a preset, first and second call.

The first call includes the backend's compilation of the search; the second
(same arguments) is what a loop over tasks or presets pays. One line per
preset: seconds, points found, and how many of the end points were dropped.

Usage (state whether the machine was otherwise idle when you quote it):

    KERAS_BACKEND=jax python benchmarks/fixed_points_time.py
    KERAS_BACKEND=torch python benchmarks/fixed_points_time.py --task dm1 --initial-states 512
"""

import argparse
import time

import keras

from keras_lmrnn import dynamics, zoo

PRESETS = ("modcog84_lmrnn_20x20_d6_neurogym-indegree", "modcog84_dense_400_neurogym-indegree")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=list(PRESETS))
    parser.add_argument("--task", default="go")
    parser.add_argument("--initial-states", type=int, default=256)
    args = parser.parse_args(argv)
    print(f"keras {keras.__version__} on {keras.backend.backend()}; task {args.task}, "
          f"{args.initial_states} initial states, the search's defaults")
    for name in args.presets:
        model = zoo.load(name)
        seconds = []
        for _ in range(2):
            started = time.perf_counter()
            found = dynamics.fixed_points(model, [args.task], initial_states=args.initial_states)
            seconds.append(time.perf_counter() - started)
        kinds = ", ".join(f"{sum(found.stability == s)} {s}" for s in dynamics.STABILITIES)
        print(f"{name}: first call {seconds[0]:.1f} s, second {seconds[1]:.1f} s; {len(found.points)} points "
              f"({kinds}); {found.settings['end_points_dropped']} of {found.settings['end_points']} end points dropped")


if __name__ == "__main__":
    main()
