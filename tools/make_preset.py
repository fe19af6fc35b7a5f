"""Turns a finished training run into a zoo preset folder.

    python tools/make_preset.py RUN_FOLDER PRESET_NAME --eval-csv EVAL.csv [--code-revision REV]

RUN_FOLDER is a `keras-lmrnn train` output (checkpoint.keras, config.json,
summary.json, state.json). EVAL.csv is what `keras-lmrnn evaluate RUN_FOLDER
--battery B --csv EVAL.csv` wrote after training: the card's metrics come from
it, not from training logs. The card's "## Clusters" section, metadata's
"clusters" entry and feature_map.png come from tools/render_zoo_clusters.py
(its `render`, with its fixed settings). The preset is written by `zoo.save_to_preset` to
zoo/presets/PRESET_NAME through a temporary folder, then renamed into place;
its manifest.json (the SHA-256 of every other file, which `zoo.load` checks)
is written last. The recorded training command names no path of the training
machine (see `portable_command`).
"""

import argparse
import csv
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
# The paper figure or table each (battery, model kind) corresponds to.
FIGURE = {
    ("modcog84", "lmrnn"): "Figure 7a (20x20 sheet, 84 Mod-Cog tasks, performance at 1e4 steps)",
    ("modcog84", "dense"): "Figure 7a (20x20 sheet, 84 Mod-Cog tasks, performance at 1e4 steps)",
    ("modcog84", "autapse"): "Figure 4f (Mod-Cog is no longer solved by a pool of autapses) and Figure 7a at d=0",
    ("modcog84", "random"): "Figure 5c (random sparse RNNs with the in-degree of an LM-RNN)",
    ("modcog84", "dense-matched"): "Table 1 (dense RNN with about the synapses of an LM-RNN), at 20x20 scale",
    ("modcog84", "l1"): "Table 1 and Figure 6 (dense RNNs with L1 regularization), at 20x20 scale",
    ("yang20", "lmrnn"): "Figure 2a (LM-RNNs and dense RNNs on the 20 Yang tasks)",
    ("yang20", "dense"): "Figure 2a (LM-RNNs and dense RNNs on the 20 Yang tasks)",
    ("yang20", "autapse"): "Figure 2a at d=0 and Figure 3a (autapse pool on the 20 Yang tasks)",
}
# At the paper's scale (N = 2500, a 50x50 sheet) the same kinds answer Table 1.
FIGURE_2500 = {
    ("modcog84", "lmrnn"): "Table 1 and Figure 7a (50x50 sheet, 84 Mod-Cog tasks, performance at 1e4 steps)",
    ("modcog84", "dense"): "Table 1 (dense RNNs at N = 2500 and the same-synapse N = 676, 84 Mod-Cog tasks)",
    ("modcog84", "autapse"): "Figure 4f and Figure 7a at d=0, at N = 2500",
    ("modcog84", "random"): "Figure 5c (random sparse with the in-degree of an LM-RNN), at N = 2500",
    ("modcog84", "l1"): "Table 1 (dense RNN(2500) with L1 regularization)",
}
PAPER_SCALE_N = (2500, 676)  # the networks of Table 1


def registry_description(name, unregistered=False):
    """zoo/registry.py's description of the preset `name`, or None. With `unregistered`, a
    MODEL_PROTOCOL name whose MODEL the registry knows but has not listed as trained under
    PROTOCOL gets MODEL's description too (a preset made on another machine, e.g. a GPU's).

    >>> registry_description("modcog84_random_50x50_d10_neurogym-indegree") is None
    True
    >>> registry_description("modcog84_random_50x50_d10_neurogym-indegree", unregistered=True)
    'random sparse, 2500 units, in-degree of d=10 (317), Mod-Cog 84 tasks, 10k steps'
    """
    from keras_lmrnn import protocols
    from keras_lmrnn.zoo.registry import MODELS, PRESETS

    if name in PRESETS or not unregistered:
        return PRESETS.get(name)
    for model, description in MODELS.items():
        if name.startswith(model + "_") and name[len(model) + 1:] in protocols.PROTOCOLS:
            return description
    return None


def paper_figure(battery, kind, n):
    """The paper figure or table a preset of this battery, model kind and size corresponds to."""
    if n in PAPER_SCALE_N and (battery, kind) in FIGURE_2500:
        return FIGURE_2500[(battery, kind)]
    return FIGURE.get((battery, kind))


# For L1 models a weight counts as non-zero above this magnitude, as the
# paper's Table 1 counts "weights above a certain threshold".
L1_THRESHOLD = 1e-3


def protocol_record(config):
    """The training protocol of a run's config: name, resolved settings and
    overrides (a run from before protocols existed used lmrnn-v1)."""
    from keras_lmrnn import protocols, runner

    return protocols.describe(config["model"], runner.RunOptions.from_config(config))


def protocol_text(meta):
    """The card's sentence on the training protocol of a preset's metadata."""
    record = meta["protocol"]
    settings = ", ".join(f"{k} {v}" for k, v in record["settings"].items())
    departs = ", ".join(f"{k} {v}" for k, v in record["overrides"].items()) or "nothing"
    same = "".join(f" These are exactly the settings of protocol `{name}`." for name in record.get("same_settings_as", []))
    return (f"Training protocol `{record['name']}` (see the README's \"Training protocols\"): {settings}; "
            f"this preset departs from it in: {departs}.{same}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("name")
    parser.add_argument("--eval-csv", required=True)
    parser.add_argument("--code-revision", help="override the run's recorded code revision")
    parser.add_argument("--note", help="a Markdown file whose text the model card adds after the weight counts")
    parser.add_argument("--unregistered", action="store_true",
                        help="allow a name that zoo/registry.py knows as MODEL_PROTOCOL (MODEL in its MODELS) but does "
                        "not yet list as trained: a preset made on another machine, added to TRAINED once committed")
    args = parser.parse_args()

    import keras

    from keras_lmrnn import folders, models, protocols, tasks, zoo
    from keras_lmrnn.evaluation import EvaluationData
    from keras_lmrnn.specs import ModelSpec
    description = registry_description(args.name, unregistered=args.unregistered)
    if description is None:
        sys.exit(f"{args.name!r} is not in zoo/registry.py; add it there first"
                 + ("" if args.unregistered else " (or pass --unregistered for MODEL_PROTOCOL, MODEL in its MODELS)"))
    run = folders.RunFolder(args.run)
    config, summary, state = run.read_config(), run.read_summary(), run.read_state()
    target = ROOT / "zoo" / "presets" / args.name
    if args.unregistered:  # a preset made away from its registry entry: it may only add, and must match its name
        if target.exists():
            sys.exit(f"zoo/presets/{args.name} exists; --unregistered never replaces a preset")
        if not args.name.endswith("_" + str(config.get("protocol"))):
            sys.exit(f"the run was trained under protocol {config.get('protocol')!r}; "
                     f"the name {args.name!r} names another")
    if state["step"] != config["steps"]:
        sys.exit(f"run stopped at step {state['step']} of {config['steps']}: not a finished run")
    table = list(csv.DictReader(open(args.eval_csv)))
    if [r["task"] for r in table] != tasks.names(config["battery"]):
        sys.exit(f"{args.eval_csv} does not list the tasks of {config['battery']}")

    command = portable_command(config["command"], config.get("protocol", protocols.UNRECORDED))
    if any(word.startswith(("/", "~")) or ":\\" in word for word in command.split()):
        sys.exit(f"the run's command still names a path of its machine after portable_command: {command}")
    kind = ModelSpec.parse(config["model"]).kind
    trained = keras.models.load_model(run.checkpoint)
    # A clean, uncompiled copy: the preset keeps no optimizer state.
    model = keras.Model.from_config(trained.get_config())
    model.set_weights(trained.get_weights())
    layer = models.recurrent_layer(model)
    # A small stored input: the first evaluation trial of four tasks, 20 steps.
    example_x = EvaluationData(config["battery"], trials_per_task=1, seed=0).x[:4, :20]

    mean = {k: float(np.mean([float(r[k]) for r in table])) for k in ("response_accuracy", "trial_accuracy")}
    metadata = {
        "name": args.name,
        "description": description,
        "model": config["model"],
        "battery": config["battery"],
        "n": layer.n,
        "d": layer.d,
        "mask": layer.mask,
        "sheet_shape": list(layer.sheet_shape) if layer.sheet_shape else None,
        "training_command": command,
        "code_revision": args.code_revision or config.get("code_revision"),
        "backend": config["backend"],
        "keras": config["keras"],
        "steps": state["step"],
        "batch_size": config["batch_size"],
        "seq_len": config["seq_len"],
        "seed": config["seed"],
        "learning_rate": config["learning_rate"],
        "protocol": protocol_record(config),
        "trained_on": config["date"],
        "wall_time_s": summary["wall_s"],
        "hardware": config["machine"] + (f", device {config['device']}" if "device" in config else ""),
        "weight_counts": {k: summary[k] for k in ("total", "nonzero", "recurrent_nonzero")},
        **thresholded_counts(model, kind),
        "metrics": {
            "source": f"keras-lmrnn evaluate <preset> --battery {config['battery']} "
            "(64 seeded evaluation trials per task, seed 0)",
            **mean,
        },
        "paper_figure": paper_figure(config["battery"], kind, layer.n),
        **({"note": pathlib.Path(args.note).read_text()} if args.note else {}),
    }
    # zoo.save_to_preset writes every file through a temporary folder, adds weights_sha256 and
    # created to the metadata, and the manifest last; the card's "## Clusters" section,
    # metadata's "clusters" and feature_map.png come from tools/render_zoo_clusters.py.
    zoo.save_to_preset(
        model, target, metadata=metadata, card=lambda meta: card(meta, table), example_input=example_x,
        overwrite=target.exists(), add_files=lambda folder, model: clusters_tool().render(folder, model, args.name),
    )
    print(f"wrote {target}")


def clusters_tool():
    """tools/render_zoo_clusters.py as a module."""
    import importlib.util

    path = pathlib.Path(__file__).resolve().parent / "render_zoo_clusters.py"
    spec = importlib.util.spec_from_file_location("render_zoo_clusters", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def portable_command(command, protocol=None):
    """`command` (a run's recorded `keras-lmrnn ...` command line) without paths of the machine
    that ran it: the program as `keras-lmrnn`, an absolute (or `..`, or `~`) --out folder as
    `runs/<folder name>`. A relative --out such as `runs/zoo/NAME` is kept. With `protocol`
    (the run's), a command that does not name one gets `--protocol PROTOCOL` after its
    subcommand, so it repeats the run whatever the default protocol is then.

    >>> portable_command("/work/main/.venv/bin/keras-lmrnn train --model dense:n=4 --out /work/runs/long/dense_4")
    'keras-lmrnn train --model dense:n=4 --out runs/dense_4'
    >>> portable_command("keras-lmrnn train --model dense:n=4", protocol="lmrnn-v1")
    'keras-lmrnn train --protocol lmrnn-v1 --model dense:n=4'
    """
    _program, *words = command.split()
    if protocol and not any(w == "--protocol" or w.startswith("--protocol=") for w in words):
        words[1:1] = ["--protocol", protocol]
    for i, word in enumerate(words):
        if word == "--out" and i + 1 < len(words):
            words[i + 1] = _portable_folder(words[i + 1])
        elif word.startswith("--out="):
            words[i] = "--out=" + _portable_folder(word[len("--out="):])
    return " ".join(["keras-lmrnn", *words])


def _portable_folder(folder):
    posix = pathlib.PurePosixPath(folder)
    absolute = posix.is_absolute() or pathlib.PureWindowsPath(folder).is_absolute() or folder.startswith("~")
    if absolute or ".." in posix.parts:
        name = pathlib.PureWindowsPath(folder).name  # either separator
        return f"runs/{name if name not in ('', '.', '..') else 'run'}"
    return folder


def thresholded_counts(model, kind):
    """For L1 models: weight counts above L1_THRESHOLD (Adam leaves the
    penalized weights hovering near zero, never exactly at it)."""
    if kind != "l1":
        return {}
    from keras_lmrnn import models

    counts = models.count_weights(model, threshold=L1_THRESHOLD)
    return {"weight_counts_above_threshold": {"threshold": L1_THRESHOLD, **counts}}


def above_threshold(meta):
    counts = meta.get("weight_counts_above_threshold")
    if not counts:
        return ""
    return (
        f"\nAbove abs(w) > {counts['threshold']:g} (how the paper's Table 1 counts an L1 model's weights): "
        f"{counts['nonzero']} non-zero, {counts['recurrent_nonzero']} non-zero recurrent."
    )


def architecture(meta):
    """'N = 400, d = 4, mask "locality"', or 'N = 400, dense: no mask' when d does not apply."""
    if meta["d"] is None:
        return f"N = {meta['n']}, {meta['mask']}: no mask"
    return f"N = {meta['n']}, d = {meta['d']}, mask \"{meta['mask']}\""


def rnn_kind(meta):
    """'a leaky' (alpha < 1) or 'a plain' (alpha = 1: no leak) for the card's first sentence."""
    return "a leaky" if meta["protocol"]["settings"]["alpha"] < 1 else "a plain (no leak)"


def card(meta, table):
    counts = meta["weight_counts"]
    rows = "\n".join(
        f"| {r['task']} | {float(r['response_accuracy']):.3f} | {float(r['trial_accuracy']):.3f} |" for r in table
    )
    note = "\n" + meta["note"] if meta.get("note") else ""  # a paragraph of its own
    return f"""# {meta['name']}

{meta['description']}: `{meta['model']}` ({architecture(meta)}), {rnn_kind(meta)}
RNN (alpha {meta['protocol']['settings']['alpha']:g}, relu) with a linear readout to 17 classes, trained on the `{meta['battery']}` battery.
It corresponds to the paper's {meta['paper_figure']}; one seed.

## Training

    {meta['training_command']}

Code revision {meta['code_revision']}, Keras {meta['keras']} on {meta['backend']}, {meta['hardware']};
{meta['steps']} Adam steps (lr {meta['learning_rate']}) of {meta['batch_size']} x {meta['seq_len']}-step rows, seed
{meta["seed"]}; wall time {meta["wall_time_s"]} s.

{protocol_text(meta)}

Weights: {counts['total']} trainable, {counts['nonzero']} non-zero, {counts['recurrent_nonzero']} non-zero recurrent.{above_threshold(meta)}
{note}
## Performance

From `{meta['metrics']['source']}`: mean response accuracy **{meta['metrics']['response_accuracy']:.3f}**,
mean trial accuracy (Yang et al. 2019) **{meta['metrics']['trial_accuracy']:.3f}**.

| task | response accuracy | trial accuracy |
|---|---|---|
{rows}

## Loading

```python
from keras_lmrnn import zoo
model = zoo.load("{meta['name']}")     # any backend; checks the files' SHA-256 manifest first
```

or `keras-lmrnn evaluate {meta['name']} --battery {meta['battery']}`.
"""


if __name__ == "__main__":
    main()
