"""Training protocols: named bundles of model and training settings.

The paper states its optimizer (Adam, learning rate 1e-3), its loss
(cross-entropy), its data (neurogym, tasks randomly interleaved) and its
budget (10k gradient steps), but not the rest. A protocol fixes the rest
under one name, so that runs, sweeps and presets say which one they used:

    lmrnn-v1    this library's first settings (every run before protocols
                existed): alpha 0.2, in-degree scaled recurrent init,
                Keras (Glorot) input/readout init with zero biases,
                batch 64 x 100 steps, rows starting on a fresh trial,
                plain cross-entropy on every step, no clipping.
    neurogym    the template of neurogym's multitask example and the masked
                CTRNN code of the same community (inferred, not stated by
                the paper): alpha 1 (tau = dt = 100 ms), recurrent W = 0.5 I,
                PyTorch nn.Linear init for input, biases and readout,
                batch 4 x 350 steps cut from one continuous stream of trials
                (as the authors' Mod_Cog README builds its `ngym.Dataset`),
                plain cross-entropy on every step, global gradient norm
                clipped at 1.
    neurogym-indegree
                `neurogym` with lmrnn-v1's in-degree scaled recurrent init
                in place of W = 0.5 I: chosen by this library's screen
                (README, "The protocol question"), where the identity init
                was the factor that cancelled the LM-RNN's lead; not a
                setting any source states.

A protocol's model settings (alpha, init, linear_init) fill in the keys a
model spec leaves out; its training settings are `RunOptions` defaults.
Anything given explicitly wins.

Example:

>>> from keras_lmrnn import protocols
>>> protocols.resolve_spec("lmrnn:n=400,d=6", "neurogym")
'lmrnn:n=400,d=6,alpha=1,init=identity,linear_init=torch'
>>> protocols.get("neurogym").training["batch_size"]
4
"""

import dataclasses

from keras_lmrnn.specs import ModelSpec

# The protocol of runs, sweeps and presets recorded before protocols existed.
UNRECORDED = "lmrnn-v1"
DEFAULT = "neurogym-indegree"  # the default since issue #11's multi-seed answer (README)
# The values of two training settings (one place for the data adapter, the
# options and the command line).
LAYOUTS = ("stream", "continuous", "trials")
LOSS_WEIGHTINGS = ("uniform", "yang")


@dataclasses.dataclass(frozen=True)
class Protocol:
    """A named bundle: `model` (spec keys) and `training` (RunOptions fields)."""

    name: str
    description: str
    model: dict
    training: dict


PROTOCOLS = {
    "lmrnn-v1": Protocol(
        "lmrnn-v1",
        "keras-lmrnn's first settings: leaky (alpha 0.2) RNN, in-degree scaled init, batch 64 x 100, "
        "rows start on a fresh trial, plain cross-entropy, no clipping",
        model={"alpha": 0.2, "init": "indegree", "linear_init": "keras"},
        training={"batch_size": 64, "seq_len": 100, "layout": "stream", "loss_weighting": "uniform", "clipnorm": 0.0},
    ),
    "neurogym": Protocol(
        "neurogym",
        "neurogym's CTRNN template: alpha 1, W = 0.5 I, PyTorch Linear init, batch 4 x 350 cut from one "
        "continuous stream, plain cross-entropy, gradient norm clipped at 1",
        model={"alpha": 1.0, "init": "identity", "linear_init": "torch"},
        training={"batch_size": 4, "seq_len": 350, "layout": "continuous", "loss_weighting": "uniform",
                  "clipnorm": 1.0},
    ),
}
PROTOCOLS["neurogym-indegree"] = dataclasses.replace(
    PROTOCOLS["neurogym"],
    name="neurogym-indegree",
    description="neurogym's template with the in-degree scaled recurrent init of lmrnn-v1 instead of W = 0.5 I "
    "(chosen by this library's protocol screen)",
    model={**PROTOCOLS["neurogym"].model, "init": "indegree"},
)


# The spec keys a protocol may set (every protocol sets all of them).
MODEL_KEYS = ("alpha", "init", "linear_init")


def names():
    """The protocol names, e.g. for a command line's choices."""
    return list(PROTOCOLS)


def get(name):
    """The `Protocol` called `name`; ValueError naming the choices otherwise."""
    if name not in PROTOCOLS:
        raise ValueError(f"Invalid value for argument `protocol`: expected one of {names()}. Received: protocol={name!r}")
    return PROTOCOLS[name]


def apply(spec, protocol=DEFAULT):
    """The `ModelSpec` of `spec` with the protocol's model settings added
    where it has none (an explicit key wins over the protocol).

    >>> str(apply("dense:n=64,alpha=0.5", "neurogym"))
    'dense:n=64,alpha=0.5,init=identity,linear_init=torch'
    """
    return ModelSpec.parse(spec).with_defaults(get(protocol).model)


def resolve_spec(spec, protocol=DEFAULT):
    """The text of `apply(spec, protocol)`, as run folders record it."""
    return str(apply(spec, protocol))


def overrides(spec, options):
    """The settings where a run of `spec` with `options` (a `RunOptions`)
    departs from its protocol: {key: value}."""
    kwargs = ModelSpec.parse(spec).kwargs
    chosen = get(options.protocol)
    found = {k: kwargs[k] for k, v in chosen.model.items() if k in kwargs and kwargs[k] != v}
    found.update({k: getattr(options, k) for k, v in chosen.training.items() if getattr(options, k) != v})
    return found


def describe(spec, options):
    """What a run of `spec` with `options` (a `RunOptions`) used: the
    protocol's name, every resolved setting, and where it departs from it.

    >>> from keras_lmrnn.runner import RunOptions
    >>> describe("dense:n=64", RunOptions(protocol="neurogym", batch_size=8))["overrides"]
    {'batch_size': 8}
    """
    chosen = get(options.protocol)
    resolved = ModelSpec.parse(resolve_spec(spec, options.protocol)).kwargs
    settings = {k: resolved[k] for k in chosen.model}
    settings.update({k: getattr(options, k) for k in chosen.training})
    record = {"name": chosen.name, "settings": settings, "overrides": overrides(spec, options)}
    if record["overrides"]:
        record["same_settings_as"] = matching(settings)
    return record


def matching(settings):
    """The protocols whose every setting equals `settings` ({key: value}, as
    `describe` records them): e.g. a `neurogym` run with `init=indegree`
    used exactly the settings of `neurogym-indegree`.

    >>> matching({**get("neurogym").model, **get("neurogym").training, "init": "indegree"})
    ['neurogym-indegree']
    """
    return [name for name, p in PROTOCOLS.items() if {**p.model, **p.training} == settings]
