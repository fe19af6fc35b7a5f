# Shared by the zoo recipes (source it, don't run it): trains one model,
# evaluates it on its battery's seeded evaluation trials and writes its preset.
#
#   preset NAME MODEL_SPEC BATTERY STEPS BATCH_SIZE EVAL_EVERY TRIALS
#
# Uses $runs (run folders), $python (default: python), EVAL_TRIALS (evaluation
# trials per task, default 64), TRAIN_FLAGS (extra `keras-lmrnn train` flags),
# PROTOCOL (the training protocol, default the library's: protocols.DEFAULT; see
# keras_lmrnn.protocols) and MAKE_PRESETS (1: write zoo/presets/NAME; the name must be in
# zoo/registry.py). BATCH_SIZE "-" takes the protocol's batch and sequence
# length; a number sets the batch size with 100-step rows (the lmrnn-v1 presets).
# A preset's name is its model's name, "_", and the protocol (zoo/registry.py).
PROTOCOL=${PROTOCOL:-$("${python:-python}" -c 'import runpy; print(runpy.run_path("keras_lmrnn/protocols.py")["DEFAULT"])')}

preset() {
  local name=$1 spec=$2 battery=$3 steps=$4 batch=$5 eval_every=$6 trials=$7
  local shape=(--batch-size "$batch" --seq-len 100)
  if [ "$batch" = "-" ]; then shape=(); fi
  keras-lmrnn train --model "$spec" --battery "$battery" --protocol "$PROTOCOL" --steps "$steps" \
    "${shape[@]}" --eval-every "$eval_every" --trials-per-task "$trials" --seed 0 --quiet \
    --out "$runs/$name" ${TRAIN_FLAGS:-} || return  # explicit: `set -e` is off inside `preset ... || ...`
  keras-lmrnn evaluate "$runs/$name" --battery "$battery" --trials-per-task "${EVAL_TRIALS:-64}" \
    --csv "$runs/$name/eval.csv" || return
  if [ "${MAKE_PRESETS:-1}" = 1 ]; then
    "${python:-python}" tools/make_preset.py "$runs/$name" "$name" --eval-csv "$runs/$name/eval.csv" || return
  fi
}

# wait_all PID ...: waits for every background job; fails if any of them failed.
wait_all() {
  local pid failed=0
  for pid in "$@"; do wait "$pid" || failed=1; done
  return $failed
}
