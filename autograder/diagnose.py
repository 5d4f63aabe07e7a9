"""Diagnoses: naming the mistake that a student's failing outputs show, from the mutant library.

Every mutant is a realistic wrong implementation of one question with a ``# WHY:`` line saying what
is wrong. A mutant's *signature* on a test is what the test saw of it: its observations when the
test ran to the end, else the failure's kind and message. When the tests of a question that a
student fails are exactly the tests that a mutant fails, and the student's signature on each of
them matches the mutant's (observations within the test's own tolerance, failure messages equal),
the student is shown the mutant's WHY under the first failing test they can see. Two mutants that
match equally well say nothing (the outputs cannot tell the mistakes apart); a mutant marked
``# DIAGNOSE: no`` is never offered.

Students' ``check()`` reads the mutants' signatures on the public tests from ``diagnoses.json``
beside ``snapshots.json`` (outputs only: no code, no hidden test); the grader computes them on
every test with its own salt (``autograder.mutants``). This module ships in the student bundle.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .observations import judge
from .results import TestResult, scrub_paths, teach

FORMAT = 1
# What a timeout or a crash looks like says nothing about which mistake caused it.
MATCHED_STATUSES = ("failed", "error")
_FRAME = re.compile(r" \(in GRADED: [^\n]*? cell, line \d+: `[^\n]*`\)")
_CELL_LINE = re.compile(r" \(line \d+ of GRADED: [^\n)]*\)")
_DECIMAL = re.compile(r"(?<![\w.])-?\d+\.\d+(?:[eE][-+]?\d+)?")
DIGITS = 3  # a number in a failure message is compared to this many significant digits


def _rounded(match: re.Match) -> str:
    return f"{float(match.group(0)):.{DIGITS - 1}e}"


@dataclass(frozen=True)
class Mistake:
    """One mutant as diagnoses use it: its question, its WHY and its signature on each test it fails."""

    name: str
    question: str
    why: str
    tests: dict  # test id -> signature (None: a timeout or crash, which nothing matches)

    def line(self) -> str:
        return f"Likely mistake: {self.why.rstrip('.')} (your outputs match code that makes it)."


def signature(outcome: dict) -> dict | None:
    """What a test saw of a run: its observations, or its failure's kind and message (without where in the
    cell it happened, and with its decimal numbers to three significant digits: two codes that make the same
    mistake differ there, in the line and in the last bits); None for a timeout or a crash."""
    status = outcome.get("status")
    if status == "passed":
        return {"obs": list(outcome.get("obs") or [])}
    if status in MATCHED_STATUSES:
        message = _CELL_LINE.sub("", _FRAME.sub("", teach(str(outcome.get("message") or ""))))
        return {"status": status, "message": _DECIMAL.sub(_rounded, scrub_paths(message).strip())}
    return None


def _matched(student: dict | None, mutant: dict | None) -> int:
    """How many observations of the mutant's the student's signature matches (a failure counts one); 0: no match."""
    if student is None or mutant is None:
        return 0
    if "obs" in mutant:
        if "obs" not in student or not mutant["obs"]:
            return 0
        if student["obs"] == mutant["obs"]:  # the very values (code that makes the mistake the same way)
            return len(mutant["obs"])
        try:
            same = judge(student["obs"], mutant["obs"]) is None  # tolerances: the test's own, from the mutant's record
        except Exception:  # an observation that cannot be compared matches nothing
            return 0
        return len(mutant["obs"]) if same else 0
    return int(student.get("status") == mutant.get("status") and student.get("message") == mutant.get("message"))


def diagnose(failed: dict[str, dict | None], mistakes: list[Mistake]) -> Mistake | None:
    """The mistake whose failing tests are exactly ``failed``'s (test id -> the student's signature) and whose
    signature the student's matches on each; the one matching most observations, None when two tie."""
    best, most, tie = None, 0, False
    for m in mistakes:
        if not m.tests or set(m.tests) != set(failed):
            continue
        counts = [_matched(failed[t], sig) for t, sig in m.tests.items()]
        if not all(counts):
            continue
        n = sum(counts)
        if n > most:
            best, most, tie = m, n, False
        elif n == most:
            tie = True
    return None if tie else best


def attach(results: list[TestResult], outcomes: dict[str, dict], mistakes: list[Mistake],
           visible=lambda t: t.case.public) -> dict[str, Mistake]:
    """Diagnose each question the student fails and put the line under its first failing test that
    ``visible`` allows and the mistake fails too; question id -> the mistake named."""
    by_question: dict[str, list[Mistake]] = {}
    for m in mistakes:
        by_question.setdefault(m.question, []).append(m)
    found = {}
    for q, candidates in by_question.items():
        mine = [t for t in results if t.case.question == q]
        failed = {t.case.id: signature(outcomes.get(t.case.id, {})) for t in mine if not t.passed}
        if not failed:
            continue
        m = diagnose(failed, candidates)
        shown = None if m is None else next((t for t in mine if t.case.id in m.tests and visible(t)), None)
        if shown is not None:  # the mistake's tests are the failing ones
            shown.diagnosis = m.line()
            found[q] = m
    return found


# ---------------------------------------------------------------------------- the file students' checks read


def file_text(assignment_id: str, mistakes: list[Mistake], previous: list[Mistake] = ()) -> str:
    """``diagnoses.json``'s bytes: each mistake's signatures on the public tests it fails, floats rounded and
    kept where they moved only by rounding noise, as snapshots are (``autograder.snapshots``)."""
    from .snapshots import stable

    before = {(m.name, t): s for m in previous for t, s in m.tests.items()}

    def stored(name, test, sig):
        if sig is None or "obs" not in sig:
            return sig
        old = before.get((name, test))
        return {"obs": stable(sig["obs"], old["obs"] if isinstance(old, dict) and "obs" in old else None)}

    kept = [Mistake(m.name, m.question, m.why, {t: stored(m.name, t, s) for t, s in m.tests.items()})
            for m in mistakes if m.tests]
    data = {"format": FORMAT, "assignment": assignment_id, "mistakes": table(kept)}
    return json.dumps(data, sort_keys=True, indent=1) + "\n"


def table(mistakes: list[Mistake]) -> dict:
    """Mistakes as plain data, by name (``from_table`` reads it back): this file's and the grader's."""
    return {m.name: {"question": m.question, "why": m.why, "tests": dict(m.tests)} for m in mistakes}


def from_table(data: dict) -> list[Mistake]:
    return [Mistake(name, m["question"], m["why"], dict(m["tests"])) for name, m in sorted(data.items())]


def read(path: Path) -> list[Mistake]:
    """The mistakes a ``diagnoses.json`` holds; none when it is absent or unreadable (a check then names none)."""
    try:
        return from_table(json.loads(Path(path).read_text())["mistakes"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []
