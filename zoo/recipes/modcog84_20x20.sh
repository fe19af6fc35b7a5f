#!/usr/bin/env bash
# Recipe of the modcog84 20x20 presets: trains each model, evaluates it on the
# battery's seeded evaluation trials, and writes its preset folder.
#
#   bash zoo/recipes/modcog84_20x20.sh [RUNS_DIR]
#
# The four trainings run side by side, single-threaded; each preset's
# metadata.json records the wall time and machine of the run that made it.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-runs/zoo}
mkdir -p "$runs"
export KERAS_BACKEND=${KERAS_BACKEND:-jax}
export XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"

preset() {  # preset NAME MODEL_SPEC
  local name=$1 spec=$2
  keras-lmrnn train --model "$spec" --battery modcog84 --steps 10000 --batch-size 32 \
    --seq-len 100 --eval-every 1000 --trials-per-task 32 --seed 0 --quiet --out "$runs/$name"
  keras-lmrnn evaluate "$runs/$name" --battery modcog84 --csv "$runs/$name/eval.csv"
  python tools/make_preset.py "$runs/$name" "$name" --eval-csv "$runs/$name/eval.csv"
}

preset modcog84_lmrnn_20x20_d2 lmrnn:n=400,d=2 &
preset modcog84_lmrnn_20x20_d4 lmrnn:n=400,d=4 &
preset modcog84_lmrnn_20x20_d6 lmrnn:n=400,d=6 &
preset modcog84_dense_400 dense:n=400 &
wait
