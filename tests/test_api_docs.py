"""The API reference's source: every public name has a docstring that names
each of its parameters and shows an example, and every example runs.

The reference is generated from docstrings (mkdocstrings, Google style), so
a public function or class without an `Args:` entry or an `Example:` would
leave a hole in it; this module finds the hole, names it, and runs every
module's examples (`>>>` lines) as doctests. Nothing here depends on the
backend: the examples print shapes, booleans and rounded numbers.
"""

import contextlib
import doctest
import importlib
import inspect
import io
import os
import pathlib
import pkgutil
import re

import pytest

# Examples that draw use a non-interactive backend (before matplotlib loads).
os.environ.setdefault("MPLBACKEND", "Agg")

import keras_lmrnn  # noqa: E402

# The namespaces of the API reference. A module's public names are its
# `__all__` (a module listed there counts with all of its own public names)
# or, without one, every function and class it defines whose name does not
# start with "_".
NAMESPACES = (
    "keras_lmrnn",
    "keras_lmrnn.tasks",
    "keras_lmrnn.zoo",
    "keras_lmrnn.analysis",
    "keras_lmrnn.sweeps",
)
# Modules that pkgutil.walk_packages(keras_lmrnn.__path__) does not find:
# they install from the top-level folders tasks/ and zoo/.
# Every .py file there counts, so a new module cannot be left out.
_REPO = pathlib.Path(__file__).resolve().parent.parent
MAPPED_MODULES = tuple(
    f"keras_lmrnn.{folder}" + ("" if path.stem == "__init__" else f".{path.stem}")
    for folder in ("tasks", "zoo")
    for path in sorted((_REPO / folder).glob("*.py"), key=lambda p: (p.stem != "__init__", p.stem))
)
# Parameters an `Args:` section need not name.
UNDOCUMENTED = ("self", "cls")
SECTIONS = ("Args", "Arguments", "Attributes", "Parameters")
MIN_PUBLIC_NAMES = 80
DOCTEST_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def public_names(module_name, seen=None):
    """[(qualified name, object)] of the public functions and classes of a
    module, as defined above; modules named in an `__all__` are expanded."""
    seen = set() if seen is None else seen
    if module_name in seen:
        return []
    seen.add(module_name)
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and (inspect.isfunction(value) or inspect.isclass(value))
            and value.__module__ == module_name
        ]
    found = []
    for name in names:
        value = getattr(module, name)
        if inspect.ismodule(value):
            found += public_names(value.__name__, seen)
        elif inspect.isfunction(value) or inspect.isclass(value):
            found.append((f"{module_name}.{name}", value))
    return found


def _collect():
    found, ids = [], set()
    for namespace in NAMESPACES:
        for qualified, value in public_names(namespace):
            if qualified not in ids:
                ids.add(qualified)
                found.append((qualified, value))
    return found


PUBLIC = _collect()


def doctest_modules():
    """Every module of the package whose examples run as doctests."""
    walked = [m.name for m in pkgutil.walk_packages(keras_lmrnn.__path__, "keras_lmrnn.")]
    return ["keras_lmrnn", *walked, *(m for m in MAPPED_MODULES if m not in walked)]


def parameters(value):
    """The parameter names a docstring must mention: those of a function,
    or of a class's `__init__`; never self, *args or **kwargs."""
    function = value.__init__ if inspect.isclass(value) else value
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # a builtin __init__ (e.g. of an exception)
        return []
    skipped = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [
        p.name for p in signature.parameters.values() if p.kind not in skipped and p.name not in UNDOCUMENTED
    ]


def documented(doc):
    """The names given entries (`name:` or `name (type):`) in the docstring's
    Args/Attributes sections."""
    names, indent, entries = set(), None, None
    for line in doc.splitlines():
        stripped = line.strip()
        depth = len(line) - len(line.lstrip())
        if re.fullmatch(rf"({'|'.join(SECTIONS)}):", stripped):
            indent, entries = depth, None
            continue
        if indent is None or not stripped:
            continue
        if depth <= indent:  # the section ended
            indent = None
            continue
        entries = depth if entries is None else entries  # the entries' indentation
        entry = re.match(r"\**([A-Za-z_]\w*)\s*(\([^)]*\))?\s*:", stripped)
        if entry and depth == entries:
            names.add(entry.group(1))
    return names


def example_has_a_heading(doc):
    """Whether the first `>>>` line follows an `Example:` (or `Examples:`)
    line: the house style, which gives the example a heading in the reference."""
    lines = inspect.cleandoc(doc).splitlines()
    first = next(i for i, line in enumerate(lines) if line.lstrip().startswith(">>>"))
    before = [line.strip() for line in lines[:first] if line.strip()]
    return bool(before) and before[-1] in ("Example:", "Examples:")


def missing_parameters(value):
    doc = inspect.cleandoc(value.__doc__ or "")
    entries = documented(doc)
    return [p for p in parameters(value) if p not in entries and f"`{p}`" not in doc]


@pytest.mark.parametrize("qualified, value", PUBLIC, ids=[q for q, _ in PUBLIC])
def test_public_name_has_a_complete_docstring(qualified, value):
    doc = value.__doc__  # not inspect.getdoc: a class must not borrow its base's
    assert doc and doc.strip(), f"{qualified} has no docstring"
    assert ">>>" in doc, f"{qualified}'s docstring has no example (`Example:` with `>>>` lines)"
    assert example_has_a_heading(doc), f"{qualified}'s example does not follow an `Example:` line"
    missing = missing_parameters(value)
    assert not missing, (
        f"{qualified}'s docstring does not describe its parameter(s) {', '.join(map(repr, missing))} "
        f"(expected `{missing[0]}:` in an Args or Attributes section, or `{missing[0]}` in backticks)"
    )


@pytest.mark.parametrize("module_name", doctest_modules())
def test_module_examples_run(module_name):
    # Importing any of these modules has no side effect to avoid: keras_lmrnn.cli
    # and keras_lmrnn.sweeps act only under `__main__`, and keras_lmrnn's
    # __init__ quiets TensorFlow only when run as the `keras-lmrnn` command.
    module = importlib.import_module(module_name)
    report = io.StringIO()
    with contextlib.redirect_stdout(report):  # doctest writes its failure reports there
        result = doctest.testmod(module, optionflags=DOCTEST_FLAGS, report=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {module_name} failed:\n" + (
        report.getvalue()[-6000:]
    )


def test_the_checks_cover_the_api():
    assert NAMESPACES and all(isinstance(name, str) for name in NAMESPACES)
    assert len(PUBLIC) >= MIN_PUBLIC_NAMES, f"only {len(PUBLIC)} public names collected"
    qualified = {q for q, _ in PUBLIC}
    for name in ("keras_lmrnn.LMRNN", "keras_lmrnn.masks.locality_mask", "keras_lmrnn.tasks.TaskDataset",
                 "keras_lmrnn.zoo.load", "keras_lmrnn.analysis.cluster_units", "keras_lmrnn.sweeps.run_sweep"):
        assert name in qualified, f"{name} is not among the public names checked"
    modules = doctest_modules()
    assert len(modules) == len(set(modules)) and set(MAPPED_MODULES) <= set(modules)
    assert {"keras_lmrnn.masks", "keras_lmrnn.analysis", "keras_lmrnn.sweeps"} <= set(modules)


def test_the_docstring_check_finds_a_gap():
    def example(alpha, beta, *args, gamma=1, **kwargs):
        """Does nothing.

        Args:
            alpha: described.
            gamma (int): described.

        Example:

        >>> example(1, 2)
        """

    assert missing_parameters(example) == ["beta"]
    assert example_has_a_heading(example.__doc__)
    assert not example_has_a_heading("Does nothing.\n\n>>> 1 + 1\n2\n")
    assert documented("Args:\n    a: x\n        e: no entry\n    b (int): y\nReturns:\n    c: z") == {"a", "b"}
