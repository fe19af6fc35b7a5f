"""The device a run records and the benchmarks print."""

import types

import keras
import pytest

from keras_lmrnn import devices


def test_describe_names_the_device_a_new_tensor_lands_on():
    name = devices.describe()
    kind, index = name.split(":")
    assert kind and index.isdigit()
    where = str(keras.ops.convert_to_tensor(0.0).device).lower()  # e.g. TFRT_CPU_0, cpu, cuda:0
    assert ("cpu" in where) == (kind == "cpu"), (name, where)


@pytest.mark.parametrize(
    "device, name",
    [
        ("cpu", "cpu:0"),  # PyTorch
        ("cuda:1", "gpu:1"),
        ("mps:0", "mps:0"),
        ("/job:localhost/replica:0/task:0/device:CPU:0", "cpu:0"),  # TensorFlow
        ("/job:localhost/replica:0/task:0/device:GPU:1", "gpu:1"),
        (types.SimpleNamespace(platform="gpu", id=2), "gpu:2"),  # JAX
        (types.SimpleNamespace(platform="tpu", id=0), "tpu:0"),
    ],
)
def test_every_backends_device_gets_keras_name(device, name):
    assert devices.keras_name(device) == name


def test_numerics_env_lists_only_the_variables_that_are_set(monkeypatch):
    for name in devices.NUMERICS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert devices.numerics_env() == {}
    monkeypatch.setenv("JAX_DEFAULT_MATMUL_PRECISION", "highest")
    assert devices.numerics_env() == {"JAX_DEFAULT_MATMUL_PRECISION": "highest"}


@pytest.mark.parametrize("cpus, usable, expected", [(2, {0, 1}, "2 CPUs"), (2, {1}, "2 CPUs, 1 usable")])
def test_machine_names_the_cores_this_process_may_use(monkeypatch, cpus, usable, expected):
    # Under JAX on a CPU the number of cores XLA may use changes the rounding, so a run records it.
    import platform

    from keras_lmrnn import runner

    monkeypatch.setattr(runner.os, "cpu_count", lambda: cpus)
    monkeypatch.setattr(runner.os, "sched_getaffinity", lambda pid: usable, raising=False)
    assert runner.machine() == f"{platform.machine()}, {expected}, {platform.system()}"
