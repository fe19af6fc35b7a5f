"""`keras-lmrnn analyze` end to end (keras_lmrnn.analyze), and its bad arguments."""

import json
import subprocess
import sys

import numpy as np
import pytest

from keras_lmrnn import cli, folders, zoo

TINY_RUN = ["--battery", "yang20", "--steps", "40", "--batch-size", "16", "--seq-len", "60", "--eval-every", "20",
            "--trials-per-task", "2", "--quiet"]


def run_cli(capsys, *args):
    capsys.readouterr()
    status = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def kept_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("kept") / "run"
    assert cli.main(["train", "--model", "lmrnn:n=36,d=1", *TINY_RUN, "--keep-checkpoints", "20", "--out", str(out)]) == 0
    return out


def test_analyze_a_preset(capsys, tmp_path):
    out = tmp_path / "a"
    status, text, err = run_cli(capsys, "analyze", "yang20_lmrnn_16x16_d2_lmrnn-v1", "--out", out, "--trials-per-task", "16")
    assert status == 0, err
    record = json.loads((out / "clusters.json").read_text())
    assert record["settings"]["battery"] == "yang20"  # from the preset's metadata
    for method in ("agglomerative", "kmeans"):
        found = record["methods"][method]
        assert 2 <= found["k"] <= 40 and len(found["clusters"]) == found["k"]
        assert sum(c["size"] for c in found["clusters"]) == record["active_units"]
        assert f"{method}: k = {found['k']}" in text
        stability = found["stability"]
        assert len(stability["split_half_ari"]) == 10 and stability["verdict"] in text
        assert stability["verdict"].startswith("k = " if stability["clear"] else "no clear k (")
    assert -1 <= record["method_agreement_ari"] <= 1 and "agreement of the two methods" in text
    arrays = np.load(out / "analysis.npz")
    assert arrays["tv"].shape == (256, 20) and np.isfinite(arrays["ntv"]).all()
    assert arrays["lesion_change"].shape == (record["methods"]["agglomerative"]["k"], 20)
    for name in ("feature_map_agglomerative.png", "feature_map_kmeans.png", "silhouette.png", "lesions.png", "ftv.png"):
        assert (out / name).stat().st_size > 1000, name
    assert folders.kind_of(out) == "analysis" and folders.foreign_entries(out) == []


def test_analyze_a_run_over_training(capsys, tmp_path, kept_run):
    out = tmp_path / "a"
    status, text, err = run_cli(capsys, "analyze", kept_run, "--out", out, "--trials-per-task", "8", "--over-training",
                                "--method", "agglomerative", "--no-lesions")
    assert status == 0, err
    record = json.loads((out / "clusters.json").read_text())
    steps = [point["step"] for point in record["over_training"]]
    assert steps and set(steps) <= {0, 20, 40} and 40 in steps
    for point in record["over_training"]:  # every k over training comes with its stability (issue #27)
        assert isinstance(point["clear"], bool) and -1 <= point["split_half_ari_mean"] <= 1
        assert point["verdict"].startswith(f"k = {point['k']} " if point["clear"] else "no clear k")
    assert (out / "clusters_over_training.png").stat().st_size > 1000
    assert not (out / "lesions.png").exists()
    source = record["source"]  # which weights were analysed
    assert source["step"] == 40 and source["file"].endswith("checkpoint.keras")
    assert source["sha256"] == zoo.sha256(kept_run / "checkpoint.keras")


def test_analyze_records_a_presets_weights(tmp_path):
    assert cli.main(["analyze", "yang20_lmrnn_16x16_d2_lmrnn-v1", "--out", str(tmp_path / "a"),
                     "--trials-per-task", "4", "--method", "agglomerative", "--no-lesions"]) == 0
    source = json.loads((tmp_path / "a" / "clusters.json").read_text())["source"]
    weights = zoo.preset_path("yang20_lmrnn_16x16_d2_lmrnn-v1") / "model.weights.h5"
    assert source["sha256"] == zoo.sha256(weights) and source["step"] == zoo.metadata(
        "yang20_lmrnn_16x16_d2_lmrnn-v1")["steps"]


HOLD = """
import sys, time
from keras_lmrnn import folders
with folders.lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_analyze_refuses_a_run_another_process_is_writing(capsys, tmp_path, kept_run):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(kept_run)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        status, _, err = run_cli(capsys, "analyze", kept_run, "--out", tmp_path / "a", "--trials-per-task", "4")
        assert status == 2 and len(err.strip().splitlines()) == 1 and "being written by another process" in err, err
        assert not (tmp_path / "a").exists()
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize(
    "extra, words",
    [
        (["no/such/model", "--out", "{tmp}/a"], "no model at"),
        (["yang20_lmrnn_16x16_d2_lmrnn-v1", "--battery", "modcog84", "--out", "{tmp}/a"], "fits --battery yang20"),
        (["yang20_lmrnn_16x16_d2_lmrnn-v1", "--over-training", "--out", "{tmp}/a"], "--over-training"),
        (["yang20_lmrnn_16x16_d2_lmrnn-v1", "--out", "{tmp}/mine"], "not made by keras-lmrnn"),
        (["yang20_lmrnn_16x16_d2_lmrnn-v1", "--out", "{tmp}/file/a"], "is a file"),
        (["yang20_lmrnn_16x16_d2_lmrnn-v1", "--method", "spectral", "--out", "{tmp}/a"], "invalid choice"),
    ],
)
def test_bad_analyze_arguments_get_one_line(capsys, tmp_path, extra, words):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    (tmp_path / "file").write_text("x")
    status, _, err = run_cli(capsys, "analyze", *[e.format(tmp=tmp_path) for e in extra])
    assert status == 2 and len(err.strip().splitlines()) == 1 and words in err, err
    assert not (tmp_path / "a").exists()
    assert (tmp_path / "mine" / "notes.txt").read_text() == "x"


def test_stability_needs_four_trials_per_task(capsys, tmp_path):
    status, _, err = run_cli(capsys, "analyze", "yang20_lmrnn_16x16_d2_lmrnn-v1", "--out", tmp_path / "a",
                             "--trials-per-task", "3")
    assert status == 2 and "--no-stability" in err and not (tmp_path / "a").exists()
