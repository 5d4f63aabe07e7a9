"""``report``: the class report page of the synthetic class, and the course-wide view."""

from __future__ import annotations

import re

from autograder import cli
from autograder.gradebook import Gradebook
from autograder.report import failure_ranking, question_stats


def test_class_report_page(graded_class, optimizers, tmp_path, term):
    folder, root, out = graded_class
    assert cli.main(["report", "optimizers", "--grades", str(out), "--out", str(tmp_path / "r")]) == 0
    page = (tmp_path / "r" / "index.html").read_text()
    assert page.count("data:image/png;base64,") == 1 and not re.search(r"https?://", page) and str(tmp_path) not in page
    assert "5 submissions" in page and "2 late submissions" not in page  # 3 late, one not accepted
    assert "3 late submissions, 1 not accepted" in page
    for q in optimizers.questions:
        assert f"<td class=l>{q.id}" in page
    book = Gradebook(out / "gradebook.sqlite")
    table, rows = book.table(optimizers), book.rows("optimizers")
    stats = {s["question"]: s for s in question_stats(optimizers, table)}
    assert stats["sgd"] == {"question": "sgd", "points": 2.0, "manual": False, "n": 5, "mean": 2.0, "median": 2.0,
                            "zero": 0, "full": 5}
    assert stats["adam"]["full"] == 4 and stats["written_ns"]["n"] == 0  # nothing graded yet: pending
    ranking = failure_ranking(rows)
    assert ranking and all(e["failed"] == 1 and e["ran"] == 5 for e in ranking)  # one mutant per question
    assert {e["question"] for e in ranking} == {"adam", "newton_schulz", "lr_schedule"}
    first = re.search(r"<h2>Tests students fail most</h2>\n<table>.*?<td class=l>(.*?)</td>", page, re.S)
    assert first and first.group(1) == ranking[0]["name"].replace("'", "&#x27;").replace('"', "&quot;")


def test_course_report(graded_class, tmp_path, term):
    folder, root, out = graded_class
    assert cli.main(["report", "--course", "--root", str(root), "--out", str(tmp_path / "c")]) == 0
    page = (tmp_path / "c" / "index.html").read_text()
    assert "<td class=l>optimizers</td><td>16</td><td>5</td>" in page and "5 students" in page
    assert "data:image/png;base64," in page
    assert cli.main(["report", "--grades", str(tmp_path), "optimizers"]) == 2  # no gradebook there
