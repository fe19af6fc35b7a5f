#!/usr/bin/env bash
# Installs keras-lmrnn with its test extras into ./.venv and runs the whole
# suite once per Keras backend (TensorFlow, PyTorch, JAX). Exits non-zero if
# any run fails or collects no test (pytest's exit status 5); each piece
# lists its 25 slowest tests. Extra arguments go to pytest.
#
# Each backend's suite runs as two shards: the tests that start processes
# (sweeps and their workers, Ray, kills, notebooks, the CLI) and the rest: six
# pieces pack onto the cores better than three whole runs, TEST_JOBS at a
# time (default: 2 where the machine has 2 or more cores, else 1), longest
# first. The test modules that touch no backend (conftest.py's BACKEND_FREE) run
# once, under TensorFlow (the shorter pieces; under PyTorch test_trial_env skips
# its import check), and so do the tests marked conftest.once_under (a process
# engine, the kill points of one file format, notebooks whose calls the rest of
# the suite tests backend by backend), each under the backend it names.
# One piece keeps about one core busy (much of it is starting processes and
# kernels). Not 3 at a time on 2 cores: the JAX run then starves (XLA's CPU
# threads wait on busy cores): in .ci/run at 1e96c88, three whole-backend
# runs at once took 1,535 s (TensorFlow), 1,587 s (PyTorch) and 2,188 s (JAX),
# against 922 and 841 s side by side and then 1,062 s for JAX alone, two at a
# time. The six pieces, in .ci/run at f071deb: TensorFlow 612 + 328 s,
# PyTorch 898 + 249 s, JAX 1,060 + 505 s (processes + rest); the suite took
# about 1,830 s of the run's 1,950 s, against 1,990 s for whole backends two
# at a time (at e110d1a). At d9c247e (the backend-free modules once, under
# TensorFlow): TensorFlow 705 + 434 s, PyTorch 1,109 + 314 s, JAX 1,206 + 697 s;
# the suite stage 2,335 s (venv install included), the whole .ci/run about 2,550 s (02:02:46-02:45:20).
# At 78baab9 (once_under, test_folders backend-free): TensorFlow 429 + 339 s, PyTorch
# 375 + 141 s, JAX 743 + 418 s; the suite stage 1,391 s, the whole .ci/run 1,525 s. The machine
# was less loaded than at d9c247e (unchanged tests ran at 0.6-1.1 times their d9c247e time), so not
# all of the drop is the change. Each backend's output (both shards) is printed whole, in backend
# order, when all have ended; a backend fails if either shard fails or
# collects no test. Arguments given (e.g. a test file) run unsharded, one
# piece per backend. TEST_JOBS=1 runs the pieces one after another.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"

cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
jobs=${TEST_JOBS:-$(( cores >= 2 ? 2 : 1 ))}
case "$jobs" in
  ''|*[!0-9]*|0) echo "run_all_backends.sh: TEST_JOBS must be a whole number >= 1, got '$jobs'" >&2; exit 2 ;;
esac
logs=$(mktemp -d "${TMPDIR:-/tmp}/keras-lmrnn-tests.XXXXXX")
trap 'rm -rf "$logs"' EXIT
backends=(tensorflow torch jax)
# The shard of tests that start processes; everything else is the other shard
# (so a new test file lands there by itself).
process_tests=(tests/test_sweeps.py tests/test_sweep_devices.py tests/test_tutorials.py tests/test_safe_runs.py
               tests/test_cli.py tests/test_hub.py)
ignore_process_tests=("${process_tests[@]/#/--ignore=}")

piece() {  # runs pytest under backend $1 as piece $2; output and exit status go to files
  local backend=$1 name=$2 start=$SECONDS status=0
  shift 2
  KERAS_LMRNN_BACKEND_FREE_UNDER=tensorflow KERAS_BACKEND=$backend .venv/bin/python -m pytest -q --durations=25 "$@" > "$logs/$name.log" 2>&1 || status=$?
  echo "$status $((SECONDS - start))" > "$logs/$name.status"
}

# Longest first: the JAX run alone holds the Ray and process-kill tests.
pieces=()
if [ $# -eq 0 ]; then
  for backend in jax tensorflow torch; do pieces+=("$backend processes"); done
  for backend in jax tensorflow torch; do pieces+=("$backend rest"); done
else
  for backend in "${backends[@]}"; do pieces+=("$backend all"); done
fi

echo "=== the suite under ${backends[*]}: ${#pieces[@]} pieces, $jobs at a time ==="
for entry in "${pieces[@]}"; do
  read -r backend shard <<< "$entry"
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  case "$shard" in
    processes) piece "$backend" "$backend-$shard" "${process_tests[@]}" & ;;
    rest) piece "$backend" "$backend-$shard" "${ignore_process_tests[@]}" & ;;
    all) piece "$backend" "$backend-$shard" "$@" & ;;
  esac
done
wait

failed=()
for backend in "${backends[@]}"; do
  for entry in "${pieces[@]}"; do
    read -r b shard <<< "$entry"
    [ "$b" = "$backend" ] || continue
    read -r status seconds < "$logs/$backend-$shard.status"
    echo "=== KERAS_BACKEND=$backend ($shard): exit status $status, ${seconds} s ==="
    cat "$logs/$backend-$shard.log"
    [ "$status" = 0 ] || failed+=("$backend ($shard)")
  done
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "=== failed under: ${failed[*]} ===" >&2
  exit 1
fi
