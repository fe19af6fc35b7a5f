#!/usr/bin/env bash
# The GPU check. On a machine with a CUDA GPU whose Python already holds
# keras-lmrnn and the backends' GPU builds, runs under each backend the tests
# that depend on the device (layers, masks, models, saving, training, runs,
# sweeps, the zoo's presets, the tutorial notebooks, ...), a sweep whose two
# workers share the GPU, and the step-time benchmarks; one log per part.
#
#   bash tests/run_on_gpu.sh LOGS tests [PYTEST ARGS]  # the tests, the backends at once
#   bash tests/run_on_gpu.sh LOGS bench                # the shared-GPU sweep, the benchmarks (tables also as CSV)
#
# Environment: BACKENDS (default "jax torch"), PYTHON (python3), WORKERS
# (pytest-xdist workers per backend, 7), TEST_TIMEOUT (seconds per backend,
# 240), BENCH_TIMEOUT (seconds per benchmark, 90), SIZES (the benchmarks' N,
# "400 2500").
# The tests run at full float32 precision with XLA's deterministic kernels
# (JAX_DEFAULT_MATMUL_PRECISION=highest, NVIDIA_TF32_OVERRIDE=0,
# XLA_FLAGS=--xla_gpu_deterministic_ops=true), because they check float32
# results to 1e-5 and reruns to the bit, while JAX (and TensorFlow) compute
# float32 matrix products in TF32 on a GPU by default. A value you set is kept:
# JAX_DEFAULT_MATMUL_PRECISION=default XLA_FLAGS= tests the defaults.
# The benchmarks time both: the defaults, and protocol_step_time.py again at
# full precision.
# Left out, as they do not depend on the device: tests/test_tasks.py (the
# battery's data), tests/test_no_backend_imports.py and tests/test_docs.py;
# and, where TensorFlow is not installed, the tests that start it (-k "not
# tensorflow"; a -k among PYTEST ARGS replaces it).
#
# On the project's device machine (an H200 whose python3 holds JAX and PyTorch
# but neither Keras nor neurogym; 2026-11-30): the missing packages' wheels
# carried in .whl/, then
#   python3 -m pip install --no-index --no-deps .whl/*.whl
#   python3 -m pip install --no-index --no-deps --no-build-isolation -e .
#   bash tests/run_on_gpu.sh $OUT tests; bash tests/run_on_gpu.sh $OUT bench
# What those runs gave, the logs and the exact commands: docs/gpu/.
set -uo pipefail
usage="usage: bash tests/run_on_gpu.sh LOGS tests|bench [PYTEST ARGS]"
logs=$(realpath -m "${1:?$usage}")  # before the cd: a relative LOGS is the caller's
part=${2:?$usage}
shift 2
cd "$(dirname "$0")/.."
backends=${BACKENDS:-jax torch}
python=${PYTHON:-python3}
workers=${WORKERS:-7}
mkdir -p "$logs"
export XLA_PYTHON_CLIENT_PREALLOCATE=false  # several processes share the GPU
export TF_FORCE_GPU_ALLOW_GROWTH=true PYTHONUNBUFFERED=1

where() {  # each backend's version and the device it computes on
  for backend in $backends; do
    KERAS_BACKEND=$backend $python -c "import importlib.metadata as m, keras; from keras_lmrnn import devices
b = keras.backend.backend(); print(b, m.version(b), 'keras', keras.__version__, devices.describe())"
  done
}

case $part in
tests)
  export JAX_DEFAULT_MATMUL_PRECISION=${JAX_DEFAULT_MATMUL_PRECISION-highest}
  export NVIDIA_TF32_OVERRIDE=${NVIDIA_TF32_OVERRIDE-0}
  export XLA_FLAGS=${XLA_FLAGS---xla_gpu_deterministic_ops=true}
  { nvidia-smi -L; $python --version; where; env | grep -E "^(JAX_DEFAULT_MATMUL_PRECISION|NVIDIA_TF32_OVERRIDE|XLA_FLAGS)="; } \
    > "$logs/device.log" 2>&1
  deselect=()
  $python -c "import tensorflow" 2>/dev/null || deselect=(-k "not tensorflow")
  for backend in $backends; do
    KERAS_BACKEND=$backend timeout "${TEST_TIMEOUT:-240}" $python -m pytest -v -n "$workers" -p no:cacheprovider \
      --ignore tests/test_tasks.py --ignore tests/test_no_backend_imports.py --ignore tests/test_docs.py \
      ${deselect[@]+"${deselect[@]}"} --durations 15 "$@" > "$logs/pytest_$backend.log" 2>&1 &
  done
  status=0
  for job in $(jobs -p); do wait "$job" || status=1; done  # 124: cut by TEST_TIMEOUT
  tail -n 4 "$logs"/pytest_*.log
  exit $status
  ;;
bench)
  status=0
  first=${backends%% *}
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  # Two workers on one GPU: each must leave the other memory (sweeps.worker_env).
  { env -u XLA_PYTHON_CLIENT_PREALLOCATE -u TF_FORCE_GPU_ALLOW_GROWTH KERAS_BACKEND=$first \
      timeout "${BENCH_TIMEOUT:-90}" $python -m keras_lmrnn.cli sweep --models lmrnn:n=400,d=6 dense:n=400 --seeds 0 \
      --battery modcog84 --steps 20 --eval-every 20 --trials-per-task 2 --jobs 2 --out "$scratch/sweep" &&
    grep -h '"device"' "$scratch"/sweep/*/config.json; } > "$logs/sweep.log" 2>&1 || status=1
  timeout $((2 * ${BENCH_TIMEOUT:-90})) $python benchmarks/step_time.py --backends $backends --sizes ${SIZES:-400 2500} --steps 5 \
    --csv "$logs/step_time.csv" > "$logs/step_time.log" 2>&1 || status=1
  # The recurrences side by side (issue #24): on a GPU, whether "auto" (whose
  # rule was measured on a CPU) picks the fastest.
  timeout $((2 * ${BENCH_TIMEOUT:-90})) $python benchmarks/recurrence_speed.py --backends $backends \
    --sizes ${SIZES:-400 2500} --steps 3 --csv "$logs/recurrence_speed.csv" > "$logs/recurrence_speed.log" 2>&1 || status=1
  for precision in default highest; do
    echo "== JAX_DEFAULT_MATMUL_PRECISION=$precision"
    JAX_DEFAULT_MATMUL_PRECISION=$precision KERAS_BACKEND=$first timeout "${BENCH_TIMEOUT:-90}" \
      $python benchmarks/protocol_step_time.py --protocols lmrnn-v1 neurogym-indegree --sizes ${SIZES:-400 2500} --steps 8 \
      --csv "$logs/protocol_step_time_$precision.csv" || status=1
  done > "$logs/protocol_step_time.log" 2>&1
  tail -n 20 "$logs"/sweep.log "$logs"/step_time.log "$logs"/recurrence_speed.log "$logs"/protocol_step_time.log
  exit $status
  ;;
*)
  echo "run_on_gpu.sh: PART must be tests or bench, not '$part'" >&2
  exit 2
  ;;
esac
