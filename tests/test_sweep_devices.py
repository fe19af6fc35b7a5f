"""A device per sweep worker (issue #29 item 3), checked on a CPU through the
environment each worker gets: on a machine with several GPUs the local engine
spreads its workers over them (`CUDA_VISIBLE_DEVICES`), and Ray tasks ask for a
share of a GPU, Ray telling each task which one."""

import json

import pytest

from conftest import once_under
from keras_lmrnn import runner, sweeps

MODELS = ["lmrnn:n=16,d=1", "dense:n=16"]
OPTIONS = dict(battery="yang20", steps=2, eval_every=2, batch_size=4, seq_len=30, trials_per_task=1)


class FakeWorker:
    """A worker process that ends (as diverged: nothing to read) at its second poll."""

    def __init__(self):
        self.polls = 0

    def poll(self):
        self.polls += 1
        return sweeps.DIVERGED if self.polls > 1 else None


class Progress:
    def line(self, text):
        pass

    def tick(self):
        pass


def test_the_pool_hands_out_the_least_used_gpu():
    pool = sweeps._DevicePool(["0", "1"])
    assert [pool.take(), pool.take(), pool.take()] == ["0", "1", "0"]
    pool.give("1")
    pool.give("0")
    assert pool.take() == "1"  # "0" still has a worker, "1" none
    assert sweeps._DevicePool([]).take() is None  # no GPUs: the environment is left alone


def test_local_workers_running_together_get_distinct_gpus(tmp_path, monkeypatch):
    monkeypatch.setattr(sweeps, "visible_gpus", lambda: ["0", "1", "2"])
    started = []  # (name, CUDA_VISIBLE_DEVICES)
    monkeypatch.setattr(sweeps, "_start_worker",
                        lambda folder, name, env: started.append((name, env.get("CUDA_VISIBLE_DEVICES"))) or FakeWorker())
    todo = [(f"run{i}", "dense:n=16", i) for i in range(6)]
    sweeps._local_engine(tmp_path, todo, "jax", jobs=3, retries=0, progress=Progress())
    # Three start together on three GPUs; when they end, the next three take the GPUs they freed.
    assert [gpu for _, gpu in started] == ["0", "1", "2", "0", "1", "2"]


def test_without_gpus_workers_keep_the_environment(tmp_path, monkeypatch):
    monkeypatch.setattr(sweeps, "visible_gpus", lambda: [])
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    seen = []
    monkeypatch.setattr(sweeps, "_start_worker", lambda folder, name, env: seen.append(env) or FakeWorker())
    sweeps._local_engine(tmp_path, [("run0", "dense:n=16", 0)], "jax", jobs=2, retries=0, progress=Progress())
    assert "CUDA_VISIBLE_DEVICES" not in seen[0]


def test_visible_gpus_follows_cuda_visible_devices(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    assert sweeps.visible_gpus() == ["3", "5"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert sweeps.visible_gpus() == []


def recorded_devices(folder):
    return sorted(json.loads(p.read_text()).get("cuda_visible_devices") for p in folder.glob("*/config.json"))


@once_under("tensorflow", "the pool of GPUs and the record are the engine's, whatever the backend")
def test_a_sweep_records_each_workers_gpu(tmp_path, monkeypatch):
    """End to end with the local engine: each run's config.json names the GPU its worker was given."""
    monkeypatch.setattr(sweeps, "visible_gpus", lambda: ["0", "1"])
    states = sweeps.run_sweep(tmp_path / "sweep", MODELS, [0], runner.RunOptions(**OPTIONS), jobs=2, quiet=True)
    assert set(states.values()) == {"complete"}
    assert recorded_devices(tmp_path / "sweep") == ["0", "1"]


def test_ray_tasks_ask_for_a_share_of_a_gpu(tmp_path, monkeypatch, backend):
    if backend != "jax":
        pytest.skip("the Ray engine is checked once, under JAX (as the other Ray tests)")
    pytest.importorskip("ray")
    # Ray counts GPUs as a resource: a local Ray told of two (none exist here)
    # gives each task one of them through CUDA_VISIBLE_DEVICES.
    monkeypatch.setattr(sweeps, "visible_gpus", lambda: ["0", "1"])
    states = sweeps.run_sweep(tmp_path / "sweep", MODELS, [0], runner.RunOptions(**OPTIONS), jobs=2,
                              use_ray=True, quiet=True)
    assert set(states.values()) == {"complete"}
    assert recorded_devices(tmp_path / "sweep") == ["0", "1"]
