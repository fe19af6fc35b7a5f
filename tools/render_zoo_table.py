"""Rewrites the zoo tables from the presets' metadata.json: the full catalogue
in docs/zoo/index.md and the default-protocol presets in README.md.

    python tools/render_zoo_table.py

Only the block between `<!-- zoo -->` and `<!-- /zoo -->` of each file changes
(each file is read right before it is written). The "k (clusters)" column is the
number of clusters metadata.json's "clusters" entry records
(tools/render_zoo_clusters.py). The tables are rendered, never edited by hand:
tests/test_zoo.py compares both blocks with this tool's output.
"""

import pathlib
import re

from keras_lmrnn import protocols, zoo

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CATALOGUE = ROOT / "docs" / "zoo" / "index.md"


def counted(meta):
    """(weight counts, their mark, d as shown) of a preset: an L1 model's counts are those
    above its threshold, as the paper's Table 1, marked "(abs w > 0.001)"."""
    counts = meta.get("weight_counts_above_threshold", meta["weight_counts"])
    mark = f" (abs w > {counts['threshold']:g})" if "threshold" in counts else ""
    return counts, mark, "-" if meta["d"] is None else meta["d"]


def brief():
    """The README's table: the presets of the default protocol, linked to their cards."""
    rows = [
        "| preset | N | d | non-zero recurrent | response acc. | trial acc. |",
        "|---|---|---|---|---|---|",
    ]
    for name in zoo.list_presets():
        if zoo.registry.PARTS[name][1] != protocols.DEFAULT:
            continue
        meta = zoo.metadata(name)
        counts, mark, d = counted(meta)
        rows.append(
            f"| [{name}](zoo/presets/{name}/README.md) | {meta['n']} | {d} | {counts['recurrent_nonzero']}{mark} | "
            f"{meta['metrics']['response_accuracy']:.3f} | {meta['metrics']['trial_accuracy']:.3f} |"
        )
    return "\n".join(rows)


def table():
    rows = [
        "| preset | battery | protocol | N | d | weights | non-zero | non-zero recurrent | response acc. | trial acc. "
        "| k (clusters) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in zoo.list_presets():
        meta = zoo.metadata(name)
        metrics = meta["metrics"]
        counts, mark, d = counted(meta)
        rows.append(
            f"| [{name}](presets/{name}/README.md) | {meta['battery']} | {protocol(meta)} | {meta['n']} | {d} | "
            f"{counts['total']} | {counts['nonzero']}{mark} | {counts['recurrent_nonzero']}{mark} | "
            f"{metrics['response_accuracy']:.3f} | {metrics['trial_accuracy']:.3f} | {clusters(meta)} |"
        )
    rows += ["", NOTE]
    return "\n".join(rows)


NOTE = (
    "k (clusters): the number of clusters of each model's units by normalised task variance, agglomerative\n"
    "(ward) clustering with k chosen by the best silhouette score (the paper's appendix B), 32 evaluation\n"
    "trials per task, with the mean adjusted Rand index of the partitions of two disjoint halves of the\n"
    "trials (10 splits); \"no clear k\" where the best k fails the stability checks (split-half ARI below 0.5,\n"
    "silhouette no better than the rotation control's, or k in the top fifth of 2..40): read it as no number of\n"
    "clusters. The k-means k, the reasons and the feature map are in each card, the measurements in\n"
    "[the analysis results](../analysis/README.md)."
)


def protocol(meta):
    """The training protocol's name, with its overrides (e.g. "lmrnn-v1, batch 32").

    Settings that equal a named protocol's are shown as that name with the
    recorded one in brackets: "`neurogym-indegree` (as `neurogym`, init indegree)".
    """
    record = meta["protocol"]
    changed = "".join(f", {k.replace('_size', '')} {v}" for k, v in record["overrides"].items())
    same = record.get("same_settings_as", [])
    if same:
        return f"`{same[0]}` (as `{record['name']}`{changed})"
    return f"`{record['name']}`{changed}"


def clusters(meta):
    """The agglomerative k of metadata's "clusters" entry with its split-half
    agreement ("8 (ARI 0.71)"), "no clear k" when it fails the stability
    checks (never a number then), "-" if none."""
    entry = meta.get("clusters", {}).get("agglomerative")
    if entry is None:
        return "-"
    stability = entry.get("stability")
    if stability is None:
        return str(entry["k"])
    if not stability["clear"]:
        return "no clear k"
    return f"{entry['k']} (ARI {stability['split_half_ari_mean']:.2f})"


def write_block(path, content):
    """Replaces the `<!-- zoo -->` block of `path` by `content` (atomically)."""
    block = f"<!-- zoo -->\n{content}\n<!-- /zoo -->"
    text = path.read_text()  # read right before writing: others may edit the rest of the file
    found = list(re.finditer(r"<!-- zoo -->.*?<!-- /zoo -->", text, flags=re.S))
    if len(found) != 1:
        raise SystemExit(f"{path} must hold one <!-- zoo --> ... <!-- /zoo --> block; found {len(found)}")
    start, end = found[0].span()
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text[:start] + block + text[end:])
    tmp.replace(path)
    print(f"wrote the zoo table of {path}")


def main():
    write_block(CATALOGUE, table())
    write_block(README, brief())


if __name__ == "__main__":
    main()
