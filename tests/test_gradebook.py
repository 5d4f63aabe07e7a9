"""The gradebook: flags for instructors only, written scores, overrides, two-decimal grades.csv."""

from __future__ import annotations

import csv
import sqlite3

import pytest

from autograder.collect import Case
from autograder.gradebook import Gradebook, Late
from autograder.results import allocate


def row(student, add=2.0, scale=3.0, flags=None):
    r = {"student": student, "sha256": "x", "score": add + scale, "max_score": 5.0,
         "questions": {"add": {"score": add, "max_score": 2.0}, "scale": {"score": scale, "max_score": 3.0}},
         "results": {"score": add + scale, "output": "", "tests": [], "extra_data": {"assignment": "toy"}},
         "errors": [], "seconds": 0.1}
    if flags is not None:
        r["flags"] = flags
    return r


def read(path):
    with open(path) as f:
        return {r["student"]: r for r in csv.DictReader(f)}


def test_flags_written_overrides_in_grades_csv(toy, tmp_path):
    book = Gradebook(tmp_path / "gradebook.sqlite")
    book.put("toy", row("alice", flags=["cell identical to bob's", "late upload"]))
    book.put("toy", row("bob", add=1.0 / 3))  # a row from before flags existed: no key
    book.set_written("toy", "alice", "essay", 0.5, "ta_jane", "clear")
    book.set_override("toy", "bob", "add", 1.0, "regrade request: tolerance too strict", "prof_x")
    book.commit()
    with pytest.raises(ValueError, match="reason"):
        book.set_override("toy", "bob", "scale", 1.0, " ", "prof_x")
    rows = read(book.export_csv(toy, tmp_path / "grades.csv", late={"bob": Late(2, 2, 0.0)}))
    a, b = rows["alice"], rows["bob"]
    assert a["flags"] == "cell identical to bob's | late upload" and b["flags"] == ""
    assert (a["autograded"], a["written"], a["total"], a["max"]) == ("5.00", "0.50", "5.50", "6.00")
    assert (a["autograded_max"], a["written_max"], a["written_graders"]) == ("5.00", "1.00", "ta_jane")
    assert b["add"] == "1.33" and b["written_pending"] == "essay" and a["written_pending"] == ""
    assert "add +1 (regrade request: tolerance too strict, by prof_x)" == b["overrides"]
    assert (b["late_days"], b["slip_days_used"]) == ("2", "2")
    # overrides survive a regrade: the autograded row is replaced, the override is not
    book.put("toy", row("bob", add=0.0))
    assert read(book.export_csv(toy, tmp_path / "grades.csv"))["bob"]["add"] == "1.00"


def test_flags_never_reach_student_files(toy, tmp_path):
    from autograder.batch import write_student_files

    book = Gradebook(tmp_path / "gradebook.sqlite")
    book.put("toy", {**row("alice", flags=["SECRET-FLAG"]), "details": {"hidden/t::x": "expected 3.14159"}})
    r = book.rows("toy")[0]
    assert r["flags"] == ["SECRET-FLAG"] and r["details"] == {"hidden/t::x": "expected 3.14159"}
    write_student_files(tmp_path / "alice", r["results"])
    for f in (tmp_path / "alice").iterdir():
        assert "SECRET-FLAG" not in f.read_text() and "3.14159" not in f.read_text()


def test_old_gradebook_gains_a_flags_column(toy, tmp_path):
    path = tmp_path / "gradebook.sqlite"
    db = sqlite3.connect(path)
    db.execute("""CREATE TABLE results (topic TEXT NOT NULL, student TEXT NOT NULL, sha256 TEXT NOT NULL,
        score REAL, max_score REAL, questions TEXT, results TEXT, errors TEXT, seconds REAL, graded_at TEXT,
        PRIMARY KEY (topic, student))""")
    db.execute("INSERT INTO results VALUES ('toy', 'old', 'x', 5, 5, '{}', '{}', '[]', 1, 'then')")
    db.commit()
    db.close()
    book = Gradebook(path)
    assert book.rows("toy")[0]["flags"] == [] and book.rows("toy")[0]["details"] == {}
    book.put("toy", row("new", flags=["f"]))
    assert {r["student"]: r["flags"] for r in book.rows("toy")} == {"old": [], "new": ["f"]}


def test_prune_drops_students_gone_from_the_folder(tmp_path):
    book = Gradebook(tmp_path / "gradebook.sqlite")
    for s in ("a", "b", "c"):
        book.put("toy", row(s))
    assert book.prune("toy", {"a", "c"}) == ["b"]
    assert [r["student"] for r in book.rows("toy")] == ["a", "c"]


@pytest.mark.parametrize("weights", [[1, 1, 1], [1] * 7, [3, 1, 1, 2], [0.5, 0.25, 0.25, 1, 1, 1]])
def test_per_test_scores_sum_exactly_to_the_question(toy, weights):
    cases = [Case(id=f"t{i}", question="add", name=f"t{i}", func=None, weight=w) for i, w in enumerate(weights)]
    shares = allocate(toy, cases, {"add": float(sum(weights))})
    cents = [round(v * 100) for v in shares.values()]
    assert all(abs(v * 100 - c) < 1e-9 for v, c in zip(shares.values(), cents))
    assert sum(cents) == 200  # the question's 2 points, to the hundredth
    assert max(cents) - min(cents) <= 100 * 2 * max(weights) / sum(weights) + 1


def test_hidden_details_for_instructors_only(toy, toy_notebook):
    import json

    from autograder.api import grade

    r = grade(toy, toy_notebook(add="# GRADED: add\ndef add(a, b):\n    return a - b\n"))
    hidden = [t for t in r.tests if not t.passed and not t.case.public]
    assert hidden and all("max abs error" in r.instructor_details()[t.case.id] for t in hidden)
    for t in r.to_gradescope()["tests"]:
        if t["visibility"] != "visible":
            assert "max abs error" not in json.dumps(t) and "detail" not in t["extra_data"]
