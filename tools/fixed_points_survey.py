"""Fixed points of every 20x20-sized Mod-Cog preset of a protocol, as one CSV.

For each preset and task: the points `dynamics.fixed_points` finds with the
fixation input held (the search's defaults, 256 initial states per task,
seed 0), by stability, how many are exact (speed < 1e-12), and how many of
the search's end points were dropped (the state kept moving).

Usage:

    KERAS_BACKEND=jax python tools/fixed_points_survey.py docs/dynamics/survey.csv
    KERAS_BACKEND=jax python tools/fixed_points_survey.py out.csv --tasks go dm1 dms --protocol lmrnn-v1
"""

import argparse
import csv
import io
import pathlib
import time

import keras

from keras_lmrnn import dynamics, folders, zoo

COLUMNS = ["preset", "task", "points", "stable", "unstable", "marginal", "exact", "end_points",
           "end_points_dropped", "seconds", "backend"]


def presets(protocol):
    """The battery-modcog84 presets of `protocol` with at most 676 units."""
    return [name for name in zoo.list_presets()
            if name.startswith("modcog84_") and name.endswith("_" + protocol) and zoo.metadata(name)["n"] <= 676]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", help="output CSV (refused if it exists)")
    parser.add_argument("--tasks", nargs="+", default=["go", "dm1"])
    parser.add_argument("--protocol", default="neurogym-indegree")
    parser.add_argument("--initial-states", type=int, default=256)
    args = parser.parse_args(argv)
    out = pathlib.Path(args.csv)
    if out.exists():
        parser.error(f"{out} exists; choose another file")
    rows = []
    for name in presets(args.protocol):
        model = zoo.load(name)
        started = time.perf_counter()
        found = dynamics.fixed_points(model, args.tasks, initial_states=args.initial_states)
        seconds = time.perf_counter() - started
        end_points = found.settings["end_points"] // len(args.tasks)
        for task, entry in dynamics.record(found)["tasks"].items():
            points = entry["points"]
            rows.append({"preset": name, "task": task, "points": entry["count"],
                         **{s: entry[s] for s in dynamics.STABILITIES},
                         "exact": sum(point["speed"] < 1e-12 for point in points), "end_points": end_points,
                         "end_points_dropped": end_points - sum(point["hits"] for point in points),
                         "seconds": round(seconds / len(args.tasks), 1), "backend": keras.backend.backend()})
            print(", ".join(f"{key} {value}" for key, value in rows[-1].items()), flush=True)
    text = io.StringIO()
    writer = csv.DictWriter(text, COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    folders.atomic_write_text(out, text.getvalue())
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
