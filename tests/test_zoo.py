"""Every preset loads, verifies and reproduces its stored output, under every backend."""

import pathlib
import re
import shutil

import numpy as np
import pytest

import keras

from keras_lmrnn import zoo
from keras_lmrnn.evaluation import EvaluationData, mean_performance

ROOT = pathlib.Path(__file__).resolve().parent.parent
PRESETS = zoo.list_presets()


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads_verifies_and_reproduces_its_example(name):
    zoo.verify(name)
    model = zoo.load(name)
    example = np.load(zoo.preset_path(name) / "example.npz")
    out = keras.ops.convert_to_numpy(model(example["x"]))
    np.testing.assert_allclose(out, example["y"], atol=1e-4)
    assert zoo.metadata(name)["steps"] > 0


@pytest.mark.parametrize("name", PRESETS)
def test_card_metrics_are_reproduced_by_evaluation(name):
    meta = zoo.metadata(name)
    table = EvaluationData(meta["battery"], trials_per_task=64, seed=0).evaluate(zoo.load(name))
    # Exact under the training backend; another backend's float rounding may
    # flip the odd near-tie step.
    assert mean_performance(table) == pytest.approx(meta["metrics"]["response_accuracy"], abs=2e-3)
    assert mean_performance(table, "trial_accuracy") == pytest.approx(meta["metrics"]["trial_accuracy"], abs=5e-3)


def copy_of(name, tmp_path):
    folder = tmp_path / name
    shutil.copytree(zoo.preset_path(name), folder)
    return folder


@pytest.mark.skipif(not PRESETS, reason="no presets")
def test_corrupted_weights_fail_loudly(tmp_path):
    folder = copy_of(PRESETS[0], tmp_path)
    data = bytearray((folder / "model.weights.h5").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "model.weights.h5").write_bytes(bytes(data))
    with pytest.raises(zoo.PresetError, match="SHA-256"):
        zoo.load(folder)


@pytest.mark.skipif(not PRESETS, reason="no presets")
@pytest.mark.parametrize("missing", zoo.FILES)
def test_missing_file_fails_loudly(tmp_path, missing):
    folder = copy_of(PRESETS[0], tmp_path)
    (folder / missing).unlink()
    with pytest.raises(zoo.PresetError, match=f"{missing} is missing"):
        zoo.load(folder)


def test_unknown_name_suggests_presets():
    with pytest.raises(zoo.PresetError, match="Unknown preset") as info:
        zoo.load("modcog84_lmrnn_20x20_d3")
    assert "Did you mean" in str(info.value)


def test_registry_folders_and_readme_agree():
    folders = sorted(p.name for p in (ROOT / "zoo" / "presets").iterdir() if not p.name.startswith("."))
    assert folders == sorted(PRESETS)
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- zoo -->(.*)<!-- /zoo -->", text, re.S).group(1)
    listed = re.findall(r"^\| \[([^\]]+)\]", block, re.M)
    assert listed == PRESETS


@pytest.mark.parametrize("name", PRESETS)
def test_a_recipe_trains_the_preset_as_recorded(name):
    """The committed recipe names this preset with the model its metadata records."""
    recipes = "".join(p.read_text() for p in (ROOT / "zoo" / "recipes").glob("*.sh"))
    spec = zoo.metadata(name)["model"]
    assert f"[{name}]={spec}\n" in recipes or f"preset {name} {spec} " in recipes, (
        f"no recipe in zoo/recipes trains {name} as {spec}"
    )
    assert f"--model {spec} " in zoo.metadata(name)["training_command"]


@pytest.mark.parametrize("name", PRESETS)
def test_card_states_the_recorded_architecture(name):
    """The card's first lines give N and d (or 'no mask') exactly as metadata.json records them."""
    meta = zoo.metadata(name)
    card = (ROOT / "zoo" / "presets" / name / "README.md").read_text()
    if meta["d"] is None:
        expected = f"(N = {meta['n']}, {meta['mask']}: no mask)"
    else:
        expected = f"(N = {meta['n']}, d = {meta['d']}, mask \"{meta['mask']}\")"
    assert expected in card
    assert "None" not in card.split("## Training")[0]
