"""Scores: judging outcomes against the reference, Gradescope's results.json and the score table."""

from __future__ import annotations

import functools
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .collect import Case
from .manifest import REPO, Assignment
from .observations import judge

FAILURE_KIND = {"failed": "wrong result", "error": "error", "timeout": "time limit", "crashed": "crash",
                "skipped": "skipped"}


@dataclass
class TestResult:
    case: Case
    passed: bool
    score: float
    max_score: float
    message: str  # full, for the student on public tests and for instructors always
    kind: str  # "passed", "wrong result", "error", "time limit", "crash", ...
    diagnosis: str = ""  # the mistake the failing outputs show, for the student (``autograder.diagnose``)

    @property
    def student_output(self) -> str:
        """What a student may see: everything on public tests, the failure kind on hidden ones; and the
        mistake their outputs show, where one was named."""
        if self.passed:
            return "passed"
        said = scrub_paths(self.message) if self.case.public else f"hidden test failed ({self.kind})"
        return f"{said}\n{self.diagnosis}" if self.diagnosis else said


@dataclass
class GradeResult:
    assignment: Assignment
    submission: str
    device: str
    tests: list[TestResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # submission-level problems
    notes: list[str] = field(default_factory=list)  # warnings for the student (two cells for one question)
    sandbox: list[str] = field(default_factory=list)  # what the sandbox could not apply: instructors only
    flags: dict[str, list[str]] = field(default_factory=dict)  # question -> integrity flags (instructors only)
    diagnoses: dict[str, str] = field(default_factory=dict)  # question -> the mutant its failing outputs match
    seconds: float = 0.0
    children: list[dict] = field(default_factory=list)  # per sandboxed child: sandbox, build, tests, teardown (s)
    only: frozenset[str] | None = None  # the questions graded, when not all were (``grade(questions=...)``)

    @property
    def graded(self) -> list:
        return [q for q in self.assignment.graded if self.only is None or q.id in self.only]

    @property
    def questions(self) -> dict[str, tuple[float, float]]:
        """question id -> (score, max score), autograded questions only."""
        cents = {q.id: 0 for q in self.graded}
        for t in self.tests:
            cents[t.case.question] += round(t.score * 100)
        return {q.id: (cents[q.id] / 100, q.points) for q in self.graded}

    @property
    def score(self) -> float:
        """Exactly the sum of the per-test scores shown (whole hundredths of a point)."""
        return sum(round(t.score * 100) for t in self.tests) / 100

    @property
    def max_score(self) -> float:
        return sum(q.points for q in self.graded)

    def flag_lines(self) -> list[str]:
        """The integrity flags as ``question: what`` lines, for the instructor's gradebook."""
        return [f"{q}: {f}" for q, fs in self.flags.items() for f in fs]

    def to_gradescope(self) -> dict:
        a = self.assignment
        order = {q.id: i + 1 for i, q in enumerate(a.questions)}
        counters: dict[str, int] = {}
        tests = []
        for t in self.tests:
            q = t.case.question
            counters[q] = counters.get(q, 0) + 1
            tests.append({
                "name": t.case.name, "number": f"{order[q]}.{counters[q]}",
                "score": round(t.score, 2), "max_score": round(t.max_score, 2),
                "status": "passed" if t.passed else "failed",
                "visibility": "visible" if t.case.public else a.hidden_visibility,
                "output": t.student_output,
                # hidden tests' messages hold expected values: for instructors only (``instructor_details``)
                "extra_data": {"question": q, "test_id": t.case.id, "kind": t.kind,
                               **({"detail": t.message} if t.case.public else {})},
            })
        manual = [q for q in a.questions if q.manual]
        for q in manual:  # no status: Gradescope shows neither a green pass nor a red fail
            tests.append({"name": f"{q.id}: {q.title} (pending staff grading)", "number": f"{order[q.id]}.1",
                          "score": 0.0, "max_score": 0.0, "visibility": "visible",
                          "output": f"Written answer: pending, graded by course staff ({q.points:g} points).",
                          "extra_data": {"question": q.id, "manual": True, "pending": True, "points": q.points}})
        lines = [f"{a.title}: {self.score:g} / {self.max_score:g} autograded points."]
        if manual:
            lines.append("Pending staff grading (written): " + ", ".join(f"{q.id} ({q.points:g})" for q in manual))
        lines += [f"Problem: {e}" for e in self.errors] + [f"Note: {n}" for n in self.notes]
        # extra_data is for instructors (Gradescope never shows it to students): the sandbox's notes go there.
        return {"score": self.score, "output": scrub_paths("\n".join(lines)), "visibility": "visible",
                "stdout_visibility": "hidden", "tests": tests,
                "extra_data": {"assignment": a.id, "device": self.device, "seconds": round(self.seconds, 3),
                               "questions": {q: {"score": s, "max_score": m} for q, (s, m) in self.questions.items()},
                               "sandbox": list(self.sandbox),
                               **({"diagnoses": dict(self.diagnoses)} if self.diagnoses else {})}}

    def instructor_details(self) -> dict[str, str]:
        """test id -> full message of every failed test, hidden ones included: never for students."""
        return {t.case.id: t.message for t in self.tests if not t.passed}

    def write(self, out_dir: str | Path) -> Path:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        path = out / "results.json"
        path.write_text(json.dumps(self.to_gradescope(), indent=2) + "\n")
        return path

    def table(self, *, details: bool = True, points: bool = True) -> str:
        """The per-question table; ``points=False`` (students' checks) shows only tests passed."""
        a = self.assignment
        lines = [f"{a.id} | {self.submission} | {self.device} | {self.seconds:.1f} s"]
        lines += [f"  ! {e}" for e in self.errors]
        lines.append(f"  {'question':<16}{'score':>14}   tests" if points else f"  {'question':<16}tests")
        for q in a.graded:
            s, m = self.questions[q.id]
            ts = [t for t in self.tests if t.case.question == q.id]
            if not points and ts:
                lines.append(f"  {q.id:<16}{sum(t.passed for t in ts)}/{len(ts)} passed")
            elif points:
                lines.append(f"  {q.id:<16}{s:>7.2f} / {m:<4g}   {sum(t.passed for t in ts)}/{len(ts)} passed")
        if points:
            lines.append(f"  {'total':<16}{self.score:>7.2f} / {self.max_score:<4g}")
        manual = [q for q in a.questions if q.manual]
        if manual and points:
            lines.append("  written (graded by staff): " + ", ".join(f"{q.id} ({q.points:g})" for q in manual))
        if details:
            for t in self.tests:
                if not t.passed:
                    lines.append(f"  FAIL {t.case.name}\n       {t.message.replace(chr(10), chr(10) + '       ')}")
                    if t.diagnosis:
                        lines.append(f"       {t.diagnosis}")
        lines += [f"  note: {n}" for n in self.notes]
        lines += [f"  sandbox: {n}" for n in self.sandbox]
        return "\n".join(lines)


_PATH = re.compile(r"(?<![\w.~<])/(?:[\w.@+-]+/)+(?=[\w.@+-])")


@functools.cache
def _machine_roots() -> list[tuple[str, str]]:
    import sysconfig
    import tempfile

    roots = {str(REPO.resolve()): "<course>", str(REPO): "<course>"}
    for key in ("purelib", "platlib", "stdlib", "platstdlib"):
        p = sysconfig.get_paths().get(key)
        if p:
            roots[p] = "<python>"
    for p in (sys.prefix, sys.base_prefix, sys.exec_prefix):
        roots[p] = "<python>"
    roots[tempfile.gettempdir()] = "<tmp>"
    home = str(Path.home())
    if home not in ("/", ""):
        roots[home] = "~"
    return sorted(((k, v) for k, v in roots.items() if len(k) > 1), key=lambda kv: -len(kv[0]))


def scrub_paths(text: str) -> str:
    """``text`` without this machine's paths: a student sees ``<python>/...`` or a file's name, never where
    the grader's files live."""
    for root, label in _machine_roots():
        text = text.replace(root, label)
    return _PATH.sub(".../", text)


_STUDENT_FRAME = re.compile(r" \(in GRADED: [^\n]*? cell, line \d+: `[^\n]*`\)$")


def teach(message: str) -> str:
    """A test's failure message without pytest's assertion introspection (``assert False`` and ``+ where``
    lines with memory addresses and truncated tensors): the author's message, and where in the student's
    cell it failed. An assert without a message keeps only its first line."""
    i = message.find("\nassert ")
    cut = i if i >= 0 else (message.find("\n +  where ") if message.startswith("assert ") else -1)
    if cut < 0:
        return message
    frame = _STUDENT_FRAME.search(message)
    return message[:cut] + (frame.group(0) if frame and frame.start() > cut else "")


def judge_all(assignment: Assignment, cases: list[Case], outcomes: dict[str, dict],
              reference: dict[str, list[dict]], cell_errors: dict[str, str],
              violations: dict[str, str]) -> list[TestResult]:
    """Turn child outcomes into scored results. Only the reference's observations can make a test pass."""
    weights: dict[str, float] = {}
    for c in cases:
        weights[c.question] = weights.get(c.question, 0.0) + c.weight
    shares = allocate(assignment, cases, weights)
    results = []
    for c in cases:
        share = shares[c.id]
        o = outcomes.get(c.id, {"status": "error", "message": "not run", "obs": []})
        status = o.get("status")
        if c.question in violations:
            passed, kind, msg = False, "forbidden API", violations[c.question]
        elif status != "passed":
            kind = FAILURE_KIND.get(status, "error")
            msg = teach(str(o.get("message") or kind))
            if c.question in cell_errors and cell_errors[c.question] not in msg:
                msg = f"{c.question}: the `# GRADED: {c.question}` cell did not run: {cell_errors[c.question]}\n{msg}"
            passed = False
        else:
            try:
                verdict = judge(list(o.get("obs") or []), reference[c.id])
            except Exception as e:  # a forged or corrupt report from the child
                verdict = f"the test's report could not be read ({type(e).__name__})"
            passed, kind, msg = verdict is None, "passed" if verdict is None else "wrong result", verdict or ""
        results.append(TestResult(c, passed, share if passed else 0.0, share, msg, kind))
    return results


def allocate(assignment: Assignment, cases: list[Case], weights: dict[str, float]) -> dict[str, float]:
    """Each test's points in whole hundredths, by weight, summing exactly to its question's points.

    Largest remainders get the spare hundredths (ties: the earlier test), so 1 point over three
    tests is 0.34 + 0.33 + 0.33, never three times 0.333333 that add up to 0.999999.
    """
    out: dict[str, float] = {}
    for qid, total in weights.items():
        mine = [c for c in cases if c.question == qid]
        budget = round(assignment.question(qid).points * 100)
        exact = [budget * c.weight / total for c in mine]
        cents = [int(x) for x in exact]
        spare = budget - sum(cents)
        for i in sorted(range(len(mine)), key=lambda i: (cents[i] - exact[i], i))[:spare]:
            cents[i] += 1
        out.update({c.id: n / 100 for c, n in zip(mine, cents)})
    return out


def feedback_markdown(results: dict) -> str:
    """A student's feedback from their results.json: public details, hidden tests only as pass/fail."""
    lines = [f"# Feedback: {results['extra_data'].get('assignment', '')}", "",
             results["output"], "", "| question | score |", "| --- | --- |"]
    for q, s in results["extra_data"].get("questions", {}).items():
        lines.append(f"| {q} | {s['score']:g} / {s['max_score']:g} |")
    lines += ["", "## Tests", ""]
    for t in results["tests"]:
        mark = {"passed": "passed", "failed": "**failed**"}.get(t.get("status"), "pending (staff grading)")
        shown = t["visibility"] == "visible"
        lines.append(f"- {t['name']}: {mark}" + ("" if shown else " (hidden test)"))
        if t.get("status") == "failed" and t.get("output"):
            lines.append("  ```\n  " + scrub_paths(t["output"]).replace("\n", "\n  ") + "\n  ```")
    return "\n".join(lines) + "\n"
