"""Pretrained presets: trained comparison models, loadable by name under any backend.

A preset is a folder holding `config.json` (the serialized Keras model),
`model.weights.h5`, `metadata.json` (how it was trained, measured metrics),
`README.md` (the model card), `example.npz` (a small input and the output it
must give), optionally `feature_map.png` (its units' task-variance clusters,
drawn by tools/render_zoo_clusters.py) and `manifest.json`, the SHA-256 of
each of those files. `load` and `verify` refuse a preset whose files do not
match its manifest, and one holding an optional file its manifest does not
record.

Example:

>>> from keras_lmrnn import zoo
>>> zoo.list_presets()[:1]
['yang20_autapse_16x16_neurogym-indegree']
>>> model = zoo.load("modcog84_lmrnn_20x20_d6_neurogym-indegree")   # doctest: +SKIP
>>> model = zoo.load("path/to/a/preset/folder")         # doctest: +SKIP
"""

import difflib
import hashlib
import json
import pathlib
import warnings

import keras

from keras_lmrnn import layers, protocols  # noqa: F401  (layers: registers LMRNN for load_model)
from keras_lmrnn.zoo.registry import ALIASES, PARTS, PRESETS

PRESET_DIR = pathlib.Path(__file__).resolve().parent / "presets"
# The files that define a preset's model or its card's claims, each checked
# against the SHA-256 that the preset's manifest.json records.
FILES = ("config.json", "model.weights.h5", "metadata.json", "README.md", "example.npz")
# Files a preset may have; when one is there, its manifest must record it too.
OPTIONAL_FILES = ("feature_map.png",)
MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
_REDO = "Re-download the preset, or re-create it with tools/make_preset.py; do not edit a preset's files by hand."

__all__ = [
    "ALIASES",
    "FILES",
    "MANIFEST",
    "MANIFEST_FORMAT",
    "OPTIONAL_FILES",
    "PARTS",
    "PRESETS",
    "PRESET_DIR",
    "PresetError",
    "fetch",
    "from_preset",
    "is_preset_name",
    "list_presets",
    "load",
    "manifest",
    "metadata",
    "parse_handle",
    "preset_path",
    "registry",
    "save_to_preset",
    "sha256",
    "upload_preset",
    "verify",
    "write_manifest",
]


class PresetError(ValueError):
    """A preset is unknown, incomplete or fails its checksum.

    A `ValueError`, so code that catches bad arguments catches it too.

    Example:

    >>> preset_path("modcog84_lmrnn_20x20_d7")
    Traceback (most recent call last):
    ...
    keras_lmrnn.zoo.PresetError: Unknown preset 'modcog84_lmrnn_20x20_d7': not a registered name nor a folder. ...
    """


def list_presets():
    """The names of all registered presets.

    Returns:
        A new list of names, those of the default protocol first.

    Example:

    >>> names = list_presets()
    >>> "modcog84_lmrnn_20x20_d6_neurogym-indegree" in names, all(is_preset_name(n) for n in names)
    (True, True)
    """
    return list(PRESETS)


def is_preset_name(name):
    """Whether `name` names a preset: a registered name or a former one
    (`registry.ALIASES`, loaded with a FutureWarning).

    Args:
        name: anything; only a string can be a preset name.

    Example:

    >>> is_preset_name("modcog84_lmrnn_20x20_d6"), is_preset_name("runs/d6")
    (True, False)
    """
    return isinstance(name, str) and (name in PRESETS or name in ALIASES)


def preset_path(name_or_path):
    """The folder of a registered preset name, or a given folder path.

    A former name (`registry.ALIASES`) gives the renamed preset, the same
    weights, with a FutureWarning naming the new name.

    Args:
        name_or_path: a registered (or former) preset name, or the path of
            a preset folder.

    Returns:
        The folder, a `pathlib.Path`.

    Raises:
        PresetError: neither a registered name nor an existing folder.

    Example:

    >>> folder = preset_path("yang20_dense_256_neurogym-indegree")
    >>> folder.name, (folder / "config.json").is_file(), preset_path(str(folder)) == folder
    ('yang20_dense_256_neurogym-indegree', True, True)
    """
    if name_or_path in ALIASES:
        new = ALIASES[name_or_path]
        default = f"{PARTS[new][0]}_{protocols.DEFAULT}"
        also = f" The same model trained under the default protocol is {default!r}." if default in PRESETS else ""
        warnings.warn(
            f"Preset {name_or_path!r} is now called {new!r} (preset names say their training protocol); "
            f"loading {new!r}, the same weights. Use the new name; see keras_lmrnn.zoo.list_presets().{also}",
            FutureWarning, stacklevel=3,
        )
        name_or_path = new
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
    """The SHA-256 of a file's contents, as the manifests record it.

    Args:
        path: the file, a string or a `pathlib.Path`.

    Returns:
        The digest as 64 hexadecimal digits.

    Example:

    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "hello.txt"
    ...     _ = path.write_bytes(b"hello")
    ...     sha256(path)
    '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def metadata(name_or_path):
    """The preset's metadata.json as a dict.

    Args:
        name_or_path: a preset name or folder (see `preset_path`).

    Returns:
        A dict: how the preset was trained (`model` spec, `battery`,
        `protocol`, `training_command`, ...) and its measured metrics.

    Example:

    >>> meta = metadata("yang20_dense_256_neurogym-indegree")
    >>> meta["model"], meta["battery"]
    ('dense:n=256', 'yang20')
    """
    return json.loads(_file(preset_path(name_or_path), "metadata.json").read_text())


def manifest(folder):
    """The manifest of the preset files in `folder`: {"format": 1, "files": {name: SHA-256}},
    over FILES and those of OPTIONAL_FILES that are there.

    Args:
        folder: a preset folder (a path, not a preset name).

    Raises:
        PresetError: one of FILES is missing.

    Example:

    >>> import json
    >>> folder = preset_path("yang20_dense_256_neurogym-indegree")
    >>> record = manifest(folder)
    >>> record["format"], sorted(record["files"])[:2]
    (1, ['README.md', 'config.json'])
    >>> record == json.loads((folder / MANIFEST).read_text())   # the files match
    True
    """
    folder = pathlib.Path(folder)
    files = {name: sha256(_file(folder, name)) for name in FILES}
    files.update({name: sha256(folder / name) for name in _present_optional(folder)})
    return {"format": MANIFEST_FORMAT, "files": files}


def write_manifest(folder):
    """Writes `folder`/manifest.json from the files now in `folder`; returns its path.

    Write it last: it records the files as they are when it is written.

    Args:
        folder: a preset folder holding every file of FILES.

    Example:

    >>> import shutil, tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     copy = shutil.copytree(preset_path("yang20_dense_256_neurogym-indegree"), pathlib.Path(tmp) / "mine")
    ...     _ = (copy / "README.md").write_text("My own model card.")
    ...     write_manifest(copy).name, verify(copy) == copy
    ('manifest.json', True)
    """
    path = pathlib.Path(folder) / MANIFEST
    path.write_text(json.dumps(manifest(folder), indent=2) + "\n")
    return path


def verify(name_or_path):
    """Checks that every file is there and matches the SHA-256 its manifest.json records.

    Args:
        name_or_path: a preset name or folder (see `preset_path`).

    Returns:
        The preset's folder.

    Raises:
        PresetError: a file is missing, edited, or not recorded by the
            manifest.

    Example:

    >>> verify("yang20_dense_256_neurogym-indegree").name
    'yang20_dense_256_neurogym-indegree'
    >>> import shutil, tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     copy = shutil.copytree(preset_path("yang20_dense_256_neurogym-indegree"), pathlib.Path(tmp) / "copy")
    ...     _ = (copy / "README.md").write_text("edited")
    ...     verify(copy)
    Traceback (most recent call last):
    ...
    keras_lmrnn.zoo.PresetError: Preset copy: README.md has SHA-256 ..., but manifest.json records ...
    """
    folder = preset_path(name_or_path)
    for name in FILES:
        _file(folder, name)
    expected = _read_manifest(folder)
    # Optional files that are there must be recorded; extra names a newer
    # manifest may list are checked too.
    extra = sorted((set(expected) | set(_present_optional(folder))) - set(FILES))
    for name in (*FILES, *extra):
        if name not in expected:
            raise PresetError(f"Preset {folder.name}: {MANIFEST} records no SHA-256 for {name}. {_REDO}")
        actual = sha256(_file(folder, name))
        if actual != expected[name]:
            raise PresetError(
                f"Preset {folder.name}: {name} has SHA-256 {actual}, but {MANIFEST} records "
                f"{expected[name]}; the file was edited, corrupted or replaced. {_REDO}"
            )
    return folder


def load(name_or_path):
    """A ready Keras model from a preset name or folder (verified first).

    Args:
        name_or_path: a preset name or folder (see `preset_path`).

    Returns:
        The uncompiled `keras.Model` with the preset's weights.

    Raises:
        PresetError: as `verify`.

    Example:

    >>> model = load("yang20_dense_256_neurogym-indegree")
    >>> model.output_shape, model.count_params()
    ((None, None, 17), 83729)
    """
    folder = verify(name_or_path)
    # A preset folder is Keras' own layout (config.json + model.weights.h5): Keras loads it as
    # it is (for all 27 presets the same model and weights as building from config.json and
    # loading the weights file).
    return keras.saving.load_model(folder, compile=False)


def _present_optional(folder):
    return [name for name in OPTIONAL_FILES if (folder / name).is_file()]


def _file(folder, name):
    path = folder / name
    if not path.is_file():
        raise PresetError(f"Preset {folder.name} is incomplete: {name} is missing from {folder}")
    return path


def _read_manifest(folder):
    """The {name: SHA-256} of folder/manifest.json; PresetError if it is missing or malformed."""
    path = folder / MANIFEST
    if not path.is_file():
        raise PresetError(
            f"Preset {folder.name} is incomplete: {MANIFEST} is missing from {folder}, so its files "
            f"cannot be verified. {_REDO}"
        )
    try:
        data = json.loads(path.read_text())
        files = data["files"]
        ok = (
            data["format"] == MANIFEST_FORMAT
            and isinstance(files, dict)
            and all(
                # Plain file names only: a manifest names nothing outside its folder.
                isinstance(k, str) and k == pathlib.PurePath(k).name and k not in ("", ".", "..")
                and isinstance(v, str)
                for k, v in files.items()
            )
        )
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise PresetError(
            f"Preset {folder.name}: {MANIFEST} is unreadable (expected JSON "
            f'{{"format": {MANIFEST_FORMAT}, "files": {{name: sha256}}}}). {_REDO}'
        )
    return files


# Handles (hf://, kaggle://) and writing presets; imported last: they use the names above.
from keras_lmrnn.zoo.hub import fetch, from_preset, parse_handle, upload_preset  # noqa: E402
from keras_lmrnn.zoo.saving import save_to_preset  # noqa: E402
