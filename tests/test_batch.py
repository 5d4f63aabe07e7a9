"""Grading a class folder: every kind of submission, in parallel, resumable, with feedback."""

from __future__ import annotations

import csv
import json
import zipfile

import pytest

from autograder.batch import Gradebook, find_submissions, grade_folder
from tests.conftest import TOY_OK, write_notebook

WRONG_ADD = "# GRADED: add\ndef add(a, b):\n    return a - b\n"
LOOP_ADD = "# GRADED: add\ndef add(a, b):\n    while True:\n        pass\n"


def notebook(path, add=TOY_OK["add"], scale=TOY_OK["scale"]):
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_notebook(path, [("code", "import torch"), ("code", add), ("code", scale)])


@pytest.fixture
def klass(tmp_path):
    """A class folder mixing Gradescope's layout (one folder per submission) and plain files."""
    root = tmp_path / "submissions"
    notebook(root / "alice.ipynb")
    notebook(root / "submission_101" / "toy.ipynb")  # Gradescope bulk export
    notebook(root / "submission_102" / "nested" / "work.ipynb", add=WRONG_ADD)
    notebook(root / "looper.ipynb", add=LOOP_ADD)
    (root / "corrupt.ipynb").write_text('{"cells": [')
    (root / "empty.ipynb").write_bytes(b"")
    (root / "binary.ipynb").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    with zipfile.ZipFile(root / "zipped.zip", "w") as z:
        z.writestr("toy.ipynb", "{}")
        z.writestr("notes.txt", "a zip with more than the notebook stays an error")
    notebook(tmp_path / "lms" / "toy.ipynb")
    with zipfile.ZipFile(root / "from_lms.zip", "w") as z:  # one notebook, as an LMS delivers it: graded
        z.write(tmp_path / "lms" / "toy.ipynb", "toy.ipynb")
        z.writestr("__MACOSX/._toy.ipynb", "resource fork")
    (root / "script.py").write_text("def add(a, b):\n    return a + b\n")
    (root / "empty_folder").mkdir()
    write_notebook(root / "other_assignment.ipynb", [("code", "# GRADED: adam\nclass Adam: pass")])
    (root / "submission_metadata.yml").write_text("submission_101: {}\n")
    return root


def test_find_submissions(klass):
    entries = {e.student: e for e in find_submissions(klass, "toy")}
    assert "submission_metadata" not in entries and len(entries) == 12
    assert entries["submission_102"].path.name == "work.ipynb"
    assert entries["empty_folder"].path is None


def test_grade_a_class(toy, klass, tmp_path):
    out = tmp_path / "out"
    summary = grade_folder(toy, klass, out, jobs=2, progress=False)
    assert summary["graded"] == summary["submissions"] == 12
    rows = {r["student"]: r for r in Gradebook(out / "gradebook.sqlite").rows("toy")}
    assert rows["alice"]["score"] == rows["submission_101"]["score"] == rows["from_lms"]["score"] == 5.0
    assert rows["submission_102"]["questions"]["add"]["score"] == 0.0
    assert rows["looper"]["questions"] == {"add": {"score": 0.0, "max_score": 2.0},
                                           "scale": {"score": 3.0, "max_score": 3.0}}
    for bad, needle in [("corrupt", "not valid notebook JSON"), ("empty", "empty"), ("binary", "a PNG image"),
                        ("zipped", "a zip archive"), ("script", "none of the graded cells"),
                        ("empty_folder", "empty"), ("other_assignment", "none of the graded cells")]:
        assert rows[bad]["score"] == 0.0 and any(needle in e for e in rows[bad]["errors"]), (bad, rows[bad]["errors"])
    with open(out / "grades.csv") as f:
        table = list(csv.DictReader(f))
    assert [r["student"] for r in table] == sorted(rows)
    assert float(table[0]["total"]) == rows[table[0]["student"]]["score"]
    feedback = (out / "submission_102" / "feedback.md").read_text()
    assert "max abs error" in feedback  # the public test's details
    hidden = json.loads((out / "submission_102" / "results.json").read_text())
    hidden_out = [t["output"] for t in hidden["tests"] if t["visibility"] != "visible" and t.get("status") == "failed"]
    assert hidden_out and all("max abs error" not in o for o in hidden_out)


def test_resume_and_regrade(toy, klass, tmp_path):
    out = tmp_path / "out"
    first = grade_folder(toy, klass, out, jobs=2, progress=False)
    again = grade_folder(toy, klass, out, jobs=2, progress=False)
    assert again["graded"] == 0 and again["skipped"] == first["submissions"]
    notebook(klass / "alice.ipynb", add=WRONG_ADD)  # a resubmission
    changed = grade_folder(toy, klass, out, jobs=2, progress=False)
    assert changed["graded"] == 1
    rows = {r["student"]: r for r in Gradebook(out / "gradebook.sqlite").rows("toy")}
    assert rows["alice"]["questions"]["add"]["score"] == 0.0
    assert grade_folder(toy, klass, out, jobs=2, regrade=True, progress=False)["graded"] == first["submissions"]


def test_batch_is_deterministic(toy, klass, tmp_path):
    grade_folder(toy, klass, tmp_path / "a", jobs=2, progress=False)
    grade_folder(toy, klass, tmp_path / "b", jobs=1, progress=False)

    def strip(row):
        res = dict(row["results"])
        res["extra_data"] = {k: v for k, v in res["extra_data"].items() if k != "seconds"}
        return row["score"], row["questions"], res, row["errors"]

    a = {r["student"]: strip(r) for r in Gradebook(tmp_path / "a" / "gradebook.sqlite").rows("toy")}
    b = {r["student"]: strip(r) for r in Gradebook(tmp_path / "b" / "gradebook.sqlite").rows("toy")}
    assert a == b


def _class_of(root, names):
    for name in names:
        notebook(root / f"{name}.ipynb")
    return root


def test_a_dying_worker_costs_one_submission_and_resume_retries_it_boundedly(toy, tmp_path, monkeypatch):
    """A worker that dies (here: on Bob's submission) costs Bob an error row and nothing else, with one
    job too (no grading happens in the batch's own process); a resumed batch retries Bob, at most
    MAX_ATTEMPTS times in all, then keeps him as failed; grades.csv is written every time."""
    import os

    import autograder.batch as batch

    real = batch._grade_one

    def dies_on_bob(entry):
        if entry.student == "bob":
            os.kill(os.getpid(), 9)
        return real(entry)

    monkeypatch.setattr(batch, "_grade_one", dies_on_bob)
    folder = _class_of(tmp_path / "class", ["alice", "bob", "carol"])
    out = tmp_path / "out"
    for run in range(1, batch.MAX_ATTEMPTS + 2):
        summary = grade_folder(toy, folder, out, jobs=1, progress=False)
        rows = {r["student"]: r for r in Gradebook(out / "gradebook.sqlite").rows("toy")}
        assert rows["alice"]["score"] == rows["carol"]["score"] == 5.0
        assert rows["bob"]["score"] == 0.0 and "failed" in rows["bob"]["errors"][0]
        assert (out / "grades.csv").exists()
        expected = 3 if run == 1 else (1 if run <= batch.MAX_ATTEMPTS else 0)
        assert summary["graded"] == expected, (run, summary)
    assert "recorded as failed" in rows["bob"]["errors"][0]
    feedback = json.loads((out / "bob" / "results.json").read_text())
    assert "/" not in feedback["output"].split(":", 1)[1], "no machine path in what Bob reads"


def test_a_stalled_worker_is_replaced(toy, tmp_path, monkeypatch):
    import time

    import autograder.batch as batch

    real = batch._grade_one

    def stalls_on_bob(entry):
        if entry.student == "bob":
            time.sleep(600)
        return real(entry)

    monkeypatch.setattr(batch, "_grade_one", stalls_on_bob)
    monkeypatch.setattr(batch, "deadline_seconds", lambda a: 60.0)  # an honest toy takes seconds, even loaded
    folder = _class_of(tmp_path / "class", ["alice", "bob", "carol"])
    t0 = time.monotonic()
    grade_folder(toy, folder, tmp_path / "out", jobs=2, progress=False)
    assert time.monotonic() - t0 < 240
    rows = {r["student"]: r for r in Gradebook(tmp_path / "out" / "gradebook.sqlite").rows("toy")}
    assert rows["alice"]["score"] == rows["carol"]["score"] == 5.0
    assert "stalled" in rows["bob"]["errors"][0]


def test_a_class_folder_as_students_leave_it(toy, tmp_path, capsys):
    """JupyterLab's stale checkpoints and macOS's __MACOSX are never graded; of two notebooks the newer is
    graded, with a warning the student and the instructor see and the file's name recorded; a stray
    notes.txt is no student; the run ends with a summary line and fails when a row is an error."""
    import argparse
    import os

    from autograder.term_cli import grade_folder_cmd

    root = tmp_path / "class"
    notebook(root / "alice" / "Copy of toy.ipynb")
    notebook(root / "alice" / ".ipynb_checkpoints" / "Copy of toy-checkpoint.ipynb", add=WRONG_ADD)
    notebook(root / "alice" / "__MACOSX" / "Copy of toy.ipynb", add=WRONG_ADD)
    old = notebook(root / "bob" / "v1.ipynb", add=WRONG_ADD)
    notebook(root / "bob" / "v2.ipynb")
    os.utime(old, (1_600_000_000, 1_600_000_000))
    notebook(root / ".ipynb_checkpoints" / "carol-checkpoint.ipynb", add=WRONG_ADD)
    (root / "notes.txt").write_text("grading notes")
    (root / "empty_folder").mkdir()
    ignored = []
    entries = {e.student: e for e in find_submissions(root, "toy", ignored)}
    assert sorted(entries) == ["alice", "bob", "empty_folder"]
    assert ignored == [("notes.txt", "not a notebook, a folder or a zip")]
    assert entries["alice"].file == "Copy of toy.ipynb" and not entries["alice"].warning
    assert entries["bob"].file == "v2.ipynb" and "2 notebooks" in entries["bob"].warning

    out = tmp_path / "grades" / "toy"
    args = argparse.Namespace(submission=root, out=out, replace=False, policy_changed=False, regrade=False,
                              student=None, question=None, jobs=1, keep_missing=False)
    assert grade_folder_cmd(args, toy, "cpu") == 1  # the empty folder is an error row
    printed = capsys.readouterr().out
    assert "ignored notes.txt: not a notebook, a folder or a zip" in printed
    assert "2 graded, 1 error, 1 warning" in printed and "late policy:" in printed
    rows = {r["student"]: r for r in Gradebook(out / "gradebook.sqlite").rows("toy")}
    assert rows["alice"]["score"] == rows["bob"]["score"] == 5.0
    bob = json.loads((out / "bob" / "results.json").read_text())
    assert bob["extra_data"]["graded_file"] == "v2.ipynb" and "v2.ipynb was graded" in bob["output"]
    with open(out / "grades.csv") as f:
        csv_rows = {r["student"]: r for r in csv.DictReader(f)}
    assert csv_rows["bob"]["graded_file"] == "v2.ipynb" and "2 notebooks" in csv_rows["bob"]["warnings"]
    assert csv_rows["alice"]["graded_file"] == "Copy of toy.ipynb"

    empty = tmp_path / "nothing"
    empty.mkdir()
    args.submission, args.out = empty, tmp_path / "grades2" / "toy"
    assert grade_folder_cmd(args, toy, "cpu") == 1
