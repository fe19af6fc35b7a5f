# Shared by the zoo recipes (source it, don't run it): trains one model,
# evaluates it on its battery's seeded evaluation trials and writes its preset.
#
#   preset NAME MODEL_SPEC BATTERY STEPS BATCH_SIZE EVAL_EVERY TRIALS
#
# Uses $runs (run folders), $python (default: python), EVAL_TRIALS (evaluation
# trials per task, default 64), TRAIN_FLAGS (extra `keras-lmrnn train` flags)
# and MAKE_PRESETS (1: write zoo/presets/NAME; the name must be in
# zoo/registry.py).
preset() {
  local name=$1 spec=$2 battery=$3 steps=$4 batch=$5 eval_every=$6 trials=$7
  keras-lmrnn train --model "$spec" --battery "$battery" --steps "$steps" --batch-size "$batch" \
    --seq-len 100 --eval-every "$eval_every" --trials-per-task "$trials" --seed 0 --quiet \
    --out "$runs/$name" ${TRAIN_FLAGS:-}
  keras-lmrnn evaluate "$runs/$name" --battery "$battery" --trials-per-task "${EVAL_TRIALS:-64}" \
    --csv "$runs/$name/eval.csv"
  if [ "${MAKE_PRESETS:-1}" = 1 ]; then
    "${python:-python}" tools/make_preset.py "$runs/$name" "$name" --eval-csv "$runs/$name/eval.csv"
  fi
}

# wait_all PID ...: waits for every background job; fails if any of them failed.
wait_all() {
  local pid failed=0
  for pid in "$@"; do wait "$pid" || failed=1; done
  return $failed
}
