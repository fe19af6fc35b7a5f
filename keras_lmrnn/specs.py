"""Model specs: the one grammar of the "kind:key=value,..." model names.

A spec names a comparison model as the command line, sweeps, run folders
and presets do:

    lmrnn:n=400,d=4            LM-RNN on a 20x20 torus, radius 4
    random:n=400,d=4           random sparse, the in-degree of lmrnn:n=400,d=4
    autapse:n=400              a pool of autapses (LM-RNN with d=0)
    dense:n=400                fully connected RNN
    dense-matched:n=400,d=4    dense RNN with about lmrnn:n=400,d=4's recurrent synapses
    l1:n=400,l1=1e-4           dense RNN with an L1 penalty on W

Optional keys for all: seed, alpha, noise (recurrent noise std), init
(indegree, uniform or identity), linear_init (keras or torch), sheet=ROWSxCOLS,
periodic=0|1, mask_seed (see `keras_lmrnn.models` for what each does).

`ModelSpec.parse` reads a spec once; everything else asks the parsed spec:
its size, weight counts and memory (from the grammar and the masks alone),
and `ModelSpec.build` for the Keras model. This module imports no Keras:
`keras_lmrnn.models` registers each kind's builder in `BUILDERS` when
`keras_lmrnn` is imported, and `keras_lmrnn.protocols.apply` fills in a
protocol's settings (`ModelSpec.with_defaults` with its model keys).

Example:

>>> spec = ModelSpec.parse("lmrnn:n=400,d=4,noise=0.05")
>>> spec.kind, spec["d"], spec.kwargs["recurrent_noise"]
('lmrnn', 4, 0.05)
>>> spec == ModelSpec.parse("lmrnn:noise=0.05,d=4,n=400")   # same meaning
True
>>> str(spec.with_defaults({"alpha": 0.1, "d": 6}))          # given keys win
'lmrnn:n=400,d=4,noise=0.05,alpha=0.1'
"""

import math
import types

from keras_lmrnn import masks

KINDS = ("lmrnn", "random", "autapse", "dense", "dense-matched", "l1")
# The keys each kind must be given.
REQUIRED = {
    "lmrnn": ("n", "d"),
    "random": ("n", "d"),
    "autapse": ("n",),
    "dense": ("n",),
    "dense-matched": ("n", "d"),
    "l1": ("n", "l1"),
}
OPTIONAL = frozenset({"seed", "alpha", "noise", "sheet", "periodic", "mask_seed", "init", "linear_init"})
# Keys with a fixed set of values.
CHOICES = {"init": ("indegree", "uniform", "identity"), "linear_init": ("keras", "torch")}
# Spec keys whose builder argument has another name.
BUILDER_NAMES = {"sheet": "sheet_shape", "noise": "recurrent_noise"}
# Bytes per recurrent-kernel entry while training: the float32 kernel, its
# gradient, Adam's two moments, the float32 mask the constraint multiplies
# by and the boolean mask: 4 + 4 + 8 + 4 + 1, rounded up.
BYTES_PER_RECURRENT_ENTRY = 24
# Each kind's model builder, `builder(input_size, **spec.kwargs)` -> uncompiled
# keras.Model: registered by `keras_lmrnn.models` (which `import keras_lmrnn`
# imports), so that this module needs no Keras.
BUILDERS = {}


class ModelSpec:
    """A parsed model spec: its kind and its keys' values.

    Make one with `ModelSpec.parse`. `str(spec)` is the text it was parsed
    from (run folders are named by it); two specs are equal when they mean
    the same model (same kind and values, in any order).

    Args:
        text: the spec's text.
        kind: one of `KINDS`.
        values: {spec key: parsed value}, in the order written (unchecked
            here: `parse` checks them).

    Example:

    >>> ModelSpec.parse("dense:n=64").kwargs
    {'n': 64}
    """

    def __init__(self, text, kind, values):
        self._text = text
        self._kind = kind
        self._values = types.MappingProxyType(dict(values))  # read-only: a spec is hashed

    @property
    def kind(self):
        """One of `KINDS`."""
        return self._kind

    @property
    def values(self):
        """{spec key: parsed value} in the order written (read-only)."""
        return self._values

    @classmethod
    def parse(cls, spec):
        """Reads "kind:key=value,..." (a `ModelSpec` is returned as it is).

        Raises:
            ValueError: naming the spec and the bad entry.

        Example:

        >>> dict(ModelSpec.parse("lmrnn:n=400,d=4,sheet=10x40").values)
        {'n': 400, 'd': 4, 'sheet': (10, 40)}
        """
        if isinstance(spec, ModelSpec):
            return spec
        if not isinstance(spec, str) or not spec.strip():
            raise ValueError(f"Invalid model spec {spec!r}: expected 'kind:key=value,...' with kind in {KINDS}")
        kind, _, rest = spec.strip().partition(":")
        if kind not in REQUIRED:
            raise ValueError(f"Invalid model spec {spec!r}: unknown kind {kind!r}; expected one of {KINDS}")
        required = REQUIRED[kind]
        values = {}
        for item in filter(None, rest.split(",")):
            key, eq, value = item.partition("=")
            key = key.strip()
            if not eq or key not in set(required) | OPTIONAL:
                raise ValueError(
                    f"Invalid model spec {spec!r}: bad entry {item!r}; {kind} takes "
                    f"{list(required)} and optionally {sorted(OPTIONAL)} as key=value"
                )
            if key in values:
                raise ValueError(f"Invalid model spec {spec!r}: {key} is given twice")
            try:
                values[key] = _parse_value(key, value.strip())
            except ValueError:
                choices = f" (allowed: {', '.join(CHOICES[key])})" if key in CHOICES else ""
                raise ValueError(f"Invalid model spec {spec!r}: cannot read {key}={value.strip()!r}{choices}") from None
        missing = [k for k in required if k not in values]
        if missing:
            raise ValueError(f"Invalid model spec {spec!r}: {kind} needs {missing}")
        return cls(spec.strip(), kind, values)

    def __str__(self):
        return self._text

    def __repr__(self):
        return f"ModelSpec({self._text!r})"

    def __eq__(self, other):
        if not isinstance(other, ModelSpec):
            return NotImplemented
        return self.kind == other.kind and self.values == other.values

    def __hash__(self):
        return hash((self.kind, frozenset(self.values.items())))

    def __getitem__(self, key):
        return self.values[key]

    def __contains__(self, key):
        return key in self.values

    def get(self, key, default=None):
        """The value of spec key `key`, or `default` where it is not given."""
        return self.values.get(key, default)

    @property
    def kwargs(self):
        """The builder's keyword arguments (`sheet` as `sheet_shape`,
        `noise` as `recurrent_noise`), in the order written."""
        return {BUILDER_NAMES.get(k, k): v for k, v in self.values.items()}

    def with_defaults(self, settings):
        """This spec with `settings` ({spec key: value}) added where it gives
        none; the keys it gives win. The new keys are appended to the text.
        """
        extra = [f"{k}={_format(v)}" for k, v in settings.items() if k not in self.values]
        if not extra:
            return self
        return ModelSpec.parse(",".join([self._text.rstrip(","), *extra]))

    def recurrent_units(self):
        """Its number of recurrent units: `n`, or for `dense-matched` the
        size of the dense RNN with about the LM-RNN's synapse count.

        >>> ModelSpec.parse("dense-matched:n=2500,d=6").recurrent_units()
        532
        """
        if self.kind == "dense-matched":
            return matched_dense_size(self["n"], self["d"], self.get("sheet"), self.get("periodic", True))
        return int(self["n"])

    def memory_needed(self):
        """About how many bytes training it needs for its recurrent weights,
        their gradient, optimizer state and mask.

        >>> ModelSpec.parse("dense:n=400").memory_needed() // 2**20     # MiB
        3
        """
        return BYTES_PER_RECURRENT_ENTRY * self.recurrent_units() ** 2

    def recurrent_synapses(self):
        """The recurrent kernel entries its mask allows: the LM-RNN's and the
        random sparse RNN's mask entries (the same in-degrees), n for the
        autapse pool, N**2 for the dense kinds (L1 included: its zeros come
        from training).

        >>> ModelSpec.parse("lmrnn:n=2500,d=10").recurrent_synapses()     # 2500 x 317
        792500
        >>> ModelSpec.parse("dense-matched:n=2500,d=6").recurrent_synapses()
        283024
        """
        if self.kind in ("lmrnn", "random", "autapse"):
            shape = masks.sheet_shape(self["n"], self.get("sheet"))
            d = 0 if self.kind == "autapse" else self["d"]
            return int(masks.locality_mask(shape, d, self.get("periodic", True)).sum())
        return self.recurrent_units() ** 2

    def count_weights_by_mask(self, input_size, outputs):
        """Its trainable weights by structure, before any training: the
        paper's Table 1 columns as the masks fix them.

        Args:
            input_size: the task inputs' width (`TaskDataset.input_size`).
            outputs: the readout's units (`keras_lmrnn.models.NUM_CLASSES`).

        Returns:
            dict with `total` (every trainable weight, masked entries
            included, as `keras_lmrnn.models.count_weights` counts them),
            `allowed` (those the mask does not hold at zero) and `recurrent`
            (`recurrent_synapses()`).

        Example:

        >>> ModelSpec.parse("autapse:n=16").count_weights_by_mask(117, 17)
        {'total': 2433, 'allowed': 2193, 'recurrent': 16}
        """
        n = self.recurrent_units()
        total = input_size * n + n * n + n + n * outputs + outputs
        recurrent = self.recurrent_synapses()
        return {"total": total, "allowed": total - n * n + recurrent, "recurrent": recurrent}

    def build(self, input_size, seed=0):
        """The uncompiled Keras model it names, with exactly its keys (the
        layer's defaults for the rest; `keras_lmrnn.models.build_model` adds a
        protocol's settings first).

        Args:
            input_size: the task inputs' width (`TaskDataset.input_size`).
            seed: the seed when the spec gives none (default 0); None:
                unseeded.

        Example:

        >>> ModelSpec.parse("dense:n=16").build(117).name
        'dense_n16'
        """
        if self.kind not in BUILDERS:
            raise RuntimeError(f"No builder for {self.kind!r}: import keras_lmrnn (keras_lmrnn.models registers them)")
        kwargs = self.kwargs
        if seed is not None:
            kwargs.setdefault("seed", seed)
        return BUILDERS[self.kind](input_size, **kwargs)


def matched_dense_size(n, d, sheet_shape=None, periodic=True):
    """The N of a dense RNN with about as many recurrent synapses (N**2) as
    the LM-RNN with `n` units and radius `d` (n times its mean in-degree).

    Args:
        n: the LM-RNN's number of units.
        d: its locality radius.
        sheet_shape: its optional `(rows, cols)`; default: square.
        periodic: whether its sheet wraps around (default True).

    Returns:
        The dense RNN's number of units, an int.

    Example:

    >>> matched_dense_size(2500, 6)   # 2500 * 113 recurrent synapses
    532
    """
    shape = masks.sheet_shape(n, sheet_shape)
    synapses = int(masks.locality_mask(shape, d, periodic).sum())
    return int(round(math.sqrt(synapses)))


def _parse_value(key, text):
    if key == "sheet":
        rows, cols = text.lower().split("x")
        return (int(rows), int(cols))
    if key in ("n", "seed", "mask_seed"):
        return int(text)
    if key in CHOICES:
        if text not in CHOICES[key]:
            raise ValueError(text)
        return text
    if key == "periodic":
        if text not in ("0", "1"):
            raise ValueError(text)
        return text == "1"
    return float(text) if key != "d" or not text.isdigit() else int(text)


def _format(value):
    return f"{value:g}" if isinstance(value, float) else str(value)
