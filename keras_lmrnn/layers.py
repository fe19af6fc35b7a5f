"""The leaky masked recurrent cell and its RNN layer."""

import inspect
import math

import keras
import numpy as np
from keras import activations, initializers, layers, ops, random, regularizers
from keras import saving, tree

# Keras' time loop over a step function (the one `keras.layers.RNN` runs); it
# takes nested inputs, which the public layer does not: the noise sequence
# reaches each step as the cell's own input beside x[t]. Not public API: a
# Keras without it fails only where it is needed (tests/test_layers.py runs it).
try:
    from keras.src.backend import rnn as keras_time_loop
except ImportError:  # pragma: no cover - a future Keras
    keras_time_loop = None

from keras_lmrnn import masks as masks_lib
from keras_lmrnn import recurrence as recurrence_lib
from keras_lmrnn import seeds as seeds_lib
from keras_lmrnn.constraints import MaskConstraint
from keras_lmrnn.validation import check_bool, check_int, check_number

# `mask` value recorded in the config of a layer built from an explicit array:
# the array itself is a weight (`recurrent_mask`), restored with the weights.
STORED_MASK = "stored"
# Key of the noise generator's state among a cell's saved variables.
NOISE_STATE = "noise_seed_state"


@saving.register_keras_serializable(package="keras_lmrnn")
class LMRNNCell(layers.Layer):
    """One time step of a leaky, masked (locality-constrained) RNN.

    Computes, with units on a `rows x cols` sheet and `W` zero outside the
    mask:

        h[t+1] = (1 - alpha) * h[t] + alpha * f(W h[t] + U x[t] + b + noise)

    The mask lives in the weights, not in the step: the recurrent kernel is
    masked when initialised and a `MaskConstraint` zeroes the masked entries
    again after every optimizer update.

    Recurrent initialisation (the default, `recurrent_initializer=None`):
    each allowed weight into unit `i` is drawn from
    `U(-a_i, a_i)` with `a_i = recurrent_gain * sqrt(3 / k_i)`, where `k_i` is
    the in-degree of unit `i` under the mask. Every row of `W` then has the
    same total variance `recurrent_gain**2`, so the bulk of W's spectrum has
    radius about `recurrent_gain` whatever `d` is (for a dense RNN as for a
    sparse one), and even the autapse pool (`d=0`, `k_i = 1`) starts with
    self-weights bounded by `recurrent_gain * sqrt(3)` (< 1 by default).
    Any other Keras initializer may be given; its draw is then masked.

    Args:
        n: number of units, an integer >= 1.
        d: locality radius in lattice units (a number >= 0), required by the
            "locality" and "random" masks; must be None for "dense" and
            array masks. `d=0` is a pool of autapses.
        sheet_shape: `(rows, cols)` with `rows * cols == n`; default: the
            square sheet (then `n` must be a perfect square).
        periodic: whether distances wrap around the sheet (a torus, the
            paper's setting; default True).
        mask: "locality" (default), "random" (each unit gets as many random
            sources as it has under the locality mask of the same `d`,
            drawn with `mask_seed`), "dense", or a boolean numpy array of
            shape (n, n) in (post, pre) convention (`mask[i, j]`: unit j
            may drive unit i).
        mask_seed: integer seed of the "random" mask; None (default): the
            "random_mask" stream of `seed` (`keras_lmrnn.seeds`), so each
            weight seed draws its own mask, or 0 when `seed` is None too.
            Pass an integer to keep one mask across weight seeds.
        alpha: leak rate dt/tau in (0, 1] (default 0.2).
        activation: the nonlinearity f (default "relu").
        use_bias: whether to add `b` (default True).
        recurrent_noise: standard deviation of the Gaussian noise added to
            the pre-activation at every step during training (default 0).
            `LMRNN` draws it for the whole sequence before the time loop
            and hands each step its slice (the `noise` call argument); a
            bare cell in `keras.layers.RNN` draws it step by step, which
            JAX's scan does not allow (use `LMRNN` there).
        kernel_initializer: initializer of the input kernel U
            (default "glorot_uniform").
        recurrent_initializer: None (default, the in-degree scaled uniform
            draw above) or any Keras initializer.
        recurrent_gain: gain of the default recurrent initialisation
            (default 0.5).
        bias_initializer: initializer of b (default "zeros").
        kernel_regularizer: optional Keras regularizer of the input kernel
            U.
        recurrent_regularizer: optional Keras regularizer of the recurrent
            kernel W (e.g. `keras.regularizers.L1(1e-4)` for the paper's L1
            comparison model).
        bias_regularizer: optional Keras regularizer of b.
        seed: optional integer seed of the initial weights, the noise and
            (unless `mask_seed` is given) a random mask; each draws from its
            own stream of it (`keras_lmrnn.seeds.stream_seed`).

    Call arguments:

    - `inputs`: a (batch, features) tensor.
    - `states`: a list holding the (batch, n) state.
    - `training`: whether noise is added.
    - `noise`: optional (batch, n) noise to add to the pre-activation in
      place of a draw of the cell's own (`LMRNN` passes its pre-drawn
      sequence this way).

    Example:

    >>> import numpy as np, keras
    >>> cell = LMRNNCell(n=16, d=1)
    >>> rnn = keras.layers.RNN(cell, return_sequences=True)
    >>> tuple(rnn(np.zeros((2, 5, 3), "float32")).shape)
    (2, 5, 16)
    """

    def __init__(
        self,
        n,
        d=None,
        sheet_shape=None,
        periodic=True,
        mask="locality",
        mask_seed=None,
        alpha=0.2,
        activation="relu",
        use_bias=True,
        recurrent_noise=0.0,
        kernel_initializer="glorot_uniform",
        recurrent_initializer=None,
        recurrent_gain=0.5,
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.n = check_int("n", n, 1)
        self.periodic = check_bool("periodic", periodic)
        if seed is not None:
            seed = check_int("seed", seed, 0)
        if mask_seed is None:
            mask_seed = (
                0 if seed is None else seeds_lib.stream_seed(seed, "random_mask")
            )
        self.mask_seed = check_int("mask_seed", mask_seed, 0)
        needs_sheet = isinstance(mask, str) and mask in ("locality", "random")
        if needs_sheet or sheet_shape is not None or math.isqrt(n) ** 2 == n:
            self.sheet_shape = masks_lib.sheet_shape(self.n, sheet_shape)
        else:
            self.sheet_shape = None  # a dense or explicit mask needs no sheet
        self.d = d
        self.mask, self._mask_array = self._resolve_mask(mask, d)
        self.alpha = check_number("alpha", alpha, 0, 1, open_below=True)
        self.activation = activations.get(activation)
        self.use_bias = check_bool("use_bias", use_bias)
        self.recurrent_noise = check_number(
            "recurrent_noise", recurrent_noise, 0
        )
        self.recurrent_gain = check_number("recurrent_gain", recurrent_gain, 0)
        self.seed = seed
        self.kernel_initializer = _seeded(
            initializers.get(kernel_initializer), seed, "input_kernel"
        )
        self.recurrent_initializer = (
            None
            if recurrent_initializer is None
            else _seeded(
                initializers.get(recurrent_initializer), seed, "recurrent_kernel"
            )
        )
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.seed_generator = random.SeedGenerator(
            None if seed is None else _stream(seed, "recurrent_noise")
        )
        self.state_size = self.n
        self.output_size = self.n
        # Set by `LMRNN` while it runs: the masked recurrent kernel, computed
        # once per sequence instead of once per step.
        self._masked_kernel = None

    def _resolve_mask(self, mask, d):
        if isinstance(mask, np.ndarray):
            if d is not None:
                raise ValueError(
                    "Invalid value for argument `d`: an explicit mask array "
                    f"has no locality radius; pass d=None. Received: d={d!r}"
                )
            return STORED_MASK, masks_lib.check_mask(mask, self.n)
        if not isinstance(mask, str) or mask not in (
            *masks_lib.MASK_KINDS,
            STORED_MASK,
        ):
            if not isinstance(mask, str):
                masks_lib.check_mask(mask)  # raises a TypeError
            raise ValueError(
                "Invalid value for argument `mask`: expected one of "
                f"{masks_lib.MASK_KINDS} or a boolean (n, n) array. "
                f"Received: mask={mask!r}"
            )
        if mask in ("dense", STORED_MASK):
            if d is not None:
                raise ValueError(
                    f"Invalid value for argument `d`: mask={mask!r} has no "
                    f"locality radius; pass d=None. Received: d={d!r}"
                )
            # A stored mask is restored with the weights; until then the
            # layer is dense.
            return mask, masks_lib.dense_mask(self.n)
        if d is None:
            raise ValueError(
                f"Invalid value for argument `d`: mask={mask!r} needs a "
                "locality radius d >= 0. Received: d=None"
            )
        check_number("d", d, 0)
        return mask, masks_lib.build_mask(
            mask, self.n, self.sheet_shape, d, self.periodic, self.mask_seed
        )

    @property
    def mask_array(self):
        """The (post, pre) boolean mask as given or built (a numpy copy)."""
        return self._mask_array.copy()

    def build(self, input_shape):
        self._recurrent_constraint = MaskConstraint(self._mask_array.T)
        if self.mask == STORED_MASK:
            # An explicit mask is not rebuilt from arguments: keep it as a
            # (non-trainable) weight so that it is saved with the others.
            self.recurrent_mask = self.add_weight(
                shape=(self.n, self.n),
                name="recurrent_mask",
                initializer=lambda shape, dtype=None: ops.convert_to_tensor(
                    self._mask_array.T, dtype="uint8"
                ),
                dtype="uint8",
                trainable=False,
            )
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.n),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.n, self.n),
            name="recurrent_kernel",
            initializer=self._initial_recurrent_kernel,
            regularizer=self.recurrent_regularizer,
            constraint=self._recurrent_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.n,),
                name="bias",
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
            )
        else:
            self.bias = None

    def _stores_entries(self):
        """Whether the recurrent kernel is saved as its mask's entries only.

        True for a mask rebuilt from the config (locality, random) that
        forbids some synapse: the forbidden entries are zero, so a 50x50
        LM-RNN with d=10 stores 0.8 million numbers instead of 6.25 million.
        A stored mask (`mask="stored"`) and a dense kernel are saved whole.
        """
        return self.mask != STORED_MASK and not self._mask_array.all()

    def _own_variables(self):
        return self._trainable_variables + self._non_trainable_variables

    def save_own_variables(self, store):
        compact = self._stores_entries()
        for i, variable in enumerate(self._own_variables()):
            if compact and variable is self.recurrent_kernel:
                kernel = ops.convert_to_numpy(variable)
                store[f"{i}"] = kernel[self._mask_array.T]  # row-major order
            else:
                store[f"{i}"] = variable
        if self.recurrent_noise > 0:  # so that a resumed run draws on
            store[NOISE_STATE] = self.seed_generator.state

    def load_own_variables(self, store):
        if NOISE_STATE in store.keys():
            state = np.asarray(store[NOISE_STATE])
            variable = self.seed_generator.state
            variable.assign(state.astype(variable.dtype))
            store = {k: store[k] for k in store.keys() if k != NOISE_STATE}
        self._check_load_own_variables(store)
        for i, variable in enumerate(self._own_variables()):
            value = store[f"{i}"]
            if variable is self.recurrent_kernel and len(value.shape) == 1:
                value = self._kernel_from_entries(np.asarray(value))
            variable.assign(value)
        if self.mask == STORED_MASK:
            self._set_mask(ops.convert_to_numpy(self.recurrent_mask).T > 0)

    def _kernel_from_entries(self, entries):
        """The (pre, post) recurrent kernel whose mask entries are `entries`."""
        kernel_mask = self._mask_array.T
        if not self._stores_entries() or entries.shape != (kernel_mask.sum(),):
            raise ValueError(
                f"The saved recurrent kernel of layer '{self.name}' holds "
                f"{entries.size} mask entries; its mask ({self.mask}, "
                f"d={self.d}, n={self.n}) has {int(kernel_mask.sum())}. Were "
                "the weights saved from a layer with another mask?"
            )
        kernel = np.zeros(kernel_mask.shape, entries.dtype)
        kernel[kernel_mask] = entries
        return kernel

    def _set_mask(self, mask):
        self._mask_array = mask
        self._recurrent_constraint.set_mask(mask.T)

    def _initial_recurrent_kernel(self, shape, dtype=None):
        kernel_mask = self._mask_array.T
        if self.recurrent_initializer is not None:
            values = self.recurrent_initializer(shape, dtype=dtype)
        else:
            in_degree = np.maximum(kernel_mask.sum(axis=0), 1)
            limit = self.recurrent_gain * np.sqrt(3.0 / in_degree)
            seed = _stream(self.seed, "recurrent_kernel")
            values = random.uniform(
                shape, minval=-1.0, maxval=1.0, dtype=dtype, seed=seed
            ) * ops.convert_to_tensor(limit, dtype=dtype)
        return ops.multiply(values, ops.convert_to_tensor(kernel_mask, dtype))

    def call(self, inputs, states, training=False, noise=None):
        h = states[0] if isinstance(states, (list, tuple)) else states
        if noise is None and training and self.recurrent_noise > 0:
            noise = self.draw_noise(ops.shape(h))
        kernel = self._masked_kernel
        if kernel is None:
            kernel = self.masked_recurrent_kernel()
        pre = ops.add(ops.matmul(inputs, self.kernel), ops.matmul(h, kernel))
        if self.bias is not None:
            pre = ops.add(pre, self.bias)
        if noise is not None:
            pre = ops.add(pre, noise)
        # Written as (1 - alpha) h + alpha f(pre); the form h + alpha (f - h)
        # ran up to 20% slower under TensorFlow in our step-time runs.
        h_new = ops.add(
            (1.0 - self.alpha) * h, self.alpha * self.activation(pre)
        )
        new_state = [h_new] if isinstance(states, (list, tuple)) else h_new
        return h_new, new_state

    def masked_recurrent_kernel(self):
        """The recurrent kernel times its mask (the kernel itself if dense).

        The product runs on this, so the gradient of a masked entry is zero
        whichever recurrence computes it: a synapse the mask forbids takes
        no part in training (not in a gradient norm, not in Adam's moments).
        """
        if self._mask_array.all():
            return self.recurrent_kernel
        mask = ops.convert_to_tensor(self._mask_array.T, self.compute_dtype)
        return ops.multiply(self.recurrent_kernel, mask)

    def draw_noise(self, shape):
        """Gaussian noise of std `recurrent_noise`, from the cell's seed."""
        return random.normal(
            shape,
            stddev=self.recurrent_noise,
            dtype=self.compute_dtype,
            seed=self.seed_generator,
        )

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, self.n), dtype=self.compute_dtype)]

    def get_config(self):
        config = {
            "n": self.n,
            "d": self.d,
            "sheet_shape": (
                None if self.sheet_shape is None else list(self.sheet_shape)
            ),
            "periodic": self.periodic,
            "mask": self.mask,
            "mask_seed": self.mask_seed,
            "alpha": self.alpha,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "recurrent_noise": self.recurrent_noise,
            "kernel_initializer": initializers.serialize(
                self.kernel_initializer
            ),
            "recurrent_initializer": (
                None
                if self.recurrent_initializer is None
                else initializers.serialize(self.recurrent_initializer)
            ),
            "recurrent_gain": self.recurrent_gain,
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(
                self.kernel_regularizer
            ),
            "recurrent_regularizer": regularizers.serialize(
                self.recurrent_regularizer
            ),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "seed": self.seed,
        }
        return {**super().get_config(), **config}


# Values of `LMRNN(recurrence=...)`.
RECURRENCES = ("auto", "step", "fused", "sparse")

# The arguments of `LMRNNCell` (its signature is their one definition):
# `LMRNN` takes each by name, shows it as a read-only property and records it
# in its config.
CELL_ARGS = tuple(
    name
    for name, parameter in inspect.signature(LMRNNCell.__init__).parameters.items()
    if name != "self" and parameter.kind is not parameter.VAR_KEYWORD
)


def _cell_argument(name):
    """A read-only property of `LMRNN` returning its cell's `name`."""
    return property(
        lambda self: getattr(self.cell, name),
        doc=f"The cell's `{name}` (see `LMRNNCell`).",
    )


@saving.register_keras_serializable(package="keras_lmrnn")
class LMRNN(layers.RNN):
    """Leaky locality-masked RNN layer: `LMRNNCell` run over a sequence.

    Takes the arguments of `LMRNNCell` (after `recurrence`, by name only),
    those of `keras.layers.RNN` and `recurrence`; each cell argument is also
    a read-only property (`layer.d`, `layer.alpha`, ...).

    Args:
        n: number of units, an integer >= 1.
        d: locality radius in lattice units (a number >= 0, or None for
            "dense" and array masks; `d=0` is a pool of autapses).
        return_sequences: return the state at every step, (batch, time, n),
            instead of the last one only (default False; as
            `keras.layers.RNN`).
        return_state: also return the final state (default False).
        go_backwards: run over the sequence backwards (default False).
        stateful: start each batch from the last state of the previous
            one (default False).
        unroll: unroll the time loop (default False; "step" path only).
        recurrence: how the time loop runs (default "auto"):

            - "step": Keras' RNN loop over `LMRNNCell`, differentiated step
              by step (every feature: timestep masks, `unroll`, any
              activation).
            - "fused": the whole sequence as one op
              (`keras_lmrnn.recurrence`): the input projection for all steps
              before the loop, a backward that carries only state deltas
              through time and computes the weight gradients as
              whole-sequence products after it. Needs an activation among
              relu, tanh, sigmoid, linear, and no timestep mask or `unroll`.
            - "sparse": "fused" with a recurrent product over the mask's
              entries only: square tiles of the sheet reading their halos
              for a local mask, a diagonal for autapses (random masks have
              no such form).
            - "auto": the path `keras_lmrnn.recurrence.auto_path` measured
              fastest for the backend, N and batch size (see there and
              `benchmarks/recurrence_speed.py`), or "step" where the fused
              loop cannot run (a timestep mask, `unroll`, another
              activation).

            Every path computes the same outputs and gradients to float32
            rounding (the gradient of a masked weight is zero on every path)
            and stores the same N x N weights, so a model saved under one
            path loads and runs under another.
        sheet_shape: `(rows, cols)` of the sheet (default: square).
        periodic: whether distances wrap around the sheet (default True).
        mask: "locality" (default), "random", "dense" or a boolean (n, n)
            array in (post, pre) convention.
        mask_seed: seed of a "random" mask (default: from `seed`).
        alpha: leak rate dt/tau in (0, 1] (default 0.2).
        activation: the nonlinearity (default "relu").
        use_bias: whether to add a bias (default True).
        recurrent_noise: std of the training noise on the pre-activation
            (default 0).
        kernel_initializer: initializer of the input kernel (default
            "glorot_uniform").
        recurrent_initializer: None (default: in-degree scaled uniform) or
            a Keras initializer of the recurrent kernel.
        recurrent_gain: gain of the default recurrent initialisation
            (default 0.5).
        bias_initializer: initializer of the bias (default "zeros").
        kernel_regularizer: optional regularizer of the input kernel.
        recurrent_regularizer: optional regularizer of the recurrent kernel
            (e.g. `keras.regularizers.L1(1e-5)`).
        bias_regularizer: optional regularizer of the bias.
        seed: optional integer seed of the weights, the noise and a random
            mask (each its own stream).
        **kwargs: arguments of `keras.layers.Layer` (`name`, `dtype`,
            `trainable`).

    Each cell argument means what it means for `LMRNNCell` (see there for
    the details: the masks, the recurrent initialisation, the seeds).

    Call arguments:

    - `sequences`: a (batch, time, features) tensor.
    - `initial_state`: optional list with one (batch, n) tensor.
    - `mask`: optional (batch, time) boolean timestep mask.
    - `training`: whether recurrent noise is added.

    Example:

    >>> import numpy as np, keras
    >>> layer = LMRNN(n=400, d=4, return_sequences=True)
    >>> tuple(layer(np.zeros((2, 7, 33), "float32")).shape)
    (2, 7, 400)
    >>> layer.d, layer.alpha
    (4, 0.2)
    """

    n = _cell_argument("n")
    d = _cell_argument("d")
    sheet_shape = _cell_argument("sheet_shape")
    periodic = _cell_argument("periodic")
    mask = _cell_argument("mask")
    mask_seed = _cell_argument("mask_seed")
    alpha = _cell_argument("alpha")
    activation = _cell_argument("activation")
    use_bias = _cell_argument("use_bias")
    recurrent_noise = _cell_argument("recurrent_noise")
    kernel_initializer = _cell_argument("kernel_initializer")
    recurrent_initializer = _cell_argument("recurrent_initializer")
    recurrent_gain = _cell_argument("recurrent_gain")
    bias_initializer = _cell_argument("bias_initializer")
    kernel_regularizer = _cell_argument("kernel_regularizer")
    recurrent_regularizer = _cell_argument("recurrent_regularizer")
    bias_regularizer = _cell_argument("bias_regularizer")
    seed = _cell_argument("seed")

    def __init__(
        self,
        n,
        d=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        recurrence="auto",
        *,
        sheet_shape=None,
        periodic=True,
        mask="locality",
        mask_seed=None,
        alpha=0.2,
        activation="relu",
        use_bias=True,
        recurrent_noise=0.0,
        kernel_initializer="glorot_uniform",
        recurrent_initializer=None,
        recurrent_gain=0.5,
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        seed=None,
        **kwargs,
    ):
        if recurrence not in RECURRENCES:
            raise ValueError(
                "Invalid value for argument `recurrence`: expected one of "
                f"{RECURRENCES}. Received: recurrence={recurrence!r}"
            )
        cell = LMRNNCell(
            n,
            d,
            sheet_shape=sheet_shape,
            periodic=periodic,
            mask=mask,
            mask_seed=mask_seed,
            alpha=alpha,
            activation=activation,
            use_bias=use_bias,
            recurrent_noise=recurrent_noise,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            recurrent_gain=recurrent_gain,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            seed=seed,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name="lmrnn_cell",
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            **kwargs,
        )
        self.input_spec = [layers.InputSpec(ndim=3)]
        self.recurrence = recurrence
        self._products = {}  # kind -> (the mask it was made for, product)
        if recurrence in ("fused", "sparse"):
            problem = self._fused_problem(timestep_mask=None)
            if problem:
                raise ValueError(
                    f"Invalid value for argument `recurrence`: "
                    f"recurrence={recurrence!r} cannot run this layer: "
                    f"{problem}. Use recurrence='step' or 'auto'."
                )
            # (a stored mask is known only once its weights load: checked then)
            stored = self.cell.mask == STORED_MASK
            if recurrence == "sparse" and not stored and self._product("sparse") is None:
                raise ValueError(
                    "Invalid value for argument `recurrence`: "
                    "recurrence='sparse' needs a local mask on a sheet that "
                    "square tiles of 3 to 10 units divide, or an autapse "
                    f"mask. Received: mask={self.cell.mask!r}, "
                    f"d={self.cell.d!r}, sheet_shape={self.cell.sheet_shape!r}"
                )

    def _activation_name(self):
        name = activations.serialize(self.cell.activation)
        return name if name in recurrence_lib.ACTIVATIONS else None

    def _fused_problem(self, timestep_mask):
        """Why the fused loop cannot run this call ("" if it can)."""
        if self._activation_name() is None:
            return (
                "its activation has no fused backward (relu, tanh, sigmoid, "
                "linear have)"
            )
        if self.unroll:
            return "unroll=True"
        if timestep_mask is not None:
            return "a timestep mask was given"
        return ""

    def _product(self, kind):
        """The recurrent product of kind "fused" or "sparse" (None: none)."""
        cell = self.cell
        mask = cell._mask_array
        cached = self._products.get(kind)
        if cached is not None and cached[0] is mask:
            return cached[1]
        kernel_mask = mask.T
        if kind == "fused":
            product = recurrence_lib.DenseProduct(kernel_mask)
        elif (mask == np.eye(cell.n, dtype=bool)).all():
            product = recurrence_lib.DiagonalProduct(cell.n)
        else:
            product = recurrence_lib.tile_product(
                kernel_mask, cell.sheet_shape, cell.periodic
            )
        self._products[kind] = (mask, product)
        return product

    def path(self, batch_size, steps, timestep_mask=None):
        """The recurrence a call of this shape runs: "step", "fused", "sparse"."""
        if self.recurrence == "step" or self._fused_problem(timestep_mask):
            if self.recurrence in ("fused", "sparse"):
                raise ValueError(
                    f"recurrence={self.recurrence!r} cannot run this call: "
                    f"{self._fused_problem(timestep_mask)}. Use "
                    "recurrence='step' or 'auto'."
                )
            return "step"
        if self.recurrence != "auto":
            return self.recurrence
        mask = self.cell._mask_array
        diagonal = bool((mask == np.eye(self.cell.n, dtype=bool)).all())
        return recurrence_lib.auto_path(
            self.cell.n, batch_size, diagonal, lambda: self._product("sparse")
        )

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        noise = None
        if training and cell.recurrent_noise > 0:
            # For the whole sequence before the time loop: JAX cannot draw
            # fresh random numbers inside its scan.
            batch, steps = ops.shape(sequences)[0], ops.shape(sequences)[1]
            noise = cell.draw_noise((batch, steps, cell.n))
        # Static sizes (None when unknown, e.g. TensorFlow's traced batch).
        path = self.path(
            sequences.shape[0], sequences.shape[1], timestep_mask=mask
        )
        if path == "step":
            cell._masked_kernel = cell.masked_recurrent_kernel()
            try:
                if noise is None:
                    return super().inner_loop(
                        sequences, initial_state, mask, training=training
                    )
                return self._step_loop_with_noise(
                    sequences, noise, initial_state, mask, training
                )
            finally:
                cell._masked_kernel = None
        product = self._product(path)
        if product is None:  # "sparse" asked of a stored mask tiles cannot fit
            raise ValueError(
                "recurrence='sparse' needs a local mask on a sheet that square "
                "tiles of 3 to 10 units divide, or an autapse mask; this layer's "
                "stored mask is neither. Use recurrence='fused' or 'auto'."
            )
        drive = ops.matmul(sequences, cell.kernel)
        if cell.bias is not None:
            drive = ops.add(drive, cell.bias)
        if noise is not None:
            drive = ops.add(drive, noise)
        drive = ops.transpose(drive, (1, 0, 2))  # (time, batch, n)
        if self.go_backwards:  # as Keras' loop: outputs in processing order
            drive = ops.flip(drive, axis=0)
        # A copy: a stateful layer overwrites its state in place after the
        # call, before the backward pass reads h0 (PyTorch).
        h0 = ops.copy(initial_state[0])
        if product.layout is not None:
            drive = ops.take(drive, product.layout, axis=-1)
            h0 = ops.take(h0, product.layout, axis=-1)
        states = recurrence_lib.fused_sequence(
            drive,
            h0,
            cell.recurrent_kernel,
            product,
            cell.alpha,
            self._activation_name(),
        )
        if product.layout is not None:
            states = ops.take(states, product.inverse_layout, axis=-1)
        outputs = ops.transpose(states, (1, 0, 2))
        last = outputs[:, -1]
        return last, outputs, [last]

    def _step_loop_with_noise(self, sequences, noise, initial_state, mask, training):
        """Keras' step loop (as `keras.layers.RNN.inner_loop`), each step
        getting its slice of the pre-drawn `noise` as the cell's input."""

        def step(inputs, states):
            x, noise_t = inputs
            if keras.backend.backend() == "torch" and self.stateful:
                # as Keras: autograd must not see the state change in place
                states = tree.map_structure(ops.copy, states)
            return self.cell(x, states, training=training, noise=noise_t)

        if keras_time_loop is None:  # pragma: no cover - a future Keras
            raise RuntimeError(
                f"Keras {keras.__version__} has no keras.src.backend.rnn, which LMRNN's step loop with "
                "recurrent_noise > 0 uses; use recurrence='fused', or a Keras 3 release up to 3.15"
            )
        return keras_time_loop(
            step,
            (sequences, noise),
            list(initial_state),
            go_backwards=self.go_backwards,
            mask=mask,
            unroll=self.unroll,
            input_length=sequences.shape[1],
            zero_output_for_mask=self.zero_output_for_mask,
            return_all_outputs=self.return_sequences,
        )

    @property
    def mask_array(self):
        return self.cell.mask_array

    def get_config(self):
        cell_config = self.cell.get_config()
        base_config = super().get_config()
        del base_config["cell"]
        return {
            **base_config,
            "recurrence": self.recurrence,
            **{k: cell_config[k] for k in CELL_ARGS},
        }

    @classmethod
    def from_config(cls, config):  # flat config: no "cell" entry to pop
        return cls(**config)


def _stream(seed, purpose):
    """The seed of `purpose`'s stream of `seed` (None stays None)."""
    return None if seed is None else seeds_lib.stream_seed(seed, purpose)


def _seeded(initializer, seed, purpose):
    """A copy of `initializer` seeded from `seed`'s stream of `purpose` if it
    takes an unset seed."""
    if seed is None or not hasattr(initializer, "get_config"):
        return initializer
    config = initializer.get_config()
    if "seed" not in config or config["seed"] is not None:
        return initializer
    return initializer.__class__.from_config(
        {**config, "seed": _stream(seed, purpose)}
    )
