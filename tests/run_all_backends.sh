#!/usr/bin/env bash
# Installs keras-lmrnn with its test extras into ./.venv and runs the whole
# suite once per Keras backend. Exits non-zero if any run fails or collects
# no test (pytest's exit status 5); each run lists its 15 slowest tests.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"
for backend in tensorflow torch jax; do
  echo "=== KERAS_BACKEND=$backend ==="
  KERAS_BACKEND=$backend .venv/bin/python -m pytest -q --durations=15 "$@"
done
