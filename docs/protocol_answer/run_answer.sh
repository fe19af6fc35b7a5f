#!/usr/bin/env bash
# The multi-seed answer of issue #11 (item 4): N=400, Mod-Cog 84, 5 seeds,
# 10,000 steps, the paper's comparison models, under one protocol.
#
#   KERAS_BACKEND=jax bash docs/protocol_answer/run_answer.sh PROTOCOL [OUT] [EXTRA_SPEC_KEYS]
#   e.g.  bash docs/protocol_answer/run_answer.sh lmrnn-v1
#         bash docs/protocol_answer/run_answer.sh lmrnn-v1 runs/answer/alpha1 ,alpha=1
#
# One resumable sweep (45 runs): re-running the same command skips finished
# runs and resumes interrupted ones exactly. Longer than a session on a CPU:
# stop it (Ctrl-C) when the session ends, export the finished runs with
#   python tools/export_sweep.py OUT docs/protocol_answer/<name>
# commit them, and copy the export back to OUT next session before re-running.
# Runs start seed by seed (every model on seed 0, then seed 1, ...), so a
# stopped sweep holds whole seeds. Measured on the 2-core CPU under
# `neurogym` with `,init=indegree` (--jobs 2, evaluations included): 12-14 min
# per 10k-step run of N = 400 (two at a time), 4-6 min for dense-matched,
# about 1 h per seed of all 9 models, so about 5 h for the 45 runs. Under
# lmrnn-v1 (64 x 100 batches, about twice the step time) expect about 2 h per seed.
set -euo pipefail
PROTOCOL=${1:?usage: run_answer.sh PROTOCOL [OUT] [EXTRA_SPEC_KEYS]}
OUT=${2:-runs/answer/$PROTOCOL}
X=${3:-}
MODELS=("autapse:n=400$X" "lmrnn:n=400,d=1$X" "lmrnn:n=400,d=2$X" "lmrnn:n=400,d=4$X" "lmrnn:n=400,d=6$X"
        "lmrnn:n=400,d=8$X" "random:n=400,d=4$X" "dense:n=400$X" "dense-matched:n=400,d=4$X")
keras-lmrnn sweep --models "${MODELS[@]}" --seeds 0-4 --protocol "$PROTOCOL" --battery modcog84 \
  --steps 10000 --eval-every 1000 --trials-per-task 64 --at 1000,2000,5000,10000 --jobs 2 --quiet --out "$OUT"
