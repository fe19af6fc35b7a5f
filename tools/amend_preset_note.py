"""Replaces a zoo preset's card note, keeping its manifest true.

    python tools/amend_preset_note.py NAME NOTE.md

The note is the Markdown that tools/make_preset.py's --note put into the card
after the weight counts (a preset's seeds, how its run was trained). This tool
writes the new note into the folder's metadata.json ("note") and README.md, as
its own paragraph, then rewrites manifest.json (the SHA-256 of both files
change) and verifies the preset. Weights, config, example and feature map are
not touched. It works on a copy: nothing changes when a check fails. Editing a
card by hand instead leaves the manifest stale, and every load of the preset
then fails its checksum.

    >>> card = "Weights: 10 trainable.\\nOld text.\\n\\n## Performance\\n"
    >>> print(amended_card(card, "Old text.\\n", "New text.\\n"), end="")
    Weights: 10 trainable.
    <BLANKLINE>
    New text.
    <BLANKLINE>
    ## Performance
"""

import argparse
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from rename_preset import rewrite_preset  # noqa: E402


def amended_card(card, old, new):
    """`card` with the note `old` replaced by `new`, a blank line before it (Markdown's paragraph break)."""
    if card.count(old) != 1:
        raise SystemExit(f"the card holds its metadata's note {card.count(old)} times, not once; "
                         "it was edited by hand: mend it first")
    start = card.index(old)
    return card[:start].rstrip("\n") + "\n\n" + new + card[start + len(old):]


def amend(folder, note):
    """Gives the preset in `folder` the card note `note` (Markdown text ending in a newline)."""
    from keras_lmrnn import zoo

    folder = pathlib.Path(folder)
    if not note.strip():
        raise SystemExit("the new note is empty; a card note says something")
    if not note.endswith("\n"):
        raise SystemExit("the new note does not end in a newline (make_preset's notes do; add one)")
    zoo.verify(folder)
    meta = zoo.metadata(folder)
    if not meta.get("note"):
        raise SystemExit(f"{folder.name} has no card note to replace; tools/make_preset.py --note writes the first")

    def edit(staging):
        card = amended_card((staging / "README.md").read_text(), meta["note"], note)
        (staging / "metadata.json").write_text(json.dumps({**meta, "note": note}, indent=2) + "\n")
        (staging / "README.md").write_text(card)

    return rewrite_preset(folder, folder, edit)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="a preset's name (zoo/presets/NAME) or its folder")
    parser.add_argument("note", help="a Markdown file with the new note")
    args = parser.parse_args()
    from keras_lmrnn import zoo

    folder = amend(zoo.preset_path(args.name), pathlib.Path(args.note).read_text())
    print(f"amended {folder}", file=sys.stderr)


if __name__ == "__main__":
    main()
