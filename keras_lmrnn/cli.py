"""The `keras-lmrnn` command line: train, evaluate, compare, tasks.

    keras-lmrnn train --model lmrnn:n=400,d=4 --battery modcog84 --steps 2000 --out runs/d4
    keras-lmrnn evaluate runs/d4/checkpoint.keras --battery modcog84
    keras-lmrnn compare --models lmrnn:n=400,d=2 dense:n=400 --steps 2000 --out runs/cmp
    keras-lmrnn tasks --battery yang20
    keras-lmrnn tasks --plot dlygo_intl --out dlygo_intl.png

Bad arguments print one line and exit with status 2. An existing output
folder is never overwritten unless `--overwrite` is given (or `--resume`).
"""

import argparse
import csv
import datetime
import json
import os
import pathlib
import platform
import shutil
import sys
import time


class UsageError(Exception):
    """A bad argument: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of usage + error
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _steps_list(text):
    return [_positive_int(t) for t in text.split(",") if t]


def _add_training_arguments(parser):
    parser.add_argument("--battery", default="modcog84", help="yang20, modcog84 or modcog132 (default modcog84)")
    parser.add_argument("--steps", type=_positive_int, default=2000, help="gradient steps (default 2000)")
    parser.add_argument("--batch-size", type=_positive_int, default=64, help="default 64")
    parser.add_argument("--seq-len", type=_positive_int, default=100, help="time steps per row (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="data and weight seed (default 0)")
    parser.add_argument("--lr", type=_positive_float, default=1e-3, help="Adam learning rate (default 1e-3)")
    parser.add_argument("--eval-every", type=_positive_int, default=500, help="steps between evaluations and checkpoints")
    parser.add_argument("--trials-per-task", type=_positive_int, default=64, help="evaluation trials per task (default 64)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def make_parser():
    parser = _Parser(prog="keras-lmrnn", description="Locality-masked RNNs on the Mod-Cog battery.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train one model, write curves, checkpoints and a final table")
    train.add_argument("--model", required=True, help="model spec, e.g. lmrnn:n=400,d=4 (see keras_lmrnn.models)")
    _add_training_arguments(train)
    train.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")

    evaluate = commands.add_parser("evaluate", help="per-task performance of a saved model")
    evaluate.add_argument("model", help="a .keras file, a run folder holding checkpoint.keras, or a zoo preset name or folder")
    evaluate.add_argument("--battery", default="modcog84")
    evaluate.add_argument("--trials-per-task", type=_positive_int, default=64)
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the evaluation trials (default 0)")
    evaluate.add_argument("--csv", help="also write the table to this CSV file")

    compare = commands.add_parser("compare", help="train several models on identical data and compare them")
    compare.add_argument("--models", nargs="+", required=True, help="model specs")
    compare.add_argument("--at", type=_steps_list, default=None, help="steps at which to report performance, e.g. 500,2000")
    _add_training_arguments(compare)

    tasks = commands.add_parser("tasks", help="list a battery, or draw one trial of a task")
    tasks.add_argument("--battery", default="modcog84")
    tasks.add_argument("--plot", metavar="TASK", help="draw one trial of TASK to --out")
    tasks.add_argument("--out", help="PNG file for --plot")
    tasks.add_argument("--seed", type=int, default=0)
    return parser


def _prepare_out(path, overwrite, resume=False):
    out = pathlib.Path(path)
    if out.exists() and not resume:
        if not overwrite:
            raise UsageError(f"output folder {out} exists; pass --overwrite to replace it or choose another --out")
        shutil.rmtree(out)
    if resume and not (out / "state.json").exists():
        raise UsageError(f"cannot resume: {out} holds no checkpoint (state.json)")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _check_battery(battery):
    from keras_lmrnn import tasks

    if battery not in tasks.BATTERIES:
        raise UsageError(f"unknown battery {battery!r}; expected one of {list(tasks.BATTERIES)}")


def _check_models(specs):
    from keras_lmrnn import models

    for spec in specs:
        try:
            models.parse_spec(spec)
        except ValueError as error:
            raise UsageError(str(error)) from None


def _code_revision():
    """The git commit of this checkout ("+dirty" with local changes), or None."""
    import subprocess

    here = pathlib.Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def _environment():
    import keras

    return {
        "code_revision": _code_revision(),
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def _table_text(table, columns):
    widths = {c: max(len(c), *(len(_fmt(r[c])) for r in table)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines += ["  ".join(_fmt(r[c]).ljust(widths[c]) for c in columns) for r in table]
    return "\n".join(lines)


def _fmt(value):
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _write_csv(path, table, columns):
    from keras_lmrnn.training import atomic_write

    def write(temp):
        with open(temp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(table)

    atomic_write(path, write)


def _train_one(spec, args, out, resume=False):
    from keras_lmrnn import models, tasks, training
    from keras_lmrnn.evaluation import EvaluationData, mean_performance

    out.mkdir(parents=True, exist_ok=True)
    data = tasks.TaskDataset(
        args.battery, batch_size=args.batch_size, seq_len=args.seq_len, num_batches=args.steps, seed=args.seed
    )
    eval_data = EvaluationData(args.battery, args.trials_per_task, seed=0)
    model = None
    if not resume:
        kind, kwargs = models.parse_spec(spec)
        kwargs.setdefault("seed", args.seed)
        model = models.BUILDERS[kind][0](data.input_size, **kwargs)
        config = {
            "command": " ".join(sys.argv),
            "model": spec,
            "battery": args.battery,
            "steps": args.steps,
            "batch_size": args.batch_size,
            "seq_len": args.seq_len,
            "seed": args.seed,
            "learning_rate": args.lr,
            "eval_every": args.eval_every,
            "trials_per_task": args.trials_per_task,
            "evaluation_seed": 0,
            **_environment(),
        }
        (out / "config.json").write_text(json.dumps(config, indent=2))
    started = time.perf_counter()
    result = training.train(
        model, data, args.steps, out, eval_data=eval_data, eval_every=args.eval_every,
        learning_rate=args.lr, resume=resume, verbose=0 if args.quiet else 1,
    )
    table = eval_data.evaluate(result["model"])
    _write_csv(out / "final_table.csv", table, ["task", "response_accuracy", "trial_accuracy"])
    summary = {
        "model": spec,
        **models.count_weights(result["model"]),
        "response_accuracy": mean_performance(table),
        "trial_accuracy": mean_performance(table, "trial_accuracy"),
        "wall_s": int(round(time.perf_counter() - started)),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return result, table, summary


def cmd_train(args):
    _check_battery(args.battery)
    _check_models([args.model])
    out = _prepare_out(args.out, args.overwrite, args.resume)
    _, table, summary = _train_one(args.model, args, out, resume=args.resume)
    print()
    print(_table_text(table, ["task", "response_accuracy", "trial_accuracy"]))
    print(f"mean response accuracy {summary['response_accuracy']:.3f}, trial accuracy {summary['trial_accuracy']:.3f}")
    print(f"wrote {out}")


def cmd_evaluate(args):
    import keras

    from keras_lmrnn.evaluation import EvaluationData, mean_performance

    _check_battery(args.battery)
    from keras_lmrnn import zoo

    path = pathlib.Path(args.model)
    if path.is_dir() and (path / "checkpoint.keras").exists():
        path = path / "checkpoint.keras"
    if args.model in zoo.list_presets() or (path.is_dir() and (path / "metadata.json").exists()):
        try:
            model = zoo.load(args.model)
        except zoo.PresetError as error:
            raise UsageError(str(error)) from None
    elif path.is_file():
        model = keras.models.load_model(path)
    else:
        raise UsageError(
            f"no model at {args.model} (expected a .keras file, a run folder or a preset: "
            f"{', '.join(zoo.list_presets())})"
        )
    table = EvaluationData(args.battery, args.trials_per_task, seed=args.seed).evaluate(model)
    columns = ["task", "response_accuracy", "trial_accuracy"]
    print(_table_text(table, columns))
    print(f"mean response accuracy {mean_performance(table):.3f}, "
          f"trial accuracy {mean_performance(table, 'trial_accuracy'):.3f}")
    if args.csv:
        _write_csv(args.csv, table, columns)


def cmd_compare(args):
    from keras_lmrnn.training import plot_curves

    _check_battery(args.battery)
    _check_models(args.models)
    at = args.at or sorted({args.eval_every, args.steps})
    bad = [s for s in at if s > args.steps or (s % args.eval_every and s != args.steps)]
    if bad:
        raise UsageError(f"--at steps {bad} are not evaluation points (multiples of --eval-every up to --steps)")
    out = _prepare_out(args.out, args.overwrite)
    rows, curves = [], {}
    for i, spec in enumerate(args.models):
        print(f"[{i + 1}/{len(args.models)}] {spec}")
        folder = f"{i}_" + "".join(c if c.isalnum() or c in "=.-" else "_" for c in spec)
        result, _, summary = _train_one(spec, args, out / folder)
        curve = dict(result["curve"])
        curves[spec] = result["curve"]
        rows.append({**summary, **{f"perf@{s}": curve[s] for s in at}})
    columns = ["model", "total", "nonzero", "recurrent_nonzero", *[f"perf@{s}" for s in at], "wall_s"]
    _write_csv(out / "comparison.csv", rows, columns)
    plot_curves(curves, out / "curves.png", title=f"{args.battery}: mean response accuracy over tasks")
    text = _table_text(rows, columns)
    (out / "comparison.txt").write_text(text + "\n")
    print()
    print(text)
    print(f"wrote {out}/comparison.csv and {out}/curves.png")


def cmd_tasks(args):
    from keras_lmrnn import tasks

    _check_battery(args.battery)
    if args.plot:
        if not args.out:
            raise UsageError("--plot needs --out FILE.png")
        try:
            fig = tasks.plot_trial(args.plot, seed=args.seed)
        except ValueError as error:
            raise UsageError(str(error)) from None
        fig.savefig(args.out, dpi=100)
        print(f"wrote {args.out}")
        return
    for index, name in enumerate(tasks.names(args.battery)):
        print(f"{index:3d}  {name}")


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "compare": cmd_compare, "tasks": cmd_tasks}


def main(argv=None):
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except UsageError as error:
        print(f"keras-lmrnn {args.command}: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
