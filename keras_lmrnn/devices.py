"""Which device Keras computes on, in Keras' own words ("cpu:0", "gpu:0").

Runs record both (`config.json`) and the benchmarks print the device, so that
a timing or a result says where it was measured.

Example:

>>> from keras_lmrnn import devices
>>> devices.describe()          # "gpu:0" when a new tensor lands on the first GPU  # doctest: +SKIP
'cpu:0'
>>> devices.keras_name("cuda:1")
'gpu:1'
"""

import os
import re

import keras

# Environment variables that change how a GPU computes float32 (TF32 or full
# precision, deterministic kernels); see docs/gpu. Only these variables are
# recorded: a precision set in code (jax.config.update) is not seen.
NUMERICS_VARIABLES = ("JAX_DEFAULT_MATMUL_PRECISION", "NVIDIA_TF32_OVERRIDE", "XLA_FLAGS")


def describe():
    """The device that holds a new tensor, as "kind:index": "cpu:0", "gpu:0", "gpu:1",
    or another accelerator's kind ("tpu:0", "mps:0")."""
    return keras_name(keras.ops.convert_to_tensor(0.0).device)


def keras_name(device):
    """A backend's device (a JAX device, "cuda:1", "cpu", or TensorFlow's
    "/job:localhost/replica:0/task:0/device:GPU:1") as "kind:index", CUDA as "gpu"."""
    if hasattr(device, "platform"):  # a JAX device
        kind, index = device.platform, getattr(device, "id", 0)
    else:
        match = re.search(r"device:([A-Za-z]+):(\d+)$", str(device))  # TensorFlow
        if match is None:
            kind, _, index = str(device).partition(":")  # PyTorch: "cuda:0", "cpu"
        else:
            kind, index = match.groups()
    kind = kind.lower()
    return f"{'gpu' if kind == 'cuda' else kind}:{index or 0}"


def numerics_env():
    """The variables of `NUMERICS_VARIABLES` that are set, with their values."""
    return {name: os.environ[name] for name in NUMERICS_VARIABLES if name in os.environ}
