#!/usr/bin/env bash
# Recipe of the yang20 16x16 presets (the paper's Figure 2a setting): trains
# the autapse pool (d=0), LM-RNNs d=2 and d=4 and a dense RNN(256) for 5000
# steps on the 20 Yang tasks under one protocol, evaluates each on the
# battery's seeded evaluation trials and writes its preset folder, named
# MODEL_PROTOCOL (zoo/registry.py).
#
#   [PROTOCOL=lmrnn-v1] bash zoo/recipes/yang20_16x16.sh [RUNS_DIR]
#
# PROTOCOL defaults to the library's default protocol; under lmrnn-v1 the
# presets used batch 64 of 100-step rows, under any other the protocol's batch.
# The four trainings run side by side, single-threaded; each preset's
# metadata.json records the wall time and machine of the run that made it.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-runs/zoo}
mkdir -p "$runs"
export KERAS_BACKEND=${KERAS_BACKEND:-jax}
export XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
python=${PYTHON:-python}
source zoo/recipes/common.sh
batch=64
if [ "$PROTOCOL" != lmrnn-v1 ]; then batch=-; fi  # the protocol's batch and sequence
args="yang20 5000 $batch 500 64"  # battery steps batch eval_every trials

declare -A spec=(
  [yang20_autapse_16x16]=autapse:n=256
  [yang20_lmrnn_16x16_d2]=lmrnn:n=256,d=2
  [yang20_lmrnn_16x16_d4]=lmrnn:n=256,d=4
  [yang20_dense_256]=dense:n=256
)
pids=()
for name in "${!spec[@]}"; do
  preset "${name}_$PROTOCOL" "${spec[$name]}" $args &
  pids+=($!)
done
wait_all "${pids[@]}"
