#!/usr/bin/env bash
# Recipe of the paper-scale presets (50x50 sheet, Mod-Cog 84 tasks, 10,000
# steps; the paper's Table 1): LM-RNN d=6 and d=10, dense RNN(2500), dense
# RNN(676) (the paper's same-synapse control) and dense RNN(2500) with L1 on W.
# Meant for one GPU; on a CPU each model takes many hours.
#
#   bash zoo/recipes/modcog84_50x50_gpu.sh [RUNS_DIR]
#
# Environment: STEPS (default 10000), EVAL_EVERY (1000), TRIALS (64 evaluation
# trials per task), MAKE_PRESETS (1: write zoo/presets/<name>; the names must
# first be added to zoo/registry.py), KERAS_BACKEND (default jax).
# Tested on CPU at tiny scale only:
#   STEPS=2 EVAL_EVERY=1 TRIALS=1 MAKE_PRESETS=0 bash zoo/recipes/modcog84_50x50_gpu.sh /tmp/gpu-recipe
# The L1 strength 1e-5 is the paper's best-performing one at N = 2500 (its Table 1:
# 0.72 with 1.81e5 non-zero recurrent weights); not yet run here.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-runs/zoo}
steps=${STEPS:-10000}
eval_every=${EVAL_EVERY:-1000}
trials=${TRIALS:-64}
mkdir -p "$runs"
export KERAS_BACKEND=${KERAS_BACKEND:-jax}
python=${PYTHON:-python}
source zoo/recipes/common.sh
TRAIN_FLAGS=--overwrite
EVAL_TRIALS=$trials
args="modcog84 $steps 64 $eval_every $trials"  # battery steps batch eval_every trials

preset modcog84_lmrnn_50x50_d6 lmrnn:n=2500,d=6 $args
preset modcog84_lmrnn_50x50_d10 lmrnn:n=2500,d=10 $args
preset modcog84_dense_2500 dense:n=2500 $args
preset modcog84_dense_676 dense:n=676 $args
preset modcog84_l1_2500 l1:n=2500,l1=1e-5 $args
