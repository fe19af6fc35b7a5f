"""The documentation lists what the code has: one source of truth."""

import pathlib
import re

from keras_lmrnn import tasks

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_task_readme_catalogue_matches_the_battery():
    text = (ROOT / "tasks" / "README.md").read_text()
    block = re.search(r"<!-- catalogue -->(.*)<!-- /catalogue -->", text, re.S).group(1)
    rows = [line.split("|")[1].strip() for line in block.strip().splitlines()[2:]]
    assert rows == tasks.names("modcog132")


def test_task_readme_figures_exist():
    text = (ROOT / "tasks" / "README.md").read_text()
    figures = re.findall(r"\]\((figures/[^)]+\.png)\)", text)
    assert len(figures) == 4
    for figure in figures:
        assert (ROOT / "tasks" / figure).stat().st_size > 1000
