"""Which device Keras computes on, in Keras' own words ("cpu:0", "gpu:0").

    >>> from keras_lmrnn import devices
    >>> devices.describe()          # "gpu:0" when the backend runs on a GPU
    'cpu:0'

Runs record it (`config.json`) and the benchmarks print it, so that a timing
or a result says where it was measured; runs also record `numerics_env()`,
the variables that decide TF32 or full float32 precision on a GPU.
"""

import os

import keras


def describe():
    """The device that holds a new tensor: "gpu:0" on a GPU, "cpu:0" on the CPU."""
    if keras.backend.backend() == "torch":  # Keras lists no devices for torch
        name = str(keras.ops.convert_to_tensor(0.0).device)  # "cuda:0" or "cpu"
    else:
        name = keras.distribution.list_devices()[0]  # "gpu:0" or "cpu:0"
    kind, _, index = name.lower().partition(":")
    return f"{'gpu' if kind == 'cuda' else kind}:{index or 0}"


# Variables that change how a GPU computes float32 (TF32 or full precision,
# deterministic kernels); see docs/gpu.
NUMERICS_VARIABLES = ("JAX_DEFAULT_MATMUL_PRECISION", "NVIDIA_TF32_OVERRIDE", "XLA_FLAGS")


def numerics_env():
    """The variables of `NUMERICS_VARIABLES` that are set, with their values."""
    return {name: os.environ[name] for name in NUMERICS_VARIABLES if name in os.environ}
