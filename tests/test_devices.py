"""The device a run records and the benchmarks print."""

import keras

from keras_lmrnn import devices


def test_describe_names_the_device_a_new_tensor_lands_on():
    name = devices.describe()
    kind, index = name.split(":")
    assert kind in ("cpu", "gpu") and index.isdigit()
    where = str(keras.ops.convert_to_tensor(0.0).device).lower()  # e.g. CpuDevice(id=0), cuda:0
    assert ("cpu" in where) == (kind == "cpu"), (name, where)


def test_numerics_env_lists_only_the_variables_that_are_set(monkeypatch):
    for name in devices.NUMERICS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert devices.numerics_env() == {}
    monkeypatch.setenv("JAX_DEFAULT_MATMUL_PRECISION", "highest")
    assert devices.numerics_env() == {"JAX_DEFAULT_MATMUL_PRECISION": "highest"}
