"""Adds the training protocol to presets made before protocols existed.

    python tools/record_preset_protocols.py            # every preset lacking one

Each such preset was trained under `lmrnn-v1` (the only settings there were);
its metadata gets a "protocol" entry (name, resolved settings, overrides, as
tools/make_preset.py writes for new presets), its card a sentence saying so,
and its manifest.json is written again. Weights are not touched. Presets that
already record a protocol are left alone.
"""

import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from make_preset import protocol_record, protocol_text  # noqa: E402


def main():
    from keras_lmrnn import zoo

    for folder in sorted((ROOT / "zoo" / "presets").iterdir()):
        meta_path = folder / "metadata.json"
        meta = json.loads(meta_path.read_text())
        if "protocol" in meta:
            continue
        zoo.verify(folder)  # only a preset whose files are intact is rewritten
        meta["protocol"] = protocol_record({"model": meta["model"], "batch_size": meta["batch_size"],
                                            "seq_len": meta["seq_len"]})
        card = (folder / "README.md").read_text()
        anchor = "\nWeights: "
        if anchor not in card:
            sys.exit(f"{folder.name}: the card has no 'Weights:' line to put the protocol before")
        card = card.replace(anchor, f"\n{protocol_text(meta)}\n{anchor}", 1)
        meta_path.write_text(json.dumps(meta, indent=2) + "\n")
        (folder / "README.md").write_text(card)
        zoo.write_manifest(folder)
        print(f"{folder.name}: {meta['protocol']['name']}, overrides {meta['protocol']['overrides']}")


if __name__ == "__main__":
    main()
