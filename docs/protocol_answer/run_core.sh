#!/usr/bin/env bash
# The central pair of the multi-seed answer (issue #11, item 4) first: LM-RNN d=6
# against dense(400), seeds 1-4, with exactly the options of run_answer.sh.
#
#   KERAS_BACKEND=jax bash docs/protocol_answer/run_core.sh PROTOCOL [OUT]
#   e.g.  bash docs/protocol_answer/run_core.sh lmrnn-v1
#
# Used when the full 45-run grid does not fit a session: this 8-run sweep
# answers "d=6 or dense(400)?" on 5 seeds (seed 0 comes from the grid) in
# about 2 h of the 2-core CPU. Its runs are the grid's runs (same names, same
# options, so the same numbers: training is deterministic); once finished,
# copy them into the grid's folder and re-running run_answer.sh skips them:
#   cp -r runs/answer/PROTOCOL-core/*__seed* runs/answer/PROTOCOL/
# Their config.json keeps the command that made them (naming this folder).
set -euo pipefail
PROTOCOL=${1:?usage: run_core.sh PROTOCOL [OUT]}
OUT=${2:-runs/answer/$PROTOCOL-core}
keras-lmrnn sweep --models "lmrnn:n=400,d=6" "dense:n=400" --seeds 1-4 --protocol "$PROTOCOL" --battery modcog84 \
  --steps 10000 --eval-every 1000 --trials-per-task 64 --at 1000,2000,5000,10000 --jobs 2 --quiet --out "$OUT"
