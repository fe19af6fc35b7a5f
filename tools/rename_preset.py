"""Renames a zoo preset folder: its weights stay, its name changes everywhere in it.

    python tools/rename_preset.py OLD_NAME NEW_NAME

Moves zoo/presets/OLD_NAME to zoo/presets/NEW_NAME, replaces the name in the
folder's metadata.json and README.md (whole names only), redraws its
feature_map.png (whose title names the preset) with tools/render_zoo_clusters.py,
rewrites the manifest and verifies the result. The weights, config and example
files are not touched, so their SHA-256 stay what they were. A preset with a
feature map must be renamed under the backend that drew it (its metadata's
"clusters" entry says which), so the redrawn clusters are the same. Nothing is
changed when a check fails: the new folder is built as a copy first, then the
old one goes.
Register NEW_NAME in zoo/registry.py (and OLD_NAME in its ALIASES) yourself.
"""

import argparse
import json
import pathlib
import re
import shutil
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
TEXT_FILES = ("metadata.json", "README.md")


def renamed_text(text, old, new):
    """`text` with every whole occurrence of the preset name `old` replaced by `new`."""
    return re.sub(rf"(?<![\w-]){re.escape(old)}(?![\w-])", new, text)


def redraw_feature_map(folder, new):
    """Redraws folder's feature_map.png (and its clusters entry, unchanged) under the name `new`."""
    import keras

    from keras_lmrnn import zoo

    drawn_with = json.loads((folder / "metadata.json").read_text())["clusters"]["backend"]
    if keras.backend.backend() != drawn_with:
        raise SystemExit(f"the preset's feature map was drawn under KERAS_BACKEND={drawn_with}; rename it under "
                         f"that backend (running: {keras.backend.backend()}) so that redrawing it changes only its title")
    from make_preset import clusters_tool

    zoo.write_manifest(folder)
    clusters_tool().render(folder, zoo.load(folder), new)


def rename(presets, old, new):
    """Renames presets/old to presets/new (see the module docstring)."""
    from keras_lmrnn import zoo

    source, target = presets / old, presets / new
    if not source.is_dir():
        raise SystemExit(f"no preset folder {source}")
    if target.exists():
        raise SystemExit(f"{target} exists already; not overwriting it")
    zoo.verify(source)

    def edit(staging):
        for name in TEXT_FILES:
            path = staging / name
            path.write_text(renamed_text(path.read_text(), old, new))
        if (staging / "feature_map.png").exists():
            redraw_feature_map(staging, new)

    return rewrite_preset(source, target, edit)


def rewrite_preset(source, target, edit):
    """Puts at `target` (a new folder, or `source` itself) a copy of the preset `source` changed by
    `edit(folder)`, with its manifest rewritten and verified. The copy is made and checked beside
    `source` first, and `source` goes last: when `edit` or a check fails, nothing has changed."""
    from keras_lmrnn import zoo

    staging = pathlib.Path(tempfile.mkdtemp(dir=source.parent, prefix=f".{target.name}-"))
    try:
        shutil.copytree(source, staging, dirs_exist_ok=True)
        edit(staging)
        zoo.write_manifest(staging)
        zoo.verify(staging)
        backup = source.with_name(staging.name + "-old") if target == source else None  # in place
        if backup:
            source.rename(backup)
        try:
            staging.rename(target)
        except BaseException:
            if backup:
                backup.rename(source)
            raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(backup or source)
    return target


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    args = parser.parse_args()
    target = rename(ROOT / "zoo" / "presets", args.old, args.new)
    print(f"renamed to {target}", file=sys.stderr)


if __name__ == "__main__":
    main()
