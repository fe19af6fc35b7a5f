#!/usr/bin/env bash
# Issue #25, items 1 and 2 on one GPU: the Table 1 runs that a 2-core CPU cannot
# finish in a session (about 2-4 hours each there), as four sweeps that share the
# GPU, all at once, under the default protocol (neurogym-indegree), Mod-Cog 84,
# 10,000 steps, 64 evaluation trials per task, full float32 precision
# (JAX_DEFAULT_MATMUL_PRECISION=highest: no TF32, so the runs compare with the
# CPU's).
#
#   bash docs/paper_scale/run_table1_gpu.sh start RUNS          # launch the sweeps (detached), return
#   bash docs/paper_scale/run_table1_gpu.sh wait RUNS SECONDS   # progress every minute until all end or SECONDS pass
#   bash docs/paper_scale/run_table1_gpu.sh pack RUNS OUT       # presets of finished runs, then everything small into OUT
#
# The sweeps (PLAN, one line each: name, run seeds, model spec, preset model or -):
#   dense(2500) seeds 0-4: 0 and 1 diverged on the CPU (steps 185 and 8), 2-4 are
#     Table 1's three seeds; lmrnn d=10 seeds 1-2 (seed 0 trained on the CPU);
#     random sparse d=10 seed 0; L1 lambda 1e-5 seeds 0-2 (the preset takes the
#     lowest seed that trains: a diverged run is reported, never scored).
# `start` is idempotent: a sweep whose process is alive is left alone, any other is
# (re)started with its same command, which skips finished runs and continues an
# unfinished one from its last 1,000-step checkpoint. So a run may span several
# device calls as long as the machine stays warm (the sweeps run detached, under
# setsid). `pack` exports each sweep's finished runs (tools/export_sweep.py: no
# checkpoints) and, for each preset model, evaluates the lowest finished, undiverged
# seed and writes zoo/presets/MODEL_neurogym-indegree; then OUT gets
# table1_runs.tgz (the exports, the sweeps' logs, device.txt) and the presets as
# presets.tar.aa, .ab, ... (15 MiB pieces: a dense(2500) preset is about 25 MB).
# Back here: tar xzf table1_runs.tgz -C docs/paper_scale/table1_gpu;
# cat presets.tar.* | tar x -C zoo/presets.
#
# Environment: PLAN, STEPS (10000), EVAL_EVERY (1000), TRIALS (64), AT (the
# reports' steps, 1000,2000,5000,10000), PYTHON
# (python3), CODE_REVISION (recorded in the presets; the device's copy of the
# working tree has no .git). Tiny check on a CPU:
#   PLAN="tiny 0-1 lmrnn:n=100,d=2 modcog84_lmrnn_50x50_d6" STEPS=4 EVAL_EVERY=2 TRIALS=1 AT=2,4 ...
# (the preset name is only a registered name for the check; pack writes it to
# zoo/presets, so the check runs in a scratch copy of the repository).
set -euo pipefail
usage="usage: bash docs/paper_scale/run_table1_gpu.sh start RUNS | wait RUNS SECONDS | pack RUNS OUT"
part=${1:?$usage}
runs=$(realpath -m "${2:?$usage}")
cd "$(dirname "$0")/../.."
python=${PYTHON:-python3}
steps=${STEPS:-10000}
eval_every=${EVAL_EVERY:-1000}
trials=${TRIALS:-64}
at=${AT:-1000,2000,5000,10000}
protocol=neurogym-indegree
PLAN=${PLAN:-"dense2500 0-4 dense:n=2500 modcog84_dense_2500
lmrnn_d10 1-2 lmrnn:n=2500,d=10 -
random_d10 0 random:n=2500,d=10 modcog84_random_50x50_d10
l1_2500 0-2 l1:n=2500,l1=1e-5 modcog84_l1_2500"}
export KERAS_BACKEND=${KERAS_BACKEND:-jax}
export JAX_DEFAULT_MATMUL_PRECISION=${JAX_DEFAULT_MATMUL_PRECISION-highest}
export NVIDIA_TF32_OVERRIDE=${NVIDIA_TF32_OVERRIDE-0}
export PYTHONUNBUFFERED=1
export XLA_PYTHON_CLIENT_PREALLOCATE=false TF_FORCE_GPU_ALLOW_GROWTH=true  # many processes share the GPU
mkdir -p "$runs"

alive() {  # alive NAME: the sweep's process is running
  [ -f "$runs/$1.pid" ] && kill -0 "$(cat "$runs/$1.pid")" 2>/dev/null
}

case $part in
start)
  { echo "== start $(date -u +%FT%TZ)"; nvidia-smi -L 2>/dev/null || echo "no nvidia-smi"; $python --version
    $python -c "import importlib.metadata as m, keras; from keras_lmrnn import devices
b = keras.backend.backend(); print(b, m.version(b), 'keras', keras.__version__, devices.describe())"
    env | grep -E "^(JAX_DEFAULT_MATMUL_PRECISION|NVIDIA_TF32_OVERRIDE|XLA_FLAGS|KERAS_BACKEND)=" | sort
    echo "code revision: ${CODE_REVISION:-unknown}"; } >> "$runs/device.txt" 2>&1
  while read -r name seeds spec preset; do
    if alive "$name"; then echo "running  $name"; continue; fi
    # --jobs: every seed at once; the sweep's workers leave each other GPU memory
    setsid nohup keras-lmrnn sweep --models "$spec" --seeds "$seeds" --jobs 8 --protocol "$protocol" \
      --battery modcog84 --steps "$steps" --eval-every "$eval_every" --trials-per-task "$trials" \
      --at "$at" --out "$runs/$name" >> "$runs/$name.log" 2>&1 < /dev/null &
    echo $! > "$runs/$name.pid"
    echo "started  $name ($spec, seeds $seeds)"
  done <<< "$PLAN"
  ;;
wait)
  limit=${3:?$usage}
  end=$((SECONDS + limit))
  shown=-60
  while :; do
    running=0
    while read -r name _; do if alive "$name"; then running=$((running + 1)); fi; done <<< "$PLAN"
    if [ "$running" = 0 ] || [ $SECONDS -ge $end ] || [ $((SECONDS - shown)) -ge 60 ]; then
      shown=$SECONDS
      echo "== $(date -u +%H:%M:%S) sweeps running: $running"
      for curve in "$runs"/*/*/curve.csv; do
        if [ -f "$curve" ]; then echo "$(basename "$(dirname "$curve")") step $(tail -n 1 "$curve" | cut -d, -f1)"; fi
      done
    fi
    if [ "$running" = 0 ] || [ $SECONDS -ge $end ]; then break; fi
    sleep 10
  done
  ;;
pack)
  out=$(realpath -m "${3:?$usage}")
  mkdir -p "$out" "$runs/export"
  presets=()
  while read -r name seeds spec preset; do
    [ -d "$runs/$name" ] || continue
    $python tools/export_sweep.py "$runs/$name" "$runs/export/$name" || true  # nothing finished yet: nothing to export
    cp "$runs/$name.log" "$runs/export/$name.log" 2>/dev/null || true
    [ "$preset" = - ] && continue
    # The lowest seed whose run finished without diverging (the sweep's own record says which).
    run=$($python - "$runs/$name" <<'EOF'
import pathlib, sys
from keras_lmrnn.folders import RunFolder
runs = [RunFolder(p) for p in pathlib.Path(sys.argv[1]).iterdir() if (p / "config.json").is_file()]
done = [r for r in runs if r.status() == "complete"]
print(min(done, key=lambda r: r.read_config()["seed"]).path if done else "")
EOF
)
    if [ -z "$run" ]; then echo "no finished run for $preset yet"; continue; fi
    keras-lmrnn evaluate "$run" --battery modcog84 --trials-per-task "$trials" --csv "$run/eval.csv"
    cp "$run/eval.csv" "$runs/export/$name/$(basename "$run")/eval.csv"
    $python tools/make_preset.py "$run" "${preset}_$protocol" --eval-csv "$run/eval.csv" \
      ${CODE_REVISION:+--code-revision "$CODE_REVISION"}
    presets+=("${preset}_$protocol")
  done <<< "$PLAN"
  cp "$runs/device.txt" "$runs/export/"
  tar czf "$out/table1_runs.tgz" -C "$runs/export" .
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
