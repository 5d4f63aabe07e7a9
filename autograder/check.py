"""``check("adam")`` inside a student's notebook: the public tests against the live kernel.

This runs in the student's own kernel (trust matters only when grading), on the names the
student has defined so far, and judges observations against the shipped snapshots exactly as
the grader judges them. It changes no random-number state of the student's session.
"""

from __future__ import annotations

import sys

from .collect import collect
from .manifest import find_topic_for_question, load_assignment
from .notebook import StudentModule
from .reference import load_snapshots
from .results import GradeResult, judge_all
from .runner import run_case


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


def check(question: str | None = None, *, topic: str | None = None, device: str = "cpu",
          quiet: bool = False) -> CheckResult:
    """Run the public tests of ``question`` (or of every question) and print what they found."""
    import torch

    from shared.seed import temp_seed

    a = load_assignment(topic or find_topic_for_question(question))
    cases = [c for c in collect(a, hidden=False) if question is None or c.question == question]
    snapshots = load_snapshots(a)
    cases = [c for c in cases if c.id in snapshots]
    sub = KernelModule("notebook", a.owners, {})
    dev = torch.device(device)
    forbidden = {q.id: q.forbidden for q in a.questions}
    outcomes = {}
    with temp_seed(0):
        for c in cases:
            outcomes[c.id] = run_case(c, sub, dev, forbidden=forbidden.get(c.question, ()),
                                      time_limit=a.question(c.question).time_limit)
    result = CheckResult(a, "notebook", device)
    result.tests = judge_all(a, cases, outcomes, snapshots, {}, {})
    if not quiet:
        for t in result.tests:
            mark = "\N{CHECK MARK}" if t.passed else "\N{BALLOT X}"
            print(f"{mark} {t.case.name}")
            if not t.passed:
                print("    " + t.message.replace("\n", "\n    "))
        n = sum(t.passed for t in result.tests)
        print(f"{n}/{len(result.tests)} public tests passed" + (" (hidden tests run when you submit)" if n else ""))
    return result
