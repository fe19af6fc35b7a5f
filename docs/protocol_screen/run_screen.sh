#!/usr/bin/env bash
# The one-factor protocol screen (issue #11, item 3): N=400, Mod-Cog 84,
# LM-RNN d=6 against dense(400). Both protocols: seeds 0-1, 3000 steps.
# Each single factor (lmrnn-v1 with one setting switched to the neurogym
# template's value): seed 0, 2000 steps (this CPU's budget; see README.md).
# Every line is a resumable sweep: re-running the script skips finished
# runs and resumes interrupted ones exactly.
# Usage: KERAS_BACKEND=jax bash docs/protocol_screen/run_screen.sh [OUT]
set -uo pipefail
OUT=${1:-runs/screen}
D=${D:-6}
COMMON=(--battery modcog84 --eval-every 500 --trials-per-task 16 --jobs 2 --quiet)
FULL=(--steps 3000 --seeds 0-1)
FACTOR=(--steps 2000 --seeds 0)
sweep() { # name, spec suffix, flags...
  local name=$1 suffix=$2; shift 2
  keras-lmrnn sweep --models "lmrnn:n=400,d=$D$suffix" "dense:n=400$suffix" "${COMMON[@]}" "$@" --out "$OUT/$name"
}
sweep lmrnn-v1       ""                   "${FULL[@]}"   --protocol lmrnn-v1
sweep neurogym       ""                   "${FULL[@]}"   --protocol neurogym
sweep alpha1         ",alpha=1"           "${FACTOR[@]}" --protocol lmrnn-v1
sweep identity_init  ",init=identity"     "${FACTOR[@]}" --protocol lmrnn-v1
sweep batch4x350     ""                   "${FACTOR[@]}" --protocol lmrnn-v1 --batch-size 4 --seq-len 350
sweep clip1          ""                   "${FACTOR[@]}" --protocol lmrnn-v1 --clipnorm 1
sweep continuous     ""                   "${FACTOR[@]}" --protocol lmrnn-v1 --layout continuous
sweep torch_init     ",linear_init=torch" "${FACTOR[@]}" --protocol lmrnn-v1
# Follow-up: the alpha factor flipped the ordering on seed 0; seed 1 of the same setting.
sweep alpha1_seed1   ",alpha=1"           --steps 2000 --seeds 1 --protocol lmrnn-v1
# Follow-up: the full neurogym bundle without its identity init (the factor that favoured dense).
sweep neurogym_indegree ",init=indegree" --steps 3000 --seeds 0 --protocol neurogym
