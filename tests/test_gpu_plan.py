"""docs/paper_scale/run_table1_gpu.sh, the prepared GPU plan of issue #25, on a tiny plan:
start (detached sweeps), wait, pack. Under JAX only (the plan's backend); no preset is made,
since pack writes presets into the repository's zoo/presets (make_preset is tested in test_zoo)."""

import os
import pathlib
import subprocess
import sys
import tarfile

import keras
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "docs" / "paper_scale" / "run_table1_gpu.sh"

pytestmark = pytest.mark.skipif(keras.backend.backend() != "jax", reason="the plan runs under JAX")


def plan(part, *args, **env):
    settings = {**os.environ, "PYTHON": sys.executable, "STEPS": "2", "EVAL_EVERY": "1", "TRIALS": "1",
                "AT": "1,2", "PLAN": "tiny 0-1 lmrnn:n=16,d=1 -\n\nother 3 dense:n=8 -", **env}
    return subprocess.run(["bash", str(SCRIPT), part, *map(str, args)], env=settings, capture_output=True,
                          text=True, timeout=300)


def stop(runs):
    """Ends the plan's detached sweeps (a failed assertion must not leave them running)."""
    for pid in runs.glob("*.pid"):
        subprocess.run(["kill", "-TERM", pid.read_text().strip()], capture_output=True)


def test_the_gpu_plan_starts_waits_and_packs_its_runs(tmp_path):
    runs, out = tmp_path / "runs", tmp_path / "out"
    try:
        started = plan("start", runs, CODE_REVISION="abc1234")
        assert started.returncode == 0, started.stderr
        assert started.stdout.count("started") == 2  # the blank line of PLAN is no sweep
        waited = plan("wait", runs, 240)
        assert "sweeps running: 0" in waited.stdout, waited.stdout
    finally:
        stop(runs)
    packed = plan("pack", runs, out)
    assert packed.returncode == 0, packed.stdout + packed.stderr
    assert sorted(p.name for p in out.iterdir()) == ["table1_runs.tgz"]  # no preset in this plan
    with tarfile.open(out / "table1_runs.tgz") as archive:
        names = set(archive.getnames())
    for run in ["tiny/lmrnn_n=16_d=1__seed0", "tiny/lmrnn_n=16_d=1__seed1", "other/dense_n=8__seed3"]:
        assert f"./{run}/summary.json" in names and f"./{run}/curve.csv" in names
        assert f"./{run}/checkpoint.keras" not in names
    assert "./progress/tiny__lmrnn_n=16_d=1__seed0.csv" in names and "./device.txt" in names
    assert "code revision: abc1234" in (runs / "device.txt").read_text()
    again = plan("pack", runs, out)  # never over an earlier pack's files
    assert again.returncode == 2 and "already holds table1_runs.tgz" in again.stderr
    assert plan("pack", runs, tmp_path / "out2").returncode == 0


@pytest.mark.parametrize("args, env, message", [
    (["wait", "RUNS", "SECONDS"], {}, "SECONDS must be a whole number"),
    (["wait", "no-such-folder", "5"], {}, "does not exist"),
    (["start", "RUNS"], {"PLAN": "preset"}, "PLAN must be table1, presets or lines"),
    (["start", "RUNS"], {"PLAN": "a 0 dense:n=8"}, "each line needs 4 fields"),
    (["start", "RUNS"], {"PLAN": "a 0 dense:n=8 - extra"}, "each line needs 4 fields"),
    (["start", "RUNS"], {"PLAN": "\n  \n"}, "PLAN has no lines"),
])
def test_the_gpu_plan_refuses_bad_input(tmp_path, args, env, message):
    (tmp_path / "RUNS").mkdir()
    done = plan(*[str(tmp_path / a) if a in ("RUNS", "no-such-folder") else a for a in args], **env)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert not (tmp_path / "no-such-folder").exists() and list((tmp_path / "RUNS").iterdir()) == []
