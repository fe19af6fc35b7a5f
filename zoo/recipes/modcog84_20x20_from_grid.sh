#!/usr/bin/env bash
# The modcog84 20x20 presets of protocol neurogym-indegree, made from the
# seed-0 runs of the protocol grid (docs/protocol_answer/run_answer.sh, i.e.
# `keras-lmrnn sweep` under `neurogym` with the spec key init=indegree: exactly
# the settings of neurogym-indegree): evaluates each run on the battery's
# seeded evaluation trials and writes its preset folder.
#
#   bash zoo/recipes/modcog84_20x20_from_grid.sh [GRID_DIR]
#
# GRID_DIR (default runs/answer/neurogym_indegree) must hold the finished
# seed-0 runs with their checkpoints. `bash zoo/recipes/modcog84_20x20.sh`
# under PROTOCOL=neurogym-indegree trains the same models afresh (same
# settings, seed and batches).
set -euo pipefail
cd "$(dirname "$0")/../.."
grid=${1:-runs/answer/neurogym_indegree}
export KERAS_BACKEND=${KERAS_BACKEND:-jax}
python=${PYTHON:-python}
declare -A run=(
  [modcog84_autapse_20x20]="autapse_n=400_init=indegree__seed0"
  [modcog84_lmrnn_20x20_d2]="lmrnn_n=400_d=2_init=indegree__seed0"
  [modcog84_lmrnn_20x20_d4]="lmrnn_n=400_d=4_init=indegree__seed0"
  [modcog84_lmrnn_20x20_d6]="lmrnn_n=400_d=6_init=indegree__seed0"
  [modcog84_random_20x20_d4]="random_n=400_d=4_init=indegree__seed0"
  [modcog84_dense_400]="dense_n=400_init=indegree__seed0"
  [modcog84_dense_140]="dense-matched_n=400_d=4_init=indegree__seed0"
)
mkdir -p runs/zoo
for model in "${!run[@]}"; do
  name=${model}_neurogym-indegree
  keras-lmrnn evaluate "$grid/${run[$model]}" --battery modcog84 --trials-per-task 64 --csv "runs/zoo/$name.eval.csv"
  "$python" tools/make_preset.py "$grid/${run[$model]}" "$name" --eval-csv "runs/zoo/$name.eval.csv"
done
