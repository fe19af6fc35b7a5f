"""Executes the tutorial notebooks and writes the executed copies the docs site renders.

    KERAS_BACKEND=jax python tools/render_tutorials.py [NAME ...]

Each notebook of tutorials/ (the source, committed without outputs) runs top to
bottom in tutorials/ under the current backend, and its executed copy, outputs
included, is written to docs/tutorials/ (through a temporary file, then renamed).
The site shows these copies and never executes anything at build time;
tests/test_docs.py checks that each copy's code is its source's.
"""

import os
import pathlib
import sys

import nbclient
import nbformat

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCE = ROOT / "tutorials"
RENDERED = ROOT / "docs" / "tutorials"


def render(name):
    """Executes tutorials/NAME and writes docs/tutorials/NAME; returns the written path."""
    notebook = nbformat.read(SOURCE / name, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=1200, kernel_name="python3", resources={"metadata": {"path": str(SOURCE)}}
    )
    client.execute()
    target = RENDERED / name
    tmp = target.with_name(f".{name}.tmp")
    nbformat.write(notebook, tmp)
    tmp.replace(target)
    return target


def main(argv):
    if not os.environ.get("KERAS_BACKEND"):
        raise SystemExit("set KERAS_BACKEND (the executed copies say which backend ran them)")
    names = argv or sorted(p.name for p in SOURCE.glob("*.ipynb"))
    unknown = [n for n in names if not (SOURCE / n).is_file()]
    if unknown:
        raise SystemExit(f"no such tutorial: {', '.join(unknown)}; choose from {sorted(p.name for p in SOURCE.glob('*.ipynb'))}")
    RENDERED.mkdir(exist_ok=True)
    for name in names:
        print(f"wrote {render(name).relative_to(ROOT)}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
