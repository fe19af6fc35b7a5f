"""Every preset loads, verifies and reproduces its stored output, under every backend."""

import functools
import importlib.util
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import keras

from keras_lmrnn import models, protocols, zoo
from keras_lmrnn.evaluation import EvaluationData, mean_performance

ROOT = pathlib.Path(__file__).resolve().parent.parent
PRESETS = zoo.list_presets()
SCRIPT = pathlib.Path(sys.executable).parent / "keras-lmrnn"


def tool(name):
    """tools/<name>.py as a module."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def make_preset():
    """tools/make_preset.py as a module."""
    return tool("make_preset")


@functools.cache
def render_zoo_clusters():
    """tools/render_zoo_clusters.py as a module."""
    return tool("render_zoo_clusters")


# Every file a committed preset has and its manifest records.
ALL_FILES = (*zoo.FILES, *zoo.OPTIONAL_FILES)


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads_verifies_and_reproduces_its_example(name):
    zoo.verify(name)
    model = zoo.load(name)
    example = np.load(zoo.preset_path(name) / "example.npz")
    out = keras.ops.convert_to_numpy(model(example["x"]))
    np.testing.assert_allclose(out, example["y"], atol=1e-4)
    assert zoo.metadata(name)["steps"] > 0


@functools.cache
def first_preset_of_each_battery():
    """One preset per battery: the card-metric check under the other backends."""
    first = {}
    for name in PRESETS:
        first.setdefault(zoo.metadata(name)["battery"], name)
    return set(first.values())


@pytest.mark.parametrize("name", PRESETS)
def test_card_metrics_are_reproduced_by_evaluation(name):
    meta = zoo.metadata(name)
    if keras.backend.backend() != meta["backend"] and name not in first_preset_of_each_battery():
        # A full evaluation costs 4-21 s of CPU per preset (torch); every preset's
        # forward pass under this backend is checked against its stored output
        # by test_preset_loads_verifies_and_reproduces_its_example.
        pytest.skip(f"card metrics checked for every preset under {meta['backend']} (the training backend), "
                    "and for one preset per battery under the others")
    table = EvaluationData(meta["battery"], trials_per_task=64, seed=0).evaluate(zoo.load(name))
    # Exact under the training backend; another backend's float rounding may
    # flip the odd near-tie step.
    assert mean_performance(table) == pytest.approx(meta["metrics"]["response_accuracy"], abs=2e-3)
    assert mean_performance(table, "trial_accuracy") == pytest.approx(meta["metrics"]["trial_accuracy"], abs=5e-3)
    if keras.backend.backend() == meta["backend"]:
        # the card's per-task table is this evaluation, row by row (it has no other file)
        # (to its 3 digits, give or take the odd near-tie step that float rounding flips)
        card = (zoo.preset_path(name) / "README.md").read_text().split("| task | response accuracy | trial accuracy |")
        rows = [row.strip("|").split("|") for row in card[1].split("\n\n")[0].splitlines()[2:]]
        assert [r[0].strip() for r in rows] == [r["task"] for r in table]
        for row, r in zip(rows, table):
            assert float(row[1]) == pytest.approx(float(r["response_accuracy"]), abs=1.5e-3), r["task"]
            assert float(row[2]) == pytest.approx(float(r["trial_accuracy"]), abs=1.5e-3), r["task"]


def copy_of(name, tmp_path):
    folder = tmp_path / name
    shutil.copytree(zoo.preset_path(name), folder)
    return folder


def flip_a_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def other_d(d):
    return 6 if d != 6 else 2


def edit_config(path):
    """The issue's case: another d in the serialized model, a different architecture."""
    config = json.loads(path.read_text())
    (rnn,) = [layer for layer in config["config"]["layers"] if "d" in layer["config"]]
    rnn["config"]["d"] = other_d(rnn["config"]["d"])
    path.write_text(json.dumps(config, indent=1))


def edit_metadata(path):
    meta = json.loads(path.read_text())
    meta["d"] = other_d(meta["d"])
    path.write_text(json.dumps(meta, indent=2) + "\n")


def edit_card(path):
    """One digit of the card's mean response accuracy, e.g. **0.723** -> **0.724**."""
    text = path.read_text()
    edited = re.sub(r"\*\*(\d\.\d\d)(\d)\*\*", lambda m: f"**{m[1]}{(int(m[2]) + 1) % 10}**", text, count=1)
    assert edited != text
    path.write_text(edited)


EDITS = {
    "config.json": edit_config,
    "model.weights.h5": flip_a_byte,
    "metadata.json": edit_metadata,
    "README.md": edit_card,
    "example.npz": flip_a_byte,
    "feature_map.png": flip_a_byte,
}


def test_every_preset_file_has_an_edit():
    assert sorted(EDITS) == sorted(ALL_FILES)


@pytest.mark.parametrize("edited", ALL_FILES)
@pytest.mark.parametrize("name", PRESETS)
def test_editing_any_file_is_refused_naming_it(name, edited, tmp_path):
    folder = copy_of(name, tmp_path)
    EDITS[edited](folder / edited)
    expected = json.loads((folder / zoo.MANIFEST).read_text())["files"][edited]
    actual = zoo.sha256(folder / edited)
    assert actual != expected
    with pytest.raises(zoo.PresetError) as info:
        zoo.load(folder)
    message = str(info.value)
    assert f"{edited} has SHA-256 {actual}, but manifest.json records {expected}" in message
    assert "Re-download the preset, or re-create it" in message
    assert "\n" not in message


@pytest.mark.parametrize("name", PRESETS)
def test_manifest_records_every_file_as_committed(name):
    folder = zoo.preset_path(name)
    manifest = json.loads((folder / zoo.MANIFEST).read_text())
    # Every committed preset has its feature map (tools/render_zoo_clusters.py).
    assert manifest == {"format": 1, "files": {f: zoo.sha256(folder / f) for f in ALL_FILES}}
    assert zoo.manifest(folder) == manifest


@pytest.mark.skipif(not PRESETS, reason="no presets")
def test_an_optional_file_the_manifest_does_not_record_is_refused(tmp_path):
    folder = copy_of(PRESETS[0], tmp_path)
    manifest = json.loads((folder / zoo.MANIFEST).read_text())
    del manifest["files"]["feature_map.png"]
    (folder / zoo.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(zoo.PresetError, match="records no SHA-256 for feature_map.png"):
        zoo.load(folder)
    # Without the file, such a manifest is whole again: the file is optional.
    (folder / "feature_map.png").unlink()
    zoo.load(folder)
    assert zoo.manifest(folder) == manifest


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_records_and_states_its_protocol(name):
    from keras_lmrnn import protocols

    meta = zoo.metadata(name)
    record = meta["protocol"]
    assert record["name"] in protocols.PROTOCOLS
    assert record["settings"]["batch_size"] == meta["batch_size"] and record["settings"]["seq_len"] == meta["seq_len"]
    model = zoo.load(name)
    assert models.recurrent_layer(model).cell.alpha == record["settings"]["alpha"]
    assert make_preset().protocol_text(meta) in (zoo.preset_path(name) / "README.md").read_text()


@pytest.mark.parametrize("name", PRESETS)
def test_card_and_metadata_state_the_same_clusters(name):
    """The card's "## Clusters" section shows the feature map and the k metadata.json records,
    computed with the tool's fixed settings, and the command that re-renders them."""
    tool = render_zoo_clusters()
    folder = zoo.preset_path(name)
    entry = zoo.metadata(name)["clusters"]
    assert entry["settings"] == tool.SETTINGS
    assert entry["command"] == tool.command(name, entry["backend"])
    card = (folder / "README.md").read_text()
    assert card.count("## Clusters\n") == 1
    section = card.split("## Clusters\n")[1].split("\n## ")[0]
    assert section == tool.card_section(entry)[len("## Clusters\n"):].rstrip("\n") + "\n"
    for method in tool.METHODS:
        assert f"best silhouette {entry[method]['best_silhouette']:.3f} at k = {entry[method]['k']}" in section
        stability = entry[method]["stability"]
        assert stability["verdict"] in section and stability["k"] == entry[method]["k"]
        assert stability["verdict"].startswith("k = " if stability["clear"] else "no clear k (")
        assert len(entry[method]["ks"]) == len(entry[method]["silhouette"])
        assert sum(entry[method]["sizes"]) == entry["active_units"]
    assert "](feature_map.png)" in section
    assert (folder / "feature_map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "card, expected",
    [
        ("# a\n\n## Performance\n\nx\n\n## Loading\n\ny\n", "# a\n\n## Performance\n\nx\n\nS\n## Loading\n\ny\n"),
        ("# a\n\n## Clusters\n\nold\n\n## Loading\n\ny\n", "# a\n\nS\n## Loading\n\ny\n"),
        ("# a\n\n## Clusters\n\nold\n", "# a\n\nS\n"),
        ("# a\n", "# a\n\nS\n"),
    ],
)
def test_clusters_section_is_inserted_or_replaced(card, expected):
    assert render_zoo_clusters().with_section(card, "S\n") == expected


def test_render_zoo_clusters_reproduces_a_preset_byte_for_byte(tmp_path, backend):
    """Rerunning the tool on a preset changes nothing: same feature map, metadata, card and manifest
    (under the backend that rendered it; another backend's rounding may move a pixel)."""
    name = "yang20_lmrnn_16x16_d2_lmrnn-v1"
    if name not in PRESETS:
        pytest.skip(f"{name} is not registered")
    if zoo.metadata(name)["clusters"]["backend"] != backend:
        pytest.skip("rendered under another backend")
    folder = copy_of(name, tmp_path)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    render_zoo_clusters().render(folder, zoo.load(folder), name)
    zoo.write_manifest(folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


@pytest.mark.skipif(not PRESETS, reason="no presets")
def test_missing_manifest_is_refused(tmp_path):
    folder = copy_of(PRESETS[0], tmp_path)
    (folder / zoo.MANIFEST).unlink()
    with pytest.raises(zoo.PresetError, match="manifest.json is missing .* Re-download the preset"):
        zoo.load(folder)


@pytest.mark.skipif(not PRESETS, reason="no presets")
@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[1, 2]",
        '{"files": {}}',
        '{"format": 2, "files": {}}',
        '{"format": 1, "files": ["config.json"]}',
        '{"format": 1, "files": {"../config.json": "00"}}',
    ],
)
def test_unreadable_manifest_is_refused(tmp_path, text):
    folder = copy_of(PRESETS[0], tmp_path)
    (folder / zoo.MANIFEST).write_text(text)
    with pytest.raises(zoo.PresetError, match="manifest.json is unreadable"):
        zoo.load(folder)


@pytest.mark.skipif(not PRESETS, reason="no presets")
@pytest.mark.parametrize("dropped", ALL_FILES)
def test_a_file_left_out_of_the_manifest_is_refused(tmp_path, dropped):
    folder = copy_of(PRESETS[0], tmp_path)
    manifest = json.loads((folder / zoo.MANIFEST).read_text())
    del manifest["files"][dropped]
    (folder / zoo.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(zoo.PresetError, match=f"records no SHA-256 for {re.escape(dropped)}"):
        zoo.load(folder)


@pytest.mark.skipif(not PRESETS, reason="no presets")
def test_cli_evaluate_refuses_an_edited_preset_in_one_line(tmp_path):
    name = PRESETS[0]
    folder = copy_of(name, tmp_path)
    edit_config(folder / "config.json")
    done = subprocess.run(
        [str(SCRIPT), "evaluate", str(folder), "--battery", zoo.metadata(name)["battery"]],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
        env=dict(os.environ, KERAS_BACKEND=keras.backend.backend(), TF_CPP_MIN_LOG_LEVEL="3"),
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    # TensorFlow may log its own start-up lines; ours is the one line we own.
    errors = [line for line in done.stderr.splitlines() if line.startswith("keras-lmrnn")]
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith("keras-lmrnn evaluate: error: ")
    assert "config.json has SHA-256" in errors[0]
    assert "Traceback" not in done.stderr


def absolute_paths(text):
    """The absolute paths (POSIX, home or Windows) that appear in `text`."""
    return re.findall(r"(?:^|[\s`'\"(=])((?:/|~/|[A-Za-z]:\\)[\w.~-][^\s`'\")]*)", text)


@pytest.mark.parametrize("name", PRESETS)
def test_no_machine_paths_in_metadata_or_card(name):
    folder = zoo.preset_path(name)
    meta_text = (folder / "metadata.json").read_text()
    card = (folder / "README.md").read_text()
    for text in (meta_text, card):
        assert "/work/" not in text and "/home/" not in text
        assert absolute_paths(text) == []
    command = zoo.metadata(name)["training_command"]
    words = command.split()
    assert words[:2] == ["keras-lmrnn", "train"]
    assert not [w for w in words if w.startswith(("/", "~"))]
    assert not pathlib.PurePosixPath(words[words.index("--out") + 1]).is_absolute()
    assert f"\n    {command}\n" in card


@pytest.mark.parametrize(
    "text, found",
    [
        ("keras-lmrnn train --out runs/x", []),
        ("see `/work/runs/x` and (/home/me/y)", ["/work/runs/x", "/home/me/y"]),
        ("x --out=/tmp/a", ["/tmp/a"]),
        ("~/runs/b and C:\\runs\\c", ["~/runs/b", "C:\\runs\\c"]),
        ("accuracy 0.5/1 and a/b", []),
    ],
)
def test_absolute_paths_finds_them(text, found):
    assert absolute_paths(text) == found


@pytest.mark.parametrize(
    "command, portable",
    [
        (
            "/work/main/.venv/bin/keras-lmrnn train --model lmrnn:n=400,d=6 --seed 0 --quiet "
            "--out /work/runs/long/lmrnn_n_400_d_6",
            "keras-lmrnn train --model lmrnn:n=400,d=6 --seed 0 --quiet --out runs/lmrnn_n_400_d_6",
        ),
        # A relative --out is the recipe's own and is kept.
        (
            "/home/me/env/bin/keras-lmrnn train --model dense:n=4 --out runs/zoo/modcog84_dense_140_lmrnn-v1",
            "keras-lmrnn train --model dense:n=4 --out runs/zoo/modcog84_dense_140_lmrnn-v1",
        ),
        ("keras-lmrnn train --out=/tmp/x/run_1/ --quiet", "keras-lmrnn train --out=runs/run_1 --quiet"),
        ("/opt/lib/keras_lmrnn/cli.py train --out ../elsewhere/r2", "keras-lmrnn train --out runs/r2"),
        ("keras-lmrnn train --out ~/runs/r3", "keras-lmrnn train --out runs/r3"),
        ("C:\\env\\keras-lmrnn.exe train --out C:\\runs\\r4", "keras-lmrnn train --out runs/r4"),
        ("keras-lmrnn compare --models dense:n=4 lmrnn:n=4,d=1", "keras-lmrnn compare --models dense:n=4 lmrnn:n=4,d=1"),
    ],
)
def test_portable_command(command, portable):
    assert make_preset().portable_command(command) == portable


def test_make_preset_writes_a_verified_preset_with_a_portable_command(tmp_path, monkeypatch):
    """tools/make_preset.py end to end, into a scratch zoo/presets, on a finished run folder made
    here as `keras-lmrnn train` writes one (an untrained model: only the files matter)."""
    from keras_lmrnn import models, tasks

    run = tmp_path / "run"
    run.mkdir()
    spec, battery = "dense:n=8", "yang20"
    kind, kwargs = models.parse_spec(spec)
    model = models.BUILDERS[kind](EvaluationData(battery, 1, seed=0).x.shape[-1], **kwargs)
    model.save(run / "checkpoint.keras")
    train = f"train --model {spec} --battery {battery} --steps 2 --seed 0 --quiet --out {run}"
    config = {
        "command": f"/some/machine/venv/bin/keras-lmrnn {train}", "model": spec, "battery": battery,
        "steps": 2, "batch_size": 4, "seq_len": 30, "seed": 0, "learning_rate": 1e-3, "code_revision": "abc1234",
        "backend": keras.backend.backend(), "keras": keras.__version__, "machine": "test machine",
        "device": "gpu:0", "date": "2026-01-01T00:00:00+00:00",
    }
    (run / "config.json").write_text(json.dumps(config))
    (run / "summary.json").write_text(json.dumps({**models.count_weights(model), "wall_s": 1}))
    (run / "state.json").write_text(json.dumps({"step": 2}))
    eval_csv = tmp_path / "eval.csv"
    eval_csv.write_text("task,response_accuracy,trial_accuracy\n" + "".join(
        f"{task},0.5,0.25\n" for task in tasks.names(battery)
    ))

    tool = make_preset()
    (tmp_path / "zoo" / "presets").mkdir(parents=True)
    monkeypatch.setattr(tool, "ROOT", tmp_path)
    name = "yang20_dense_256_lmrnn-v1"  # a registered name; written under tmp_path only
    monkeypatch.setattr(sys, "argv", ["make_preset.py", str(run), name, "--eval-csv", str(eval_csv)])
    tool.main()

    folder = tmp_path / "zoo" / "presets" / name
    assert sorted(p.name for p in folder.parent.iterdir()) == [name]  # no staging folder left
    meta = zoo.metadata(folder)
    # The clusters section, as tools/render_zoo_clusters.py writes it (an untrained model may have
    # too few active units for clusters: then no feature map, and the card says why).
    has_map = "error" not in meta["clusters"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*zoo.FILES, zoo.MANIFEST, *(["feature_map.png"] if has_map else [])]
    )
    assert meta["clusters"]["command"] == render_zoo_clusters().command(name, keras.backend.backend())
    assert "\n## Clusters\n" in (folder / "README.md").read_text()
    zoo.load(folder)  # the manifest was written after every file it checksums
    assert meta["hardware"] == "test machine, device gpu:0"
    # The command names the run's protocol (lmrnn-v1 for a config from before protocols).
    command = f"keras-lmrnn {train}".replace(str(run), "runs/run").replace("train ", "train --protocol lmrnn-v1 ", 1)
    assert zoo.metadata(folder)["training_command"] == command
    card = (folder / "README.md").read_text()
    assert f"\n    {command}\n" in card
    assert absolute_paths(card) == [] and absolute_paths((folder / "metadata.json").read_text()) == []
    assert meta["protocol"] == {"name": "lmrnn-v1", "overrides": {"batch_size": 4, "seq_len": 30}, "same_settings_as": [], "settings": {
        "alpha": 0.2, "init": "indegree", "linear_init": "keras", "batch_size": 4, "seq_len": 30, "layout": "stream",
        "loss_weighting": "uniform", "clipnorm": 0.0}}
    assert "Training protocol `lmrnn-v1`" in card and "departs from it in: batch_size 4, seq_len 30." in card


@pytest.mark.skipif(not PRESETS, reason="no presets")
@pytest.mark.parametrize("missing", ALL_FILES)
def test_missing_file_fails_loudly(tmp_path, missing):
    folder = copy_of(PRESETS[0], tmp_path)
    (folder / missing).unlink()
    with pytest.raises(zoo.PresetError, match=f"{missing} is missing"):
        zoo.load(folder)


def test_unknown_name_suggests_presets():
    with pytest.raises(zoo.PresetError, match="Unknown preset") as info:
        zoo.load("modcog84_lmrnn_20x20_d3")
    assert "Did you mean" in str(info.value)


@pytest.mark.parametrize("name", PRESETS)
def test_a_presets_name_says_the_protocol_it_was_trained_under(name):
    record = zoo.metadata(name)["protocol"]
    model, protocol = zoo.registry.PARTS[name]
    assert name == f"{model}_{protocol}"
    assert protocol == record["name"] or protocol in record.get("same_settings_as", [])


def zoo_block(path):
    return re.search(r"<!-- zoo -->(.*)<!-- /zoo -->", path.read_text(), re.S).group(1)


def test_registry_folders_and_the_catalogue_agree():
    folders = sorted(p.name for p in (ROOT / "zoo" / "presets").iterdir() if not p.name.startswith("."))
    assert folders == sorted(PRESETS)
    block = zoo_block(ROOT / "docs" / "zoo" / "index.md")
    listed = re.findall(r"^\| \[([^\]]+)\]", block, re.M)
    assert listed == PRESETS
    # tools/render_zoo_table.py writes it; a preset added or re-made without re-rendering fails here.
    assert block == f"\n{tool('render_zoo_table').table()}\n"


def test_the_readme_lists_the_default_protocols_presets():
    block = zoo_block(ROOT / "README.md")
    listed = re.findall(r"^\| \[([^\]]+)\]", block, re.M)
    assert listed == [name for name in PRESETS if zoo.registry.PARTS[name][1] == protocols.DEFAULT]
    assert listed, "no default-protocol preset in the README"
    assert block == f"\n{tool('render_zoo_table').brief()}\n"


def recipe_specs():
    """{model name: spec} of the `[MODEL]=SPEC` tables of zoo/recipes/*.sh."""
    text = "".join(p.read_text() for p in (ROOT / "zoo" / "recipes").glob("*.sh"))
    return dict(re.findall(r"^\s*\[(\w+)\]=([a-z][a-z0-9-]*:\S+)$", text, re.M))


@pytest.mark.parametrize("name", PRESETS)
def test_a_recipe_trains_the_preset_as_recorded(name):
    """The committed recipe, under the preset's protocol, builds the model its metadata records."""
    from keras_lmrnn import protocols

    meta = zoo.metadata(name)
    model, protocol = zoo.registry.PARTS[name]
    assert model in recipe_specs(), f"no recipe in zoo/recipes trains {model}"
    from_recipe = models.parse_spec(protocols.resolve_spec(recipe_specs()[model], protocol))
    recorded = models.parse_spec(protocols.resolve_spec(meta["model"], meta["protocol"]["name"]))
    assert from_recipe == recorded
    assert f"--model {meta['model']} " in meta["training_command"]


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


@pytest.mark.parametrize("name", PRESETS)
def test_card_note_is_a_paragraph_of_its_own(name):
    """A card's note (metadata.json "note": seeds, how the run was trained) stands after a blank
    line, so Markdown does not run it into the weight counts' sentence."""
    note = zoo.metadata(name).get("note")
    if not note:
        pytest.skip("no note")
    card = (ROOT / "zoo" / "presets" / name / "README.md").read_text()
    assert card.count(note) == 1 and "\n\n" + note.lstrip("\n") in card


NOTED = [name for name in PRESETS if zoo.metadata(name).get("note")]


@pytest.mark.skipif(not NOTED, reason="no preset has a card note")
def test_amend_preset_note_replaces_the_note_and_rewrites_the_manifest(tmp_path):
    amend = tool("amend_preset_note").amend
    folder = copy_of(NOTED[0], tmp_path)
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    for bad in ("", "no newline at the end"):  # refused, nothing changed, no staging copy left
        with pytest.raises(SystemExit):
            amend(folder, bad)
        assert {path.name: path.read_bytes() for path in folder.iterdir()} == before
        assert [path.name for path in tmp_path.iterdir()] == [folder.name]
    old = zoo.metadata(folder)["note"]
    amend(folder, "**Seeds.** A new note.\n")
    zoo.verify(folder)  # the manifest is true again
    card = (folder / "README.md").read_text()
    assert "\n\n**Seeds.** A new note.\n" in card and old not in card
    assert zoo.metadata(folder)["note"] == "**Seeds.** A new note.\n"
    changed = {path.name for path in folder.iterdir() if path.read_bytes() != before[path.name]}
    assert changed == {"README.md", "metadata.json", "manifest.json"}
    assert [path.name for path in tmp_path.iterdir()] == [folder.name]


@pytest.mark.skipif(not PRESETS, reason="no presets")
def test_rename_preset_changes_the_name_and_keeps_the_weights(tmp_path, backend):
    old = PRESETS[0]
    presets = tmp_path / "presets"
    presets.mkdir()
    before = copy_of(old, presets)
    weights = zoo.sha256(before / "model.weights.h5")
    figure = (before / "feature_map.png").read_bytes()
    clusters = json.loads((before / "metadata.json").read_text())["clusters"]
    with pytest.raises(SystemExit, match="exists already"):  # never overwrites
        tool("rename_preset").rename(presets, old, old)
    if clusters["backend"] != backend:  # its feature map can only be redrawn where it was drawn
        with pytest.raises(SystemExit, match=f"drawn under KERAS_BACKEND={clusters['backend']}"):
            tool("rename_preset").rename(presets, old, old + "_renamed")
        assert [p.name for p in presets.iterdir()] == [old]  # nothing changed
        zoo.verify(before)
        return
    target = tool("rename_preset").rename(presets, old, old + "_renamed")
    # The figure's title names the preset: redrawn; its clusters are the same, its command names the new name.
    assert (target / "feature_map.png").read_bytes() != figure
    redrawn = json.loads((target / "metadata.json").read_text())["clusters"]
    assert redrawn["agglomerative"] == clusters["agglomerative"] and redrawn["kmeans"] == clusters["kmeans"]
    assert redrawn["command"].endswith(f" {old}_renamed")
    assert not before.exists() and sorted(p.name for p in presets.iterdir()) == [old + "_renamed"]
    zoo.verify(target)
    assert zoo.sha256(target / "model.weights.h5") == weights
    assert json.loads((target / "metadata.json").read_text())["name"] == old + "_renamed"
    card = (target / "README.md").read_text()
    assert card.startswith(f"# {old}_renamed\n") and f'"{old}"' not in card


def test_rename_preset_replaces_whole_names_only():
    renamed = tool("rename_preset").renamed_text
    assert renamed("a_d6 a_d6_x b-a_d6 (a_d6)", "a_d6", "a_d6_v1") == "a_d6_v1 a_d6_x b-a_d6 (a_d6_v1)"


def test_aliases_name_registered_presets_and_no_alias_is_a_name():
    assert set(zoo.ALIASES.values()) <= set(PRESETS)
    assert not set(zoo.ALIASES) & set(PRESETS)


@pytest.mark.skipif(not PRESETS, reason="no presets")
def test_a_former_name_loads_the_renamed_preset_with_a_warning(monkeypatch):
    monkeypatch.setitem(zoo.ALIASES, "an_old_name", PRESETS[0])
    with pytest.warns(FutureWarning, match=f"now called '{PRESETS[0]}'"):
        assert zoo.preset_path("an_old_name") == zoo.preset_path(PRESETS[0])
    assert "an_old_name" not in zoo.list_presets()


def test_a_former_name_points_to_the_default_protocols_preset_of_its_model():
    old = "modcog84_lmrnn_20x20_d6"
    if old not in zoo.ALIASES or f"{old}_{protocols.DEFAULT}" not in PRESETS:
        pytest.skip("no default-protocol preset of this model")
    with pytest.warns(FutureWarning, match=f"default protocol is '{old}_{protocols.DEFAULT}'"):
        assert zoo.preset_path(old) == zoo.preset_path(f"{old}_lmrnn-v1")


def test_make_preset_takes_unregistered_names_only_when_asked():
    """make_preset's --unregistered: a MODEL_PROTOCOL name of a known model and protocol, for a
    preset made on another machine before the registry lists it."""
    from keras_lmrnn import protocols
    from keras_lmrnn.zoo.registry import MODELS, PRESETS, TRAINED

    description = make_preset().registry_description
    registered = next(iter(PRESETS))
    assert description(registered) == description(registered, unregistered=True) == PRESETS[registered]
    untrained = [m for m in MODELS if m not in TRAINED[protocols.DEFAULT]]
    if not untrained:
        pytest.skip("every registered model has a preset under the default protocol")
    name = f"{untrained[0]}_{protocols.DEFAULT}"
    assert description(name) is None
    assert description(name, unregistered=True) == MODELS[untrained[0]]
    assert description(f"{untrained[0]}_no-such-protocol", unregistered=True) is None
    assert description(f"no_such_model_{protocols.DEFAULT}", unregistered=True) is None
