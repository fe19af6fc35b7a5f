"""Shared fixtures. The suite runs once per backend: set KERAS_BACKEND."""

import os
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BACKENDS = ("tensorflow", "torch", "jax")


@pytest.fixture(scope="session")
def backend():
    import keras

    return keras.backend.backend()


def run_python(code, backend, cwd=None, timeout=600):
    """Runs `code` in a fresh interpreter under `backend`; returns stdout."""
    import subprocess

    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=cwd or REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


# Test modules that touch no Keras backend (task environments, specs, masks, the docs' text and
# tables). tests/run_all_backends.sh runs the suite once per backend and sets
# KERAS_LMRNN_BACKEND_FREE_UNDER to one backend, under which alone these modules then run: the same
# tests three times prove nothing more. Unset (any other pytest call), every test runs.
BACKEND_FREE = {"test_tasks.py", "test_trial_env.py", "test_docs.py", "test_results_tables.py", "test_specs.py",
                "test_masks.py"}


def pytest_collection_modifyitems(config, items):
    once_under = os.environ.get("KERAS_LMRNN_BACKEND_FREE_UNDER")
    if not once_under or os.environ.get("KERAS_BACKEND") == once_under:
        return
    skip = pytest.mark.skip(reason=f"touches no backend: run once, under {once_under}")
    for item in items:
        if item.path.name in BACKEND_FREE:
            item.add_marker(skip)
