"""Rewrites the zoo table of README.md from the presets' metadata.json.

    python tools/render_zoo_table.py

Only the block between `<!-- zoo -->` and `<!-- /zoo -->` changes (the file is
read right before it is written). The "k (clusters)" column is the number of
clusters metadata.json's "clusters" entry records (tools/render_zoo_clusters.py).
"""

import pathlib
import re

from keras_lmrnn import zoo

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def table():
    rows = [
        "| preset | battery | protocol | N | d | weights | non-zero | non-zero recurrent | response acc. | trial acc. "
        "| k (clusters) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in zoo.list_presets():
        meta = zoo.metadata(name)
        metrics = meta["metrics"]
        # L1 models: the counts above the threshold, as the paper's Table 1.
        counts = meta.get("weight_counts_above_threshold", meta["weight_counts"])
        mark = f" (abs w > {counts['threshold']:g})" if "threshold" in counts else ""
        d = "-" if meta["d"] is None else meta["d"]
        rows.append(
            f"| [{name}](zoo/presets/{name}/README.md) | {meta['battery']} | {protocol(meta)} | {meta['n']} | {d} | "
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
    "[docs/analysis/README.md](docs/analysis/README.md)."
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


def main():
    block = f"<!-- zoo -->\n{table()}\n<!-- /zoo -->"
    text = README.read_text()  # read right before writing: others may edit the rest of README.md
    found = list(re.finditer(r"<!-- zoo -->.*?<!-- /zoo -->", text, flags=re.S))
    if len(found) != 1:
        raise SystemExit(f"{README} must hold one <!-- zoo --> ... <!-- /zoo --> block; found {len(found)}")
    start, end = found[0].span()
    README.write_text(text[:start] + block + text[end:])
    print(f"wrote the zoo table of {README}")


if __name__ == "__main__":
    main()
