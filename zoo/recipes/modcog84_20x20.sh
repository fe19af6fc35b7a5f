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

source zoo/recipes/common.sh
args="modcog84 10000 32 1000 32"  # battery steps batch eval_every trials

preset modcog84_lmrnn_20x20_d2 lmrnn:n=400,d=2 $args &
preset modcog84_lmrnn_20x20_d4 lmrnn:n=400,d=4 $args &
preset modcog84_lmrnn_20x20_d6 lmrnn:n=400,d=6 $args &
preset modcog84_dense_400 dense:n=400 $args &
wait
