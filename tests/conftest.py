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


# Test modules that touch no Keras backend (task environments, specs, masks, run folders, the docs' text and
# tables). tests/run_all_backends.sh runs the suite once per backend and sets
# KERAS_LMRNN_BACKEND_FREE_UNDER to one backend, under which alone these modules then run: the same
# tests three times prove nothing more. Unset (any other pytest call), every test runs.
BACKEND_FREE = {"test_tasks.py", "test_trial_env.py", "test_docs.py", "test_results_tables.py", "test_specs.py",
                "test_masks.py", "test_folders.py"}


def suite_per_backend():
    """Whether this pytest run is one of tests/run_all_backends.sh's, one per backend."""
    return bool(os.environ.get("KERAS_LMRNN_BACKEND_FREE_UNDER"))


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "once_under(backend, why): in a run of the suite per backend (KERAS_LMRNN_BACKEND_FREE_UNDER set), "
        "this test runs under `backend` alone; `why` says what makes the other backends add nothing",
    )


def once_under(backend, why):
    """Marks a test (or one parameter of it) to run under `backend` alone when the
    suite runs once per backend; any other pytest call runs it under whatever
    backend it has. For tests whose property does not depend on the backend
    (a process engine, a file format's atomic writes) or that the rest of the
    suite covers backend by backend, spread over the backends so that each
    piece of tests/run_all_backends.sh carries a share."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    return pytest.mark.once_under(backend, why)


def pytest_collection_modifyitems(config, items):
    per_backend = os.environ.get("KERAS_LMRNN_BACKEND_FREE_UNDER")
    if not per_backend:
        return
    current = os.environ.get("KERAS_BACKEND")
    for item in items:
        if item.path.name in BACKEND_FREE and current != per_backend:
            item.add_marker(pytest.mark.skip(reason=f"touches no backend: run once, under {per_backend}"))
            continue
        marker = item.get_closest_marker("once_under")
        if marker is not None and current != marker.args[0]:
            item.add_marker(pytest.mark.skip(reason=f"run once, under {marker.args[0]}: {marker.args[1]}"))
