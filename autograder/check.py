"""``check("adam")`` inside a student's notebook, and ``python -m autograder check`` on a saved one.

Both run the public tests in the student's own process (trust matters only when grading) and
judge observations against the shipped snapshots exactly as the grader judges them. In a kernel
the tests see the names the student has defined so far; from the command line they see the
module built from the notebook's graded cells. Neither changes the student's random state.

What a student reads: one line per question that is not written yet (not one per test), the
compile error of a cell that does not compile, the valid question ids when one is misspelt,
the failing tests' messages, and the summary once. This module and what it imports ship in the
student bundle: nothing here may need the grading engine (sandbox, reference, solutions).
"""

from __future__ import annotations

import argparse
import json
import sys
import types
from pathlib import Path

from . import diagnose
from .collect import collect
from .manifest import Assignment, ManifestError, list_topics, load_assignment
from .notebook import Cell, NotebookError, StudentModule, build_module, describe_exception, read_submission
from .results import GradeResult, TestResult, judge_all, scrub_paths
from .runner import run_case
from .snapshots import SnapshotError
from .snapshots import load as load_snapshots

PASS, FAIL = "\N{CHECK MARK}", "\N{BALLOT X}"
UNWRITTEN = ("not implemented yet", "is not defined; define it in the cell")
_CURRENT: list[str] = []  # the assignment the notebook's setup cell named


class CheckError(Exception):
    """Why check() could not run (a misspelt question, an unknown notebook); one line for the student."""


def use(assignment: str) -> None:
    """Remember which assignment this kernel's notebook is, and give torch a thread count that stays fast
    on a busy machine (``shared.device.set_cpu_threads``); called by the released setup cell."""
    from shared.device import set_cpu_threads

    load_assignment(assignment)  # fail here, loudly, if the bundle lacks it
    _CURRENT[:] = [assignment]
    set_cpu_threads()


class KernelModule(StudentModule):
    """``sub`` as a live view of the notebook's namespace (``__main__``)."""

    def __getattr__(self, name: str):
        ns = sys.modules["__main__"].__dict__
        if name in ns:
            return ns[name]
        return super().__getattr__(name)

    def __setattr__(self, name: str, value) -> None:  # tests may swap a helper, then restore it
        sys.modules["__main__"].__dict__[name] = value


class CheckResult(GradeResult):
    def __repr__(self) -> str:
        passed = sum(t.passed for t in self.tests)
        return f"<check: {passed}/{len(self.tests)} public tests passed>"

    def _ipython_display_(self) -> None:
        """Jupyter, VS Code and Colab show a cell's last value: check() has printed its summary already."""

    @property
    def passed(self) -> bool:
        return bool(self.tests) and all(t.passed for t in self.tests) and not self.errors


# ---------------------------------------------------------------------------- which assignment


def _topic(question: str | None, topic: str | None) -> str:
    if topic:
        return topic
    if _CURRENT:
        return _CURRENT[0]
    named = getattr(sys.modules.get("__main__"), "COURSE_ASSIGNMENT", None)
    if isinstance(named, str):
        return named
    topics = list_topics()
    if question:
        hits = [t for t in topics if any(q.id == question for q in load_assignment(t).questions)]
        if len(hits) == 1:
            return hits[0]
    if len(topics) == 1:
        return topics[0]
    raise CheckError("check() does not know which assignment this notebook is: run the notebook's first "
                     "cell (the setup cell), or pass topic=\"<assignment>\"")


def _question(a: Assignment, question: str | None) -> None:
    if question is None:
        return
    ids = [q.id for q in a.graded]
    if question not in ids:
        manual = [q.id for q in a.questions if q.manual]
        extra = f" ({', '.join(manual)} {'is' if len(manual) == 1 else 'are'} graded by course staff)" if manual else ""
        raise CheckError(f"{a.id} has no autograded question {question!r}; "
                         f"use one of: {', '.join(ids)}{extra}")


# ---------------------------------------------------------------------------- running


def _kernel_cell_errors(a: Assignment) -> dict[str, str]:
    """Graded cells the kernel last ran that do not compile: their names are missing or stale."""
    ns = sys.modules["__main__"].__dict__
    history = ns.get("In") or ns.get("_ih") or []
    last: dict[str, str] = {}
    for src in history if isinstance(history, list) else []:
        if isinstance(src, str):
            q = Cell("code", src, 0).question
            if q:
                last[q] = src
    errors = {}
    for q, src in last.items():
        try:
            compile(src, f"<GRADED: {q}>", "exec", dont_inherit=True)
        except SyntaxError as e:
            errors[q] = describe_exception(e)
    return errors


def _run(a: Assignment, sub, question: str | None, device: str, skip: set[str]) -> list[TestResult]:
    import torch

    from shared.seed import temp_seed

    try:
        snapshots = load_snapshots(a.snapshots_path)
    except SnapshotError as e:
        raise CheckError(str(e)) from None
    cases = [c for c in collect(a, hidden=False)
             if (question is None or c.question == question) and c.id in snapshots and c.question not in skip]
    dev = torch.device(device)
    forbidden = {q.id: q.forbidden for q in a.questions}
    outcomes = {}
    with temp_seed(0):
        for c in cases:
            outcomes[c.id] = run_case(c, sub, dev, forbidden=forbidden.get(c.question, ()),
                                      time_limit=a.question(c.question).time_limit)
    results = judge_all(a, cases, outcomes, snapshots, {}, {})
    diagnose.attach(results, outcomes, diagnose.read(a.diagnoses_path))  # the mistake failing outputs show
    return results


def check(question: str | None = None, *, topic: str | None = None, device: str = "cpu",
          quiet: bool = False) -> CheckResult | None:
    """Run the public tests of ``question`` (or of every question) on this notebook and say what they found."""
    try:
        a = load_assignment(_topic(question, topic))
        _question(a, question)
    except (CheckError, ManifestError) as e:
        if quiet:
            raise
        print(f"{FAIL} {scrub_paths(str(e))}")
        return None
    errors = _kernel_cell_errors(a)
    if question is not None:
        errors = {q: e for q, e in errors.items() if q == question}
    result = CheckResult(a, "notebook", device)
    result.tests = _run(a, KernelModule("notebook", a.owners, dict(errors)), question, device, set(errors))
    if not quiet:
        print(report(result, question, errors))
    return result


def check_notebook(path: str | Path, *, question: str | None = None, topic: str | None = None,
                   device: str = "cpu") -> tuple[CheckResult, str]:
    """The public tests on a saved notebook (``python -m autograder check``): the result and its report."""
    path = Path(path)
    a = load_assignment(topic or notebook_assignment(path) or _topic_from_files(path))
    _question(a, question)
    try:
        submission = read_submission(path)
    except NotebookError as e:
        raise CheckError(str(e)) from None
    forbidden = {q.id: q.forbidden for q in a.questions}
    skip = {q.id for q in a.questions if question is not None and q.id != question}
    for topic in dict.fromkeys([a.id, *list_topics()]):  # every assignment's public tests are registered before
        collect(load_assignment(topic), hidden=False)     # the first build freezes the trusted set for this process
    module = build_module(submission, a.owners, skip=skip, forbidden=forbidden)
    errors = {q: e for q, e in module._errors.items() if q != "_imports" and q not in skip}
    result = CheckResult(a, path.name, device)
    if not set(submission.graded) & {q.id for q in a.graded}:
        result.errors.append(f"{path.name} has none of the graded cells of {a.id}: is it the right notebook?")
    if "_imports" in module._errors:
        result.notes.append(f"an import cell failed: {module._errors['_imports']}")
    result.notes.extend(submission.warnings)
    result.tests = _run(a, module, question, device, set(errors))
    return result, report(result, question, errors)


def notebook_assignment(path: Path) -> str | None:
    """The assignment a notebook was released for (its ``course.assignment`` metadata), if any."""
    try:
        meta = json.loads(Path(path).read_text()).get("metadata", {})
    except (OSError, ValueError, AttributeError):
        return None
    course = meta.get("course") if isinstance(meta, dict) else None
    found = course.get("assignment") if isinstance(course, dict) else None
    return found if isinstance(found, str) else None


def _topic_from_files(path: Path) -> str:
    """For notebooks released before the metadata existed: the folder's manifest, else the file name."""
    manifest = path.resolve().parent / "assignment.toml"
    if manifest.exists():
        return load_assignment(manifest).id
    if path.stem in list_topics():
        return path.stem
    raise CheckError(f"{path.name} does not say which assignment it is: pass --topic <assignment>")


# ---------------------------------------------------------------------------- what the student reads


def _unwritten(t: TestResult) -> bool:
    return not t.passed and any(s in t.message for s in UNWRITTEN)


def report(result: GradeResult, question: str | None = None, cell_errors: dict[str, str] | None = None) -> str:
    """The student's report: per question, one line when it is not written or does not compile."""
    a, cell_errors = result.assignment, cell_errors or {}
    lines = [f"{FAIL} {e}" for e in result.errors]
    waiting = 0
    for q in a.graded:
        if question is not None and q.id != question:
            continue
        tests = [t for t in result.tests if t.case.question == q.id]
        if q.id in cell_errors:
            how = "does not compile" if cell_errors[q.id].startswith("SyntaxError") else "failed when it ran"
            lines.append(f"{FAIL} {q.id}: the `# GRADED: {q.id}` cell {how}: {scrub_paths(cell_errors[q.id])}")
            waiting += 1
        elif tests and all(_unwritten(t) for t in tests):
            lines.append(f"{FAIL} {unwritten_line(q.id)} ({len(tests)} public test{'s' if len(tests) > 1 else ''} "
                         "waiting)")
            waiting += 1
        else:
            for t in tests:
                lines.append(f"{PASS if t.passed else FAIL} {t.case.name}")
                if not t.passed:
                    lines.append("    " + scrub_paths(t.message).replace("\n", "\n    "))
                    if t.diagnosis:
                        lines.append(f"    {t.diagnosis}")
    lines += [f"note: {scrub_paths(n)}" for n in result.notes]
    n, total = sum(t.passed for t in result.tests), len(result.tests)
    scope = f"{question}: " if question else ""
    tail = " (hidden tests run when you submit)" if n == total and total else ""
    if waiting and not question:
        tail = f"; {waiting} question{'s' if waiting > 1 else ''} still to write"
    lines.append(f"{scope}{n}/{total} public tests passed{tail}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder check NOTEBOOK [--question q]`` (the student bundle's command line)."""
    p = argparse.ArgumentParser(prog="python -m autograder", description="Run the public tests on a saved notebook.")
    sp = p.add_subparsers(dest="cmd", required=True)
    c = sp.add_parser("check", help="run the public tests on a saved notebook")
    add_check_arguments(c)
    args = p.parse_args(argv)
    return run_check_command(args)


def add_check_arguments(c: argparse.ArgumentParser) -> None:
    c.add_argument("notebook", type=Path)
    c.add_argument("--question", help="run only this question's tests")
    c.add_argument("--topic", help="the assignment (default: the one the notebook was released for)")
    c.add_argument("--device", default="cpu")


def run_check_command(args) -> int:
    try:
        result, text = check_notebook(args.notebook, question=args.question, topic=args.topic, device=args.device)
    except (CheckError, ManifestError) as e:
        print(f"error: {scrub_paths(str(e))}", file=sys.stderr)
        return 2
    print(text)
    return 0 if result.passed else 1


class _CallableModule(types.ModuleType):
    """Importing ``autograder.check`` binds the package attribute ``check`` to this module, shadowing the
    function (``from autograder import check`` after the setup cell would get the module): calling the
    module calls the function, so both spellings work."""

    def __call__(self, question: str | None = None, **kwargs):
        return check(question, **kwargs)


sys.modules[__name__].__class__ = _CallableModule


def unwritten_line(question: str) -> str:
    return f"{question}: not implemented yet; write the cell that starts with `# GRADED: {question}`"


def require(*questions: str) -> None:
    """First line of an experiment cell: stop with one clear line, before any figure is drawn, when a
    question the experiment uses is not written yet (its cell, as last run, still has the template's
    ``raise NotImplementedError``) or its cell has not been run."""
    ns = sys.modules["__main__"].__dict__
    history = ns.get("In") or ns.get("_ih") or []
    last: dict[str, str] = {}
    for src in history if isinstance(history, list) else []:
        if isinstance(src, str) and (q := Cell("code", src, 0).question):
            last[q] = src
    for q in questions:
        if q in last and f'raise NotImplementedError("{q}: ' in last[q]:
            raise NotImplementedError(f"{unwritten_line(q)} first: this experiment uses it") from None
        a = load_assignment(_CURRENT[0]) if _CURRENT else None
        names = [n for n, owner in (a.owners.items() if a else ()) if owner == q]
        missing = [n for n in names if n not in ns]
        if missing:
            raise NotImplementedError(f"{q}: `{missing[0]}` is not defined: run the cell that starts with "
                                      f"`# GRADED: {q}` first (this experiment uses it)") from None
