"""Pretrained presets: trained comparison models, loadable by name under any backend.

A preset is a folder holding `config.json` (the serialized Keras model),
`model.weights.h5`, `metadata.json` (how it was trained, the weights'
SHA-256, measured metrics), `README.md` (the model card) and `example.npz`
(a small input and the output it must give).

Example:

>>> from keras_lmrnn import zoo
>>> zoo.list_presets()[:1]
['yang20_autapse_16x16']
>>> model = zoo.load("modcog84_lmrnn_20x20_d6")        # doctest: +SKIP
>>> model = zoo.load("path/to/a/preset/folder")         # doctest: +SKIP
"""

import difflib
import hashlib
import json
import pathlib

from keras_lmrnn.zoo.registry import PRESETS

PRESET_DIR = pathlib.Path(__file__).resolve().parent / "presets"
FILES = ("config.json", "model.weights.h5", "metadata.json", "README.md", "example.npz")


class PresetError(ValueError):
    """A preset is unknown, incomplete or fails its checksum."""


def list_presets():
    """The names of all registered presets."""
    return list(PRESETS)


def preset_path(name_or_path):
    """The folder of a registered preset name, or a given folder path."""
    if name_or_path in PRESETS:
        return PRESET_DIR / name_or_path
    path = pathlib.Path(name_or_path)
    if path.is_dir():
        return path
    close = difflib.get_close_matches(str(name_or_path), list(PRESETS), n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise PresetError(
        f"Unknown preset {name_or_path!r}: not a registered name nor a folder.{hint} "
        "See keras_lmrnn.zoo.list_presets()."
    )


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def metadata(name_or_path):
    """The preset's metadata.json as a dict."""
    return json.loads(_file(preset_path(name_or_path), "metadata.json").read_text())


def verify(name_or_path):
    """Checks that every file is there and the weights match their SHA-256."""
    folder = preset_path(name_or_path)
    for name in FILES:
        _file(folder, name)
    expected = metadata(folder)["weights_sha256"]
    actual = sha256(folder / "model.weights.h5")
    if actual != expected:
        raise PresetError(
            f"Preset {folder.name}: model.weights.h5 has SHA-256 {actual}, but "
            f"metadata.json records {expected}; the file is corrupted or was replaced."
        )
    return folder


def load(name_or_path):
    """A ready Keras model from a preset name or folder (verified first)."""
    import keras

    import keras_lmrnn  # noqa: F401  (registers the layers)

    folder = verify(name_or_path)
    model = keras.models.model_from_json((folder / "config.json").read_text())
    model.load_weights(folder / "model.weights.h5")
    return model


def _file(folder, name):
    path = folder / name
    if not path.is_file():
        raise PresetError(f"Preset {folder.name} is incomplete: {name} is missing from {folder}")
    return path
