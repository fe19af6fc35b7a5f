"""A griffe extension for the API reference (mkdocs.yml): doctest examples as code blocks.

Our docstrings write their examples as plain doctest lines after an `Example:`
line (the form `doctest` runs). Markdown would read `>>>` as nested quotes, so
this extension wraps each run of doctest lines (a `>>>` line up to the next blank
line) in a fenced `pycon` block before mkdocstrings renders the docstring.

Example:

>>> fence(">>> 1 + 1\\n2\\n\\ntext").split("\\n")
['```pycon', '>>> 1 + 1', '2', '```', '', 'text']
"""

import griffe


def fence(text):
    """Returns `text` with every run of doctest lines fenced as ```pycon."""
    out, block, indent = [], [], ""
    for line in text.split("\n") + [""]:
        if block and line.strip():
            block.append(line)
            continue
        if block:
            out += [f"{indent}```pycon", *block, f"{indent}```"]
            block = []
        if line.lstrip().startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            block = [line]
        else:
            out.append(line)
    return "\n".join(out[:-1])


class DoctestBlocks(griffe.Extension):
    """Fences the doctest examples of every docstring griffe loads."""

    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence(obj.docstring.value)
