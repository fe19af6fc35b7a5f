"""Rewrites the zoo table of README.md from the presets' metadata.json.

    python tools/render_zoo_table.py
"""

import pathlib
import re

from keras_lmrnn import zoo

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def table():
    rows = [
        "| preset | battery | N | d | weights | non-zero | non-zero recurrent | response acc. | trial acc. |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in zoo.list_presets():
        meta = zoo.metadata(name)
        metrics = meta["metrics"]
        # L1 models: the counts above the threshold, as the paper's Table 1.
        counts = meta.get("weight_counts_above_threshold", meta["weight_counts"])
        mark = f" (abs w > {counts['threshold']:g})" if "threshold" in counts else ""
        d = "-" if meta["d"] is None else meta["d"]
        rows.append(
            f"| [{name}](zoo/presets/{name}/README.md) | {meta['battery']} | {meta['n']} | {d} | "
            f"{counts['total']} | {counts['nonzero']}{mark} | {counts['recurrent_nonzero']}{mark} | "
            f"{metrics['response_accuracy']:.3f} | {metrics['trial_accuracy']:.3f} |"
        )
    return "\n".join(rows)


def main():
    text = README.read_text()
    text = re.sub(r"<!-- zoo -->.*<!-- /zoo -->", lambda _: f"<!-- zoo -->\n{table()}\n<!-- /zoo -->", text, flags=re.S)
    README.write_text(text)
    print(f"wrote the zoo table of {README}")


if __name__ == "__main__":
    main()
