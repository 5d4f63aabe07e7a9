"""The Python API behind the CLI: grade a submission, check a notebook, grade a mutant."""

from __future__ import annotations

import time
from pathlib import Path

from . import reference as ref
from .collect import collect
from .manifest import Assignment, load_assignment
from .notebook import NotebookError, Submission, parse_percent, read_submission, submission_from_cells
from .policy import prepare, static_violations
from .results import GradeResult, judge_all
from .sandbox import Limits, Refused
from .supervisor import run_submission


def grade(topic: str | Assignment, submission: str | Path | Submission, device: str = "cpu", *,
          public_only: bool = False, use_snapshots: bool = False, limits: Limits | None = None,
          label: str | None = None, questions: set[str] | None = None, diagnose: bool = False) -> GradeResult:
    """Grade one submission (a notebook path, a jupytext ``.py`` or a built ``Submission``).

    Hidden and public tests are judged against reference observations computed from the
    solution (``use_snapshots`` judges public tests against the shipped snapshots instead,
    which is what students have). ``questions`` grades those questions' tests only (the validation
    suite's mutants: their question and what builds on it).
    """
    a = topic if isinstance(topic, Assignment) else load_assignment(topic)
    t0 = time.perf_counter()
    name = label or (Path(submission).name if not isinstance(submission, Submission) else "submission")
    result = GradeResult(a, name, device, only=None if questions is None else frozenset(questions))
    cases = [c for c in collect(a, hidden=not public_only) if questions is None or c.question in questions]
    try:
        sub = submission if isinstance(submission, Submission) else read_submission(submission)
    except NotebookError as e:
        result.errors.append(str(e))
        sub = Submission()
    sub.keep_only([q.id for q in a.graded])  # a cell headed by an unknown id (or a homoglyph) is not run
    result.notes.extend(sub.warnings)
    graded_ids = {q.id for q in a.graded}
    if not result.errors and not graded_ids & set(sub.graded):
        result.errors.append(f"the notebook has none of the graded cells of {a.id} "
                             f"(`# GRADED: {sorted(graded_ids)[0]}`, ...): is it the right assignment?")
    if result.errors:
        outcomes, cell_errors, reference = {}, {}, {c.id: [] for c in cases}
    else:
        if use_snapshots:
            cases = [c for c in cases if c.id in ref.load_snapshots(a)]
        prepare({q.id: q.forbidden for q in a.questions})  # once per process, before forking: children skip it
        salt = ref.PUBLIC_SALT if use_snapshots else ref.RUN_SALT
        try:
            report = run_submission(sub, cases, a, device, limits, salt=salt)
        except Refused as e:  # the grader cannot confine graded code here: nothing is graded, and it says why
            result.errors.append(str(e))
            result.tests = judge_all(a, cases, {}, {c.id: [] for c in cases}, {}, {})
            result.seconds = time.perf_counter() - t0
            return result
        outcomes, cell_errors = report.outcomes, report.cell_errors
        result.sandbox.extend(report.notes)  # instructors only, never in what students read
        result.flags = report.flags
        result.children = report.children
        # Loaded only now: the sandboxed child is forked from this process and must not find the
        # expected values in its memory.
        reference = ref.load_snapshots(a) if use_snapshots else ref.observations(a, cases, device)
    violations = static_violations(sub, {q.id: q.forbidden for q in a.questions}, a.owners)
    result.tests = judge_all(a, cases, outcomes, reference, cell_errors, violations)
    if diagnose and not result.errors:
        _diagnose(a, result, outcomes, cases, device, use_snapshots)
    result.seconds = time.perf_counter() - t0
    return result


def _diagnose(a: Assignment, result: GradeResult, outcomes: dict, cases: list, device: str, public: bool) -> None:
    """Name the mistakes the failing outputs show, for each question where a mistake could be named: some
    test failed with outputs or a message (not an unwritten cell, a time limit, a forbidden API)."""
    from . import diagnose, mutants
    from .check import UNWRITTEN

    worth = {t.case.question for t in result.tests if not t.passed and t.kind in ("wrong result", "error")
             and diagnose.signature(outcomes.get(t.case.id, {})) is not None}
    worth -= {t.case.question for t in result.tests
              if t.kind == "forbidden API" or any(s in t.message for s in UNWRITTEN)}
    if not worth:
        return
    if public:  # judged against the shipped snapshots: the shipped diagnoses, as students' checks
        found = [m for m in diagnose.read(a.diagnoses_path) if m.question in worth]
    else:
        found = [m for q in sorted(worth) for m in mutants.mistakes(a, q, cases, device)]
    hidden_shown = a.hidden_visibility != "hidden"
    named = diagnose.attach(result.tests, outcomes, found, lambda t: t.case.public or hidden_shown)
    result.diagnoses = {q: m.name for q, m in named.items()}


HEADERS = ("# MUTANT:", "# ATTACK:", "# VARIANT:")


def mutant_submission(a: Assignment, mutant: Path, text: str | None = None) -> tuple[str, Submission]:
    """The reference with a mutant's (or an attack's, or a variant's) cells substituted.

    The file starts with ``# MUTANT: <question>`` (or ``# ATTACK:`` or ``# VARIANT:``); returns
    that question and the submission.
    """
    text = mutant.read_text() if text is None else text
    heads = [line.split(":", 1) for line in text.splitlines() if line.startswith(HEADERS)]
    if not heads:
        raise ValueError(f"{mutant} has no `# MUTANT: <question>` (or VARIANT, ATTACK) header")
    target = heads[0][1].strip()
    sub = read_submission(a.solution_path)
    replaced = submission_from_cells(parse_percent(text)).graded
    if target not in replaced:
        raise ValueError(f"{mutant} has no `# GRADED: {target}` cell")
    sub.graded.update(replaced)
    return target, sub


def mutant_notebook(a: Assignment, mutant: Path) -> tuple[str, str]:
    """The reference notebook with a mutant's (or variant's) cell, as a student would save it: its question
    and the notebook's JSON text."""
    import json

    from .release import student_notebook

    question, sub = mutant_submission(a, mutant)
    nb = json.loads(student_notebook(a.solution_path, strip=False))
    for cell in nb["cells"]:
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code" and src.lstrip("\n").startswith(f"# GRADED: {question}"):
            cell["source"] = sub.graded[question].source
    return question, json.dumps(nb)


def grade_mutant(topic: str | Assignment, mutant: str | Path, device: str = "cpu", *,
                 whole: bool = False, diagnose: bool = False) -> tuple[str, GradeResult]:
    """Grade the reference with a mutant's (or variant's) cell: its question and the questions that build
    on it, or every question (``whole``). That no other question depends on it is proved once per
    question by ``grade_without``, for every mutant at once."""
    a = topic if isinstance(topic, Assignment) else load_assignment(topic)
    target, sub = mutant_submission(a, Path(mutant))
    questions = None if whole else {target} | a.dependents(target)
    return target, grade(a, sub, device, label=Path(mutant).name, questions=questions, diagnose=diagnose)


def grade_without(topic: str | Assignment, question: str, device: str = "cpu") -> GradeResult:
    """Grade the reference with one question's cell as students receive it (blank): every question that
    loses points then depends on it. A mutant or variant changes only that cell, so what this grade shows
    bounds which questions any of them can move."""
    a = topic if isinstance(topic, Assignment) else load_assignment(topic)
    sub = read_submission(a.solution_path)
    blank = read_submission(a.notebook_path).graded
    if question not in blank:
        raise ValueError(f"the released notebook of {a.id} has no `# GRADED: {question}` cell")
    sub.graded[question] = blank[question]
    return grade(a, sub, device, label=f"{a.id} without {question}")



def lost_elsewhere(a: Assignment, question: str, result: GradeResult) -> dict[str, tuple[float, float]]:
    """Questions that lost points in ``result`` although they neither are ``question`` nor declare that they
    build on it (``depends_on``): where a change to that one cell may not cost points."""
    allowed = {question} | a.dependents(question)
    return {q: (s, m) for q, (s, m) in result.questions.items() if q not in allowed and s < m}
