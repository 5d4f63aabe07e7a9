"""The gradebook: SQLite, one row per (assignment, student), and its CSV export."""

from __future__ import annotations

import csv
import json
import sqlite3
import time
from pathlib import Path

from .manifest import Assignment


class Gradebook:
    """SQLite, one row per (assignment, student), committed per result."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path)
        self.db.execute("""CREATE TABLE IF NOT EXISTS results (
            topic TEXT NOT NULL, student TEXT NOT NULL, sha256 TEXT NOT NULL, score REAL, max_score REAL,
            questions TEXT, results TEXT, errors TEXT, seconds REAL, graded_at TEXT,
            PRIMARY KEY (topic, student))""")
        self.db.commit()

    def graded(self, topic: str) -> dict[str, str]:
        """student -> sha256 of the submission that was graded."""
        return dict(self.db.execute("SELECT student, sha256 FROM results WHERE topic = ?", (topic,)))

    def put(self, topic: str, row: dict) -> None:
        self.db.execute("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (
            topic, row["student"], row["sha256"], row["score"], row["max_score"], json.dumps(row["questions"]),
            json.dumps(row["results"]), json.dumps(row["errors"]), row["seconds"],
            time.strftime("%Y-%m-%dT%H:%M:%S")))
        self.db.commit()

    def rows(self, topic: str) -> list[dict]:
        cur = self.db.execute("SELECT student, sha256, score, max_score, questions, results, errors, seconds "
                              "FROM results WHERE topic = ? ORDER BY student", (topic,))
        keys = [d[0] for d in cur.description]
        out = []
        for values in cur:
            row = dict(zip(keys, values))
            for k in ("questions", "results", "errors"):
                row[k] = json.loads(row[k])
            out.append(row)
        return out

    def export_csv(self, a: Assignment, path: Path) -> Path:
        qs = [q.id for q in a.graded]
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["student", *qs, "total", "max", "errors"])
            for row in self.rows(a.id):
                w.writerow([row["student"], *(row["questions"].get(q, {}).get("score", 0.0) for q in qs),
                            row["score"], row["max_score"], " | ".join(row["errors"])])
        return path
