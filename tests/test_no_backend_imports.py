"""House rule: library code uses keras.ops only, never a backend directly."""

import ast
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
LIBRARY_DIRS = ("keras_lmrnn", "tasks", "zoo")
FORBIDDEN = {"tensorflow", "torch", "jax", "jaxlib"}
# The one exception, named: PyTorch's oneDNN product for the fused recurrence
# on a CPU (issue #24: 3.3x faster than what keras.ops reaches there).
ALLOWED = {"keras_lmrnn/_onednn.py": {"torch"}}


def library_files():
    return sorted(
        path
        for folder in LIBRARY_DIRS
        if (REPO / folder).is_dir()
        for path in (REPO / folder).rglob("*.py")
    )


def test_library_files_are_found():
    assert any(path.name == "layers.py" for path in library_files())


@pytest.mark.parametrize("path", library_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_module_does_not_import_a_backend(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        roots = {name.split(".")[0] for name in names}
        allowed = ALLOWED.get(str(path.relative_to(REPO)), set())
        assert not roots & (FORBIDDEN - allowed), f"{path.name}:{node.lineno} imports {roots & FORBIDDEN}"
