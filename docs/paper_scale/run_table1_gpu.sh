#!/usr/bin/env bash
# Issue #25, items 1 and 2 on one GPU: the Table 1 runs that a 2-core CPU cannot
# finish in a session (about 2-4 hours each there), as sweeps that share the GPU,
# all at once, under the default protocol (neurogym-indegree), Mod-Cog 84, 10,000
# steps, 64 evaluation trials per task, full float32 precision
# (JAX_DEFAULT_MATMUL_PRECISION=highest: no TF32, so the runs compare with the
# CPU's).
#
#   bash docs/paper_scale/run_table1_gpu.sh start RUNS          # launch the sweeps (detached), return
#   bash docs/paper_scale/run_table1_gpu.sh wait RUNS SECONDS   # progress every minute until all end or SECONDS pass
#   bash docs/paper_scale/run_table1_gpu.sh pack RUNS OUT       # everything small into OUT, then the presets
#
# PLAN picks the sweeps, one line each: name, run seeds, model spec, preset model
# (or -). Two plans are named:
#   table1 (default), the rest of the pair Table 1's claim rests on: dense(2500)
#     seeds 3-4 (0 and 1 diverged on the CPU at steps 185 and 8; seed 2 trained
#     there and is its preset) and LM-RNN d=10 seed 2 (seeds 0 and 1 trained on
#     the CPU); no presets.
#   presets: random sparse d=10 seed 0 and L1 (lambda 1e-5) seeds 0-2, each preset
#     from the lowest seed that trains (a diverged run is reported, never scored).
# or PLAN holds the lines themselves.
# `start` is idempotent: a sweep whose process is alive is left alone, any other is
# (re)started with its same command, which skips finished runs and continues an
# unfinished one from its last 1,000-step checkpoint. So a run may span several
# device calls as long as the machine stays warm (the sweeps run detached, under
# setsid). `pack` writes OUT/table1_runs.tgz first: each sweep's finished runs
# (tools/export_sweep.py: no checkpoints), every run's curve so far (progress/),
# the logs and device.txt. Then, for each preset model whose seeds below the
# lowest finished one all diverged, it evaluates that run on 64 trials per task, as
# every card (eval/, added to the
# archive) and writes zoo/presets/MODEL_neurogym-indegree, packed as
# OUT/presets.tar.aa, .ab, ... (15 MiB pieces: a dense(2500) preset is about 25 MB).
# A preset that fails is
# reported and the others go on. Back here:
#   mkdir -p docs/paper_scale/table1_gpu && tar xzf table1_runs.tgz -C docs/paper_scale/table1_gpu
#   cat presets.tar.* | tar x -C zoo/presets
#
# Environment: PLAN, STEPS (10000), EVAL_EVERY (1000), TRIALS (64), AT (the
# reports' steps, 1000,2000,5000,10000), PYTHON (python3), CODE_REVISION (given
# to `start`, kept in RUNS and recorded in the presets: the device's copy of the
# working tree has no .git). Tiny check on a CPU, in a scratch clone (pack writes
# to zoo/presets):
#   PLAN="tiny 0-1 lmrnn:n=100,d=2 modcog84_random_50x50_d10" STEPS=4 EVAL_EVERY=2 TRIALS=1 AT=2,4 ...
set -euo pipefail
usage="usage: bash docs/paper_scale/run_table1_gpu.sh start RUNS | wait RUNS SECONDS | pack RUNS OUT"
part=${1:?$usage}
runs=$(realpath -m "${2:?$usage}")  # before the cd: relative paths are the caller's
if [ "$part" = pack ]; then out=$(realpath -m "${3:?$usage}"); fi
cd "$(dirname "$0")/../.."
python=${PYTHON:-python3}
steps=${STEPS:-10000}
eval_every=${EVAL_EVERY:-1000}
trials=${TRIALS:-64}
at=${AT:-1000,2000,5000,10000}
protocol=neurogym-indegree
case ${PLAN:-table1} in
table1) PLAN="dense2500 3-4 dense:n=2500 -
lmrnn_d10 2 lmrnn:n=2500,d=10 -" ;;
presets) PLAN="random_d10 0 random:n=2500,d=10 modcog84_random_50x50_d10
l1_2500 0-2 l1:n=2500,l1=1e-5 modcog84_l1_2500" ;;
*[[:space:]]*) ;;  # the plan's own lines
*) echo "PLAN must be table1, presets or lines 'NAME SEEDS SPEC PRESET'; got '$PLAN'" >&2; exit 2 ;;
esac
plan() {  # the plan's lines, blank ones left out
  grep -v '^[[:space:]]*$' <<< "$PLAN"
}
while read -r name seeds spec preset extra; do
  if [ -z "$preset" ] || [ -n "$extra" ]; then
    echo "PLAN: each line needs 4 fields (NAME SEEDS SPEC PRESET, PRESET - for none); got '$name $seeds $spec $preset $extra'" >&2
    exit 2
  fi
done < <(plan)
if [ -z "$(plan)" ]; then echo "PLAN has no lines" >&2; exit 2; fi
export KERAS_BACKEND=${KERAS_BACKEND:-jax}
export JAX_DEFAULT_MATMUL_PRECISION=${JAX_DEFAULT_MATMUL_PRECISION-highest}
export NVIDIA_TF32_OVERRIDE=${NVIDIA_TF32_OVERRIDE-0}
export PYTHONUNBUFFERED=1
export XLA_PYTHON_CLIENT_PREALLOCATE=false TF_FORCE_GPU_ALLOW_GROWTH=true  # many processes share the GPU
cli=("$python" -m keras_lmrnn.cli)
if [ "$part" = start ]; then
  mkdir -p "$runs"
elif [ ! -d "$runs" ]; then
  echo "RUNS '$runs' does not exist (\`start\` makes it)" >&2
  exit 2
fi

alive() {  # alive NAME: the sweep's process is running (not a zombie)
  local pid
  pid=$(cat "$runs/$1.pid" 2>/dev/null) || return 1
  [ -r "/proc/$pid/stat" ] && [ "$(cut -d' ' -f3 "/proc/$pid/stat")" != Z ]
}

case $part in
start)
  if [ -n "${CODE_REVISION:-}" ]; then echo "$CODE_REVISION" > "$runs/code_revision"; fi
  { echo "== start $(date -u +%FT%TZ)"; nvidia-smi -L 2>/dev/null || echo "no nvidia-smi"; $python --version
    $python -c "import importlib.metadata as m, keras; from keras_lmrnn import devices
b = keras.backend.backend(); print(b, m.version(b), 'keras', keras.__version__, devices.describe())"
    env | grep -E "^(JAX_DEFAULT_MATMUL_PRECISION|NVIDIA_TF32_OVERRIDE|XLA_FLAGS|KERAS_BACKEND)=" | sort
    echo "code revision: $(cat "$runs/code_revision" 2>/dev/null || echo unknown)"; } 2>&1 | tee -a "$runs/device.txt"
  while read -r name seeds spec preset; do
    if alive "$name"; then echo "running  $name"; continue; fi
    setsid nohup "${cli[@]}" sweep --models "$spec" --seeds "$seeds" --jobs 8 --protocol "$protocol" \
      --battery modcog84 --steps "$steps" --eval-every "$eval_every" --trials-per-task "$trials" \
      --at "$at" --out "$runs/$name" >> "$runs/$name.log" 2>&1 < /dev/null &
    echo $! > "$runs/$name.pid"
    echo "started  $name ($spec, seeds $seeds)"
  done < <(plan)
  ;;
wait)
  limit=${3:?$usage}
  if ! [[ $limit =~ ^[0-9]+$ ]]; then echo "wait: SECONDS must be a whole number of seconds, got '$limit'" >&2; exit 2; fi
  end=$((SECONDS + limit))
  shown=-60
  while :; do
    running=0
    while read -r name _; do if alive "$name"; then running=$((running + 1)); fi; done < <(plan)
    if [ "$running" = 0 ] || [ $SECONDS -ge $end ] || [ $((SECONDS - shown)) -ge 60 ]; then
      shown=$SECONDS
      echo "== $(date -u +%H:%M:%S) sweeps running: $running"
      while read -r name _; do
        for curve in "$runs/$name"/*/curve.csv; do
          if [ -f "$curve" ]; then echo "$name/$(basename "$(dirname "$curve")") step $(tail -n 1 "$curve" | cut -d, -f1)"; fi
        done
      done < <(plan)
    fi
    if [ "$running" = 0 ] || [ $SECONDS -ge $end ]; then break; fi
    sleep 10
  done
  if [ "$running" = 0 ]; then  # how each sweep ended
    while read -r name _; do echo "-- $name.log"; tail -n 5 "$runs/$name.log" 2>/dev/null || true; done < <(plan)
  fi
  ;;
pack)
  if [ -e "$out/table1_runs.tgz" ] || compgen -G "$out/presets.tar.*" > /dev/null; then
    echo "OUT '$out' already holds table1_runs.tgz or presets.tar.* pieces; pack into another folder" >&2
    exit 2
  fi
  mkdir -p "$out" "$runs/export/progress" "$runs/export/logs" "$runs/eval"
  while read -r name _; do
    if [ ! -d "$runs/$name" ]; then continue; fi
    # finished runs only; a later pack (into another OUT) adds the runs finished since
    "$python" tools/export_sweep.py "$runs/$name" "$runs/export/$name" ||
      echo "export of $name: nothing finished yet, or refused (above)"
    cp "$runs/$name.log" "$runs/export/logs/" 2>/dev/null || true
    for run in "$runs/$name"/*/; do
      run=$(basename "$run")
      if [ -f "$runs/$name/$run/curve.csv" ]; then cp "$runs/$name/$run/curve.csv" "$runs/export/progress/${name}__$run.csv"; fi
      if [ -f "$runs/$name/$run.log" ]; then cp "$runs/$name/$run.log" "$runs/export/logs/"; fi
    done
  done < <(plan)
  cp "$runs/device.txt" "$runs/export/" 2>/dev/null || true
  tar czf "$out/table1_runs.tgz" -C "$runs/export" .
  revision=$(cat "$runs/code_revision" 2>/dev/null || true)
  presets=()
  while read -r name seeds spec preset; do
    if [ "$preset" = - ] || [ ! -d "$runs/$name" ]; then continue; fi
    # The lowest seed that finished, once every lower seed has diverged (sweeps.first_trained_run).
    run=$("$python" -c "import sys; from keras_lmrnn import sweeps
print(sweeps.first_trained_run(sys.argv[1], sys.argv[2]) or '')" "$runs/$name" "$spec") ||
      { echo "$preset: choosing its seed failed (above)"; continue; }
    if [ -z "$run" ]; then echo "$preset: no seed to take yet"; continue; fi
    if grep -qx "${preset}_$protocol $name/$run" "$runs/presets_made" 2>/dev/null; then
      presets+=("${preset}_$protocol")  # made by an earlier pack of these runs
      continue
    fi
    echo "$preset: from $run"
    if "${cli[@]}" evaluate "$runs/$name/$run" --battery modcog84 --trials-per-task 64 \
         --csv "$runs/eval/$run.csv" --overwrite > "$runs/eval/$run.log" 2>&1 &&
       "$python" tools/make_preset.py "$runs/$name/$run" "${preset}_$protocol" --eval-csv "$runs/eval/$run.csv" \
         --unregistered ${revision:+--code-revision "$revision"}; then
      presets+=("${preset}_$protocol")
      echo "${preset}_$protocol $name/$run" >> "$runs/presets_made"
    else
      echo "$preset: FAILED (evaluation log: $runs/eval/$run.log)"; tail -n 5 "$runs/eval/$run.log"
    fi
  done < <(plan)
  if [ ${#presets[@]} -gt 0 ]; then  # the presets' evaluations, beside the runs
    cp -r "$runs/eval" "$runs/export/" && tar czf "$out/table1_runs.tgz" -C "$runs/export" .
  fi
  if [ ${#presets[@]} -gt 0 ]; then
    tar cf - -C zoo/presets "${presets[@]}" | split -b 15m - "$out/presets.tar."
  fi
  ls -l "$out"
  ;;
*)
  echo "$usage" >&2
  exit 2
  ;;
esac
