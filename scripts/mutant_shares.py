"""The share of its question's points each mutant keeps, per topic (graded as CI grades it).

A mutant that is wrong on every input may keep at most a third of its question's points; one marked
`# CORNER: <the edge case>` (wrong on one edge case only) may keep more.

    python scripts/mutant_shares.py [topic ...] [--json FILE] [--before FILE] [--all-tests]

Each mutant is graded as CI grades it: its own question's tests and those of the questions that build on
it; `--all-tests` grades every test of the topic and also reports points lost on other questions (LEAKS).

`--json FILE` also writes the shares as JSON; `--before FILE` (such a file, written on another
commit) adds a column with the share each mutant kept there.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's code


def main() -> int:
    from autograder.cli import grade_rows
    from autograder.manifest import list_topics, load_assignment

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("topics", nargs="*")
    p.add_argument("--json", type=Path, help="write {topic: {mutant: {target, score, points, corner, problem, "
                   "tests: {test id: [passed, score, max score]}}}} here")
    p.add_argument("--before", type=Path, help="a --json file from another commit, shown as a column")
    p.add_argument("--all-tests", action="store_true", help="run every test of the topic (slow), as CI does")
    args = p.parse_args()
    import autograder.reference as reference

    # the seeds students' checks use, as the validation suite does: grading draws a fresh salt per run, and
    # a share measured twice must be the same share
    reference.RUN_SALT = reference.PUBLIC_SALT
    before = json.loads(args.before.read_text()) if args.before else {}
    out: dict[str, dict] = {}
    bad = 0
    for topic in args.topics or list_topics():
        a = load_assignment(topic)
        old = before.get(topic, {})
        print(f"## {topic}\n")
        print("| mutant | question | before | kept | share | CORNER |" if before else
              "| mutant | question | kept | share | CORNER |")
        print("| --- | --- | ---: | ---: | ---: | --- |" if before else "| --- | --- | ---: | ---: | --- |")
        rows = out.setdefault(topic, {})
        for row in grade_rows(a, sorted(a.mutants_dir.glob("*.py")), "mutant", whole=args.all_tests):
            rows[row.name] = {"target": row.target, "score": row.score, "points": row.points,
                              "corner": row.corner, "problem": row.problem,
                              "tests": {t.case.id: [t.passed, t.score, t.max_score] for t in row.result.tests
                                        if t.case.question == row.target},
                              # what failed and how (with the wrong values): equal for two mutants whose outputs a
                              # student's failing outputs cannot tell apart (`# DIAGNOSE: no`)
                              "failures": {t.case.id: t.message for t in row.result.tests
                                           if t.case.question == row.target and not t.passed},
                              "diagnose": row.headers.get("DIAGNOSE")}
            was = old.get(row.name)
            was_text = f"{was['score'] / was['points']:.0%}" if was else "new"
            flag = f" **{row.problem}**" if row.problem else ""
            cells = [row.name, row.target, *([was_text] if before else []), f"{row.score:.2f} / {row.points:g}",
                     f"{row.share:.0%}{flag}", row.corner or ""]
            print("| " + " | ".join(cells) + " |", flush=True)
            bad += bool(row.problem)
        gone = sorted(set(old) - set(rows))
        if gone:
            print(f"\n(removed since: {', '.join(gone)})")
        print()
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
