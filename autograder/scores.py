"""Scores people enter: TAs' written scores, instructors' overrides, and the LMS export.

``scores import`` takes a CSV in either shape (a column ``grader`` or ``comment`` is optional)::

    student,question,score            student,written_adamw,written_ns
    alice,written_adamw,1             alice,1,0.5
    alice,written_ns,0.5              bob,,1        (an empty cell: not graded yet)

A student is named as in the gradebook (the submission's name) or by name, SID or email (from
Gradescope's metadata). Everything is checked before anything is written: one bad line, nothing
imported.
"""

from __future__ import annotations

import csv
import getpass
from pathlib import Path

from .gradebook import Gradebook, fmt
from .manifest import REPO, Assignment, load_assignment


class ScoresError(Exception):
    pass


def whoami() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _resolver(book: Gradebook, topic: str):
    names = set(book.graded(topic))
    alias: dict[str, str] = {}
    for student, ident in book.identities(topic).items():
        for k in ("name", "sid", "email"):
            for v in str(ident.get(k, "")).split(" & "):
                if v:
                    alias[v.strip().lower()] = student
    return lambda who: who if who in names else alias.get(who.strip().lower())


def read_scores(a: Assignment, csv_path: Path) -> list[dict]:
    """Lines of a scores CSV as {student, question, score, grader, comment}; written questions only."""
    with open(csv_path, newline="") as f:
        reader = csv.DictReader(f)
        fields = [c.strip() for c in reader.fieldnames or []]
        lines = list(reader)
    if "student" not in fields:
        raise ScoresError(f"{csv_path.name} has no `student` column (columns: {', '.join(fields) or 'none'})")
    long = "question" in fields and "score" in fields
    qcols = [] if long else [c for c in fields if c not in ("student", "grader", "comment")]
    if not long and not qcols:
        raise ScoresError(f"{csv_path.name} has neither question/score columns nor one column per question")
    out = []
    for n, line in enumerate(lines, start=2):
        line = {(k or "").strip(): (v or "").strip() for k, v in line.items()}
        pairs = [(line["question"], line["score"])] if long else [(q, line.get(q, "")) for q in qcols]
        for q, score in pairs:
            if score == "":
                continue
            out.append({"line": n, "student": line["student"], "question": q, "score": score,
                        "grader": line.get("grader", ""), "comment": line.get("comment", "")})
    return out


def import_scores(a: Assignment, csv_path: Path, out: Path, entered_by: str | None = None) -> dict:
    """Merge TA scores for written questions into ``out``'s gradebook; returns counts."""
    path = out / "gradebook.sqlite"
    if not path.exists():
        raise ScoresError(f"no gradebook in {out}: grade the class folder first (`grade {a.id} FOLDER --out {out}`)")
    book = Gradebook(path)
    try:
        resolve = _resolver(book, a.id)
        manual = {q.id: q for q in a.questions if q.manual}
        problems, good = [], []
        for e in read_scores(a, csv_path):
            where = f"line {e['line']}"
            student = resolve(e["student"])
            if student is None:
                problems.append(f"{where}: no student {e['student']!r} in the gradebook of {a.id}")
                continue
            q = manual.get(e["question"])
            if q is None:
                hint = ("an autograded question: use `scores override` with a reason"
                        if e["question"] in {x.id for x in a.graded} else f"written questions: {', '.join(manual)}")
                problems.append(f"{where}: {e['question']!r} is not a written question of {a.id} ({hint})")
                continue
            try:
                score = float(e["score"])
            except ValueError:
                problems.append(f"{where}: score {e['score']!r} is not a number")
                continue
            if not 0 <= score <= q.points:
                problems.append(f"{where}: {q.id} is worth {q.points:g} points, not {score:g}")
                continue
            good.append((student, q.id, score, e["grader"] or entered_by or whoami(), e["comment"]))
        if problems:
            raise ScoresError(f"{csv_path.name}: nothing imported:\n  " + "\n  ".join(problems))
        for student, q, score, grader, comment in good:
            book.set_written(a.id, student, q, score, grader, comment)
        book.commit()
    finally:
        book.close()
    from .roster import export

    export(a, out)
    return {"scores": len(good), "students": len({g[0] for g in good})}


def override(a: Assignment, out: Path, student: str, question: str, delta: float | None, reason: str = "",
             author: str | None = None) -> tuple[Path, str]:
    """Add ``delta`` points to one student's question (kept across regrades; ``None`` removes the override);
    rewrites grades.csv and the student's results.json and feedback.md. Returns (grades.csv, a note: the
    adjustment as applied, capped to the question's points)."""
    ids = [q.id for q in a.questions]
    if question not in ids:
        raise ScoresError(f"no question {question!r} in {a.id}: use one of {', '.join(ids)}")
    book = Gradebook(out / "gradebook.sqlite")
    try:
        who = _resolver(book, a.id)(student)
        if who is None:
            raise ScoresError(f"no student {student!r} in the gradebook of {a.id} in {out}")
        if delta is None:
            if question not in book.overrides(a.id).get(who, {}):
                raise ScoresError(f"{who} has no override on {question} in {out}")
            book.remove_override(a.id, who, question)
            note = f"removed the override of {who} on {question}"
        else:
            if not reason.strip():
                raise ScoresError("an override needs a reason (--reason), which the student reads")
            book.set_override(a.id, who, question, delta, reason, author or whoami())
            row = next(r for r in book.table(a) if r["student"] == who)
            q = a.question(question)
            base = row["questions"][question] - delta
            note = f"{who} {question} {delta:+g} ({reason})"
            applied = row["questions"][question] - round(min(max(base, 0.0), q.points), 2)
            if abs(applied - delta) > 1e-9:
                note += (f"; capped: {question} is worth {q.points:g} points, so the score goes to "
                         f"{row['questions'][question]:.2f} ({applied:+.2f} applied)")
        rewrite_student_files(a, out, book, who)
    finally:
        book.close()
    from .roster import export

    return export(a, out), note


def list_overrides(a: Assignment, out: Path) -> list[str]:
    book = Gradebook(out / "gradebook.sqlite")
    try:
        return [f"{s} {q} {o['delta']:+g} ({o['reason']}; by {o['author']}, {o['at']})"
                for s, qs in sorted(book.overrides(a.id).items()) for q, o in sorted(qs.items())]
    finally:
        book.close()


def adjusted(results: dict, overrides: dict[str, dict], a: Assignment) -> dict:
    """A student's results.json with course staff's adjustments applied (capped to each question's points)
    and said in its output; the staff member's name is not shown."""
    out = {**results, "extra_data": {**results.get("extra_data", {})}}
    qs = {k: dict(v) for k, v in out["extra_data"].get("questions", {}).items()}
    lines, total = [], 0.0
    for qid, o in sorted(overrides.items()):
        q = a.question(qid)
        if q.manual or qid not in qs:
            continue
        before = qs[qid]["score"]
        qs[qid]["score"] = round(min(max(before + o["delta"], 0.0), q.points), 2)
        total += qs[qid]["score"] - before
        lines.append(f"Course staff adjusted your score on {qid} by {qs[qid]['score'] - before:+.2f} "
                     f"({before:.2f} to {qs[qid]['score']:.2f}): {o['reason']}")
    if lines:
        out["extra_data"]["questions"] = qs
        out["extra_data"]["adjustments"] = lines
        out["score"] = round(out.get("score", 0.0) + total, 2)
        out["output"] = "\n".join(lines) + "\n\n" + out.get("output", "")
    return out


def rewrite_student_files(a: Assignment, out: Path, book: Gradebook, student: str) -> None:
    from .batch import _safe, write_student_files

    row = next((r for r in book.rows(a.id) if r["student"] == student), None)
    if row is not None:
        write_student_files(out / _safe(student), adjusted(row["results"], book.overrides(a.id).get(student, {}), a))


def lms_csv(root: Path, path: Path, repo: Path = REPO) -> Path:
    """Course-wide CSV for Canvas or Moodle: one row per student, a total per assignment and overall.

    Columns: ``Student`` (name), ``SIS User ID``, ``Email``, ``<Title> (<topic>)`` per assignment
    (the total after late penalties) and ``Course total``. A missing assignment is empty.
    """
    from .roster import course_books, course_lateness, key_of

    books = course_books(root, repo)
    if not books:
        raise ScoresError(f"no gradebook under {root}: grade a class folder with --out {root}/<topic>")
    late = course_lateness(root, repo)
    people: dict[str, dict] = {}
    titles = []
    for topic, bpath in books.items():
        a = load_assignment(topic, repo)
        titles.append((topic, f"{a.title} ({topic})" if a.title else topic))
        book = Gradebook(bpath)
        for r in book.table(a, late.get(topic)):
            key = key_of(r["student"], r)
            p = people.setdefault(key, {"Student": r["name"] or r["student"], "SIS User ID": r["sid"],
                                        "Email": r["email"], "totals": {}})
            p["totals"][topic] = r["total"]
        book.close()
    from .csvsafe import writer  # names, emails and SIDs are students': never formulas

    with open(path, "w", newline="") as f:
        w = writer(f)
        w.writerow(["Student", "SIS User ID", "Email", *(t for _, t in titles), "Course total"])
        for key in sorted(people, key=lambda k: (people[k]["Student"].lower(), k)):
            p = people[key]
            w.writerow([p["Student"], p["SIS User ID"], p["Email"],
                        *(fmt(p["totals"][t]) if t in p["totals"] else "" for t, _ in titles),
                        fmt(sum(p["totals"].values()))])
    return path
