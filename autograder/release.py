"""``make release``: the student notebook from the instructor's master source.

Solution regions (``# BEGIN SOLUTION`` ... ``# END SOLUTION``, the markers of Otter Assign and
nbgrader) are removed: in code they become ``raise NotImplementedError("<question>: ...")`` at
the region's indentation, in markdown a prompt for the written answer. Outputs are empty and
cell ids are derived from positions, so the file is byte-for-byte reproducible.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .manifest import Assignment
from .notebook import Cell, parse_percent

BEGIN = re.compile(r"^(\s*)(?:#+\s*|<!--\s*|\*\*)?BEGIN SOLUTION\b")
END = re.compile(r"^\s*(?:#+\s*|<!--\s*|\*\*)?END SOLUTION\b")
ANSWER_PROMPT = "_Type your answer here._"
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


class ReleaseError(Exception):
    pass


def strip_solutions(cell: Cell, question: str | None) -> str:
    """The cell's source with every solution region replaced by what students get."""
    out, inside = [], False
    for n, line in enumerate(cell.source.split("\n"), 1):
        m = BEGIN.match(line)
        if m:
            if inside:
                raise ReleaseError(f"cell {cell.index}, line {n}: BEGIN SOLUTION inside a solution region")
            inside = True
            if cell.kind == "code":
                what = question or "this cell"
                out.append(f'{m.group(1)}raise NotImplementedError("{what}: replace this line with your code")')
            else:
                out.append(ANSWER_PROMPT)
        elif END.match(line):
            if not inside:
                raise ReleaseError(f"cell {cell.index}, line {n}: END SOLUTION without BEGIN SOLUTION")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ReleaseError(f"cell {cell.index}: BEGIN SOLUTION is never closed")
    return "\n".join(out)


def _source_lines(text: str) -> list[str]:
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])


def student_notebook(master: Path, *, strip: bool = True) -> str:
    """The released notebook as text (nbformat 4.5 JSON, sorted keys, one-space indent).

    ``strip=False`` keeps the solutions: the master as a notebook, which CI executes.
    """
    cells = []
    for i, cell in enumerate(parse_percent(master.read_text())):
        src = strip_solutions(cell, cell.question) if strip else cell.source
        entry = {"cell_type": cell.kind, "id": f"cell-{i:03d}", "metadata": {}, "source": _source_lines(src)}
        if cell.kind == "code":
            entry.update(execution_count=None, outputs=[])
        cells.append(entry)
    nb = {"cells": cells, "metadata": {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def release(assignment: Assignment) -> Path:
    text = student_notebook(assignment.solution_path)
    assignment.notebook_path.write_text(text)
    return assignment.notebook_path


def in_sync(assignment: Assignment) -> bool:
    path = assignment.notebook_path
    return path.exists() and path.read_text() == student_notebook(assignment.solution_path)
