#!/usr/bin/env bash
# The GPU check. On a machine with a CUDA GPU whose Python already holds
# keras-lmrnn and the backends' GPU builds, runs under each backend the tests
# that depend on the device (layers, masks, models, saving, training, runs,
# sweeps, the zoo's presets, the tutorial notebooks, ...), a sweep whose two
# workers share the GPU, and the step-time benchmarks; one log per part.
#
#   bash tests/run_on_gpu.sh LOGS tests [PYTEST ARGS]  # the tests, the backends at once
#   bash tests/run_on_gpu.sh LOGS bench                # the shared-GPU sweep, the benchmarks
#
# On the device machine of this project (an H200 whose python3 holds JAX and
# PyTorch but neither Keras nor neurogym), what ran on 2026-11-30: the wheels of
# the missing packages carried in .whl/, then
#   python3 -m pip install --no-index --no-deps .whl/*.whl
#   python3 -m pip install --no-index --no-deps --no-build-isolation -e .
#   bash tests/run_on_gpu.sh $OUT tests; bash tests/run_on_gpu.sh $OUT bench
# Results and logs: docs/gpu/.
#
# Environment: BACKENDS (default "jax torch"), PYTHON (python3), WORKERS
# (pytest-xdist workers per backend, 6), TEST_TIMEOUT (seconds per backend,
# 240), BENCH_TIMEOUT (seconds per benchmark, 90), SIZES (the benchmarks' N,
# "400 2500").
# Left out, as they do not depend on the device: tests/test_tasks.py (the
# battery's data), tests/test_no_backend_imports.py and tests/test_docs.py;
# and, where TensorFlow is not installed, the tests that start it (-k).
set -uo pipefail
cd "$(dirname "$0")/.."
logs=${1:?usage: bash tests/run_on_gpu.sh LOGS tests|bench}
part=${2:?usage: bash tests/run_on_gpu.sh LOGS tests|bench}
shift 2
backends=${BACKENDS:-jax torch}
python=${PYTHON:-python3}
workers=${WORKERS:-6}
mkdir -p "$logs"
export XLA_PYTHON_CLIENT_PREALLOCATE=false  # several processes share the GPU
export TF_FORCE_GPU_ALLOW_GROWTH=true PYTHONUNBUFFERED=1

where() {  # which device each backend computes on
  for backend in $backends; do
    KERAS_BACKEND=$backend $python -c "import keras; from keras_lmrnn import devices; print(keras.backend.backend(), keras.__version__, devices.describe())"
  done
}

case $part in
tests)
  # The suite checks float32 results to 1e-5 and reruns to the bit. On a GPU,
  # JAX (and TensorFlow) compute float32 matrix products in TF32 unless told
  # otherwise, and XLA may pick other GPU kernels in another process, so the
  # tests run at full float32 precision and with XLA's deterministic kernels
  # (set the variables yourself to test other settings; docs/gpu says what the
  # defaults change).
  export JAX_DEFAULT_MATMUL_PRECISION=${JAX_DEFAULT_MATMUL_PRECISION-highest}
  export NVIDIA_TF32_OVERRIDE=${NVIDIA_TF32_OVERRIDE-0}
  export XLA_FLAGS=${XLA_FLAGS---xla_gpu_deterministic_ops=true}
  { nvidia-smi -L; $python --version; where; } > "$logs/device.log" 2>&1
  deselect=()
  $python -c "import tensorflow" 2>/dev/null || deselect=(-k "not tensorflow")
  for backend in $backends; do
    KERAS_BACKEND=$backend timeout "${TEST_TIMEOUT:-240}" $python -m pytest -v -n "$workers" -p no:cacheprovider \
      --ignore tests/test_tasks.py --ignore tests/test_no_backend_imports.py --ignore tests/test_docs.py \
      "${deselect[@]}" --durations 15 "$@" > "$logs/pytest_$backend.log" 2>&1 &
  done
  status=0
  for job in $(jobs -p); do wait "$job" || status=1; done
  tail -n 4 "$logs"/pytest_*.log
  exit $status
  ;;
bench)
  status=0
  first=${backends%% *}
  sweep=$(mktemp -d)/sweep
  # Two workers on one GPU: each must leave the other memory (sweeps.worker_env).
  { env -u XLA_PYTHON_CLIENT_PREALLOCATE -u TF_FORCE_GPU_ALLOW_GROWTH KERAS_BACKEND=$first \
      timeout "${BENCH_TIMEOUT:-90}" $python -m keras_lmrnn.cli sweep --models lmrnn:n=400,d=6 dense:n=400 --seeds 0 \
      --battery modcog84 --steps 20 --eval-every 20 --trials-per-task 2 --jobs 2 --out "$sweep" &&
    grep -h '"device"' "$sweep"/*/config.json; } > "$logs/sweep.log" 2>&1 || status=1
  timeout $((2 * ${BENCH_TIMEOUT:-90})) $python benchmarks/step_time.py --backends $backends --sizes ${SIZES:-400 2500} --steps 5 \
    > "$logs/step_time.log" 2>&1 || status=1
  KERAS_BACKEND=$first timeout "${BENCH_TIMEOUT:-90}" $python benchmarks/protocol_step_time.py \
    --protocols lmrnn-v1 neurogym-indegree --sizes ${SIZES:-400 2500} --steps 5 > "$logs/protocol_step_time.log" 2>&1 || status=1
  tail -n 20 "$logs"/sweep.log "$logs"/step_time.log "$logs"/protocol_step_time.log
  exit $status
  ;;
*)
  echo "run_on_gpu.sh: PART must be tests or bench, not '$part'" >&2
  exit 2
  ;;
esac
