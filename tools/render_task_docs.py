"""Regenerates the catalogue table and the figures of docs/guide/tasks.md.

    python tools/render_task_docs.py

The table sits between the markers `<!-- catalogue -->` and
`<!-- /catalogue -->`; a test checks that it lists the catalogue's tasks.
"""

import os
import pathlib
import re

os.environ.setdefault("MPLBACKEND", "Agg")

from keras_lmrnn import tasks  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "docs" / "guide" / "tasks.md"
FIGURE_DIR = ROOT / "docs" / "guide" / "task_figures"
FIGURES = {  # one per extension kind, as the paper's Figure 4
    "dlygo": "base task (Yang et al. 2019)",
    "dlygo_intl": "interval estimation (int)",
    "go_seqr": "sequence generation (seq)",
    "dlygo_intl_seqr": "composition (int + seq)",
}


def duration(spec):
    if isinstance(spec, (int, float)):
        return f"{spec:g}"
    kind, args = spec
    if kind == "choice":
        return f"{min(args):g}-{max(args):g}"
    return f"{args[0]:g}-{args[1]:g}"


def table():
    batteries = {b: tasks.names(b) for b in ("yang20", "modcog84", "modcog132")}
    rows = [
        "| task | base | extensions | delay (ms) | response (ms) | rule index yang20 | modcog84 | modcog132 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in batteries["modcog132"]:
        spec = tasks.spec(name)
        env = tasks.make(name)
        ext = ", ".join(
            e for e in (spec.interval and f"int{spec.interval}", spec.sequence and f"seq{spec.sequence}") if e
        ) or "-"
        delay = duration(env.timing["delay"]) if "delay" in env.timing else "-"
        index = [str(b.index(name)) if name in b else "-" for b in batteries.values()]
        rows.append(
            f"| {name} | {spec.base} | {ext} | {delay} | {duration(env.timing['decision'])} | "
            + " | ".join(index) + " |"
        )
    return "\n".join(rows)


def main():
    FIGURE_DIR.mkdir(exist_ok=True)
    for name in FIGURES:
        # The first seed whose trial is a go trial with a visible interval.
        seed = next(
            s for s in range(100)
            if (info := tasks.make(name, seed=s).new_trial())["answer"] is not None
            and (info["delay"] or 0) >= 500
        )
        fig = tasks.plot_trial(name, seed=seed)
        fig.savefig(FIGURE_DIR / f"{name}.png", dpi=80)
    text = README.read_text()
    text = re.sub(
        r"<!-- catalogue -->.*<!-- /catalogue -->",
        lambda _: f"<!-- catalogue -->\n{table()}\n<!-- /catalogue -->",
        text,
        flags=re.S,
    )
    README.write_text(text)
    print(f"wrote {README} and {len(FIGURES)} figures")


if __name__ == "__main__":
    main()
