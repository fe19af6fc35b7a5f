"""Presets by handle and `save_to_preset` (issue #29 item 1).

The hubs cannot be reached from the test machines: the remote handles are
tested against local fakes of the download caches that `huggingface_hub` and
`kagglehub` read before any network call (their real code, offline), and the
uploads against a fake `HfApi` and `kagglehub.model_upload` that record what
they are asked to do."""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_lmrnn
from keras_lmrnn import folders, models, zoo

from conftest import BACKENDS, REPO, once_under, run_python, suite_per_backend

SOURCE = "yang20_dense_256_neurogym-indegree"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def fake_hf_cache(root, repo="someone/lmrnn", revision="v1"):
    """A Hugging Face cache holding `repo` at `revision` (the files of SOURCE)."""
    folder = root / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / revision).write_text(COMMIT)
    return shutil.copytree(zoo.preset_path(SOURCE), folder / "snapshots" / COMMIT)


def fake_kaggle_cache(root, handle="someone/lmrnn/keras/d6", version=2):
    """A kagglehub cache holding version `version` of `handle` (the files of SOURCE)."""
    base = root / "models" / handle
    copy = shutil.copytree(zoo.preset_path(SOURCE), base / str(version))
    (base / f"{version}.complete").write_text("")
    return copy


@pytest.fixture
def hf_offline(tmp_path, monkeypatch):
    pytest.importorskip("huggingface_hub")
    constants = pytest.importorskip("huggingface_hub.constants")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return tmp_path / "hf"


def same_model(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights()))


def test_a_hugging_face_handle_loads_from_the_cache(hf_offline):
    snapshot = fake_hf_cache(hf_offline)
    model = keras_lmrnn.from_preset("hf://someone/lmrnn@v1")
    assert same_model(model, zoo.load(SOURCE))
    assert zoo.fetch("hf://someone/lmrnn@v1") == snapshot


def test_a_kaggle_handle_loads_from_the_cache(tmp_path, monkeypatch):
    pytest.importorskip("kagglehub")
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kaggle"))
    fake_kaggle_cache(tmp_path / "kaggle")
    model = keras_lmrnn.from_preset("kaggle://someone/lmrnn/keras/d6/2")
    assert same_model(model, zoo.load(SOURCE))


def test_a_downloaded_preset_is_checked_before_it_loads(hf_offline):
    snapshot = fake_hf_cache(hf_offline)
    (snapshot / "config.json").write_text((snapshot / "config.json").read_text().replace("256", "255", 1))
    with pytest.raises(zoo.PresetError, match="config.json has SHA-256"):
        keras_lmrnn.from_preset("hf://someone/lmrnn@v1")


def test_a_handle_the_hub_does_not_have_is_one_clear_error(hf_offline):
    fake_hf_cache(hf_offline)
    with pytest.raises(zoo.PresetError, match="Cannot download preset hf://someone/other"):
        keras_lmrnn.from_preset("hf://someone/other")


@pytest.mark.parametrize("handle", ["hf://lmrnn", "hf://a/b/c", "kaggle://a/b/c", "kaggle://a/b/c/d/v2", "s3://a/b"])
def test_malformed_handles_are_refused_naming_the_form(handle):
    with pytest.raises(zoo.PresetError, match="Invalid preset handle"):
        keras_lmrnn.from_preset(handle)


def test_a_missing_download_package_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(zoo.PresetError, match=r'pip install "keras-lmrnn\[hub\]"'):
        keras_lmrnn.from_preset("hf://someone/lmrnn")


@once_under("jax", "resolving a handle is files; a preset loads and evaluates under every backend in test_zoo")
def test_the_cli_evaluates_a_hugging_face_handle(tmp_path, backend):
    pytest.importorskip("huggingface_hub")
    fake_hf_cache(tmp_path / "hf")
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", HF_HUB_CACHE=str(tmp_path / "hf"),
               HF_HUB_OFFLINE="1")
    done = subprocess.run(
        [sys.executable, "-m", "keras_lmrnn.cli", "evaluate", "hf://someone/lmrnn@v1", "--trials-per-task", "1",
         "--csv", str(tmp_path / "table.csv")],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "table.csv").read_text().count("\n") == 21  # header + the 20 Yang tasks
    done = subprocess.run([sys.executable, "-m", "keras_lmrnn.cli", "evaluate", "hf://someone/nothing"],
                          env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 2 and "Cannot download preset hf://someone/nothing" in done.stderr


class FakeHfApi:
    calls = []

    def create_repo(self, **kwargs):
        self.calls.append(("create_repo", kwargs))

    def upload_folder(self, **kwargs):
        self.calls.append(("upload_folder", kwargs))


def test_upload_to_hugging_face_creates_the_repo_and_uploads_the_verified_folder(monkeypatch):
    hub = pytest.importorskip("huggingface_hub")
    FakeHfApi.calls = []
    monkeypatch.setattr(hub, "HfApi", FakeHfApi)
    assert keras_lmrnn.upload_preset(SOURCE, "hf://someone/yang20-dense") == "hf://someone/yang20-dense"
    (_, create), (_, upload) = FakeHfApi.calls
    assert create == {"repo_id": "someone/yang20-dense", "repo_type": "model", "exist_ok": True}
    assert upload["folder_path"] == str(zoo.preset_path(SOURCE)) and upload["repo_id"] == "someone/yang20-dense"


def test_upload_to_kaggle_makes_a_new_version(monkeypatch):
    kagglehub = pytest.importorskip("kagglehub")
    calls = []
    monkeypatch.setattr(kagglehub, "model_upload", lambda *args, **kwargs: calls.append((args, kwargs)))
    assert keras_lmrnn.upload_preset(SOURCE, "kaggle://someone/lmrnn/keras/dense") == "kaggle://someone/lmrnn/keras/dense"
    assert calls[0][0] == ("someone/lmrnn/keras/dense", str(zoo.preset_path(SOURCE)))


def test_an_edited_preset_is_never_uploaded(tmp_path, monkeypatch):
    hub = pytest.importorskip("huggingface_hub")
    FakeHfApi.calls = []
    monkeypatch.setattr(hub, "HfApi", FakeHfApi)
    copy = shutil.copytree(zoo.preset_path(SOURCE), tmp_path / "copy")
    (copy / "README.md").write_text("edited")
    with pytest.raises(zoo.PresetError, match="README.md has SHA-256"):
        keras_lmrnn.upload_preset(copy, "hf://someone/yang20-dense")
    with pytest.raises(zoo.PresetError, match="without @revision"):
        keras_lmrnn.upload_preset(SOURCE, "hf://someone/yang20-dense@v2")
    assert FakeHfApi.calls == []


def small_model():
    return models.build_model("lmrnn:n=16,d=1", input_size=53)


def test_save_to_preset_writes_a_preset_that_loads_under_every_backend(tmp_path, backend):
    model = small_model()
    folder = keras_lmrnn.save_to_preset(model, tmp_path / "mine", metadata={"battery": "yang20", "model": "lmrnn:n=16,d=1"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # no temporary folder left
    assert folder.stat().st_mode & 0o777 == folders.FOLDER_MODE  # as mkdir makes it, not private to its writer
    assert same_model(keras_lmrnn.from_preset(folder), model)
    meta = zoo.metadata(folder)
    assert meta["weights_sha256"] == zoo.sha256(folder / "model.weights.h5") and meta["battery"] == "yang20"
    others = [b for b in BACKENDS if b != backend]
    if suite_per_backend():  # each backend loads the next one's preset: the three runs close the circle
        others = [BACKENDS[(BACKENDS.index(backend) + 1) % len(BACKENDS)]]
    for other in others:
        out = run_python(
            "import numpy as np, keras_lmrnn\n"
            f"model = keras_lmrnn.from_preset({str(folder)!r})\n"
            f"example = np.load({str(folder / 'example.npz')!r})\n"
            "print(float(np.abs(np.asarray(model.predict(example['x'], verbose=0)) - example['y']).max()))\n",
            other,
        )
        assert float(out.strip().splitlines()[-1]) < 1e-4, (other, out)


def test_save_to_preset_never_replaces_a_folder_of_yours(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    with pytest.raises(zoo.PresetError, match="not a preset folder"):
        keras_lmrnn.save_to_preset(small_model(), mine, metadata={"battery": "yang20"}, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]
    assert (mine / "thesis.tex").read_text() == "years of work"


def test_save_to_preset_replaces_a_preset_only_when_asked_and_a_failure_keeps_the_old_one(tmp_path):
    folder = keras_lmrnn.save_to_preset(small_model(), tmp_path / "p", metadata={"battery": "yang20", "v": 1})
    with pytest.raises(zoo.PresetError, match="overwrite=True"):
        keras_lmrnn.save_to_preset(small_model(), folder, metadata={"battery": "yang20", "v": 2})

    def broken(staging, model):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        keras_lmrnn.save_to_preset(small_model(), folder, metadata={"battery": "yang20", "v": 3}, overwrite=True,
                                   add_files=broken)
    assert zoo.metadata(folder)["v"] == 1 and zoo.verify(folder) == folder
    keras_lmrnn.save_to_preset(small_model(), folder, metadata={"battery": "yang20", "v": 4}, overwrite=True)
    assert zoo.metadata(folder)["v"] == 4 and zoo.verify(folder) == folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]


def test_save_to_preset_needs_an_example_or_a_battery(tmp_path):
    with pytest.raises(ValueError, match="argument `example_input`"):
        keras_lmrnn.save_to_preset(small_model(), tmp_path / "p")
    with pytest.raises(ValueError, match="argument `example_input`"):
        keras_lmrnn.save_to_preset(small_model(), tmp_path / "p", example_input=np.zeros((4, 53)))
    assert not (tmp_path / "p").exists()
