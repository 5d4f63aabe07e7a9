"""The instructors' commands around grading: scores, report, similarity, written answers.

Registered by ``cli.main``; each command is a thin layer over its module.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from .roster import RosterError

GRADES = Path("build") / "grades"


def grades_dir(topic: str, out: Path | None) -> Path:
    return out or GRADES / topic


def grade_folder_cmd(args, a, device: str) -> int:
    """``grade TOPIC FOLDER``: the batch, with the roster, one-student regrades and pruning around it."""
    from .batch import find_submissions, grade_folder
    from .roster import after_grading, before_grading, describe_policy

    out = grades_dir(a.id, args.out)
    before_grading(a, args.submission, out, replace=args.replace, policy_changed=args.policy_changed)
    rule, where = describe_policy(a.id, a.repo)
    print(f"late policy: {rule} (from {where})")
    folder, regrade = args.submission, args.regrade
    with tempfile.TemporaryDirectory(prefix="regrade-") as tmp:
        if args.student:
            items = {(p.stem if p.is_file() else p.name): p for p in args.submission.iterdir()}
            names = {e.student for e in find_submissions(args.submission, a.id)}
            missing = sorted(set(args.student) - names)
            if missing:
                raise RosterError(f"no submission of {', '.join(missing)} in {args.submission}")
            folder, regrade = Path(tmp) / "only", True
            folder.mkdir()
            for s in args.student:  # a folder holding only these students' submissions
                os.symlink(items[s].resolve(), folder / items[s].name)
        if args.question:
            from .regrade import regrade_question

            if not (out / "gradebook.sqlite").exists():
                raise RosterError(f"--question regrades a graded class: nothing graded in {out} yet")
            summary = regrade_question(a, folder, out, args.question, Path(tmp) / "scratch", device=device,
                                       jobs=args.jobs)
        else:
            summary = grade_folder(a, folder, out, device=device, jobs=args.jobs, regrade=regrade)
    kept = after_grading(a, args.submission, out, keep_missing=args.keep_missing or bool(args.student))
    print(f"graded {summary['graded']} of {summary['submissions']} submissions "
          f"({summary['skipped']} already in the gradebook) in {summary['seconds']:.1f} s "
          f"with {summary['jobs']} workers; gradebook, grades.csv and per-student feedback in {out}")
    for name, why in summary.get("ignored", []):
        print(f"ignored {name}: {why}")
    errors, warnings = summary.get("errors", 0), summary.get("warnings", 0)
    print(f"{summary['submissions'] - errors} graded, {errors} error{'s' * (errors != 1)}, "
          f"{warnings} warning{'s' * (warnings != 1)}")
    if kept["dropped"]:
        print(f"dropped {len(kept['dropped'])} students no longer in {args.submission}: {', '.join(kept['dropped'])} "
              "(--keep-missing keeps them)")
    if not summary["submissions"]:
        print(f"error: no submission found in {args.submission} (notebooks, folders or zips)", file=sys.stderr)
        return 1
    return 1 if errors else 0


def cmd_scores(args) -> int:
    from .manifest import load_assignment
    from .scores import ScoresError, import_scores, lms_csv, override

    if args.action == "export":
        path = args.lms or (args.root / "lms.csv")
        print(f"wrote {lms_csv(args.root, path)}")
        return 0
    a = load_assignment(args.topic)
    out = grades_dir(a.id, args.out)
    if args.action == "import":
        n = import_scores(a, args.csv, out, args.by)
        print(f"imported {n['scores']} written scores of {n['students']} students; {out / 'grades.csv'} updated")
    elif args.action == "overrides":
        from .scores import list_overrides

        print("\n".join(list_overrides(a, out)) or f"no override in {out}")
    else:
        if (args.delta is None) == (not args.remove):
            raise ScoresError("give --delta (with --reason), or --remove")
        path, note = override(a, out, args.student, args.question, None if args.remove else args.delta,
                              args.reason or "", args.by)
        print(f"{note}; {path} and the student's results.json and feedback.md updated")
    return 0


def cmd_report(args) -> int:
    from .report import course_report, topic_report

    if args.course:
        print(f"wrote {course_report(args.root, args.out or args.root / 'report')}")
        return 0
    if not args.topic:
        raise RosterError("name a topic, or pass --course")
    grades = args.grades or grades_dir(args.topic, None)
    print(f"wrote {topic_report(args.topic, grades, args.out or grades / 'report')}")
    return 0


def cmd_similarity(args) -> int:
    from .manifest import load_assignment
    from .similarity import similarity_report

    a = load_assignment(args.topic)
    _exists(args.folder, folder=True)
    res = similarity_report(a, args.folder, args.out, threshold=args.threshold)
    how = f"at or above {args.threshold:g}" if args.threshold is not None else "above each question's own threshold"
    print(f"compared {res['students']} submissions on {res['questions']} questions: {len(res['flagged'])} pairs "
          f"{how}; wrote {res['html']}")
    for f in res["flagged"]:
        print(f"  {f['question']:<16}{f['a']} ~ {f['b']}  {f['score']:.2f} (threshold "
              f"{res['thresholds'][f['question']]:.2f})")
    return 0


def cmd_written(args) -> int:
    from .manifest import load_assignment
    from .written import render_written

    a = load_assignment(args.topic)
    _exists(args.path)
    res = render_written(a, args.path, args.out, anonymise=not args.names, pdf=args.pdf)
    print(res["message"])
    return 0


def _exists(path: Path, folder: bool = False) -> None:
    if not path.exists():
        raise RosterError(f"{path} does not exist")
    if folder and not path.is_dir():
        raise RosterError(f"{path} is not a folder of submissions")


def register(sp) -> None:
    s = sp.add_parser("scores", help="written scores, overrides and the LMS export")
    ssp = s.add_subparsers(dest="action", required=True)
    si = ssp.add_parser("import", help="merge TA scores of written questions (CSV) into the gradebook")
    si.add_argument("topic")
    si.add_argument("csv", type=Path)
    si.add_argument("--out", type=Path, help=f"the graded folder's output (default {GRADES}/<topic>)")
    si.add_argument("--by", help="who entered the scores when the CSV has no grader column (default: you)")
    so = ssp.add_parser("override", help="adjust one student's question by some points, with a reason")
    so.add_argument("topic")
    so.add_argument("--student", required=True)
    so.add_argument("--question", required=True)
    so.add_argument("--delta", type=float, help="points added (negative: taken away), capped to the question's")
    so.add_argument("--reason", help="why: the student reads it in results.json and feedback.md")
    so.add_argument("--remove", action="store_true", help="remove this student's override on this question")
    so.add_argument("--by", help="who (kept for staff, never shown to the student; default: you)")
    so.add_argument("--out", type=Path)
    sl = ssp.add_parser("overrides", help="list a topic's overrides")
    sl.add_argument("topic")
    sl.add_argument("--out", type=Path)
    se = ssp.add_parser("export", help="the course-wide LMS CSV (Canvas, Moodle) over every graded assignment")
    se.add_argument("--root", type=Path, default=GRADES, help="where each assignment was graded (ROOT/<topic>)")
    se.add_argument("--lms", type=Path, help="the CSV to write (default ROOT/lms.csv)")
    s.set_defaults(func=cmd_scores)

    r = sp.add_parser("report", help="how the class did: an HTML page with plots")
    r.add_argument("topic", nargs="?")
    r.add_argument("--grades", type=Path, help=f"the graded output (default {GRADES}/<topic>)")
    r.add_argument("--course", action="store_true", help="the course-wide view over every assignment under --root")
    r.add_argument("--root", type=Path, default=GRADES)
    r.add_argument("--out", type=Path)
    r.set_defaults(func=cmd_report)

    m = sp.add_parser("similarity", help="pairwise similarity of each graded cell across a class")
    m.add_argument("topic")
    m.add_argument("folder", type=Path)
    m.add_argument("--out", type=Path, required=True)
    m.add_argument("--threshold", type=float, default=None,
                   help="flag pairs at or above this similarity on every question (default: a threshold per "
                        "question from the class's own distribution of pair scores)")
    m.set_defaults(func=cmd_similarity)

    w = sp.add_parser("written", help="render students' written answers (HTML; PDF where an engine exists)")
    w.add_argument("topic")
    w.add_argument("path", type=Path, help="a notebook or a class folder")
    w.add_argument("--out", type=Path, required=True)
    w.add_argument("--names", action="store_true", help="show students' names on the per-question pages")
    w.add_argument("--pdf", action=argparse.BooleanOptionalAction, default=True,
                   help="also write PDFs when a PDF engine is installed (default on)")
    w.set_defaults(func=cmd_written)
