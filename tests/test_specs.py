"""Model specs: one grammar (keras_lmrnn.specs), read once, asked everywhere;
and the package's import graph has no cycle."""

import ast
import pathlib

import numpy as np
import pytest

from keras_lmrnn import models, protocols
from keras_lmrnn.specs import KINDS, ModelSpec

REPO = pathlib.Path(__file__).resolve().parent.parent


def test_parse_reads_every_kind_and_key():
    spec = ModelSpec.parse(" random:n=400,d=4,sheet=10x40,periodic=0,mask_seed=3,noise=0.05,init=uniform ")
    assert spec.kind == "random"
    assert spec.values == {"n": 400, "d": 4, "sheet": (10, 40), "periodic": False, "mask_seed": 3,
                           "noise": 0.05, "init": "uniform"}
    assert spec.kwargs["sheet_shape"] == (10, 40) and spec.kwargs["recurrent_noise"] == 0.05
    assert str(spec) == "random:n=400,d=4,sheet=10x40,periodic=0,mask_seed=3,noise=0.05,init=uniform"
    assert ModelSpec.parse(spec) is spec
    examples = {"lmrnn": "n=16,d=1", "random": "n=16,d=1", "autapse": "n=16", "dense": "n=16",
                "dense-matched": "n=16,d=1", "l1": "n=16,l1=0.1"}
    assert [ModelSpec.parse(f"{kind}:{examples[kind]}").kind for kind in KINDS] == list(KINDS)


def test_equal_by_meaning_not_by_text():
    a, b = ModelSpec.parse("lmrnn:n=400,d=4,alpha=0.1"), ModelSpec.parse("lmrnn:alpha=0.1,d=4.0,n=400")
    assert a == b and hash(a) == hash(b) and str(a) != str(b)
    assert a != ModelSpec.parse("lmrnn:n=400,d=4")
    assert a != ModelSpec.parse("random:n=400,d=4,alpha=0.1")
    assert a != "lmrnn:n=400,d=4,alpha=0.1"  # text is not a spec until parsed


@pytest.mark.parametrize("text, words", [
    ("", "expected 'kind:key=value,...'"),
    ("bogus:n=4", "unknown kind 'bogus'"),
    ("lmrnn:n=400", "lmrnn needs ['d']"),
    ("dense:n=4,d=1", "bad entry 'd=1'"),
    ("dense:n=4,n=5", "n is given twice"),
    ("dense:n=4,init=zeros", "cannot read init='zeros' (allowed: indegree, uniform, identity)"),
    ("lmrnn:n=4,d=1,periodic=yes", "cannot read periodic='yes'"),
])
def test_bad_specs_are_refused_naming_the_entry(text, words):
    with pytest.raises(ValueError, match="Invalid model spec") as error:
        ModelSpec.parse(text)
    assert words in str(error.value)


def test_with_defaults_adds_only_what_the_spec_leaves_out():
    spec = ModelSpec.parse("dense:n=400,alpha=0.5,")
    resolved = spec.with_defaults({"alpha": 1.0, "init": "identity"})
    assert str(resolved) == "dense:n=400,alpha=0.5,init=identity"
    assert spec.with_defaults({"alpha": 1.0}) is spec
    # the protocols apply their settings through it: one grammar
    assert protocols.resolve_spec("dense:n=400", "neurogym") == \
        str(ModelSpec.parse("dense:n=400").with_defaults(protocols.get("neurogym").model))


def test_the_builders_view_and_the_sizes_come_from_the_spec():
    assert models.parse_spec("lmrnn:n=400,d=4,noise=0.1") == ("lmrnn", {"n": 400, "d": 4, "recurrent_noise": 0.1})
    matched = ModelSpec.parse("dense-matched:n=2500,d=6")
    assert matched.recurrent_units() == models.recurrent_units("dense-matched:n=2500,d=6") == 532
    assert matched.memory_needed() == models.memory_needed(matched) == 24 * 532**2
    assert models.build_model(matched, 33, protocol=None).count_params() > 532**2


@pytest.mark.parametrize("text", [
    "lmrnn:n=36,d=1", "lmrnn:n=24,d=2,sheet=4x6,periodic=0", "random:n=36,d=2,mask_seed=3", "autapse:n=25",
    "dense:n=12", "dense-matched:n=36,d=1", "l1:n=12,l1=1e-4",
])
def test_the_weight_counts_by_structure_match_the_built_model(text):
    spec = ModelSpec.parse(text)
    model = spec.build(33)
    counts, built = spec.count_weights_by_mask(33, models.NUM_CLASSES), models.count_weights(model)
    assert counts["total"] == built["total"] == model.count_params()
    assert counts["recurrent"] == int(models.recurrent_layer(model).mask_array.sum())
    kernel = models.recurrent_layer(model).cell.recurrent_kernel
    assert counts["allowed"] == built["total"] - int(np.prod(kernel.shape)) + int(models.recurrent_layer(model).mask_array.sum())
    # the same model as the protocol-free models.build_model, seed 0 by default
    same = models.build_model(text, 33, protocol=None, seed=0)
    assert model.name == same.name
    for a, b in zip(model.get_weights(), same.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def _import_graph():
    """{module: modules of the package it imports (anywhere in its code)}."""
    folders = {"keras_lmrnn": REPO / "keras_lmrnn", "keras_lmrnn.tasks": REPO / "tasks",
               "keras_lmrnn.zoo": REPO / "zoo"}
    folders.update({f"keras_lmrnn.{sub.name}": sub for sub in (REPO / "keras_lmrnn").iterdir()
                    if (sub / "__init__.py").is_file()})  # subpackages (analysis)
    files = {}
    for package, folder in folders.items():
        for path in folder.glob("*.py"):
            files[package if path.stem == "__init__" else f"{package}.{path.stem}"] = path
    graph = {}
    for name, path in files.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("keras_lmrnn"):
                found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in files else node.module
                          for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("keras_lmrnn")}
        # A package's __init__ re-exports its modules: an arrow to it is not a cycle's.
        graph[name] = {m for m in found if m in files and m != name and m not in folders}
    return graph


def _cycles(graph):
    cycles, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def test_no_import_cycle_among_the_packages_modules():
    graph = _import_graph()
    assert {"keras_lmrnn.specs", "keras_lmrnn.models", "keras_lmrnn.sweeps", "keras_lmrnn.tasks.envs",
            "keras_lmrnn.analysis.clusters"} <= set(graph)
    assert _cycles(graph) == []
    # the check can fail: an arrow back from protocols to models is a cycle
    graph["keras_lmrnn.protocols"] = graph["keras_lmrnn.protocols"] | {"keras_lmrnn.models"}
    assert ["keras_lmrnn.models", "keras_lmrnn.protocols", "keras_lmrnn.models"] in _cycles(graph)


def test_a_spec_cannot_change_once_parsed():
    spec = ModelSpec.parse("dense:n=16")
    with pytest.raises(TypeError):
        spec.values["n"] = 32
    with pytest.raises(AttributeError):
        spec.kind = "lmrnn"
    assert spec == ModelSpec.parse("dense:n=16")
