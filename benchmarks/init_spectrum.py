"""Spectral radius of the default initial recurrent kernel across d.

    python benchmarks/init_spectrum.py [--n 400] [--seed 0]

Shows that the in-degree scaled initialisation keeps W's spectral scale
comparable for sparse and dense masks (see README, "The network").
"""

import argparse

import numpy as np
import keras

import keras_lmrnn


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print("| mask | in-degree | spectral radius of W |")
    print("|---|---|---|")
    for d in (0, 1, 2, 4, 6, None):
        kwargs = dict(d=d) if d is not None else dict(mask="dense")
        layer = keras_lmrnn.LMRNN(n=args.n, seed=args.seed, **kwargs)
        layer.build((None, None, 1))
        W = keras.ops.convert_to_numpy(layer.cell.recurrent_kernel)
        radius = np.abs(np.linalg.eigvals(W)).max()
        label = f"locality d={d}" if d is not None else "dense"
        print(f"| {label} | {int(layer.mask_array.sum(1)[0])} | {radius:.2f} |")


if __name__ == "__main__":
    main()
