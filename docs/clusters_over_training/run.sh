#!/usr/bin/env bash
# Paper Fig. 7b: the number of clusters (with its stability) against training
# step, 20x20 LM-RNNs at d = 1, 2, 4, 6, 8 and dense(400), the default protocol,
# seeds 0-2, the weights kept every 1,000 steps (issue #27, item 2).
#
#   KERAS_BACKEND=jax bash docs/clusters_over_training/run.sh [OUT]
#
# 1. One resumable sweep (18 runs of 10,000 steps): re-running the command skips
#    finished runs and resumes interrupted ones exactly. On the 2-core CPU a
#    20x20 run took 6-8 min two at a time under this protocol (docs/seed_streams),
#    so expect about an hour; each run keeps 10 weight files of about 0.9 MB.
# 2. tools/clusters_over_training.py clusters every kept checkpoint of every
#    finished run (ward + silhouette, 32 trials per task) and measures each
#    partition's stability; it skips runs already in its CSV, so it resumes too.
# Then commit docs/clusters_over_training/{clusters_over_training.csv,.png}
# and the sweep's export (python tools/export_sweep.py OUT docs/clusters_over_training/sweep).
set -euo pipefail
OUT=${1:-runs/clusters_over_training}
keras-lmrnn sweep --models lmrnn:n=400,d=1 lmrnn:n=400,d=2 lmrnn:n=400,d=4 lmrnn:n=400,d=6 lmrnn:n=400,d=8 \
  dense:n=400 --seeds 0-2 --battery modcog84 --steps 10000 --eval-every 1000 --trials-per-task 64 \
  --keep-checkpoints 1000 --at 1000,2000,5000,10000 --jobs 2 --quiet --out "$OUT" \
  || echo "not every run finished (a diverged run is final; a stopped sweep resumes): clustering the finished ones"
python tools/clusters_over_training.py "$OUT" --out docs/clusters_over_training
