#!/usr/bin/env bash
# Issue #25, item 3 (Fig. 7a at N = 1225): 35x35 sheet, LM-RNN d = 2, 4, 6, 8, 10
# and dense(1225), seeds 0 and 1, 10,000 steps each, 64 evaluation trials per task,
# under one protocol (default: neurogym-indegree).
#
#   KERAS_BACKEND=jax bash docs/paper_scale/run_fig7a_1225.sh [PROTOCOL] [OUT]
#
# The sweep takes its runs seed by seed in the order of --models (all seed-0 runs
# first), two at a time. Resumable like every sweep: re-run the same command to
# continue (a run stopped mid-way restarts from its last 1,000-step checkpoint);
# export the finished runs' small files with tools/export_sweep.py. A dense run
# that diverges is final (reported, never scored); the next seed is run by hand.
set -euo pipefail
PROTOCOL=${1:-neurogym-indegree}
OUT=${2:-runs/fig7a_1225_$PROTOCOL}
keras-lmrnn sweep --models dense:n=1225 lmrnn:n=1225,d=6 lmrnn:n=1225,d=2 lmrnn:n=1225,d=10 \
  lmrnn:n=1225,d=4 lmrnn:n=1225,d=8 --seeds 0-1 --protocol "$PROTOCOL" --battery modcog84 \
  --steps 10000 --eval-every 1000 --trials-per-task 64 --at 1000,2000,5000,10000 --jobs 2 --out "$OUT"
