"""Model builders for the paper's comparison models, and their weight counts.

Every builder returns an uncompiled `keras.Model` from task inputs
(batch, time, input_size) to per-step logits (batch, time, 17). A model can
also be named by a spec string such as `lmrnn:n=400,d=4`, as the command
line does; `keras_lmrnn.specs` holds the grammar and the table of kinds
(lmrnn, random, autapse, dense, dense-matched, l1).

What the optional keys do: seed, alpha, noise (recurrent noise std), init (the
recurrent initialisation: indegree, the default, uniform or identity; see
`_recurrent_initializer`), linear_init (keras, the default, or torch: the
input, bias and readout initialisation; see `_linear_initializers`); for
lmrnn and random: sheet=ROWSxCOLS, periodic=0|1; for random: mask_seed.
A training protocol (`keras_lmrnn.protocols`) fills in alpha, init and
linear_init where a spec leaves them out.

Example:

>>> model = build_model("lmrnn:n=400,d=4", input_size=117)
>>> count_weights(model)["recurrent_nonzero"]  # 400 units x 49 inputs
19600
"""

import math
import os

import keras
import numpy as np

from keras_lmrnn import protocols, seeds, specs
from keras_lmrnn.layers import LMRNN
from keras_lmrnn.specs import CHOICES, KINDS, ModelSpec, matched_dense_size  # noqa: F401 (re-exported)
from keras_lmrnn.validation import check_number

NUM_CLASSES = 17
INITS = CHOICES["init"]
LINEAR_INITS = CHOICES["linear_init"]
IDENTITY_GAIN = 0.5  # neurogym's CTRNN template: W starts at 0.5 * I


def _recurrent_initializer(init, n):
    """The LMRNN `recurrent_initializer` of a spec's `init` key.

    "indegree" (default): the layer's own in-degree scaled draw (every row of
    W has the same variance whatever the mask). "uniform": U(-1/sqrt(n),
    1/sqrt(n)) for every entry, then masked, as PyTorch's `nn.RNN` default
    followed by a mask; the rows of a sparse W then have k/n of a dense row's
    variance (k = in-degree). "identity": 0.5 * I, as the CTRNN of
    neurogym's examples, then masked; the diagonal lies inside every
    locality mask, so dense and LM-RNNs start with the same W, but a random
    mask keeps a self-connection only by chance (its W starts mostly 0).
    """
    if init not in INITS:
        raise ValueError(f"Invalid value for argument `init`: expected one of {INITS}. Received: init={init!r}")
    if init == "indegree":
        return None
    if init == "identity":
        return keras.initializers.Identity(gain=IDENTITY_GAIN)
    return keras.initializers.RandomUniform(-1 / math.sqrt(n), 1 / math.sqrt(n))


def _linear_initializers(linear_init, input_size, n, seed):
    """Initializers of the input kernel, the bias and the readout.

    "keras" (default): Glorot-uniform input kernel and readout, zero biases.
    "torch": as the `nn.Linear` layers of a PyTorch model (input -> hidden,
    hidden -> hidden, hidden -> output): each weight U(-1/sqrt(fan_in),
    1/sqrt(fan_in)); the recurrent bias is the sum of the input and recurrent
    Linear layers' biases (one U(+-1/sqrt(inputs)) plus one U(+-1/sqrt(n)));
    the readout bias U(-1/sqrt(n), 1/sqrt(n)).
    """
    if linear_init not in LINEAR_INITS:
        raise ValueError(
            f"Invalid value for argument `linear_init`: expected one of {LINEAR_INITS}. "
            f"Received: linear_init={linear_init!r}"
        )

    def seeded(purpose):
        return None if seed is None else seeds.stream_seed(seed, purpose)

    if linear_init == "keras":
        return {"kernel_initializer": "glorot_uniform", "bias_initializer": "zeros"}, {
            "kernel_initializer": keras.initializers.GlorotUniform(seed=seeded("readout_kernel")),
            "bias_initializer": "zeros"}
    a, b = 1 / math.sqrt(input_size), 1 / math.sqrt(n)
    cell = {
        "kernel_initializer": keras.initializers.RandomUniform(-a, a),  # the cell seeds it
        "bias_initializer": SumOfUniforms((a, b), seed=seeded("bias")),
    }
    readout = {
        "kernel_initializer": keras.initializers.RandomUniform(-b, b, seed=seeded("readout_kernel")),
        "bias_initializer": keras.initializers.RandomUniform(-b, b, seed=seeded("readout_bias")),
    }
    return cell, readout


@keras.saving.register_keras_serializable(package="keras_lmrnn")
class SumOfUniforms(keras.initializers.Initializer):
    """The sum of independent U(-l, l) draws, one per limit in `limits`.

    The bias of PyTorch's `h = f(W_in x + b_in + W h + b_h)` written with
    one bias: `SumOfUniforms((1/sqrt(inputs), 1/sqrt(n)))`.

    Args:
        limits: the limit `l` of each uniform draw.
        seed: optional integer seed; each draw takes its own stream of it
            (`keras_lmrnn.seeds.stream_seed`). None: unseeded.

    Example:

    >>> tuple(SumOfUniforms((0.1, 0.2), seed=0)((3,)).shape)
    (3,)
    """

    def __init__(self, limits, seed=None):
        self.limits = [float(v) for v in limits]
        self.seed = seed

    def __call__(self, shape, dtype=None):
        total = 0.0
        for i, limit in enumerate(self.limits):
            # each uniform its own stream of the initializer's seed
            seed = None if self.seed is None else seeds.stream_seed(self.seed, "bias", part=i)
            total = total + keras.random.uniform(shape, -limit, limit, dtype=dtype, seed=seed)
        return total

    def get_config(self):
        return {"limits": self.limits, "seed": self.seed}


def _model(input_size, name, seed=None, init="indegree", linear_init="keras", **layer_kwargs):
    layer_kwargs["recurrent_initializer"] = _recurrent_initializer(init, layer_kwargs["n"])
    cell_init, readout_init = _linear_initializers(linear_init, input_size, layer_kwargs["n"], seed)
    if init != "indegree":
        name = f"{name}_init_{init}"
    if linear_init != "keras":
        name = f"{name}_linear_{linear_init}"
    inputs = keras.Input((None, input_size), name="task_inputs")
    hidden = LMRNN(return_sequences=True, name="rnn", seed=seed, **cell_init, **layer_kwargs)(inputs)
    logits = keras.layers.Dense(NUM_CLASSES, name="readout", **readout_init)(hidden)
    return keras.Model(inputs, logits, name=name)


def build_lmrnn(input_size, n, d, sheet_shape=None, periodic=True, **kwargs):
    """LM-RNN: units on a sheet, recurrent weights within distance `d`.

    Args:
        input_size: the width of the task inputs (`TaskDataset.input_size`).
        n: number of recurrent units.
        d: locality radius in lattice units (see `masks.locality_mask`).
        sheet_shape: optional `(rows, cols)` of the sheet; default: square.
        periodic: whether the sheet wraps around (a torus; default True).
        **kwargs: the optional keys of a spec as keyword arguments: `seed`,
            `alpha`, `recurrent_noise`, `init`, `linear_init` (see the module
            docstring), or any other `LMRNN` argument.

    Returns:
        An uncompiled `keras.Model` from (batch, time, input_size) inputs to
        (batch, time, 17) logits.

    Example:

    >>> model = build_lmrnn(117, n=16, d=1, seed=0)      # a 4x4 torus
    >>> model.name, model.output_shape
    ('lmrnn_n16_d1', (None, None, 17))
    """
    return _model(input_size, f"lmrnn_n{n}_d{d:g}", n=n, d=d, sheet_shape=sheet_shape, periodic=periodic, **kwargs)


def build_random_sparse(input_size, n, d, sheet_shape=None, periodic=True, mask_seed=None, **kwargs):
    """Random sparse RNN: each unit has the in-degree it would have under the
    locality mask of radius `d`, from random sources drawn with `mask_seed`
    (default: the model seed's "random_mask" stream, so each seed has its
    own mask; see `keras_lmrnn.seeds`).

    Args:
        input_size: the width of the task inputs.
        n: number of recurrent units.
        d: the locality radius whose in-degree each unit gets.
        sheet_shape: optional `(rows, cols)` of the sheet the locality mask
            is computed on; default: square.
        periodic: whether that sheet wraps around (default True).
        mask_seed: optional integer seed of the random sources.
        **kwargs: the optional keys of a spec as keyword arguments: `seed`,
            `alpha`, `recurrent_noise`, `init`, `linear_init` (see the module
            docstring), or any other `LMRNN` argument.

    Returns:
        An uncompiled `keras.Model` from (batch, time, input_size) inputs to
        (batch, time, 17) logits.

    Example:

    >>> model = build_random_sparse(117, n=16, d=1, mask_seed=0)
    >>> count_weights(model)["recurrent_nonzero"]     # 16 units x 5 sources
    80
    """
    return _model(
        input_size, f"random_n{n}_d{d:g}", n=n, d=d, mask="random", sheet_shape=sheet_shape,
        periodic=periodic, mask_seed=mask_seed, **kwargs,
    )


def build_autapse(input_size, n, sheet_shape=None, **kwargs):
    """A pool of autapses: each unit connects only to itself (d = 0).

    Args:
        input_size: the width of the task inputs.
        n: number of recurrent units.
        sheet_shape: optional `(rows, cols)`; needed only when `n` is not a
            perfect square.
        **kwargs: the optional keys of a spec as keyword arguments: `seed`,
            `alpha`, `recurrent_noise`, `init`, `linear_init` (see the module
            docstring), or any other `LMRNN` argument.

    Returns:
        An uncompiled `keras.Model` from (batch, time, input_size) inputs to
        (batch, time, 17) logits.

    Example:

    >>> build_autapse(117, n=16).name
    'autapse_n16'
    """
    return _model(input_size, f"autapse_n{n}", n=n, d=0, sheet_shape=sheet_shape, **kwargs)


def build_dense(input_size, n, **kwargs):
    """Fully connected leaky RNN of `n` units.

    Args:
        input_size: the width of the task inputs.
        n: number of recurrent units.
        **kwargs: the optional keys of a spec as keyword arguments: `seed`,
            `alpha`, `recurrent_noise`, `init`, `linear_init` (see the module
            docstring), or any other `LMRNN` argument.

    Returns:
        An uncompiled `keras.Model` from (batch, time, input_size) inputs to
        (batch, time, 17) logits.

    Example:

    >>> build_dense(117, n=16).name
    'dense_n16'
    """
    return _model(input_size, f"dense_n{n}", n=n, mask="dense", **kwargs)


def build_dense_matched(input_size, n, d, sheet_shape=None, periodic=True, **kwargs):
    """Dense RNN with about the recurrent synapse count of LM-RNN(n, d).

    Its size is `matched_dense_size(n, d, sheet_shape, periodic)`.

    Args:
        input_size: the width of the task inputs.
        n: the matched LM-RNN's number of units.
        d: its locality radius.
        sheet_shape: its optional `(rows, cols)`; default: square.
        periodic: whether its sheet wraps around (default True).
        **kwargs: the optional keys of a spec as keyword arguments: `seed`,
            `alpha`, `recurrent_noise`, `init`, `linear_init` (see the module
            docstring), or any other `LMRNN` argument.

    Returns:
        An uncompiled `keras.Model` from (batch, time, input_size) inputs to
        (batch, time, 17) logits.

    Example:

    >>> matched_dense_size(16, d=1)         # 9**2 ~ 16 units x 5 inputs
    9
    >>> build_dense_matched(117, n=16, d=3).name   # d=3 covers the whole 4x4 torus
    'dense_n16_matching_lmrnn_n16_d3'
    """
    size = matched_dense_size(n, d, sheet_shape, periodic)
    return _model(input_size, f"dense_n{size}_matching_lmrnn_n{n}_d{d:g}", n=size, mask="dense", **kwargs)


def build_l1(input_size, n, l1, **kwargs):
    """Dense RNN with an L1 penalty of strength `l1` on the recurrent weights.

    Args:
        input_size: the width of the task inputs.
        n: number of recurrent units.
        l1: the penalty's strength, a number >= 0.
        **kwargs: the optional keys of a spec as keyword arguments: `seed`,
            `alpha`, `recurrent_noise`, `init`, `linear_init` (see the module
            docstring), or any other `LMRNN` argument.

    Returns:
        An uncompiled `keras.Model` from (batch, time, input_size) inputs to
        (batch, time, 17) logits.

    Example:

    >>> build_l1(117, n=16, l1=1e-4).name
    'l1_n16_lambda0.0001'
    """
    l1 = check_number("l1", l1, 0)
    return _model(
        input_size, f"l1_n{n}_lambda{l1:g}", n=n, mask="dense",
        recurrent_regularizer=keras.regularizers.L1(l1), **kwargs,
    )


# The builder of each kind of spec (the keys each takes: `keras_lmrnn.specs`),
# registered in the spec module's table that `ModelSpec.build` reads.
specs.BUILDERS.update({
    "lmrnn": build_lmrnn,
    "random": build_random_sparse,
    "autapse": build_autapse,
    "dense": build_dense,
    "dense-matched": build_dense_matched,
    "l1": build_l1,
})
BUILDERS = specs.BUILDERS


def parse_spec(spec):
    """Splits "kind:key=value,..." into (kind, keyword arguments): the
    builder's view of `ModelSpec.parse(spec)` (see `keras_lmrnn.specs`).

    Args:
        spec: a model spec (text or `ModelSpec`).

    Returns:
        `(kind, kwargs)`: the kind and the builder's keyword arguments
        (`sheet` given as `sheet_shape`, `noise` as `recurrent_noise`).

    Raises:
        ValueError: naming the spec and the bad entry.

    Example:

    >>> parse_spec("lmrnn:n=400,d=4,sheet=10x40,noise=0.05")
    ('lmrnn', {'n': 400, 'd': 4, 'sheet_shape': (10, 40), 'recurrent_noise': 0.05})
    """
    parsed = ModelSpec.parse(spec)
    return parsed.kind, parsed.kwargs


def memory_needed(spec):
    """About how many bytes training the model named by `spec` needs for its
    recurrent weights, their gradient, optimizer state and mask.

    Args:
        spec: a model spec (see the module docstring).

    Example:

    >>> memory_needed("dense:n=400") // 2**20     # MiB
    3
    """
    return ModelSpec.parse(spec).memory_needed()


def recurrent_units(spec):
    """The number of recurrent units the model named by `spec` has: its `n`,
    or for `dense-matched` the size of the matched dense RNN.

    Args:
        spec: a model spec (see the module docstring).

    Example:

    >>> recurrent_units("dense-matched:n=2500,d=6")
    532
    """
    return ModelSpec.parse(spec).recurrent_units()


def physical_memory():
    """This machine's memory in bytes, or None where it cannot be read.

    Example:

    >>> memory = physical_memory()
    >>> memory is None or memory > 0
    True
    """
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_spec(spec, input_size=1, memory=None):
    """Validates a spec completely before anything is trained or written.

    Parses it, refuses sizes this machine cannot hold (`memory` bytes,
    default: its physical memory) and builds the model once, so that every
    value is checked by the layer itself.

    Args:
        spec: a model spec (see the module docstring).
        input_size: the task inputs' width the model is built for
            (default 1: any width checks the same values).
        memory: the bytes available; None (default): `physical_memory()`.

    Returns:
        `(kind, kwargs)`, as `parse_spec`.

    Raises:
        ValueError: naming the spec, the bad value and what is allowed.

    Example:

    >>> check_spec("lmrnn:n=400,d=4")[0]
    'lmrnn'
    >>> check_spec("dense:n=4000", memory=2**20)
    Traceback (most recent call last):
    ...
    ValueError: Invalid model spec 'dense:n=4000': n=4000 needs about 384.0 MB ... choose a smaller n
    """
    parsed = ModelSpec.parse(spec)
    kind, kwargs = parsed.kind, parsed.kwargs
    if isinstance(kwargs["n"], int) and kwargs["n"] >= 1:
        needed = parsed.memory_needed()
        memory = physical_memory() if memory is None else memory
        if memory is not None and needed > memory:
            raise ValueError(
                f"Invalid model spec {spec!r}: n={kwargs['n']} needs about {format_bytes(needed)} for its "
                f"recurrent weights and optimizer state, more than this machine's {format_bytes(memory)}; "
                "choose a smaller n"
            )
    try:
        parsed.build(input_size, seed=None)
    except (ValueError, TypeError) as error:
        raise ValueError(f"Invalid model spec {spec!r}: {error}") from None
    return kind, kwargs


def format_bytes(count):
    """A byte count in decimal units, e.g. "24.0 TB".

    Args:
        count: a number of bytes.

    Example:

    >>> format_bytes(3_840_000)
    '3.8 MB'
    """
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if count < 1000 or unit == "PB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000


def build_model(spec, input_size, protocol=protocols.DEFAULT, seed=0):
    """Builds the model named by a spec string (see the module docstring)
    as `keras-lmrnn train` builds it.

    Args:
        spec: e.g. "lmrnn:n=400,d=6".
        input_size: the task inputs' width (`TaskDataset.input_size`).
        protocol: the training protocol whose model settings (alpha, init,
            linear_init) fill in the keys the spec leaves out; default: the
            library's default protocol, as the command line. None: the spec
            as written, the layer's own defaults (lmrnn-v1's) for the rest.
        seed: the seed when the spec has none (default 0, as the command
            line's `--seed`); None: unseeded.

    Example:

    >>> build_model("dense:n=16", 117).name      # neurogym-indegree: torch init
    'dense_n16_linear_torch'
    >>> build_model("dense:n=16", 117, protocol=None).name
    'dense_n16'
    """
    parsed = ModelSpec.parse(spec) if protocol is None else protocols.apply(spec, protocol)
    return parsed.build(input_size, seed=seed)


def recurrent_layer(model):
    """The model's `LMRNN` layer.

    Args:
        model: a Keras model with exactly one `LMRNN` layer.

    Raises:
        ValueError: the model has no `LMRNN` layer, or several.

    Example:

    >>> recurrent_layer(build_dense(117, n=16)).name
    'rnn'
    """
    found = [layer for layer in model.layers if isinstance(layer, LMRNN)]
    if len(found) != 1:
        raise ValueError(f"Expected one LMRNN layer in model {model.name!r}, found {len(found)}")
    return found[0]


def count_weights(model, threshold=0.0):
    """Weight counts, the columns of the paper's Table 1.

    Args:
        model: a model with one `LMRNN` layer.
        threshold: a weight counts as non-zero when |w| > threshold (for L1
            models, a small positive threshold such as 1e-3).

    Returns:
        dict with `total` (trainable weights, masked entries included),
        `nonzero` (trainable weights above the threshold) and
        `recurrent_nonzero` (recurrent kernel entries above it).

    Example:

    >>> counts = count_weights(build_autapse(117, n=16))
    >>> counts["recurrent_nonzero"], counts["total"] - counts["nonzero"] >= 16 * 15
    (16, True)
    """
    kernel = recurrent_layer(model).cell.recurrent_kernel
    total = nonzero = 0
    for weight in model.trainable_weights:
        values = np.asarray(keras.ops.convert_to_numpy(weight))
        total += values.size
        nonzero += int((np.abs(values) > threshold).sum())
    recurrent = np.asarray(keras.ops.convert_to_numpy(kernel))
    return {
        "total": int(total),
        "nonzero": int(nonzero),
        "recurrent_nonzero": int((np.abs(recurrent) > threshold).sum()),
    }
