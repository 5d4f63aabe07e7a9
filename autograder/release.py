"""``make release``: the student notebook from the instructor's master source.

Solution regions (``# BEGIN SOLUTION`` ... ``# END SOLUTION``, the markers of Otter Assign and
nbgrader) are removed: in code they become ``raise NotImplementedError("<question>: ...")`` at
the region's indentation, in markdown a prompt for the written answer. Outputs are empty and
cell ids are derived from positions, so the file is byte-for-byte reproducible.

Release also makes each notebook self-sufficient, for every master without the author writing
anything: the notebook's metadata names its assignment (``course.assignment``), so ``check()``
and ``python -m autograder check`` know it whatever the file is called; and a setup cell is put
before the first code cell that, where the course packages are missing (Colab, a fresh
environment), installs the course bundle from the location set once in ``course.toml``
(``[student] bundle``), and elsewhere only tells ``check()`` the assignment.
"""

from __future__ import annotations

import json
import re
import tomllib
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


DEFAULT_BUNDLE = "dlcourse_student-{version}-py3-none-any.whl"
SETUP_CELL = '''\
# Setup: run this cell first (written by the course's release step; leave it as it is).
# Where the course packages are missing (Colab, a fresh environment) it installs the course
# bundle; where they import (your course environment) it installs nothing.
COURSE_ASSIGNMENT = {assignment!r}
COURSE_BUNDLE = {bundle!r}
import glob, importlib, importlib.util, os, subprocess, sys
if not all(importlib.util.find_spec(m) for m in ("autograder", "shared")):
    if "://" not in COURSE_BUNDLE and not os.path.exists(COURSE_BUNDLE):  # a wheel file: uploaded here?
        here = sorted(glob.glob("dlcourse_student-*.whl") + glob.glob("/content/dlcourse_student-*.whl"))
        if not here:
            raise RuntimeError(f"the course bundle {{os.path.basename(COURSE_BUNDLE)}} is not here: upload the .whl "
                               "file course staff gave you (in Colab: the folder icon on the left, then Upload) "
                               "next to this notebook, then run this cell again")
        COURSE_BUNDLE = here[-1]
    print(f"installing the course bundle from {{COURSE_BUNDLE}} ...")
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", COURSE_BUNDLE])
    if done.returncode:
        raise RuntimeError(f"could not install the course bundle from {{COURSE_BUNDLE}} (see pip's message above); "
                           "check your internet connection, or ask course staff for the bundle")
    importlib.invalidate_caches()
import autograder
autograder.use(COURSE_ASSIGNMENT)'''


def bundle_location(repo: Path) -> str:
    """Where notebooks install the course bundle from: ``[student] bundle`` in ``course.toml``."""
    from . import __version__

    path = repo / "course.toml"
    data = tomllib.loads(path.read_text()) if path.exists() else {}
    where = data.get("student", {}).get("bundle") or DEFAULT_BUNDLE
    if not isinstance(where, str):
        raise ReleaseError(f"{path.name}: [student] bundle must be a string (a URL or a path)")
    return where.replace("{version}", __version__)


def setup_cell(assignment_id: str, bundle: str) -> str:
    return SETUP_CELL.format(assignment=assignment_id, bundle=bundle)


def student_notebook(master: Path, *, strip: bool = True, assignment: str | None = None,
                     bundle: str | None = None) -> str:
    """The released notebook as text (nbformat 4.5 JSON, sorted keys, one-space indent).

    ``strip=False`` keeps the solutions: the master as a notebook, which CI executes.
    ``assignment`` (default: the master's folder name) goes into the metadata and the setup
    cell, with ``bundle`` (default: ``course.toml``'s) as where the setup cell installs from.
    """
    assignment = assignment or master.parent.name
    bundle = bundle if bundle is not None else bundle_location(master.parent.parent.parent)
    cells = []
    sources = [(c.kind, strip_solutions(c, c.question) if strip else c.source)
               for c in parse_percent(master.read_text())]
    first_code = next((i for i, (kind, _) in enumerate(sources) if kind == "code"), len(sources))
    sources.insert(first_code, ("code", setup_cell(assignment, bundle)))
    for i, (kind, src) in enumerate(sources):
        entry = {"cell_type": kind, "id": f"cell-{i:03d}", "metadata": {}, "source": _source_lines(src)}
        if kind == "code":
            entry.update(execution_count=None, outputs=[])
        cells.append(entry)
    meta = {"course": {"assignment": assignment, "bundle": bundle}, "kernelspec": KERNELSPEC,
            "language_info": {"name": "python"}}
    nb = {"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def released_text(assignment: Assignment) -> str:
    return student_notebook(assignment.solution_path, assignment=assignment.id,
                            bundle=bundle_location(assignment.repo))


def release(assignment: Assignment) -> Path:
    assignment.notebook_path.write_text(released_text(assignment))
    return assignment.notebook_path


def in_sync(assignment: Assignment) -> bool:
    path = assignment.notebook_path
    return path.exists() and path.read_text() == released_text(assignment)

