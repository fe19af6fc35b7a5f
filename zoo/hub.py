"""Presets by handle: `from_preset` and `upload_preset`.

A handle is one of

    modcog84_lmrnn_20x20_d6_neurogym-indegree       a registered preset name
    path/to/a/preset/folder                         a local preset folder
    hf://owner/name                                 a Hugging Face Hub model repository,
    hf://owner/name@revision                        at a branch, tag or commit
    kaggle://owner/model/framework/variation        a Kaggle model (its latest version),
    kaggle://owner/model/framework/variation/3      or a given version

A remote handle is downloaded (or read from the download cache) by
`huggingface_hub` or `kagglehub`, optional extras (`pip install
"keras-lmrnn[hub]"`), and then checked as every preset is: each file against the
SHA-256 its manifest.json records, before anything is loaded.

Example:

>>> from keras_lmrnn import zoo
>>> model = zoo.from_preset("yang20_dense_256_neurogym-indegree")
>>> parse_handle("hf://someone/lmrnn-d6@v1.0")
('hf', 'someone/lmrnn-d6', 'v1.0')
"""

import pathlib
import re

from keras_lmrnn.zoo import PresetError, load, verify

HF, KAGGLE = "hf://", "kaggle://"
_INSTALL = 'pip install "keras-lmrnn[hub]"'


def parse_handle(handle):
    """Splits a handle into (kind, where, revision).

    Args:
        handle: a preset name, a folder, `hf://owner/name[@revision]` or
            `kaggle://owner/model/framework/variation[/version]`.

    Returns:
        ("hf", "owner/name", revision or None), ("kaggle",
        "owner/model/framework/variation[/version]", None) or ("local", the
        name or path, None).

    Raises:
        PresetError: a remote handle that does not have that form.

    Example:

    >>> parse_handle("hf://someone/lmrnn-d6")
    ('hf', 'someone/lmrnn-d6', None)
    >>> parse_handle("kaggle://someone/lmrnn/keras/d6/2")
    ('kaggle', 'someone/lmrnn/keras/d6/2', None)
    >>> parse_handle("yang20_dense_256_neurogym-indegree")
    ('local', 'yang20_dense_256_neurogym-indegree', None)
    >>> parse_handle("hf://lmrnn-d6")
    Traceback (most recent call last):
    ...
    keras_lmrnn.zoo.PresetError: Invalid preset handle 'hf://lmrnn-d6': expected hf://owner/name or hf://owner/name@revision
    """
    text = str(handle)
    if text.startswith(HF):
        match = re.fullmatch(r"([\w.-]+/[\w.-]+)(?:@([^@\s]+))?", text[len(HF):])
        if match is None:
            raise PresetError(f"Invalid preset handle {text!r}: expected hf://owner/name or hf://owner/name@revision")
        return "hf", match.group(1), match.group(2)
    if text.startswith(KAGGLE):
        rest = text[len(KAGGLE):]
        parts = rest.split("/")
        if len(parts) not in (4, 5) or not all(re.fullmatch(r"[\w.-]+", p) for p in parts) or (
            len(parts) == 5 and not parts[4].isdigit()
        ):
            raise PresetError(
                f"Invalid preset handle {text!r}: expected kaggle://owner/model/framework/variation "
                "or kaggle://owner/model/framework/variation/VERSION (a number)"
            )
        return "kaggle", rest, None
    if "://" in text:
        raise PresetError(f"Invalid preset handle {text!r}: the schemes are {HF} and {KAGGLE}; or give a name or folder")
    return "local", handle, None


def fetch(handle):
    """The local, verified folder of a preset handle (downloaded when remote).

    Args:
        handle: see `parse_handle`.

    Returns:
        The preset folder, a `pathlib.Path`, its files checked against its
        manifest.

    Raises:
        PresetError: the handle is malformed, its download package is not
            installed, the download fails, or a file fails its checksum.

    Example:

    >>> fetch("yang20_dense_256_neurogym-indegree").name
    'yang20_dense_256_neurogym-indegree'
    """
    kind, where, revision = parse_handle(handle)
    if kind == "hf":
        hub = _import("huggingface_hub", handle)
        try:
            folder = hub.snapshot_download(repo_id=where, revision=revision, repo_type="model")
        except Exception as error:  # network, authentication, unknown repository or revision
            raise PresetError(f"Cannot download preset {handle}: {type(error).__name__}: {error}") from error
    elif kind == "kaggle":
        kagglehub = _import("kagglehub", handle)
        try:
            folder = kagglehub.model_download(where)
        except Exception as error:
            raise PresetError(f"Cannot download preset {handle}: {type(error).__name__}: {error}") from error
    else:
        return verify(where)
    return verify(pathlib.Path(folder))


def from_preset(handle):
    """A ready Keras model from a preset handle, verified before it is loaded.

    Args:
        handle: a preset name, a folder, `hf://owner/name[@revision]` or
            `kaggle://owner/model/framework/variation[/version]` (see the
            module docstring).

    Returns:
        The uncompiled `keras.Model` with the preset's weights.

    Raises:
        PresetError: as `fetch`.

    Example:

    >>> model = from_preset("yang20_dense_256_neurogym-indegree")
    >>> model.count_params()
    83729
    >>> model = from_preset("hf://someone/lmrnn-d6@v1.0")   # doctest: +SKIP
    """
    return load(fetch(handle))


def upload_preset(folder, handle, message=None):
    """Uploads a preset folder (verified first) to the Hugging Face Hub or Kaggle.

    Args:
        folder: a preset folder (e.g. written by `save_to_preset`).
        handle: `hf://owner/name` (the repository is made if missing; no
            revision: uploads go to the main branch) or
            `kaggle://owner/model/framework/variation` (a new version).
        message: the commit message or version notes (default: a short one
            naming the preset).

    Returns:
        The handle it can be loaded from.

    Raises:
        PresetError: the folder fails `verify`, the handle is malformed or
            local, or the upload package is not installed.

    Example:

    >>> upload_preset("yang20_dense_256_neurogym-indegree", "hf://someone/yang20-dense")  # doctest: +SKIP
    'hf://someone/yang20-dense'
    """
    folder = verify(folder)
    kind, where, revision = parse_handle(handle)
    message = message or f"keras-lmrnn preset {folder.name}"
    if kind == "hf":
        if revision is not None:
            raise PresetError(f"Upload to {handle}: give hf://owner/name without @revision (uploads go to main)")
        hub = _import("huggingface_hub", handle)
        api = hub.HfApi()
        api.create_repo(repo_id=where, repo_type="model", exist_ok=True)
        api.upload_folder(repo_id=where, folder_path=str(folder), repo_type="model", commit_message=message)
        return f"{HF}{where}"
    if kind == "kaggle":
        if len(where.split("/")) != 4:
            raise PresetError(f"Upload to {handle}: give kaggle://owner/model/framework/variation (Kaggle numbers versions)")
        kagglehub = _import("kagglehub", handle)
        kagglehub.model_upload(where, str(folder), version_notes=message)
        return f"{KAGGLE}{where}"
    raise PresetError(f"Upload needs a remote handle ({HF}owner/name or {KAGGLE}owner/model/framework/variation), got {handle!r}")


def _import(name, handle):
    try:
        return __import__(name)
    except ImportError:
        raise PresetError(f"Preset {handle} needs the {name} package: {_INSTALL}") from None
