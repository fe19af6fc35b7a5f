"""The documentation lists what the code has (one source of truth), and its links lead somewhere."""

import json
import pathlib
import re

import pytest

from keras_lmrnn import tasks

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_task_readme_catalogue_matches_the_battery():
    text = (ROOT / "docs" / "guide" / "tasks.md").read_text()
    block = re.search(r"<!-- catalogue -->(.*)<!-- /catalogue -->", text, re.S).group(1)
    rows = [line.split("|")[1].strip() for line in block.strip().splitlines()[2:]]
    assert rows == tasks.names("modcog132")


def test_task_readme_figures_exist():
    text = (ROOT / "docs" / "guide" / "tasks.md").read_text()
    figures = re.findall(r"\]\((task_figures/[^)]+\.png)\)", text)
    assert len(figures) == 4
    for figure in figures:
        assert (ROOT / "docs" / "guide" / figure).stat().st_size > 1000


README = ROOT / "README.md"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def relative_links(path):
    """The relative link targets (anchors dropped) of a Markdown file."""
    targets = [m.group(1) for m in LINK.finditer(path.read_text())]
    return [t.split("#")[0] for t in targets if not t.startswith(("http://", "https://", "mailto:", "#"))]


def test_the_readmes_links_lead_to_files():
    links = relative_links(README)
    assert len(links) > 30, links  # the docs pages, the zoo cards, the figure
    missing = [t for t in links if not (ROOT / t).exists()]
    assert not missing, f"README.md links to files that do not exist: {missing}"


def test_the_readme_links_every_docs_page_in_the_site_nav():
    nav = re.findall(r"^\s*-(?: [^:\n]+:)? ([\w./-]+\.(?:md|ipynb))$", (ROOT / "mkdocs.yml").read_text(), re.M)
    assert len(nav) > 40, nav
    linked = {t.removeprefix("docs/") for t in relative_links(README)}
    # The guides and results the README must point at (API pages, tutorials and
    # report sub-pages are reached through their index pages).
    pages = [p for p in nav if not p.startswith(("api/", "tutorials/0", "recurrence/speed"))]
    unlinked = [p for p in pages if p not in linked]
    assert not unlinked, f"README.md does not link these docs pages: {unlinked}"


def test_the_readme_stays_short():
    lines = README.read_text().count("\n")
    assert lines <= 250, f"README.md has {lines} lines; the long parts belong in docs/ (issue #26)"


TUTORIALS = ROOT / "tutorials"
RENDERED = ROOT / "docs" / "tutorials"


def test_every_tutorial_has_an_executed_copy_for_the_site():
    assert sorted(p.name for p in RENDERED.glob("*.ipynb")) == sorted(p.name for p in TUTORIALS.glob("*.ipynb"))


@pytest.mark.parametrize("name", sorted(p.name for p in TUTORIALS.glob("*.ipynb")))
def test_an_executed_copy_runs_its_sources_code(name):
    """docs/tutorials/NAME is tutorials/NAME executed (tools/render_tutorials.py): same code, with outputs."""
    source = json.loads((TUTORIALS / name).read_text())
    rendered_path = RENDERED / name
    if not rendered_path.exists():
        pytest.fail(f"no executed copy of {name}: run `KERAS_BACKEND=jax python tools/render_tutorials.py {name}`")
    rendered = json.loads(rendered_path.read_text())

    def cells(notebook):
        return [(c["cell_type"], "".join(c["source"])) for c in notebook["cells"]]

    assert cells(rendered) == cells(source), (
        f"docs/tutorials/{name} is stale: re-run `KERAS_BACKEND=jax python tools/render_tutorials.py {name}`"
    )
    code = [c for c in rendered["cells"] if c["cell_type"] == "code"]
    assert all(c.get("execution_count") for c in code), f"docs/tutorials/{name} has unexecuted cells"
    assert not [o for c in code for o in c.get("outputs", []) if o["output_type"] == "error"]
