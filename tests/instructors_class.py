"""A synthetic optimizers class for the instructors' commands, graded once per test session.

Every notebook is the reference master with some graded cells replaced by a mutant's or a
variant's (``autograder.api.mutant_submission`` does the same for grading), a written answer of
its own in each written question and a figure in the cell before it. The folder is shaped like a
Gradescope bulk export (``submission_<id>/`` plus ``submission_metadata.yml``) with late uploads,
and one notebook arrives zipped as a learning-management system delivers it.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path

import pytest

from autograder.notebook import parse_percent

DUE = "2026-09-18T23:59:00-07:00"
# name, sid, email, hours after the deadline (negative: on time), mutants/variants used
STUDENTS = {
    "submission_1001": ("Alice Ng", "3031", "alice@uni.edu", -30, []),
    "submission_1002": ("Bob Ruiz", "3032", "bob@uni.edu", 20, ["mutants/adam_eps_inside_sqrt"]),
    "submission_1003": ("Carol Li", "3033", "carol@uni.edu", 50, ["variants/sgd_foreach",
                                                                  "mutants/newton_schulz_one_step_short"]),
    "submission_1004": ("Dan Kim", "3034", "dan@uni.edu", 24 * 6 + 1, ["mutants/lr_schedule_no_clamp"]),
}
ZIPPED = "erin"  # a plain zip holding one notebook, no metadata

_PNG: list[bytes] = []


def figure_png() -> bytes:
    if not _PNG:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(2, 1.5), dpi=40)
        ax.plot([0, 1, 2], [2, 1, 0.5])
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
        _PNG.append(buf.getvalue())
    return _PNG[0]


def answer(token: str, qid: str) -> str:
    return f"Essay {token} answers {qid}: the update is scaled per coordinate, so the decay is too."


def class_notebook(a, path: Path, token: str, swaps: list[str], cells: dict[str, str] | None = None) -> Path:
    """The master with ``swaps`` (``mutants/<name>`` or ``variants/<name>``) and ``cells`` substituted."""
    master = parse_percent(a.solution_path.read_text())
    replaced: dict[str, str] = {}
    for swap in swaps:
        for c in parse_percent((a.repo / "autograder" / a.id / f"{swap}.py").read_text()):
            if c.question:
                replaced[c.question] = c.source
    replaced.update(cells or {})
    png = base64.b64encode(figure_png()).decode()
    nb_cells = []
    for c in master:
        if c.kind == "markdown" and c.question:
            nb_cells.append({"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "plt.show()",
                             "outputs": [{"output_type": "display_data", "metadata": {},
                                          "data": {"image/png": png, "text/plain": "<Figure>"}}]})
            head = c.source.split("\n# BEGIN SOLUTION")[0].split("BEGIN SOLUTION")[0].rstrip()
            nb_cells.append({"cell_type": "markdown", "metadata": {},
                             "source": f"{head}\n\n{answer(token, c.question)}"})
            continue
        source = replaced.get(c.question, c.source) if c.question else c.source
        if c.kind == "code":
            nb_cells.append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                             "source": source})
        else:
            nb_cells.append({"cell_type": "markdown", "metadata": {}, "source": source})
    nb = {"cells": nb_cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                         "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb))
    return path


def build_class(a, root: Path) -> Path:
    """The Gradescope-shaped class folder under ``root``."""
    from datetime import datetime, timedelta

    due = datetime.fromisoformat(DUE)
    meta = {}
    for folder, (name, sid, email, hours, swaps) in STUDENTS.items():
        class_notebook(a, root / folder / "optimizers.ipynb", sid, swaps)
        when = due + timedelta(hours=hours)
        meta[folder] = {":submitters": [{":name": name, ":sid": sid, ":email": email}],
                        ":created_at": when.strftime("%Y-%m-%d %H:%M:%S.123456789 %z"), ":score": 0.0}
    import yaml

    (root / "submission_metadata.yml").write_text(yaml.safe_dump(meta))
    nb = class_notebook(a, root.parent / "lms" / "optimizers.ipynb", ZIPPED, [])
    with zipfile.ZipFile(root / f"{ZIPPED}.zip", "w") as z:
        z.write(nb, "optimizers.ipynb")
    return root


@pytest.fixture(scope="session")
def optimizers():
    from autograder.manifest import load_assignment

    return load_assignment("optimizers")


@pytest.fixture(scope="session")
def course_toml(tmp_path_factory):
    """This term's due date and five slip days, in a course.toml of its own (the repo's untouched)."""
    path = tmp_path_factory.mktemp("term") / "course.toml"
    path.write_text(f'[late]\nslip_days = 5\n[due]\noptimizers = "{DUE}"\n')
    return path


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory, optimizers, course_toml):
    """(class folder, grades root, out): the synthetic class graded once through the command line."""
    from unittest import mock

    from autograder import cli
    from autograder.roster import COURSE_ENV

    base = tmp_path_factory.mktemp("klass")
    folder = build_class(optimizers, base / "export")
    root = base / "grades"
    out = root / "optimizers"
    with mock.patch.dict("os.environ", {COURSE_ENV: str(course_toml)}):
        assert cli.main(["grade", "optimizers", str(folder), "--out", str(out), "--jobs", "2"]) == 0
    return folder, root, out


@pytest.fixture
def term(course_toml, monkeypatch):
    """This term's late policy for the test."""
    from autograder.roster import COURSE_ENV

    monkeypatch.setenv(COURSE_ENV, str(course_toml))
    return course_toml
