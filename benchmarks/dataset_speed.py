"""Batches per second: TaskDataset against neurogym.Dataset, in one run.

Both build batches of 64 rows x 100 steps on one process: our `TaskDataset`
(stream layout) over "yang20" and "modcog84", and `neurogym.Dataset` over
neurogym's own yang19 tasks (all 20, randomly interleaved, with a rule input,
as the Mod-Cog authors' code builds its data). Batches are timed in turn so a
slow spell of the machine weighs on all alike.

Usage:

    python benchmarks/dataset_speed.py [--batches 30]
"""

import argparse
import statistics
import time

import table_csv


def neurogym_yang19(batch_size, seq_len):
    import neurogym as ngym
    from neurogym.envs.collections import yang19
    from neurogym.utils.scheduler import RandomSchedule
    from neurogym.wrappers import ScheduleEnvs

    names = ["go", "rtgo", "dlygo", "anti", "rtanti", "dlyanti", "dm1", "dm2",
             "ctxdm1", "ctxdm2", "multidm", "dlydm1", "dlydm2", "ctxdlydm1",
             "ctxdlydm2", "multidlydm", "dms", "dnms", "dmc", "dnmc"]
    envs = [getattr(yang19, n)() for n in names]
    env = ScheduleEnvs(envs, schedule=RandomSchedule(len(envs)), env_input=True)
    dataset = ngym.Dataset(env, batch_size=batch_size, seq_len=seq_len)
    return lambda i: dataset()


def ours(battery, batch_size, seq_len, batches):
    from keras_lmrnn.tasks import TaskDataset

    data = TaskDataset(battery, batch_size=batch_size, seq_len=seq_len, num_batches=batches)
    return lambda i: data[i]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seq-len", type=int, default=100)
    parser.add_argument("--csv", metavar="FILE", help="also save the table's cells to FILE (CSV)")
    args = parser.parse_args()
    makers = {
        "neurogym.Dataset yang19": neurogym_yang19(args.batch_size, args.seq_len),
        "TaskDataset yang20": ours("yang20", args.batch_size, args.seq_len, args.batches),
        "TaskDataset modcog84": ours("modcog84", args.batch_size, args.seq_len, args.batches),
    }
    for make in makers.values():  # warm-up
        make(0)
    times = {name: [] for name in makers}
    for i in range(args.batches):
        for name, make in makers.items():
            start = time.perf_counter()
            make(i)
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["neurogym.Dataset yang19"])
    print(f"batch {args.batch_size} x {args.seq_len} steps, median of {args.batches} batches, one process")
    lines = ["| data | s/batch | batches/s | speed-up vs neurogym |", "|---|---|---|---|"]
    for name, t in times.items():
        med = statistics.median(t)
        lines.append(f"| {name} | {med:.4f} | {1 / med:.1f} | {base / med:.1f}x |")
    print("\n".join(lines))
    if args.csv:
        table_csv.save(args.csv, lines)


if __name__ == "__main__":
    main()
