"""Writing a preset folder: `save_to_preset`.

A preset folder holds `config.json` (the serialized Keras model),
`model.weights.h5`, `metadata.json`, the model card `README.md`, `example.npz`
(a small input and the output the model gives on it) and `manifest.json`, the
SHA-256 of each, written last (see `keras_lmrnn.zoo`). `tools/make_preset.py`
turns a finished training run into one through `save_to_preset`; a user's own
trained model becomes a preset the same way, ready for `from_preset` and
`upload_preset`.

Example:

>>> import pathlib, tempfile
>>> from keras_lmrnn import models, zoo
>>> model = models.build_model("lmrnn:n=16,d=1", input_size=53)
>>> with tempfile.TemporaryDirectory() as tmp:
...     folder = save_to_preset(model, pathlib.Path(tmp) / "mine", metadata={"battery": "yang20"})
...     sorted(p.name for p in folder.iterdir()), zoo.load(folder).count_params() == model.count_params()
(['README.md', 'config.json', 'example.npz', 'manifest.json', 'metadata.json', 'model.weights.h5'], True)
"""

import datetime
import json
import os
import pathlib
import shutil
import tempfile

import numpy as np

from keras_lmrnn import folders
from keras_lmrnn.evaluation import EvaluationData
from keras_lmrnn.zoo import FILES, MANIFEST, PresetError, sha256, write_manifest


def save_to_preset(model, folder, metadata=None, card=None, example_input=None, overwrite=False, add_files=None):
    """Writes `model` as a preset folder, all or nothing.

    The folder is written beside its target under a temporary name and renamed
    into place only when every file and the manifest are written, so a failure
    leaves what was there before.

    Args:
        model: a Keras model (its config and weights are saved; no optimizer).
        folder: the preset folder to write. An existing folder is refused
            unless `overwrite` and it is a preset folder (one holding a
            manifest.json): a folder of yours is never replaced.
        metadata: a JSON-serializable dict for metadata.json (how the model
            was trained, its metrics, ...); `weights_sha256` and `created` are
            added. With `"battery"` in it and no `example_input`, the example
            is the first evaluation trial of four of that battery's tasks.
        card: the model card (README.md): a string, or a function of the
            final metadata dict returning one; default: a short card made from
            the metadata.
        example_input: an array (batch, time, features) stored with the model's
            output on it in example.npz (checked by `zoo.load`'s tests).
        overwrite: replace an existing preset folder.
        add_files: optional function `f(folder, model)` that adds optional
            files (e.g. feature_map.png) before the manifest is written.

    Returns:
        The preset folder, a `pathlib.Path`.

    Raises:
        PresetError: `folder` exists and may not be replaced.
        ValueError: no example input and no battery to draw one from.

    Example:

    >>> import pathlib, tempfile
    >>> from keras_lmrnn import models
    >>> model = models.build_model("dense:n=8", input_size=53)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_to_preset(model, tmp)
    Traceback (most recent call last):
    ...
    keras_lmrnn.zoo.PresetError: ... exists and is not a preset folder (no manifest.json); ...
    """
    folder = pathlib.Path(folder)
    if folder.exists():
        if not (folder / MANIFEST).is_file():
            raise PresetError(f"{folder} exists and is not a preset folder (no {MANIFEST}); choose a new folder")
        if not overwrite:
            raise PresetError(f"{folder} already holds a preset; pass overwrite=True to replace it")
    metadata = dict(metadata or {})
    if example_input is None:
        if "battery" not in metadata:
            raise ValueError(
                "Invalid value for argument `example_input`: None needs metadata['battery'] to draw the "
                "example from; pass an array (batch, time, features)."
            )
        example_input = EvaluationData(metadata["battery"], trials_per_task=1, seed=0).x[:4, :20]
    example_input = np.asarray(example_input, dtype="float32")
    if example_input.ndim != 3:
        raise ValueError(
            "Invalid value for argument `example_input`: expected an array (batch, time, features). "
            f"Received shape {example_input.shape}"
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-"))
    try:
        os.chmod(staging, folders.FOLDER_MODE)  # mkdtemp's folder is private; a preset is not
        (staging / "config.json").write_text(model.to_json(indent=1))
        model.save_weights(staging / "model.weights.h5")
        example_output = np.asarray(model.predict(example_input, verbose=0))
        np.savez_compressed(staging / "example.npz", x=example_input, y=example_output)
        metadata["weights_sha256"] = sha256(staging / "model.weights.h5")
        metadata.setdefault("created", datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
        (staging / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")
        text = card(metadata) if callable(card) else card
        (staging / "README.md").write_text(text if text is not None else _default_card(folder.name, metadata))
        if add_files is not None:
            add_files(staging, model)
        missing = [name for name in FILES if not (staging / name).is_file()]
        if missing:
            raise PresetError(f"writing {folder} left out {missing}")
        write_manifest(staging)  # last: it checksums the files above as written
        _replace(staging, folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return folder


def _replace(staging, folder):
    """Renames `staging` to `folder`; an old preset there is moved aside first and
    deleted only once the new one is in place (put back if the rename fails)."""
    old = None
    if folder.exists():
        old = folder.with_name(f".{folder.name}.replaced-{os.getpid()}")
        os.replace(folder, old)
    try:
        os.replace(staging, folder)
    except BaseException:
        if old is not None:
            os.replace(old, folder)
        raise
    if old is not None:
        shutil.rmtree(old)


def _default_card(name, metadata):
    lines = [f"# {name}", "", "A keras-lmrnn preset (`keras_lmrnn.from_preset`).", ""]
    for key in ("model", "battery", "protocol", "training_command", "metrics"):
        if key in metadata:
            lines.append(f"- {key}: `{json.dumps(metadata[key])}`")
    return "\n".join(lines) + "\n"
