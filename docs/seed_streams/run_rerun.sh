#!/usr/bin/env bash
# Issue #30, item 3: the central comparison again under independent seed
# streams (keras_lmrnn.seeds) and a random mask drawn per seed: LM-RNN d=6,
# dense(400) and random sparse with d=4's in-degree, N = 400, Mod-Cog 84, the
# default protocol (neurogym-indegree), 5 seeds, 10,000 steps; the same
# settings as docs/protocol_answer/neurogym_indegree (run_answer.sh).
#
#   KERAS_BACKEND=jax bash docs/seed_streams/run_rerun.sh [OUT] [SEEDS]
#
# SEEDS defaults to 0-4; dense(400) diverged on 4 of those 5, so seeds 5-9
# were run as a second sweep (OUT=runs/seed_streams/rerun_5-9 SEEDS=5-9).
#
# One resumable sweep (15 runs): re-running the same command skips finished
# runs and resumes interrupted ones exactly. Stop it (Ctrl-C) when a session
# ends, export the finished runs with
#   python tools/export_sweep.py OUT docs/seed_streams/rerun
# commit them, and copy the export back to OUT next session before re-running.
set -euo pipefail
OUT=${1:-runs/seed_streams/rerun}
SEEDS=${2:-0-4}
keras-lmrnn sweep --models lmrnn:n=400,d=6 dense:n=400 random:n=400,d=4 --seeds "$SEEDS" \
  --protocol neurogym-indegree --battery modcog84 --steps 10000 --eval-every 1000 \
  --trials-per-task 64 --at 1000,2000,5000,10000 --jobs 2 --quiet --out "$OUT"
