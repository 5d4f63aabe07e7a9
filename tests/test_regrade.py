"""Regrading one question of a class: that question's scores and tests change, nothing else does."""

from __future__ import annotations

import json

import pytest

from autograder.batch import grade_folder
from autograder.gradebook import Gradebook
from autograder.regrade import regrade_question
from autograder.roster import RosterError
from tests.conftest import TOY_OK, write_notebook

WRONG_ADD = "# GRADED: add\ndef add(a, b):\n    return a - b\n"
WRONG_SCALE = TOY_OK["scale"].replace("x * self.weight", "x + self.weight")


def notebook(path, add=TOY_OK["add"], scale=TOY_OK["scale"]):
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_notebook(path, [("code", "import torch"), ("code", add), ("code", scale)])


def test_regrade_one_question(toy, tmp_path):
    klass, out = tmp_path / "class", tmp_path / "out"
    notebook(klass / "ann.ipynb", add=WRONG_ADD, scale=WRONG_SCALE)
    notebook(klass / "ben.ipynb")
    grade_folder(toy, klass, out, jobs=1, progress=False)
    book = Gradebook(out / "gradebook.sqlite")
    book.put("toy", {**book.rows("toy")[0], "flags": ["kept"]})
    before = {r["student"]: r for r in book.rows("toy")}
    assert before["ann"]["score"] == 0.0
    notebook(klass / "ann.ipynb")  # ann fixed both cells since; only `add` is regraded (say, its tests changed)
    regrade_question(toy, klass, out, "add", tmp_path / "scratch", jobs=1)
    after = {r["student"]: r for r in book.rows("toy")}
    ann = after["ann"]
    assert ann["questions"] == {"add": {"score": 2.0, "max_score": 2.0}, "scale": {"score": 0.0, "max_score": 3.0}}
    assert ann["score"] == ann["results"]["score"] == 2.0 and ann["flags"] == ["kept"]
    assert ann["results"]["output"].startswith("Toy assignment: 2 / 5 autograded points.")
    tests = ann["results"]["tests"]
    assert [t["extra_data"]["question"] for t in tests] == sorted((t["extra_data"]["question"] for t in tests),
                                                                  key=["add", "scale", "essay"].index)
    assert all(t["status"] == "passed" for t in tests if t["extra_data"]["question"] == "add")
    assert any(t["status"] == "failed" for t in tests if t["extra_data"]["question"] == "scale")
    assert after["ben"] == {**before["ben"], "results": after["ben"]["results"]}
    assert json.loads((out / "ann" / "results.json").read_text())["score"] == 2.0
    with pytest.raises(RosterError, match="not an autograded question"):
        regrade_question(toy, klass, out, "essay", tmp_path / "s2")
