#!/usr/bin/env bash
# Recipe of the modcog84 20x20 presets: trains each model, evaluates it on the
# battery's seeded evaluation trials, and writes its preset folder.
#
#   bash zoo/recipes/modcog84_20x20.sh [RUNS_DIR [PRESET ...]]
#
# With preset names, trains only those (e.g. to redo one). The trainings run
# side by side, single-threaded; each preset's metadata.json records the wall
# time and machine of the run that made it.
#
# The L1 strength of modcog84_l1_400 was chosen by `l1_sweep` below (run it by
# naming it: bash zoo/recipes/modcog84_20x20.sh runs/zoo l1_sweep), as the
# lambda that leaves a sparse but working network: 1e-5 kept 82% of the
# recurrent weights above 1e-3, 1e-3 fell to 0.375 mean response accuracy,
# 1e-4 kept 23% and reached 0.625. The preset is the sweep's 1e-4 run (the same
# command as the table's entry, with its own --out); the sweep's table is in the
# preset's model card.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-runs/zoo}
shift || true
mkdir -p "$runs"
export KERAS_BACKEND=${KERAS_BACKEND:-jax}
export XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"

source zoo/recipes/common.sh
args="modcog84 10000 32 1000 32"  # battery steps batch eval_every trials

declare -A spec=(
  [modcog84_autapse_20x20]=autapse:n=400
  [modcog84_lmrnn_20x20_d2]=lmrnn:n=400,d=2
  [modcog84_lmrnn_20x20_d4]=lmrnn:n=400,d=4
  [modcog84_lmrnn_20x20_d6]=lmrnn:n=400,d=6
  [modcog84_random_20x20_d4]=random:n=400,d=4
  [modcog84_dense_400]=dense:n=400
  [modcog84_dense_140]=dense-matched:n=400,d=4
  [modcog84_l1_400]=l1:n=400,l1=1e-4
)

l1_sweep() {  # trains without making presets; compare the runs' eval.csv
  local pids=() lambda
  for lambda in 1e-5 1e-4 1e-3; do
    MAKE_PRESETS=0 preset "l1_sweep_$lambda" "l1:n=400,l1=$lambda" $args &
    pids+=($!)
  done
  wait_all "${pids[@]}"
}

names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${!spec[@]}")
for name in "${names[@]}"; do
  if [ "$name" != l1_sweep ] && [ -z "${spec[$name]:-}" ]; then
    echo "unknown preset $name; expected l1_sweep or one of: ${!spec[*]}" >&2
    exit 2
  fi
done
pids=()
for name in "${names[@]}"; do
  if [ "$name" = l1_sweep ]; then
    l1_sweep &
  else
    preset "$name" "${spec[$name]}" $args &
  fi
  pids+=($!)
done
wait_all "${pids[@]}"
