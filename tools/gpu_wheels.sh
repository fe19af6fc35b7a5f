#!/usr/bin/env bash
# Downloads into .whl/ the wheels of the packages that the project's device
# machine (an NVIDIA GPU whose python3, Python 3.12, holds JAX, PyTorch, h5py,
# rich, scikit-learn and matplotlib but not Keras or gymnasium) lacks, at
# the versions this repository is tested with. Run here, where PyPI answers;
# the device call then carries .whl (it is git-ignored) and starts with
#   python3 -m pip install -q --no-index --no-deps --no-compile .whl/*.whl
#   python3 -m pip install -q --no-index --no-deps --no-build-isolation -e .
#
#   bash tools/gpu_wheels.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
packages=(
  keras==3.15.1 namex==0.1.0 optree==0.20.0
  gymnasium==0.29.1 farama-notifications==0.0.6
)
# (neurogym, an optional extra, is not needed: the tasks are gymnasium environments.)
platforms=()
for tag in manylinux_2_28 manylinux_2_27 manylinux_2_17 manylinux2014 manylinux1; do platforms+=(--platform "${tag}_x86_64"); done
if compgen -G ".whl/*.whl" > /dev/null; then
  echo ".whl/ already holds wheels; remove them first (two versions of one package stop the device's install)" >&2
  exit 2
fi
mkdir -p .whl
"$python" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  "${platforms[@]}" -d .whl "${packages[@]}"
ls .whl
