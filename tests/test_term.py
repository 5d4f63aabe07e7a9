"""A term's grading on the synthetic optimizers class: roster, lateness, written scores, overrides, exports."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import datetime

import pytest

from autograder import cli
from autograder.gradebook import Gradebook, Late
from autograder.roster import Policy, after_grading, lateness, parse_time, read_metadata
from tests.instructors_class import STUDENTS, ZIPPED


def read(path):
    with open(path) as f:
        return {r["student"]: r for r in csv.DictReader(f)}


@pytest.fixture
def copy(graded_class, tmp_path):
    """A copy of the graded output to change (the session's stays as graded)."""
    folder, root, out = graded_class
    shutil.copytree(root, tmp_path / "grades")
    return folder, tmp_path / "grades", tmp_path / "grades" / "optimizers"


def test_grades_csv_of_a_gradescope_export(graded_class, optimizers):
    folder, root, out = graded_class
    rows = read(out / "grades.csv")
    assert sorted(rows) == sorted([*STUDENTS, ZIPPED])
    alice, bob, carol, dan, erin = (rows[s] for s in [*STUDENTS, ZIPPED])
    assert (alice["name"], alice["sid"], alice["email"]) == ("Alice Ng", "3031", "alice@uni.edu")
    assert alice["submitted_at"].startswith("2026-09-17T17:59:00")
    assert erin["autograded"] == alice["autograded"] == "13.00" and erin["name"] == ""  # the zipped notebook
    assert float(bob["adam"]) < 3 and bob["sgd"] == "2.00"
    assert float(carol["newton_schulz"]) < 2 and carol["sgd"] == "2.00"  # a correct variant keeps its points
    # five slip days: Bob uses 1, Carol 3 (50 h late), Dan is 6 days and an hour late: not accepted
    assert [(r["late_days"], r["slip_days_used"], r["late_penalty"]) for r in (alice, bob, carol, dan)] == [
        ("0", "0", "0.00"), ("1", "1", "0.00"), ("3", "3", "0.00"), ("7", "0", "1.00")]
    assert dan["total"] == "0.00" and float(dan["autograded"]) > 10
    assert all(r["written_pending"] == "written_adamw written_ns written_mup" for r in rows.values())
    assert all(r["max"] == "16.00" and r["written_max"] == "3.00" and r["flags"] == "" for r in rows.values())
    for r in rows.values():
        assert all(len(r[q.id].split(".")[1]) == 2 for q in optimizers.questions)


def test_student_results_json(graded_class, optimizers):
    folder, root, out = graded_class
    data = json.loads((out / "submission_1002" / "results.json").read_text())
    pending = [t for t in data["tests"] if t["extra_data"].get("manual")]
    assert [t["extra_data"]["question"] for t in pending] == ["written_adamw", "written_ns", "written_mup"]
    assert all("status" not in t and "pending" in t["output"] for t in pending)
    assert "Pending staff grading" in data["output"]
    hidden = [t for t in data["tests"] if t["visibility"] != "visible"]
    assert hidden and all("detail" not in t["extra_data"] for t in hidden)
    assert any(t["status"] == "failed" for t in hidden)
    public_failed = [t for t in data["tests"] if t["visibility"] == "visible" and t.get("status") == "failed"]
    assert all(t["extra_data"]["detail"] for t in public_failed)
    for q, s in data["extra_data"]["questions"].items():  # per-test scores sum exactly to the question
        tests = [t for t in data["tests"] if t["extra_data"]["question"] == q]
        assert sum(round(t["score"] * 100) for t in tests) == round(s["score"] * 100)
        assert sum(round(t["max_score"] * 100) for t in tests) == round(s["max_score"] * 100)
        assert all(t["score"] == round(t["score"], 2) for t in tests)
    assert sum(round(s["score"] * 100) for s in data["extra_data"]["questions"].values()) == round(data["score"] * 100)
    assert "pending (staff grading)" in (out / "submission_1002" / "feedback.md").read_text()


def test_mistyped_path_is_an_error(tmp_path, capsys):
    assert cli.main(["grade", "optimizers", str(tmp_path / "submisions")]) == 2
    assert cli.main(["grade", "optimizers", str(tmp_path / "typo.ipynb")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "build").exists()


def test_scores_import_and_export(copy, optimizers, tmp_path, term, capsys):
    folder, root, out = copy
    wide = tmp_path / "ta.csv"
    wide.write_text("student,written_adamw,written_ns,grader\nsubmission_1001,1,0.5,ta_ann\n3032,0.25,,ta_bo\n")
    long = tmp_path / "long.csv"
    long.write_text("student,question,score,comment\nerin,written_mup,1,good\ncarol li,written_mup,0.75,\n")
    assert cli.main(["scores", "import", "optimizers", str(wide), "--out", str(out)]) == 0
    assert cli.main(["scores", "import", "optimizers", str(long), "--out", str(out), "--by", "prof_x"]) == 0
    rows = read(out / "grades.csv")
    a, b, e = rows["submission_1001"], rows["submission_1002"], rows[ZIPPED]
    assert (a["written_adamw"], a["written_ns"], a["written"], a["total"]) == ("1.00", "0.50", "1.50", "14.50")
    assert a["written_graders"] == "ta_ann" and e["written_graders"] == "prof_x" and b["written_graders"] == "ta_bo"
    assert a["written_pending"] == "written_mup" and b["written_pending"] == "written_ns written_mup"
    assert float(b["total"]) == pytest.approx(float(b["autograded"]) + 0.25)
    assert rows["submission_1003"]["written_mup"] == "0.75"  # named as in Gradescope's metadata
    bad = tmp_path / "bad.csv"
    bad.write_text("student,question,score\nnobody,written_ns,1\nsubmission_1001,written_ns,5\n"
                   "submission_1001,adam,1\nsubmission_1001,written_mup,x\n")
    capsys.readouterr()
    assert cli.main(["scores", "import", "optimizers", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert all(s in err for s in ("nothing imported", "line 2: no student 'nobody'", "worth 1 points, not 5",
                                  "scores override", "not a number"))
    assert read(out / "grades.csv")["submission_1001"]["written_ns"] == "0.50"  # unchanged
    assert cli.main(["scores", "export", "--root", str(root)]) == 0
    with open(root / "lms.csv") as f:
        lms = {r["SIS User ID"] or r["Student"]: r for r in csv.DictReader(f)}
    title = f"{optimizers.title} (optimizers)"
    assert list(lms["3031"]) == ["Student", "SIS User ID", "Email", title, "Course total"]
    assert lms["3031"]["Student"] == "Alice Ng" and lms["3031"][title] == "14.50" == lms["3031"]["Course total"]
    assert lms["3034"][title] == "0.00" and lms[ZIPPED]["Email"] == ""


def test_override_survives_a_one_student_regrade(copy, term, capsys):
    folder, root, out = copy
    assert cli.main(["scores", "override", "optimizers", "--student", "bob@uni.edu", "--question", "adam",
                     "--delta", "0.5", "--reason", "regrade request 12", "--by", "prof_x", "--out", str(out)]) == 0
    before = read(out / "grades.csv")["submission_1002"]
    assert before["overrides"] == "adam +0.5 (regrade request 12, by prof_x)"
    book = Gradebook(out / "gradebook.sqlite")
    graded_at = dict(book.db.execute("SELECT student, graded_at FROM results"))
    book.close()
    capsys.readouterr()
    assert cli.main(["grade", "optimizers", str(folder), "--out", str(out), "--student", "submission_1002",
                     "--jobs", "1"]) == 0
    assert "graded 1 of 1" in capsys.readouterr().out
    after = read(out / "grades.csv")
    assert len(after) == 5 and after["submission_1002"] == before
    book = Gradebook(out / "gradebook.sqlite")
    again = dict(book.db.execute("SELECT student, graded_at FROM results"))
    assert {s for s in again if again[s] != graded_at[s]} <= {"submission_1002"}
    assert cli.main(["grade", "optimizers", str(folder), "--out", str(out), "--student", "nobody"]) != 0


def test_two_folders_never_mix(copy, tmp_path, capsys):
    folder, root, out = copy
    other = tmp_path / "other"
    shutil.copytree(folder, other)
    assert cli.main(["grade", "optimizers", str(other), "--out", str(out)]) == 2
    assert "already holds the grades of" in capsys.readouterr().err


def test_students_gone_from_the_folder_are_dropped(copy, optimizers, tmp_path, term):
    folder, root, out = copy
    moved = tmp_path / "export"
    shutil.copytree(folder, moved)
    shutil.rmtree(moved / "submission_1004")
    book = Gradebook(out / "gradebook.sqlite")
    book.set_source("optimizers", str(moved.resolve()))
    book.close()
    assert after_grading(optimizers, moved, out, keep_missing=True)["dropped"] == []
    assert "submission_1004" in read(out / "grades.csv")
    assert after_grading(optimizers, moved, out)["dropped"] == ["submission_1004"]
    assert "submission_1004" not in read(out / "grades.csv")


def test_slip_days_are_spent_over_the_course():
    dues = {"optimizers": parse_time("2026-09-18T23:59:00-07:00"), "cnn": parse_time("2026-10-02T23:59:00-07:00")}
    subs = {"optimizers": {"ann": "2026-09-21T10:00:00-07:00", "ben": "2026-09-20T09:00:00-07:00"},
            "cnn": {"ann": "2026-10-05T08:00:00-07:00", "ben": "2026-10-05T08:00:00-07:00", "cy": ""}}
    late = lateness(subs, dues, Policy(slip_days=5), ["optimizers", "cnn"])
    assert late["optimizers", "ann"] == Late(3, 3, 0.0) and late["cnn", "ann"] == Late(3, 0, 1.0)
    assert late["optimizers", "ben"] == Late(2, 2, 0.0) and late["cnn", "ben"] == Late(3, 3, 0.0)
    assert late["cnn", "cy"] == Late()  # no submission time: never counted late
    with_grace = lateness(subs, dues, Policy(slip_days=5, grace_minutes=60 * 24 * 10), ["optimizers", "cnn"])
    assert set(with_grace.values()) == {Late()}


def test_gradescope_metadata_shapes(tmp_path):
    (tmp_path / "submission_metadata.yml").write_text(
        "submission_77:\n  :submitters:\n  - :name: Ann Ode\n    :sid: '0042'\n    :email: ann@uni.edu\n"
        "  - :name: Ben Ode\n    :sid: '0043'\n    :email: ben@uni.edu\n"
        "  :created_at: 2026-09-18 23:10:05.123456789 -0700\n  :score: 3.0\n"
        "submission_78:\n  :submitters: []\n  :created_at: 2026-09-19T06:59:00Z\n")
    meta = read_metadata(tmp_path)
    assert meta["submission_77"]["sid"] == "0042 & 0043" and meta["submission_77"]["name"] == "Ann Ode & Ben Ode"
    assert datetime.fromisoformat(meta["submission_77"]["submitted_at"]) == parse_time("2026-09-19T06:10:05.123456Z")
    assert meta["submission_78"]["name"] == "" and meta["submission_78"]["submitted_at"].startswith("2026-09-19T06:59")


def test_an_override_reaches_the_student_is_capped_listed_and_removable(copy, term, capsys):
    folder, root, out = copy
    base = ["scores", "override", "optimizers", "--student", "bob@uni.edu", "--out", str(out)]
    before = read(out / "grades.csv")["submission_1002"]
    assert cli.main([*base, "--question", "adam", "--delta", "0.5", "--reason", "regrade request 12",
                     "--by", "prof_x"]) == 0
    results = json.loads((out / "submission_1002" / "results.json").read_text())
    assert "Course staff adjusted your score on adam by +0.50" in results["output"]
    assert "regrade request 12" in results["output"] and "prof_x" not in json.dumps(results)
    assert "adjusted your score on adam" in (out / "submission_1002" / "feedback.md").read_text()
    assert results["score"] == round(float(before["autograded"]) + 0.5, 2)
    capsys.readouterr()
    assert cli.main([*base, "--question", "sgd", "--delta", "5", "--reason", "bonus"]) == 0  # sgd is full already
    assert "capped" in capsys.readouterr().out
    assert read(out / "grades.csv")["submission_1002"]["sgd"] == "2.00"
    assert cli.main(["scores", "overrides", "optimizers", "--out", str(out)]) == 0
    listed = capsys.readouterr().out
    assert "submission_1002 adam +0.5 (regrade request 12; by prof_x" in listed and "sgd +5" in listed
    assert cli.main([*base, "--question", "adam", "--remove"]) == 0
    assert read(out / "grades.csv")["submission_1002"]["adam"] == before["adam"]
    assert "adjusted your score on adam" not in (out / "submission_1002" / "results.json").read_text()
    capsys.readouterr()
    assert cli.main([*base, "--question", "adma", "--delta", "1", "--reason", "typo"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no question 'adma'" in err and "Traceback" not in err


def test_a_regrade_under_another_late_policy_is_refused(copy, capsys):
    """Without the term's course.toml (no AUTOGRADER_COURSE in this shell) the policy differs from the one the
    gradebook was written with: refused with the fix, unless --policy-changed; every grade prints its policy."""
    folder, root, out = copy
    before = read(out / "grades.csv")
    args = ["grade", "optimizers", str(folder), "--out", str(out), "--student", "submission_1004", "--jobs", "1"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "late policy" in err and "--policy-changed" in err and "AUTOGRADER_COURSE" in err
    assert read(out / "grades.csv") == before


def test_a_second_output_folder_of_one_topic_is_refused_before_grading(copy, term, capsys):
    folder, root, out = copy
    assert cli.main(["grade", "optimizers", str(folder), "--out", str(root / "optimizers-again")]) == 2
    assert "already graded in" in capsys.readouterr().err
    assert not (root / "optimizers-again" / "gradebook.sqlite").exists()
