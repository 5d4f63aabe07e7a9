"""``python -m autograder``: a thin command line over ``autograder.api``."""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .results import GradeResult

# Ask NVML whether CUDA exists without initialising it: the grader forks after this.
os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")


def _device(spec: str) -> str:
    import torch

    if spec == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if spec.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("--device cuda: CUDA is not available on this machine")
    return spec


def cmd_grade(args) -> int:
    from .api import grade
    from .manifest import load_assignment

    load_assignment(args.topic)  # an unknown topic is said first
    if args.allow_root_child:
        from .sandbox import ALLOW_ROOT_CHILD

        ALLOW_ROOT_CHILD[0] = True
    if not args.submission.exists():  # a typo is not a student with zero points
        print(f"error: {args.submission} does not exist", file=sys.stderr)
        return 2
    if args.submission.is_dir():
        from .term_cli import grade_folder_cmd

        return grade_folder_cmd(args, load_assignment(args.topic), _device(args.device))
    if args.student or args.question:
        print("error: --student and --question regrade a class folder", file=sys.stderr)
        return 2
    result = grade(args.topic, args.submission, _device(args.device), public_only=args.public_only, diagnose=True)
    if args.out:
        path = result.write(args.out)
        print(f"wrote {path}")
    print(json.dumps(result.to_gradescope(), indent=2) if args.json else result.table(details=args.details))
    return 0


def cmd_check(args) -> int:
    """What students run: the public tests in this process, against the shipped snapshots (as ``check()``)."""
    from .check import run_check_command

    return run_check_command(args)


def cmd_release(args) -> int:
    from .manifest import list_topics, load_assignment, released_topics
    from .release import in_sync, release

    if args.student:
        from .bundle import build, wheel_name

        out = build(args.student, topics=args.topics or released_topics())
        if not args.no_verify:
            from .bundle import verify_installed

            print(f"checking {out} as a student receives it (a fresh venv from the folder alone, each notebook "
                  "with correct code run at smoke size) ...")
            problems = verify_installed(out)
            if problems:
                print("error: the student bundle fails as students would receive it:\n  " + "\n  ".join(problems),
                      file=sys.stderr)
                return 1
        print(f"wrote the student bundle {out} (notebooks, README.md, src/) and {out / wheel_name()}")
        return 0
    bad = []
    for topic in args.topics or list_topics():
        a = load_assignment(topic)
        if args.check:
            if not in_sync(a):
                bad.append(topic)
            continue
        print(f"wrote {release(a)}")
    if bad:
        print(f"out of date: {', '.join(bad)} (run `make release`)")
        return 1
    return 0


def cmd_snapshots(args) -> int:
    from .collect import collect
    from .manifest import list_topics, load_assignment
    from .reference import write_snapshots

    for topic in args.topics or list_topics():
        a = load_assignment(topic)
        print(f"wrote {write_snapshots(a, collect(a, hidden=False))} and {a.diagnoses_path.name}")
    return 0


def keeps_at_most(points: float) -> float:
    """The most a mutant that is wrong on every input may keep of a question worth ``points``: a third,
    rounded up to the whole hundredth of a point that scores are kept in."""
    return math.ceil(points * 100 / 3 - 1e-9) / 100


@dataclass
class MutantRow:
    """One mutant or variant graded: what it kept of its question, and whether that is what CI requires."""

    kind: str  # "mutant" or "variant"
    name: str
    target: str
    score: float
    points: float
    others: list[str]  # other questions that lost points and may not (not the target's dependents)
    headers: dict[str, str]
    result: GradeResult

    @property
    def share(self) -> float:
        return self.score / self.points if self.points else 0.0

    @property
    def corner(self) -> str | None:
        return self.headers.get("CORNER")

    @property
    def problem(self) -> str:
        """Empty when the row is as CI requires, else what is wrong."""
        if self.kind == "variant":
            return "A CORRECT VARIANT LOSES POINTS" if self.score < self.points or self.others else ""
        if self.score >= self.points:
            return "NOT CAUGHT"
        if self.others:
            return "LEAKS"
        if self.corner is None and self.score > keeps_at_most(self.points):
            return "KEEPS MORE THAN A THIRD (not marked # CORNER:)"
        return ""

    def deciding_tests(self) -> list[str]:
        """The tests that decided a problem: for a mutant that kept points, its question's tests and their
        outcome; for points lost where they may not be, the failing tests and the first line of why."""
        lines = []
        if self.kind == "mutant" and self.score > 0:
            for t in self.result.tests:
                if t.case.question == self.target:
                    outcome = "passed" if t.passed else f"FAILED ({t.kind})"
                    lines.append(f"{outcome:<24}{t.score:>5.2f}/{t.max_score:<5.2f} {t.case.name}")
        lost = set(self.others) | ({self.target} if self.kind == "variant" else set())
        for t in self.result.tests:
            if t.case.question in lost and not t.passed:
                why = (t.message or t.kind).strip().splitlines()[0][:160]
                lines.append(f"{'FAILED (' + t.kind + ')':<24}{0:>5.2f}/{t.max_score:<5.2f} {t.case.name}: {why}")
        return lines


def grade_rows(a, paths: list[Path], kind: str, device: str = "cpu", *, whole: bool = False) -> Iterator[MutantRow]:
    """Grade mutants (``kind="mutant"``) or variants one by one, as CI does (``api.grade_mutant``: the
    target question and what builds on it, or every question with ``whole``)."""
    from .api import grade_mutant, lost_elsewhere
    from .mutants import headers

    for path in paths:
        target, r = grade_mutant(a, path, device, whole=whole)
        s, m = r.questions[target]
        others = (list(lost_elsewhere(a, target, r)) if kind == "mutant"  # a variant may lose points nowhere
                  else [q for q, (qs, qm) in r.questions.items() if qs < qm])
        yield MutantRow(kind, path.stem, target, s, m, others, headers(path), r)


def cmd_mutants(args) -> int:
    """Grade mutants (each must lose points on its question only, and keep at most a third of them unless it
    is a corner case) and variants (full marks); show the tests that decided every problem."""
    from .manifest import load_assignment

    a = load_assignment(args.topic)
    kinds = [(kind, sorted(folder.glob("*.py"))) for kind, folder in (("mutant", a.mutants_dir),
                                                                       ("variant", a.variants_dir))]
    if args.only:
        kinds = [(k, [p for p in ps if any(fnmatch.fnmatch(p.stem, pat) for pat in args.only)]) for k, ps in kinds]
        if not any(ps for _, ps in kinds):
            print(f"no mutant or variant of {a.id} matches {' '.join(args.only)}", file=sys.stderr)
            return 2
    failures = 0
    for kind, paths in kinds:
        if not paths:
            continue
        print(f"{kind:<40}{'target':<16}{'on target':>12}  {'kept':>5}  {'corner':<7}elsewhere")
        for row in grade_rows(a, paths, kind, _device(args.device)):
            failures += bool(row.problem)
            corner = "yes" if row.corner is not None else "-" if kind == "mutant" else ""
            print(f"{row.name:<40}{row.target:<16}{row.score:>6.2f} / {row.points:<3g}  {row.share:>5.0%}  "
                  f"{corner:<7}{'lost ' + ', '.join(row.others) if row.others else '-'}"
                  f"{'   <-- ' + row.problem if row.problem else ''}")
            if row.problem or (kind == "mutant" and row.score > 0 and args.tests):
                for line in row.deciding_tests():
                    print(f"    {line}")
        print()
    if not args.only:
        for q, others in undeclared_dependents(a, _device(args.device)).items():
            failures += 1
            print(f"{q}: blanking its cell also costs points on {', '.join(others)}, which do not declare "
                  f"`depends_on = [\"{q}\"]`: their tests use the student's {q}")
    return 1 if failures else 0


def undeclared_dependents(a, device: str = "cpu") -> dict[str, list[str]]:
    """Questions whose tests lose points when another question's cell is blank although they do not declare
    that they build on it (``api.grade_without``): a mutant of that question could cost points there."""
    from .api import grade_without, lost_elsewhere

    out = {}
    for q in a.graded:
        lost = list(lost_elsewhere(a, q.id, grade_without(a, q.id, device)))
        if lost:
            out[q.id] = lost
    return out


def cmd_new_topic(args) -> int:
    from .collect import collect
    from .manifest import load_assignment
    from .reference import write_snapshots
    from .release import release
    from .scaffold import new_topic

    try:
        written = new_topic(args.topic, args.title)
    except (ValueError, FileExistsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    a = load_assignment(args.topic)
    written += [release(a), write_snapshots(a, collect(a, hidden=False))]
    for path in written:
        print(f"wrote {path.relative_to(a.repo)}")
    print(f"added {a.id} to course.toml and the README's table of topics. Next: replace the example question "
          f"(docs/authoring.md), then `make release HW={a.id}`, `make snapshots HW={a.id}` and "
          f"`make validate HW={a.id}`")
    return 0


def cmd_gradescope(args) -> int:
    from .gradescope import build, verify
    from .manifest import load_assignment

    a = load_assignment(args.topic)
    out = args.out or Path("build") / "gradescope" / f"{a.id}.zip"
    build(a, out)
    if not args.no_verify:
        print(f"checking {out} as Gradescope runs it (unpacked alone: reference full marks, blank zero) ...")
        problems = verify(out, a)
        if problems:
            out.unlink()
            print("error: the zip would fail on Gradescope, so it was not kept:\n  " + "\n  ".join(problems),
                  file=sys.stderr)
            return 1
    print(f"wrote {out} (upload it as the assignment's autograder)")
    return 0


def cmd_gradescope_prepare(args) -> int:
    from .gradescope import prepare

    prepare(args.topic, args.root)
    print(f"prepared the reference observations of {args.topic}")
    return 0


def cmd_gradescope_run(args) -> int:
    from .gradescope import run

    print(f"wrote {run(args.topic, args.root)}")
    return 0


def cmd_list(args) -> int:
    from .manifest import list_topics, load_assignment

    for topic in list_topics():
        a = load_assignment(topic)
        qs = ", ".join(f"{q.id} ({q.points:g}{' manual' if q.manual else ''})" for q in a.questions)
        print(f"{topic}: {a.title}\n  {qs}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    sp = p.add_subparsers(dest="cmd", required=True)

    g = sp.add_parser("grade", help="grade a submission with public and hidden tests")
    g.add_argument("topic")
    g.add_argument("submission", type=Path, help="a notebook, or a folder of submissions (one per student)")
    g.add_argument("--jobs", type=int, help="parallel workers for a folder (default: one per core)")
    g.add_argument("--regrade", action="store_true", help="grade again what the gradebook already has")
    g.add_argument("--device", default="cpu", help="cpu, cuda or auto (default cpu)")
    g.add_argument("--out", type=Path, help="write DIR/results.json (Gradescope schema); for a folder, the "
                   "gradebook, grades.csv and DIR/<student>/{results.json,feedback.md}")
    g.add_argument("--public-only", action="store_true")
    g.add_argument("--allow-root-child", action="store_true",
                   help="grade even where graded code would run as uid 0 able to change the host (no namespaces, "
                        "Python unreadable to other users): only on a machine you throw away")
    g.add_argument("--student", action="append", help="regrade only this student of the folder (repeatable)")
    g.add_argument("--question", help="regrade only this question of the folder (the rest of each row stays)")
    g.add_argument("--keep-missing", action="store_true", help="keep rows of students gone from the folder")
    g.add_argument("--replace", action="store_true", help="let --out, which holds another folder's grades, be "
                   "started again")
    g.add_argument("--policy-changed", action="store_true", help="regrade a class under a late policy other "
                   "than the one its gradebook was written with (otherwise refused)")
    g.add_argument("--json", action="store_true", help="print results.json instead of the table")
    g.add_argument("--details", action=argparse.BooleanOptionalAction, default=True,
                   help="list failing tests with their messages (default on)")
    g.set_defaults(func=cmd_grade)

    c = sp.add_parser("check", help="run the public tests on a saved notebook (what students do)")
    from .check import add_check_arguments

    add_check_arguments(c)
    c.set_defaults(func=cmd_check)

    r = sp.add_parser("release", help="write assignments/<topic>/<topic>.ipynb from the master")
    r.add_argument("topics", nargs="*")
    r.add_argument("--check", action="store_true", help="only verify the released notebooks are in sync")
    r.add_argument("--student", type=Path, metavar="DIR",
                   help="build the student bundle in DIR instead: notebooks and a wheel, no solution or hidden test")
    r.add_argument("--no-verify", action="store_true", help="with --student: skip running every notebook from "
                   "the bundle in a fresh venv")
    r.set_defaults(func=cmd_release)

    s = sp.add_parser("snapshots", help="write the public tests' reference observations")
    s.add_argument("topics", nargs="*")
    s.set_defaults(func=cmd_snapshots)

    nt = sp.add_parser("new-topic", help="the files of a new assignment (an example question that passes the "
                       "validation suite), its course.toml and README rows, its released notebook and snapshots")
    nt.add_argument("topic")
    nt.add_argument("--title", help="the assignment's title (default: made from the id)")
    nt.set_defaults(func=cmd_new_topic)

    m = sp.add_parser("mutants", help="grade the mutants (caught?) and correct variants (full marks?) of a topic")
    m.add_argument("topic")
    m.add_argument("only", nargs="*", help="mutant names or shell patterns (gpt_*); all when omitted")
    m.add_argument("--device", default="cpu")
    m.add_argument("--tests", action=argparse.BooleanOptionalAction, default=True,
                   help="list the tests of every mutant that kept points, with their outcome (default on; "
                   "problems always list the tests that decided them)")
    m.set_defaults(func=cmd_mutants)

    gs = sp.add_parser("gradescope", help="build the Gradescope autograder zip of a topic")
    gs.add_argument("topic")
    gs.add_argument("--out", type=Path)
    gs.add_argument("--no-verify", action="store_true", help="skip grading the reference and the blank from the zip")
    gs.set_defaults(func=cmd_gradescope)

    gp = sp.add_parser("gradescope-prepare", help="what setup.sh calls: the reference observations, once")
    gp.add_argument("topic")
    gp.add_argument("--root", type=Path, default=Path("/autograder"))
    gp.set_defaults(func=cmd_gradescope_prepare)

    gr = sp.add_parser("gradescope-run", help="what run_autograder calls inside Gradescope")
    gr.add_argument("topic")
    gr.add_argument("--root", type=Path, default=Path("/autograder"))
    gr.set_defaults(func=cmd_gradescope_run)

    sp.add_parser("list", help="topics and questions").set_defaults(func=cmd_list)
    from .term_cli import register

    register(sp)  # scores, report, similarity, written

    args = p.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # instructor-facing: one clear line, not a traceback
        from .bundle import BundleError
        from .collect import CollectionError
        from .manifest import ManifestError
        from .reference import ReferenceFailure
        from .release import ReleaseError
        from .roster import RosterError
        from .scores import ScoresError

        if isinstance(e, (CollectionError, ManifestError, ReferenceFailure, BundleError, ReleaseError, RosterError,
                          ScoresError)):
            print(f"error: {e}", file=sys.stderr)
            return 2
        raise
