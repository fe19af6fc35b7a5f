#!/usr/bin/env bash
# Issue #11, item 7: a larger sheet. 35x35 (N = 1225), one seed, 10,000 steps,
# LM-RNN d=6 (the best d of the 20x20 grid, fan-in 113 as there) against the
# dense RNN of the same size, under one protocol (default: neurogym-indegree).
#
#   KERAS_BACKEND=jax bash docs/protocol_answer/run_35x35.sh [PROTOCOL] [OUT]
#
# Step time on the 2-core CPU (benchmarks/protocol_step_time.py, neurogym's
# 4 x 350 batches): 0.30 s (d=6) and 0.32 s (dense) per step, so about 50 min
# per model alone; two at a time share the cores: measured (2026-11-30, both
# runs together, evaluations of 64 trials per task included) about 12 min per
# 1,000 steps each, so about 2 h for the pair. Resumable like every sweep:
# re-run the same command to continue (runs stopped mid-way restart from their
# last 1,000-step checkpoint), export with tools/export_sweep.py.
set -euo pipefail
PROTOCOL=${1:-neurogym-indegree}
OUT=${2:-runs/answer/35x35_$PROTOCOL}
keras-lmrnn sweep --models lmrnn:n=1225,d=6 dense:n=1225 --seeds 0 --protocol "$PROTOCOL" --battery modcog84 \
  --steps 10000 --eval-every 1000 --trials-per-task 64 --at 1000,2000,5000,10000 --jobs 2 --quiet --out "$OUT"
