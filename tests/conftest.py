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
