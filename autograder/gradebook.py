"""The gradebook: SQLite, one row per (assignment, student), and its CSV export.

Besides the autograder's rows it keeps what a term adds around them, each in its own table so
that a regrade never loses it: written scores entered by TAs (``written``), per-question
overrides with a reason and an author (``overrides``), who each submission belongs to and when it
was submitted (``students``, from Gradescope's ``submission_metadata.yml``), and which folder the
rows were graded from (``meta``). ``flags`` (integrity flags) are for instructors only: they
appear in ``grades.csv`` and never in a student's files; so are ``details`` (a row's optional
test id -> full failure message, hidden tests included: ``GradeResult.instructor_details()``).
"""

from __future__ import annotations

import csv
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from .manifest import Assignment

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    topic TEXT NOT NULL, student TEXT NOT NULL, sha256 TEXT NOT NULL, score REAL, max_score REAL,
    questions TEXT, results TEXT, errors TEXT, seconds REAL, graded_at TEXT, flags TEXT NOT NULL DEFAULT '[]',
    details TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (topic, student));
CREATE TABLE IF NOT EXISTS written (
    topic TEXT NOT NULL, student TEXT NOT NULL, question TEXT NOT NULL, score REAL NOT NULL,
    grader TEXT NOT NULL, comment TEXT NOT NULL DEFAULT '', entered_at TEXT NOT NULL,
    PRIMARY KEY (topic, student, question));
CREATE TABLE IF NOT EXISTS overrides (
    topic TEXT NOT NULL, student TEXT NOT NULL, question TEXT NOT NULL, delta REAL NOT NULL,
    reason TEXT NOT NULL, author TEXT NOT NULL, at TEXT NOT NULL,
    PRIMARY KEY (topic, student, question));
CREATE TABLE IF NOT EXISTS students (
    topic TEXT NOT NULL, student TEXT NOT NULL, name TEXT NOT NULL DEFAULT '', email TEXT NOT NULL DEFAULT '',
    sid TEXT NOT NULL DEFAULT '', submitted_at TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (topic, student));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

RESULT_KEYS = ("student", "sha256", "score", "max_score", "questions", "results", "errors", "seconds", "flags",
               "details")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


def fmt(x: float) -> str:
    """Two decimals, as grades.csv shows every score."""
    return f"{x:.2f}"


@dataclass(frozen=True)
class Late:
    """A row's lateness under the course's late policy (``roster.lateness``)."""

    days: int = 0  # whole days late, rounded up
    slip_used: int = 0  # slip days this assignment used
    penalty: float = 0.0  # fraction of the total taken away (1.0: not accepted)


class Gradebook:
    """SQLite, one row per (assignment, student), committed per result."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path)
        self.db.executescript(SCHEMA)
        columns = {r[1] for r in self.db.execute("PRAGMA table_info(results)")}
        for column, default in (("flags", "[]"), ("details", "{}")):  # a gradebook from before they existed
            if column not in columns:
                self.db.execute(f"ALTER TABLE results ADD COLUMN {column} TEXT NOT NULL DEFAULT '{default}'")
        self.db.commit()

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------ autograded rows

    def graded(self, topic: str) -> dict[str, str]:
        """student -> sha256 of the submission that was graded."""
        return dict(self.db.execute("SELECT student, sha256 FROM results WHERE topic = ?", (topic,)))

    def put(self, topic: str, row: dict) -> None:
        flags = [str(f) for f in row.get("flags") or []]
        self.db.execute(
            "INSERT OR REPLACE INTO results (topic, student, sha256, score, max_score, questions, results, errors, "
            "seconds, graded_at, flags, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (
                topic, row["student"], row["sha256"], row["score"], row["max_score"], json.dumps(row["questions"]),
                json.dumps(row["results"]), json.dumps(row["errors"]), row["seconds"], _now(), json.dumps(flags),
                json.dumps(row.get("details") or {})))
        self.db.commit()

    def rows(self, topic: str) -> list[dict]:
        cur = self.db.execute(f"SELECT {', '.join(RESULT_KEYS)} FROM results WHERE topic = ? ORDER BY student",
                              (topic,))
        out = []
        for values in cur:
            row = dict(zip(RESULT_KEYS, values))
            for k in ("questions", "results", "errors", "flags", "details"):
                row[k] = json.loads(row[k])
            out.append(row)
        return out

    def topics(self) -> list[str]:
        return [t for (t,) in self.db.execute("SELECT DISTINCT topic FROM results ORDER BY topic")]

    def prune(self, topic: str, keep: set[str]) -> list[str]:
        """Drop the autograded rows of students not in ``keep`` (gone from the folder); returns them."""
        gone = sorted(set(self.graded(topic)) - keep)
        self.db.executemany("DELETE FROM results WHERE topic = ? AND student = ?", [(topic, s) for s in gone])
        self.db.commit()
        return gone

    # ------------------------------------------------------------------ what a term adds

    def source(self, topic: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (f"source:{topic}",)).fetchone()
        return row[0] if row else None

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
        self.db.commit()

    def set_source(self, topic: str, folder: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"source:{topic}", folder))
        self.db.commit()

    def set_written(self, topic: str, student: str, question: str, score: float, grader: str,
                    comment: str = "") -> None:
        self.db.execute("INSERT OR REPLACE INTO written VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (topic, student, question, float(score), grader, comment, _now()))

    def written(self, topic: str) -> dict[str, dict[str, dict]]:
        """student -> question -> {score, grader, comment, entered_at}."""
        out: dict[str, dict[str, dict]] = {}
        for s, q, score, grader, comment, at in self.db.execute(
                "SELECT student, question, score, grader, comment, entered_at FROM written WHERE topic = ?",
                (topic,)):
            out.setdefault(s, {})[q] = {"score": score, "grader": grader, "comment": comment, "entered_at": at}
        return out

    def set_override(self, topic: str, student: str, question: str, delta: float, reason: str, author: str) -> None:
        if not reason.strip():
            raise ValueError("an override needs a reason")
        self.db.execute("INSERT OR REPLACE INTO overrides VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (topic, student, question, float(delta), reason, author, _now()))
        self.db.commit()

    def remove_override(self, topic: str, student: str, question: str) -> None:
        self.db.execute("DELETE FROM overrides WHERE topic = ? AND student = ? AND question = ?",
                        (topic, student, question))
        self.db.commit()

    def overrides(self, topic: str) -> dict[str, dict[str, dict]]:
        """student -> question -> {delta, reason, author, at}."""
        out: dict[str, dict[str, dict]] = {}
        for s, q, d, reason, author, at in self.db.execute(
                "SELECT student, question, delta, reason, author, at FROM overrides WHERE topic = ?", (topic,)):
            out.setdefault(s, {})[q] = {"delta": d, "reason": reason, "author": author, "at": at}
        return out

    def set_identity(self, topic: str, student: str, name: str = "", email: str = "", sid: str = "",
                     submitted_at: str = "") -> None:
        self.db.execute("INSERT OR REPLACE INTO students VALUES (?, ?, ?, ?, ?, ?)",
                        (topic, student, name, email, sid, submitted_at))

    def identities(self, topic: str) -> dict[str, dict]:
        cur = self.db.execute("SELECT student, name, email, sid, submitted_at FROM students WHERE topic = ?", (topic,))
        return {s: {"name": n, "email": e, "sid": i, "submitted_at": t} for s, n, e, i, t in cur}

    def commit(self) -> None:
        self.db.commit()

    # ------------------------------------------------------------------ the table

    def table(self, a: Assignment, late: dict[str, Late] | None = None) -> list[dict]:
        """One dict per student: per-question scores (overrides and written scores applied) and totals."""
        written, overrides, ids = self.written(a.id), self.overrides(a.id), self.identities(a.id)
        late = late or {}
        out = []
        for row in self.rows(a.id):
            s = row["student"]
            qs: dict[str, float] = {}
            for q in a.questions:
                base = (written.get(s, {}).get(q.id, {}).get("score", 0.0) if q.manual
                        else row["questions"].get(q.id, {}).get("score", 0.0))
                adj = overrides.get(s, {}).get(q.id, {}).get("delta", 0.0)
                qs[q.id] = round(min(max(base + adj, 0.0), q.points), 2)
            auto = round(sum(qs[q.id] for q in a.graded), 2)
            manual = round(sum(v for q, v in qs.items() if a.question(q).manual), 2)
            lt = late.get(s, Late())
            pending = [q.id for q in a.questions if q.manual and q.id not in written.get(s, {})]
            out.append({
                "student": s, **ids.get(s, {"name": "", "email": "", "sid": "", "submitted_at": ""}),
                "questions": qs, "autograded": auto, "written": manual,
                "total": round((auto + manual) * (1 - lt.penalty), 2), "late": lt, "pending": pending,
                "overrides": overrides.get(s, {}), "errors": row["errors"], "flags": row["flags"],
                "graders": sorted({w["grader"] for w in written.get(s, {}).values()}),
                "file": row["results"].get("extra_data", {}).get("graded_file", ""),
                "warnings": row["results"].get("extra_data", {}).get("warnings", []),
            })
        return out

    def export_csv(self, a: Assignment, path: Path, late: dict[str, Late] | None = None) -> Path:
        """grades.csv: per-question scores, autograded, written and total with their maxima, two decimals."""
        auto_max = sum(q.points for q in a.graded)
        written_max = sum(q.points for q in a.questions if q.manual)
        from .csvsafe import writer  # names, emails and SIDs are students': never formulas

        with open(path, "w", newline="") as f:
            w = writer(csv.writer(f))
            w.writerow(["student", "name", "email", "sid", "submitted_at", *(q.id for q in a.questions),
                        "autograded", "autograded_max", "written", "written_max", "total", "max", "late_days",
                        "slip_days_used", "late_penalty", "written_pending", "written_graders", "overrides",
                        "errors", "flags", "graded_file", "warnings"])
            for r in self.table(a, late):
                lt = r["late"]
                ov = "; ".join(f"{q} {o['delta']:+g} ({o['reason']}, by {o['author']})"
                               for q, o in sorted(r["overrides"].items()))
                w.writerow([r["student"], r["name"], r["email"], r["sid"], r["submitted_at"],
                            *(fmt(r["questions"][q.id]) for q in a.questions), fmt(r["autograded"]), fmt(auto_max),
                            fmt(r["written"]), fmt(written_max), fmt(r["total"]), fmt(auto_max + written_max),
                            lt.days, lt.slip_used, fmt(lt.penalty), " ".join(r["pending"]), " ".join(r["graders"]),
                            ov, " | ".join(r["errors"]), " | ".join(r["flags"]), r["file"], " | ".join(r["warnings"])])
        return path
