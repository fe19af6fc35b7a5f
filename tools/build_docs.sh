#!/usr/bin/env bash
# Builds the documentation site with `mkdocs build --strict` (a broken link, a
# missing page or an unresolved API reference fails it) into build/site.
#
#   bash tools/build_docs.sh            # build (reuses build/docs-venv)
#   bash tools/build_docs.sh --fresh    # a new venv first, as CI does
#   bash tools/build_docs.sh serve      # build, then `mkdocs serve` on localhost:8000
#
# The venv holds only the `docs` extra of pyproject.toml (its pins, read from
# there: one list); the API reference reads the package as installed, without
# its dependencies, from build/docs-package (keras_lmrnn.tasks and .zoo live in
# the top-level tasks/ and zoo/ folders, so the source tree alone is not it).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=build/docs-venv
fresh=0
serve=0
for arg in "$@"; do
  case "$arg" in
    --fresh) fresh=1 ;;
    serve) serve=1 ;;
    *) echo "build_docs.sh: unknown argument '$arg' (allowed: --fresh, serve)" >&2; exit 2 ;;
  esac
done
[ "$fresh" = 1 ] && rm -rf "$venv"
if [ ! -x "$venv/bin/mkdocs" ]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -qq --upgrade pip
  "$venv/bin/python" -c "import tomllib" 2>/dev/null || "$venv/bin/python" -m pip install -qq tomli
  mapfile -t requirements < <("$venv/bin/python" - <<'PY'
try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib
with open("pyproject.toml", "rb") as f:
    print("\n".join(tomllib.load(f)["project"]["optional-dependencies"]["docs"]))
PY
)
  "$venv/bin/python" -m pip install -qq "${requirements[@]}"
fi
rm -rf build/docs-package
"$venv/bin/python" -m pip install -qq --no-deps --target build/docs-package .
"$venv/bin/mkdocs" build --strict
if [ "$serve" = 1 ]; then
  exec "$venv/bin/mkdocs" serve
fi
