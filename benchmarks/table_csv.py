"""A benchmark's printed Markdown table, saved as CSV for tools/render_results.py.

The benchmarks print their results as Markdown tables; with `--csv FILE` they
also save the same cells (header first, as printed) so that the docs render
their tables from the file instead of a hand-copied table. A log holding a
printed table (e.g. a GPU run's output) is read by `markdown_tables`.

Example:

>>> markdown_rows(["| a | b |", "|---|---|", "| 1 | 2.0x |"])
[['a', 'b'], ['1', '2.0x']]
"""

import csv
import io


def _cells(line):
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _is_rule(line):
    return set(line.strip()) <= set("|-: ")


def markdown_rows(lines):
    """The cells of a Markdown table's lines, header first, the |---| rule left out."""
    return [_cells(line) for line in lines if line.strip().startswith("|") and not _is_rule(line)]


def markdown_tables(text):
    """Every Markdown table in `text` (a benchmark's log), in order: each a
    list of {heading: cell} rows."""
    tables, block = [], []
    for line in [*text.splitlines(), ""]:
        if line.strip().startswith("|"):
            block.append(line)
        elif block:
            head, *rows = markdown_rows(block)
            tables.append([dict(zip(head, row)) for row in rows])
            block = []
    return tables


def save(path, lines):
    """Writes the cells of the Markdown table `lines` to `path` as CSV (atomically)."""
    # Imported here: importing keras_lmrnn loads Keras, and the scripts' parent
    # processes, which only collect their workers' rows, should not pick a backend.
    from keras_lmrnn import folders

    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(markdown_rows(lines))
    folders.atomic_write_text(path, out.getvalue())
