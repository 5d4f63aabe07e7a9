"""Regrading one question: its new scores and tests replace the old ones, the rest of each row stays."""

from __future__ import annotations

import re
from pathlib import Path

from .gradebook import Gradebook
from .manifest import Assignment
from .roster import RosterError


def merge_question(a: Assignment, old: dict, new: dict, qid: str) -> dict:
    """``old`` with question ``qid`` (score, tests, total) taken from ``new``; other questions untouched."""
    row = {**old, "questions": {**old["questions"], qid: new["questions"][qid]}}
    res = dict(old["results"])
    mine = [t for t in new["results"]["tests"] if t.get("extra_data", {}).get("question") == qid]
    kept = [t for t in res.get("tests", []) if t.get("extra_data", {}).get("question") != qid]
    order = {q.id: i for i, q in enumerate(a.questions)}
    res["tests"] = sorted(kept + mine, key=lambda t: order.get(t.get("extra_data", {}).get("question"), len(order)))
    cents = sum(round(q["score"] * 100) for q in row["questions"].values())
    row["score"] = res["score"] = cents / 100
    extra = dict(res.get("extra_data", {}))
    extra["questions"] = row["questions"]
    res["extra_data"] = extra
    if res.get("output"):
        res["output"] = re.sub(r"^(.*?: )[0-9.]+( / )", lambda m: f"{m.group(1)}{row['score']:g}{m.group(2)}",
                               res["output"], count=1)
    row["results"] = res
    row["flags"] = sorted(set(old.get("flags") or []) | set(new.get("flags") or []))
    return row


def regrade_question(a: Assignment, folder: Path, out: Path, qid: str, scratch: Path, *, device: str = "cpu",
                     jobs: int | None = None) -> dict:
    """Grade ``folder`` afresh in ``scratch`` and take only ``qid`` from it into ``out``'s gradebook."""
    from .batch import _safe, grade_folder, write_student_files

    if qid not in {q.id for q in a.graded}:
        raise RosterError(f"{qid!r} is not an autograded question of {a.id}")
    summary = grade_folder(a, folder, scratch, device=device, jobs=jobs, regrade=True)
    fresh = {r["student"]: r for r in Gradebook(scratch / "gradebook.sqlite").rows(a.id)}
    book = Gradebook(out / "gradebook.sqlite")
    try:
        old = {r["student"]: r for r in book.rows(a.id)}
        for student, new in fresh.items():
            row = merge_question(a, old[student], new, qid) if student in old else new
            book.put(a.id, row)
            write_student_files(out / _safe(student), row["results"])
    finally:
        book.close()
    return summary
