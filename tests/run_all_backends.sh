#!/usr/bin/env bash
# Installs keras-lmrnn with its test extras into ./.venv and runs the whole
# suite once per Keras backend (TensorFlow, PyTorch, JAX). Exits non-zero if
# any run fails or collects no test (pytest's exit status 5); each run lists
# its 15 slowest tests. Extra arguments go to pytest.
#
# The three runs go side by side, TEST_JOBS at a time (default: all 3 where
# the machine has 2 or more cores, else 1): one run keeps about one core busy
# (much of it is starting worker processes and kernels), and with two at a
# time the third ran alone afterwards on one of two cores. Each run's output
# is printed whole, in backend order, when all have ended. TEST_JOBS=1 runs
# them one after another.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"

cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
jobs=${TEST_JOBS:-$(( cores >= 2 ? 3 : 1 ))}
case "$jobs" in
  ''|*[!0-9]*|0) echo "run_all_backends.sh: TEST_JOBS must be a whole number >= 1, got '$jobs'" >&2; exit 2 ;;
esac
logs=$(mktemp -d "${TMPDIR:-/tmp}/keras-lmrnn-tests.XXXXXX")
trap 'rm -rf "$logs"' EXIT
backends=(tensorflow torch jax)

one_backend() {  # runs the suite under $1; its output and exit status go to files
  local start=$SECONDS status=0
  KERAS_BACKEND=$1 .venv/bin/python -m pytest -q --durations=15 "${@:2}" > "$logs/$1.log" 2>&1 || status=$?
  echo "$status $((SECONDS - start))" > "$logs/$1.status"
}

echo "=== the suite under ${backends[*]}, $jobs at a time ==="
for backend in "${backends[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  one_backend "$backend" "$@" &
done
wait

failed=()
for backend in "${backends[@]}"; do
  read -r status seconds < "$logs/$backend.status"
  echo "=== KERAS_BACKEND=$backend: exit status $status, ${seconds} s ==="
  cat "$logs/$backend.log"
  [ "$status" = 0 ] || failed+=("$backend")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "=== failed under: ${failed[*]} ===" >&2
  exit 1
fi
