"""Grade each topic's reference with several fresh grading salts: every one must score full marks.

Grading draws its test inputs from a salt per grading run, so a hidden or public test must hold for
every seed, not only for the one CI uses. `python scripts/seed_sweep.py [topic ...] [--runs N]`.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's code


def main() -> int:
    import autograder.reference as ref
    from autograder.api import grade
    from autograder.manifest import list_topics, load_assignment

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("topics", nargs="*")
    p.add_argument("--runs", type=int, default=4)
    args = p.parse_args()
    failed = 0
    for topic in args.topics or list_topics():
        a = load_assignment(topic)
        for _ in range(args.runs):
            ref.RUN_SALT = secrets.token_hex(8)
            try:
                r = grade(a, a.solution_path)
                verdict = "ok" if r.score == r.max_score else f"{r.score:g}/{r.max_score:g}"
            except ref.ReferenceFailure as e:
                verdict = "FAIL " + str(e).replace("\n", " | ")[:600]
            failed += not verdict == "ok"
            print(f"{topic} salt {ref.RUN_SALT}: {verdict}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
