"""The `keras-lmrnn` command line: train, evaluate, compare, tasks.

    keras-lmrnn train --model lmrnn:n=400,d=4 --battery modcog84 --steps 2000 --out runs/d4
    keras-lmrnn evaluate runs/d4/checkpoint.keras --battery modcog84
    keras-lmrnn compare --models lmrnn:n=400,d=2 dense:n=400 --steps 2000 --out runs/cmp
    keras-lmrnn sweep --models lmrnn:n=400,d=2 dense:n=400 --seeds 0-4 --steps 2000 --out runs/sweep
    keras-lmrnn report runs/sweep
    keras-lmrnn analyze modcog84_lmrnn_20x20_d6_lmrnn-v1 --out analysis/d6
    keras-lmrnn fixed-points modcog84_lmrnn_20x20_d6_neurogym-indegree --tasks go dm1 --out fp/d6
    keras-lmrnn tasks --battery yang20
    keras-lmrnn tasks --plot dlygo_intl --out dlygo_intl.png

Bad arguments print one line and exit with status 2; a run that diverges
(NaN loss) prints one line and exits with status 1. Output folders follow
`keras_lmrnn.folders`: `--overwrite` replaces only a folder keras-lmrnn made
(and nothing a user put in it), `--resume` continues a run exactly or
refuses, and a folder being written by another process is refused.
TensorFlow's C++ start-up logging is silenced unless TF_CPP_MIN_LOG_LEVEL
is set.
"""

import argparse
import contextlib
import dataclasses
import math
import os
import pathlib
import shlex
import sys
import time

import keras

from keras_lmrnn import dynamics, folders, models, protocols, runner, sweep_report, sweeps, tasks, training, zoo
from keras_lmrnn.analysis import full as full_analysis
from keras_lmrnn.evaluation import EvaluationData, mean_performance


class UsageError(Exception):
    """A bad argument: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of usage + error
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _choices(values):
    """"a, b or c" for a help string."""
    values = list(values)
    return values[0] if len(values) == 1 else f"{', '.join(values[:-1])} or {values[-1]}"


def _argument_type(convert, allowed, wanted):
    """An argparse type: `convert(text)`, refused unless `allowed(value)`."""

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not allowed(value):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
        return value

    return parse


_positive_int = _argument_type(int, lambda v: v >= 1, "a positive integer")
_nonnegative_int = _argument_type(int, lambda v: v >= 0, "an integer >= 0")
_at_least_two = _argument_type(int, lambda v: v >= 2, "an integer >= 2")
_positive_float = _argument_type(float, lambda v: v > 0 and math.isfinite(v), "a positive finite number")


def _steps_list(text):
    return [_positive_int(t) for t in text.split(",")]


# Training options: (flag dest, key in a run's config.json); their defaults
# are RunOptions'. A resumed run takes the recorded value of every option not
# given.
TRAINING_OPTIONS = (
    ("protocol", "protocol"),  # first: the defaults of the options it sets depend on it
    ("battery", "battery"),
    ("steps", "steps"),
    ("batch_size", "batch_size"),
    ("seq_len", "seq_len"),
    ("seed", "seed"),
    ("lr", "learning_rate"),
    ("eval_every", "eval_every"),
    ("trials_per_task", "trials_per_task"),
    ("keep_checkpoints", "keep_checkpoints"),
    ("layout", "layout"),
    ("loss_weighting", "loss_weighting"),
    ("clipnorm", "clipnorm"),
)


def _add_training_arguments(parser):
    # Defaults are None here and filled in by _resolve_options, so that
    # --resume can tell a given flag from an omitted one; the help states
    # RunOptions' own defaults (one owner).

    run_default = {field.name: field.default for field in dataclasses.fields(runner.RunOptions)}

    parser.add_argument(
        "--protocol", type=_argument_type(str, lambda v: v in protocols.PROTOCOLS, f"one of {protocols.names()}"),
        help=f"training protocol, a bundle of the settings below and of alpha/init/linear_init for specs that "
             f"leave them out: {', '.join(protocols.names())} (default {protocols.DEFAULT}; see keras_lmrnn.protocols)",
    )
    parser.add_argument("--battery", help=f"{_choices(tasks.BATTERIES)} (default {run_default['battery']})")
    parser.add_argument("--steps", type=_positive_int, help=f"gradient steps (default {run_default['steps']})")
    default = protocols.get(protocols.DEFAULT).training
    parser.add_argument(
        "--batch-size", type=_positive_int, help=f"default: the protocol's ({protocols.DEFAULT}: {default['batch_size']})"
    )
    parser.add_argument(
        "--seq-len", type=_positive_int,
        help=f"time steps per row (default: the protocol's; {protocols.DEFAULT}: {default['seq_len']})",
    )
    parser.add_argument(
        "--layout", type=_argument_type(str, lambda v: v in protocols.LAYOUTS, " or ".join(protocols.LAYOUTS)),
        help="how rows are cut from the trials: stream (rows start on a fresh trial), continuous (rows continue "
             "across batches, as neurogym's Dataset) or trials (default: the protocol's)",
    )
    parser.add_argument(
        "--loss-weighting",
        type=_argument_type(str, lambda v: v in protocols.LOSS_WEIGHTINGS, " or ".join(protocols.LOSS_WEIGHTINGS)),
        help="uniform (plain cross-entropy on every step) or yang (Yang et al. 2019) (default: the protocol's)",
    )
    parser.add_argument(
        "--clipnorm", type=_argument_type(float, lambda v: v >= 0 and math.isfinite(v), "a finite number >= 0"),
        help="clip the global gradient norm at this value, 0 for none (default: the protocol's)",
    )
    parser.add_argument("--seed", type=_nonnegative_int, help=f"data and weight seed (default {run_default['seed']})")
    parser.add_argument("--lr", type=_positive_float, help=f"Adam learning rate (default {run_default['learning_rate']:g})")
    parser.add_argument(
        "--eval-every", type=_positive_int,
        help=f"steps between evaluations and checkpoints (default {run_default['eval_every']})",
    )
    parser.add_argument(
        "--trials-per-task", type=_positive_int,
        help=f"evaluation trials per task (default {run_default['trials_per_task']})",
    )
    parser.add_argument(
        "--keep-checkpoints", type=_nonnegative_int, metavar="EVERY",
        help="also keep the weights every EVERY steps (a multiple of --eval-every) in checkpoints/ "
             f"(default {run_default['keep_checkpoints']}: none)",
    )
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument(
        "--overwrite", action="store_true",
        help="replace an existing output folder that keras-lmrnn made (never one holding other files)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output (a bar on a terminal, otherwise a line per checkpoint)")


def make_parser():
    parser = _Parser(prog="keras-lmrnn", description="Locality-masked RNNs on the Mod-Cog battery.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train one model, write curves, checkpoints and a final table")
    train.add_argument("--model", help="model spec, e.g. lmrnn:n=400,d=4 (see keras_lmrnn.specs); required unless --resume")
    _add_training_arguments(train)
    train.add_argument(
        "--resume", action="store_true",
        help="continue the run in --out from its last checkpoint; options left out take the run's recorded values",
    )
    train.add_argument(
        "--tensorboard", metavar="DIR",
        help="also write TensorBoard logs to DIR (loss every step, loss and performance at each checkpoint; "
             "needs TensorFlow installed)",
    )

    evaluate = commands.add_parser("evaluate", help="per-task performance of a saved model")
    evaluate.add_argument("model", help="a .keras file, a run folder holding checkpoint.keras, a zoo preset name or folder, "
                                    "or a preset handle hf://owner/name[@revision] or kaggle://owner/model/framework/variation[/version]")
    evaluate.add_argument("--battery", help=f"default: the battery the model was trained on if recorded, else {tasks.DEFAULT_BATTERY}")
    evaluate.add_argument("--trials-per-task", type=_positive_int, default=64)
    evaluate.add_argument("--seed", type=_nonnegative_int, default=0, help="seed of the evaluation trials (default %(default)s)")
    evaluate.add_argument("--csv", help="also write the table to this CSV file")
    evaluate.add_argument("--overwrite", action="store_true", help="replace an existing --csv file")

    compare = commands.add_parser("compare", help="train several models on identical data and compare them")
    compare.add_argument("--models", nargs="+", required=True, help="model specs")
    compare.add_argument("--at", type=_steps_list, default=None, help="steps at which to report performance, e.g. 500,2000")
    _add_training_arguments(compare)

    sweep = commands.add_parser("sweep", help="train every model spec at every seed; resumable; writes a report")
    sweep.add_argument("--models", nargs="+", required=True, help="model specs")
    sweep.add_argument("--seeds", required=True, help="run seeds, e.g. 0-4 or 0,2,7")
    sweep.add_argument("--jobs", type=_positive_int, default=None, help="runs at a time on this machine (default: its cores)")
    sweep.add_argument(
        "--ray", nargs="?", const="", default=None, metavar="ADDRESS",
        help="run as Ray tasks: auto, host:port, or nothing (RAY_ADDRESS, else a local Ray)",
    )
    sweep.add_argument("--max-runs", type=_positive_int, default=None,
                       help=f"the most runs (models x seeds) the sweep may hold (default {sweeps.MAX_RUNS})")
    sweep.add_argument("--retries", type=_nonnegative_int, default=2,
                       help="restarts of a run whose worker died (default %(default)s)")
    sweep.add_argument("--at", type=_steps_list, default=None, help="steps of the report table, e.g. 1000,2000")
    _add_training_arguments(sweep)

    report = commands.add_parser("report", help="mean and standard error over seeds of a (partial) sweep")
    report.add_argument("sweep", help="a sweep folder")
    report.add_argument("--at", type=_steps_list, default=None, help="steps of the table, e.g. 1000,2000")
    report.add_argument(
        "--baseline", default=None, metavar="SPEC",
        help="the model every other is compared with, paired by seed (default: the sweep's first dense model)",
    )

    analyze = commands.add_parser(
        "analyze", help="task variance, unit clusters and cluster lesions of a preset or run (Yang et al. 2019)"
    )
    analyze.add_argument("model", help="a zoo preset name or folder, a preset handle (hf://..., kaggle://...), a run folder, or a .keras file")
    analyze.add_argument("--out", required=True, help="output folder (an analysis folder)")
    analyze.add_argument("--battery", help=f"default: the battery the model was trained on if recorded, else {tasks.DEFAULT_BATTERY}")
    analyze.add_argument("--trials-per-task", type=_positive_int, default=32, help="default %(default)s")
    analyze.add_argument("--seed", type=_nonnegative_int, default=0, help="trials and k-means seed (default %(default)s)")
    analyze.add_argument("--method", choices=["both", "agglomerative", "kmeans"], default="both")
    analyze.add_argument("--no-lesions", action="store_true", help="skip the lesion of every cluster")
    analyze.add_argument("--no-stability", action="store_true",
                         help="skip the split-half stability and rotation control of each partition")
    analyze.add_argument(
        "--over-training", action="store_true",
        help="also cluster the weights a run kept over training (train --keep-checkpoints)",
    )
    analyze.add_argument("--overwrite", action="store_true", help="replace an analysis folder keras-lmrnn made")

    fixed = commands.add_parser(
        "fixed-points", help="fixed and slow points of the hidden dynamics with a task's input held (keras_lmrnn.dynamics)"
    )
    fixed.add_argument("model", help="a zoo preset name or folder, a preset handle (hf://..., kaggle://...), a run folder, or a .keras file")
    fixed.add_argument("--tasks", nargs="+", required=True, help="the tasks whose inputs are held, one search each")
    fixed.add_argument("--out", required=True, help="output folder (a dynamics folder)")
    fixed.add_argument("--battery", help=f"default: the battery the model was trained on if recorded, else {tasks.DEFAULT_BATTERY}")
    fixed.add_argument("--period", default="fixation", help="the task period whose mean input is held (default %(default)s)")
    fixed.add_argument("--initial-states", type=_positive_int, default=256,
                       help="initial states per task, drawn from the network's trajectories (default %(default)s)")
    fixed.add_argument("--trials-per-task", type=_at_least_two, default=16,
                       help="evaluation trials per task (default %(default)s)")
    fixed.add_argument("--steps", type=_nonnegative_int, default=2000, help="Adam steps of the search (default %(default)s)")
    fixed.add_argument("--seed", type=_nonnegative_int, default=0, help="trials and initial states seed (default %(default)s)")
    fixed.add_argument("--overwrite", action="store_true", help="replace a dynamics folder keras-lmrnn made")

    listing = commands.add_parser("tasks", help="list a battery, or draw one trial of a task")
    listing.add_argument("--battery", help=f"default {tasks.DEFAULT_BATTERY} (the list); with --plot, the task must be in it")
    listing.add_argument("--plot", metavar="TASK", help="draw one trial of TASK to --out")
    listing.add_argument("--out", help="image file for --plot (PNG, SVG or PDF)")
    listing.add_argument("--seed", type=_nonnegative_int, default=0)
    listing.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    return parser


def _check_battery(battery):
    try:
        tasks.names(battery)  # the catalogue owns the list of batteries
    except ValueError:
        raise UsageError(f"unknown battery {battery!r}; expected one of {list(tasks.BATTERIES)}") from None


def _check_models(specs, battery, options=None):
    """Validates every spec in full (values, memory) before anything runs."""
    size = runner.input_size(battery)
    for spec in specs:
        try:
            models.check_spec(spec, input_size=size)
            if options is not None:
                runner.check_memory(spec, options, size)
        except ValueError as error:
            raise UsageError(str(error)) from None


def _resolve_options(args, recorded=None, where=None):
    """Fills in omitted training options: defaults, or a resumed run's record.

    A given option that differs from the record is refused, except --steps,
    which may extend a run (`runner.record_mismatches`, the one owner of that rule).
    """

    given = {key: getattr(args, dest) for dest, key in TRAINING_OPTIONS}
    try:
        if recorded is None:
            values = runner.RunOptions(protocol=args.protocol or protocols.DEFAULT).as_dict()
            mismatches = []
        else:
            values = runner.RunOptions.from_config(recorded).as_dict()
            mismatches = runner.record_mismatches(recorded, given)
    except (ValueError, TypeError) as error:  # a damaged config.json on --resume
        raise UsageError(str(error)) from None
    flags = {key: "--" + dest.replace("_", "-") for dest, key in TRAINING_OPTIONS}
    for key, value, before in mismatches:
        raise UsageError(
            f"{flags[key]} {value} does not match the run in {where}, recorded with {key}={before}; "
            f"leave {flags[key]} out to continue that run, or start a new one"
        )
    for dest, key in TRAINING_OPTIONS:
        setattr(args, dest, values[key] if given[key] is None else given[key])


def _command(argv):
    """The command line `argv`, without the path of the program that ran it."""
    return shlex.join(["keras-lmrnn", *argv])


def _table_text(table, columns):
    widths = {c: max(len(c), *(len(_fmt(r[c])) for r in table)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines += ["  ".join(_fmt(r[c]).ljust(widths[c]) for c in columns) for r in table]
    return "\n".join(lines)


def _fmt(value):
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _options(args):
    try:
        return runner.RunOptions(**{key: getattr(args, dest) for dest, key in TRAINING_OPTIONS})
    except (ValueError, TypeError) as error:  # e.g. a damaged config.json on --resume
        raise UsageError(str(error)) from None


def _tensorboard(folder):
    """A TensorBoard callback writing to `folder`, or a UsageError without TensorFlow."""
    import importlib.util


    missing = [name for name in ("tensorflow", "tensorboard") if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(
            f"--tensorboard needs TensorFlow and TensorBoard to write its logs (under any Keras backend); "
            f"{' and '.join(missing)} missing: pip install \"keras-lmrnn[tensorboard]\", or leave --tensorboard out"
        )
    path = pathlib.Path(folder)
    if path.exists() and not path.is_dir():
        raise UsageError(f"--tensorboard {folder} is a file, not a folder")
    return keras.callbacks.TensorBoard(log_dir=str(path), update_freq="batch", write_graph=False)


def cmd_train(args):
    if args.resume and args.overwrite:
        raise UsageError("--resume continues a run and --overwrite replaces it: choose one")
    if args.resume:
        out = pathlib.Path(args.out)
        if not out.is_dir():
            raise UsageError(f"cannot resume: {out} does not exist; start the run without --resume")
        recorded = runner.read_config(out)
        if args.model is not None and not runner.same_spec(args.model, str(recorded.get("model"))):
            raise UsageError(
                f"--model {args.model} does not match the run in {out}, recorded with model={recorded.get('model')}; "
                "leave --model out to continue that run, or start a new one"
            )
        args.model = recorded.get("model")
        _resolve_options(args, recorded, out)
    else:
        if args.model is None:
            raise UsageError("--model is required (unless --resume continues a run)")
        _resolve_options(args)
    _check_battery(args.battery)
    options = _options(args)
    if args.tensorboard is not None:
        options = dataclasses.replace(options, callbacks=(_tensorboard(args.tensorboard),))
    _check_models([args.model], args.battery, options)
    with folders.open_folder(args.out, "run", overwrite=args.overwrite, resume=args.resume) as out:
        result = runner.run(out, args.model, options, resume=args.resume, command=args.command_line,
                            verbose=0 if args.quiet else 1)
    summary = result["summary"]
    stopped = summary.get("stopped_early")
    if not result["trained"]:
        if stopped:
            print(f"{out} is finished: {', '.join(stopped['by'])} stopped it at step {stopped['step']}; nothing to "
                  f"train (mean response accuracy {summary['response_accuracy']:.3f})")
            return
        print(f"{out} is already complete at step {options.steps}: nothing to train "
              f"(mean response accuracy {summary['response_accuracy']:.3f}); give a larger --steps to extend it")
        return
    if stopped:
        print(f"{', '.join(stopped['by'])} stopped the run at step {stopped['step']} of {options.steps}")
    print()
    print(_table_text(result["table"], runner.TABLE_COLUMNS))
    print(f"mean response accuracy {summary['response_accuracy']:.3f}, trial accuracy {summary['trial_accuracy']:.3f}")
    print(f"wrote {out}")


def _check_file_target(path, flag, overwrite):
    """Refuses an output file whose folder does not exist or is not writable,
    and an existing file unless `overwrite`."""

    target = pathlib.Path(path)
    if (target.exists() or target.is_symlink()) and not target.is_dir():
        if not target.is_file() or target.is_symlink():
            raise UsageError(f"{flag} {path} exists and is not a plain file; choose another name")
        if not overwrite:
            raise UsageError(f"{flag} {path} exists; pass --overwrite to replace it or choose another name")
    folders.check_free(target.parent)  # a run folder another process is writing
    folder = pathlib.Path(path).resolve().parent
    if not folder.is_dir():
        raise UsageError(f"{flag} {path}: folder {folder} does not exist; make it first or choose another path")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {path}: folder {folder} is not writable")
    if pathlib.Path(path).is_dir():
        raise UsageError(f"{flag} {path} is a folder; give a file name")


def _model_and_battery(args):
    """The model named by `args.model` and the battery to use: --battery, else
    the one it was trained on if recorded, else the default battery; its width checked."""

    if args.battery is not None:
        _check_battery(args.battery)
    model, recorded = runner.load_model(args.model)
    battery = args.battery or recorded or tasks.DEFAULT_BATTERY
    _check_battery(battery)
    runner.check_width(model, battery, args.model)
    return model, battery


def _fetch_handle(args):
    """A remote preset handle (hf://..., kaggle://...) in `args.model` becomes its
    downloaded, verified folder; `args.handle` keeps the handle for the record."""
    args.handle = None
    if str(args.model).startswith(("hf://", "kaggle://")):

        try:
            args.handle, args.model = args.model, str(zoo.fetch(args.model))
        except zoo.PresetError as error:
            raise UsageError(str(error)) from None


def cmd_evaluate(args):
    _fetch_handle(args)

    if args.csv is not None:
        if not args.csv.strip():
            raise UsageError("--csv needs a file name")
        _check_file_target(args.csv, "--csv", args.overwrite)
    model, battery = _model_and_battery(args)
    table = EvaluationData(battery, args.trials_per_task, seed=args.seed).evaluate(model)
    columns = ["task", "response_accuracy", "trial_accuracy"]
    print(_table_text(table, columns))
    print(f"mean response accuracy {mean_performance(table):.3f}, "
          f"trial accuracy {mean_performance(table, 'trial_accuracy'):.3f} ({battery})")
    if args.csv:
        runner.write_table(args.csv, table, columns)
        folders.record_file(args.csv)  # inside a run folder, it is the run's own file


def cmd_compare(args):
    _resolve_options(args)
    _check_battery(args.battery)
    options = _options(args)
    _check_models(args.models, args.battery, options)
    at = args.at or sorted({args.eval_every, args.steps})
    _check_at(at, args.steps, args.eval_every)
    with folders.open_folder(args.out, "comparison", overwrite=args.overwrite) as out:
        rows, curves = [], {}
        for i, spec in enumerate(args.models):
            print(f"[{i + 1}/{len(args.models)}] {spec}")
            folder = f"{i}_" + folders.folder_name(spec)
            result = runner.run(out / folder, spec, options, command=args.command_line, verbose=0 if args.quiet else 1,
                                part="comparison")
            curve = dict(result["curve"])
            curves[spec] = result["curve"]
            rows.append({**result["summary"], **{f"perf@{s}": curve[s] for s in at}})
        columns = ["model", "total", "nonzero", "recurrent_nonzero", *[f"perf@{s}" for s in at], "wall_s"]
        runner.write_table(out / "comparison.csv", rows, columns)
        training.plot_curves(curves, out / "curves.png", title=f"{args.battery}: mean response accuracy over tasks")
        text = _table_text(rows, columns)
        folders.atomic_write_text(out / "comparison.txt", text + "\n")
    print()
    print(text)
    print(f"wrote {out}/comparison.csv and {out}/curves.png")


def _check_at(at, steps, eval_every):
    bad = [s for s in at if not training.is_evaluation_step(s, steps, eval_every)]
    if bad:
        raise UsageError(f"--at steps {bad} are not evaluation points (multiples of --eval-every up to --steps)")


def cmd_sweep(args):
    if args.seed is not None:
        raise UsageError("a sweep takes --seeds, not --seed")
    _resolve_options(args)
    _check_battery(args.battery)
    _check_models(args.models, args.battery, _options(args))
    if args.at:
        _check_at(args.at, args.steps, args.eval_every)
    try:
        max_runs = args.max_runs or sweeps.MAX_RUNS
        seeds = sweeps.parse_seeds(args.seeds, max_runs)
        sweeps.check_size(args.models, seeds, max_runs)
        sweeps.Sweep(tuple(args.models), tuple(seeds), _options(args))
    except sweeps.SweepError as error:
        raise UsageError(str(error)) from None
    try:
        states = sweeps.run_sweep(
            args.out, args.models, seeds, _options(args), jobs=args.jobs, use_ray=args.ray is not None,
            ray_address=args.ray or None, retries=args.retries, overwrite=args.overwrite, quiet=args.quiet,
        )
    except sweeps.SweepError as error:
        raise UsageError(str(error)) from None

    sweep_report.write_report(args.out, args.at)
    complete = sum(state == "complete" for state in states.values())
    report = folders.SweepFolder(args.out).report
    print(f"{complete} of {len(states)} runs complete; report in {report}")
    print(report.read_text())
    return 0 if complete == len(states) else 1


def cmd_report(args):
    folder = pathlib.Path(args.sweep)
    if folders.kind_of(folder) != "sweep":
        raise UsageError(f"{folder} is not a sweep folder (made by keras-lmrnn sweep)")
    try:
        sweep = sweeps.read_sweep(folder)
    except sweeps.SweepError as error:
        raise UsageError(str(error)) from None
    if args.at:
        _check_at(args.at, sweep.options.steps, sweep.options.eval_every)
    if args.baseline is not None:
        try:
            args.baseline = sweep_report.sweep_model(sweep.models, args.baseline)  # the same model, any key order
        except ValueError:
            raise UsageError(f"--baseline {args.baseline!r} is not a model of this sweep; its models: "
                             f"{list(sweep.models)}") from None
    print(sweep_report.write_report(folder, args.at, args.baseline))
    print(f"wrote {folder}/report.csv, report.md, curves.png, performance_vs_d.png")


def cmd_analyze(args):
    _fetch_handle(args)

    if args.over_training and not folders.RunFolder(args.model).config.is_file():
        raise UsageError(f"--over-training needs a run folder trained with --keep-checkpoints; {args.model} is not one")
    folders.check_usable(args.out, "analysis", overwrite=args.overwrite)  # before the slow work
    with _reading(args.model):
        return _analyze_in(args)


def _reading(model):
    """A run folder is read under its lock, so no training moves it meanwhile.
    (A read-only run folder, shared or downloaded, cannot be written by
    anyone: no lock needed; nor for a preset or a file.)"""

    run = pathlib.Path(model)
    writable = os.access(run, os.W_OK)
    return folders.lock(run) if folders.kind_of(run) == "run" and writable else contextlib.nullcontext()


def _analyze_in(args):
    model, battery = _model_and_battery(args)
    source = full_analysis.source_record(args.model)
    if args.handle:
        source["handle"] = args.handle
    methods = ("agglomerative", "kmeans") if args.method == "both" else (args.method,)

    kept = len(training.kept_checkpoints(args.model)) if args.over_training else 0
    if args.over_training and not kept:
        raise UsageError(f"--over-training: {args.model} kept no weights over training (train it with --keep-checkpoints)")
    if not args.no_stability and args.trials_per_task < 4:
        raise UsageError(f"--trials-per-task {args.trials_per_task}: the stability of the clusters needs at least 4 "
                         "(two halves of 2); give more, or --no-stability")
    stages = 3 + len(methods) * (1 if args.no_stability else 2) + (0 if args.no_lesions else 1) + kept
    done = [0]
    started = time.perf_counter()

    def progress(stage):  # one line per stage: [i/n] name, time so far
        done[0] += 1
        print(f"[{done[0]}/{stages}] {stage} ({time.perf_counter() - started:.0f} s so far)", flush=True)

    try:
        result = full_analysis.analyze(model, battery, args.trials_per_task, args.seed, methods,
                                       lesions=not args.no_lesions, stability=not args.no_stability, progress=progress)
        history = None
        if args.over_training:
            history, skipped = full_analysis.cluster_history(args.model, battery, args.trials_per_task, args.seed,
                                                             methods[0], stability=not args.no_stability,
                                                             progress=progress)
            if skipped:
                print(f"  steps {skipped}: too few active units to cluster; left out")
    except ValueError as error:  # e.g. too few active units to cluster
        raise UsageError(str(error)) from None
    result["source"] = source
    full_analysis.write(result, args.out, history=history, overwrite=args.overwrite)
    for method, found in result["clusters"].items():
        line = (f"{method}: k = {found.k} clusters of {len(result['units'])} active units "
                f"(silhouette {max(found.scores):.3f})")
        if method in result.get("stability", {}):
            line += f"; {result['stability'][method].verdict()}"
        print(line)
    if "method_agreement" in result:
        print(f"agreement of the two methods' partitions: ARI {result['method_agreement']:.3f}")
    print(f"wrote {args.out}: analysis.npz, clusters.json and figures")


def cmd_fixed_points(args):
    _fetch_handle(args)

    folders.check_usable(args.out, "dynamics", overwrite=args.overwrite)  # before the slow work
    with _reading(args.model):
        model, battery = _model_and_battery(args)
        unknown = [task for task in args.tasks if task not in tasks.names(battery)]
        if unknown:
            raise UsageError(f"--tasks {' '.join(unknown)}: not in battery {battery} (see keras-lmrnn tasks --battery {battery})")
        source = full_analysis.source_record(args.model)
        if args.handle:
            source["handle"] = args.handle
        started = time.perf_counter()
        try:
            found = dynamics.fixed_points(model, args.tasks, rule_tasks=battery, period=args.period,
                                          initial_states=args.initial_states, trials_per_task=args.trials_per_task,
                                          seed=args.seed, steps=args.steps)
        except ValueError as error:  # a task without the period, a dead network
            raise UsageError(str(error)) from None
    found.settings["seconds"] = round(time.perf_counter() - started, 1)
    dynamics.write(found, args.out, source=source, overwrite=args.overwrite)
    for task, entry in dynamics.record(found)["tasks"].items():
        kinds = ", ".join(f"{entry[kind]} {kind}" for kind in dynamics.STABILITIES)
        print(f"{task}: {entry['count']} points ({kinds})")
    print(f"wrote {args.out}: {', '.join(dynamics.FILES)} ({found.settings['seconds']:.0f} s)")


def cmd_tasks(args):
    if args.battery is not None:
        _check_battery(args.battery)
    if args.plot is not None:
        if not args.plot.strip():
            raise UsageError("--plot needs a task name")
        if not args.out:
            raise UsageError("--plot needs --out FILE.png")
        if args.battery is not None and args.plot.lower() not in tasks.names(args.battery):
            raise UsageError(f"task {args.plot!r} is not in battery {args.battery} (see keras-lmrnn tasks --battery {args.battery})")
        _check_file_target(args.out, "--out", args.overwrite)
        suffix = pathlib.Path(args.out).suffix.lower().lstrip(".")
        if suffix not in ("png", "svg", "pdf"):
            raise UsageError(f"--out {args.out}: expected a .png, .svg or .pdf file name")
        try:
            fig = tasks.plot_trial(args.plot, seed=args.seed)
        except ValueError as error:
            raise UsageError(str(error)) from None
        folders.atomic_write(args.out, lambda temp: fig.savefig(temp, dpi=100, format=suffix))
        folders.record_file(args.out)
        print(f"wrote {args.out}")
        return
    if args.out:
        raise UsageError("--out is the image file of --plot TASK; give --plot too")
    for index, name in enumerate(tasks.names(args.battery or tasks.DEFAULT_BATTERY)):
        print(f"{index:3d}  {name}")


COMMANDS = {
    "train": cmd_train, "evaluate": cmd_evaluate, "compare": cmd_compare, "sweep": cmd_sweep,
    "report": cmd_report, "analyze": cmd_analyze, "fixed-points": cmd_fixed_points, "tasks": cmd_tasks,
}


def _failure_types():
    """Exceptions that are the user's situation, not a bug: one line each."""
    return (UsageError, *runner.refusals()), training.TrainingDiverged


def main(argv=None):
    from keras_lmrnn import _quiet_tf

    _quiet_tf.install()  # TensorFlow's start-up lines, unless the user wants them
    with contextlib.suppress(AttributeError, ValueError):  # a pipe or log file sees each line as it is printed
        sys.stdout.reconfigure(line_buffering=True)
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    parser = make_parser()
    try:
        args, unknown = parser.parse_known_args(argv)
    except SystemExit as exit:  # --help, or one line for a bad flag
        return exit.code
    if unknown:
        print(f"keras-lmrnn {args.command}: error: unrecognized arguments: {' '.join(unknown)} "
              f"(see keras-lmrnn {args.command} --help)", file=sys.stderr)
        return 2
    args.command_line = _command(argv)
    try:
        code = COMMANDS[args.command](args) or 0
    except UsageError as error:
        print(f"keras-lmrnn {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        how = ("run the same command again to continue" if args.command == "sweep"
               else "continue with keras-lmrnn train --resume")
        print(f"keras-lmrnn {args.command}: interrupted; {how} (a run continues from its last checkpoint)",
              file=sys.stderr)
        return 130
    except MemoryError:
        print(f"keras-lmrnn {args.command}: error: out of memory; choose a smaller network, batch or sequence",
              file=sys.stderr)
        return 2
    except OSError as error:  # the file system refused a write: full, read-only, too large
        where = f" {error.filename}" if error.filename else ""
        print(f"keras-lmrnn {args.command}: error: cannot write{where}: {error.strerror or error}", file=sys.stderr)
        return 2
    except Exception as error:
        usage_errors, diverged = _failure_types()
        if isinstance(error, usage_errors):
            print(f"keras-lmrnn {args.command}: error: {error}", file=sys.stderr)
            return 2
        if isinstance(error, diverged):
            print(f"keras-lmrnn {args.command}: error: {error}", file=sys.stderr)
            return 1
        raise
    return code


if __name__ == "__main__":
    sys.exit(main())
