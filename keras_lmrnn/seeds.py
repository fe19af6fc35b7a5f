"""Named random streams: every random quantity of a run draws from its own.

A run has one seed; each purpose below gets a seed of its own from
`stream_seed(seed, purpose)`, a hash of (run seed, purpose) by numpy's
`SeedSequence`, so no two purposes and no two run seeds share a stream (the
seeds before this table were `seed + k`: the input kernel of the run with
seed 1 was the very draw of the recurrent kernel of the run with seed 0).

| purpose | what draws from it |
|---|---|
| input_kernel | U, the input weights (`LMRNNCell`'s kernel initializer) |
| recurrent_kernel | W, the recurrent weights (the in-degree draw or any initializer) |
| recurrent_noise | the noise added to the pre-activation during training |
| bias | the recurrent layer's bias, where it is drawn (`linear_init=torch`) |
| readout_kernel | the readout's weights |
| readout_bias | the readout's bias, where it is drawn |
| random_mask | the sources of a random sparse mask (unless `mask_seed` pins it) |

Two streams of a run live elsewhere and keep their layouts, because runs
resume on them and the zoo's card metrics are measured on them: the training
data (`tasks.TaskDataset`: numpy generators seeded with (seed, batch) or
(seed, 1, row, trial)) and the evaluation trials (`tasks.evaluation_set`:
(evaluation seed, task), one fixed set for every run). Both are numpy
`SeedSequence` streams of other entropy than the table's, which always
begins with `NAMESPACE`.

Example:

>>> stream_seed(0, "input_kernel") != stream_seed(1, "recurrent_kernel")
True
>>> stream_seed(0, "input_kernel") == stream_seed(0, "input_kernel")
True
"""

import numpy as np

from keras_lmrnn.validation import check_int

# Never renumber: a number is part of every stream's draws.
STREAMS = {
    "input_kernel": 1,
    "recurrent_kernel": 2,
    "recurrent_noise": 3,
    "bias": 4,
    "readout_kernel": 5,
    "readout_bias": 6,
    "random_mask": 7,
}
NAMESPACE = 0x4C4D524E  # "LMRN": keeps the table's entropy apart from the data's


def stream_seed(seed, purpose, part=0):
    """The integer seed of `purpose`'s stream for run seed `seed`.

    Args:
        seed: the run's seed, an integer >= 0.
        purpose: a key of `STREAMS`.
        part: an integer >= 0 telling apart several draws of one purpose
            (e.g. the two uniforms of a PyTorch-style bias).

    Returns:
        An integer in [0, 2**31), usable as any Keras or numpy seed.
    """
    check_int("seed", seed, 0)
    check_int("part", part, 0)
    if purpose not in STREAMS:
        raise ValueError(
            "Invalid value for argument `purpose`: expected one of "
            f"{sorted(STREAMS)}. Received: purpose={purpose!r}"
        )
    sequence = np.random.SeedSequence([NAMESPACE, STREAMS[purpose], seed, part])
    return int(sequence.generate_state(1, np.uint32)[0] >> 1)
