#!/usr/bin/env bash
# CI: each backend extra alone gives a working install. For each of
# tensorflow, torch and jax: a fresh venv, `pip install -e ".[$extra]"`
# (torch pinned to its CPU build by .ci/cpu-constraints.txt), then, under
# KERAS_BACKEND=$extra, the README's "A tour" code block and a tiny
# `keras-lmrnn train`; `.[jax]` and `.[tensorflow]` must not install torch
# or neurogym. Extra names to check may be given as arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/keras-lmrnn-extras.XXXXXX")
pids=()
# On an early exit (Ctrl-C, a timeout) the checks still running stop too.
# (`|| true`: under set -e a failed kill of a check that already ended would be the exit status)
trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"' EXIT

# The first ```python block after the "## A tour" heading: the README is the
# source of truth. It sets KERAS_BACKEND to "jax" itself; that line gets the
# backend under test instead (and must be there).
tour() {
  python3 - "$root/README.md" "$1" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
after = text.split("\n## A tour\n", 1)[1]
code = re.search(r"^```python\n(.*?)^```", after, re.S | re.M).group(1)
line = 'os.environ["KERAS_BACKEND"] = "jax"'
if line not in code:
    sys.exit(f"check_extras.sh: README's tour no longer has the line {line!r}")
code = code.replace(line, f'os.environ["KERAS_BACKEND"] = "{sys.argv[2]}"')
print(code)
print(f"assert keras.backend.backend() == {sys.argv[2]!r}, keras.backend.backend()")
print("print('tour ok:', keras.backend.backend(), model.count_params(), 'weights')")
EOF
}

extras=("$@")
[ ${#extras[@]} -gt 0 ] || extras=(tensorflow torch jax)

check_one() {  # a fresh venv with .[$1] alone, then its checks (run in a subshell: exit ends it)
  local extra=$1 venv=$work/venv-$1 start=$SECONDS installed
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -qq --upgrade pip
  "$venv/bin/python" -m pip install -qq -c .ci/cpu-constraints.txt -e ".[$extra]"
  installed=$((SECONDS - start))
  "$venv/bin/python" -m pip list 2>/dev/null | grep -iE '^(keras|torch|jax|jaxlib|tensorflow[-_]cpu|tensorflow|neurogym|gymnasium) ' || true
  # Only the torch extra may bring PyTorch (or neurogym, which imports it).
  if [ "$extra" != torch ]; then
    for unwanted in torch neurogym; do
      if "$venv/bin/python" -m pip show -q "$unwanted" >/dev/null 2>&1; then
        echo "check_extras.sh: .[$extra] installed $unwanted" >&2; exit 1
      fi
    done
  fi
  tour "$extra" > "$work/tour-$extra.py"
  (cd "$work" && KERAS_BACKEND=$extra "$venv/bin/python" "tour-$extra.py")
  KERAS_BACKEND=$extra "$venv/bin/keras-lmrnn" train --model lmrnn:n=16,d=1 --battery yang20 \
    --steps 4 --batch-size 4 --seq-len 30 --eval-every 2 --trials-per-task 2 --quiet \
    --out "$work/run-$extra"
  test -s "$work/run-$extra/summary.json"
  echo "=== .[$extra] ok: install ${installed}s, checks $((SECONDS - start - installed))s ==="
  rm -rf "$venv"
}

# The extras go side by side (installing is mostly waiting on disk and the
# package index); each one's output is printed whole, in order, when it ends.
for extra in "${extras[@]}"; do
  ( check_one "$extra" ) > "$work/$extra.log" 2>&1 &  # set -e holds inside: the first failure ends it
  pids+=($!)
done
failed=()
for i in "${!extras[@]}"; do
  status=0
  wait "${pids[$i]}" || status=$?
  echo "=== .[${extras[$i]}] (exit status $status) ==="
  cat "$work/${extras[$i]}.log"
  [ "$status" = 0 ] || failed+=("${extras[$i]}")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "check_extras.sh: failed: ${failed[*]}" >&2
  exit 1
fi
