#!/usr/bin/env bash
# Recipe of the paper-scale presets (50x50 sheet, Mod-Cog 84 tasks, 10,000
# steps, the default protocol; the paper's Table 1): LM-RNN d=6 and d=10,
# random sparse with d=10's in-degree, the autapse pool, dense RNN(676) (the
# paper's same-synapse control), dense RNN(2500) and dense RNN(2500) with L1
# on W (lambda 1e-5, the paper's best at N = 2500).
#
#   bash zoo/recipes/modcog84_50x50.sh [RUNS_DIR] [MODEL ...]
#
# MODEL names entries of the table below (default: all, in order). Each model
# is one 10,000-step run that must finish on the machine it starts on; on a
# 2-core CPU under JAX d=6 took 54 min (2026-12-05), d=10 1.5-3.0 hours
# (0.54-1.08 s per step), dense(2500) 3.2-4.2 hours (1.15-1.51 s per step) and
# random sparse d=10 about as long as dense (1.03-1.33 s per step: no tiles fit a
# random mask), the L1 model (a dense(2500) with a penalty) not timed
# (docs/paper_scale); on one
# GPU minutes (docs/gpu/README.md).
# Environment: STEPS (default 10000), EVAL_EVERY (1000), TRIALS (64 evaluation
# trials per task), MAKE_PRESETS (1: write zoo/presets/MODEL_PROTOCOL),
# KERAS_BACKEND (default jax). Tiny check on CPU:
#   STEPS=2 EVAL_EVERY=1 TRIALS=1 MAKE_PRESETS=0 bash zoo/recipes/modcog84_50x50.sh /tmp/r50 modcog84_autapse_50x50
# A model that fails (e.g. diverges) does not stop the others; the recipe
# lists it and exits 1 at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-runs/zoo50}
shift || true
steps=${STEPS:-10000}
eval_every=${EVAL_EVERY:-1000}
trials=${TRIALS:-64}
mkdir -p "$runs"
export KERAS_BACKEND=${KERAS_BACKEND:-jax}
python=${PYTHON:-python}
source zoo/recipes/common.sh
TRAIN_FLAGS=--overwrite
EVAL_TRIALS=$trials
declare -A spec=(
  [modcog84_lmrnn_50x50_d6]=lmrnn:n=2500,d=6
  [modcog84_lmrnn_50x50_d10]=lmrnn:n=2500,d=10
  [modcog84_random_50x50_d10]=random:n=2500,d=10
  [modcog84_autapse_50x50]=autapse:n=2500
  [modcog84_dense_676]=dense:n=676
  [modcog84_dense_2500]=dense:n=2500
  [modcog84_l1_2500]=l1:n=2500,l1=1e-5
)
order=(modcog84_lmrnn_50x50_d6 modcog84_lmrnn_50x50_d10 modcog84_dense_2500 modcog84_autapse_50x50
       modcog84_dense_676 modcog84_random_50x50_d10 modcog84_l1_2500)
if [ $# -gt 0 ]; then order=("$@"); fi
failed=()
for model in "${order[@]}"; do
  if [ -z "${spec[$model]:-}" ]; then echo "unknown model $model; known: ${!spec[*]}" >&2; exit 2; fi
  preset "${model}_$PROTOCOL" "${spec[$model]}" modcog84 "$steps" - "$eval_every" "$trials" || failed+=("${model}_$PROTOCOL")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
