"""Per topic, how many mutants feedback names correctly: graded as a submission (every test, as the grader
does) and in students' checks (the public tests, from the shipped ``diagnoses.json``).

    python scripts/diagnosis_shares.py [topic ...]

A mutant is *named* when the diagnosis of its own outputs is itself; *opted out* ones (``# DIAGNOSE: no``)
are left out of both counts. In a check, a mutant that fails no public test cannot be named.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's code


def main(topics: list[str]) -> int:
    from autograder import diagnose, mutants, reference
    from autograder.collect import collect
    from autograder.manifest import list_topics, load_assignment
    from autograder.supervisor import warm_up

    reference.RUN_SALT = reference.PUBLIC_SALT  # the seeds of the validation suite
    print("| topic | mutants | opted out | named when graded | named by check() | seconds |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for topic in topics or list_topics():
        a = load_assignment(topic)
        warm_up(a.solution_path)
        t0 = time.perf_counter()
        cases = collect(a)
        every = sorted(a.mutants_dir.glob("*.py"))
        shipped = diagnose.read(a.diagnoses_path)
        graded = public = total = 0
        for q in a.graded:
            found = mutants.mistakes(a, q.id, cases, "cpu")
            total += len(found)
            graded += sum(diagnose.diagnose(m.tests, found) is m for m in found)
            mine = [m for m in shipped if m.question == q.id]
            public += sum(diagnose.diagnose(m.tests, mine) is m for m in mine)
        seconds = time.perf_counter() - t0
        print(f"| {topic} | {len(every)} | {len(every) - total} | {graded} of {total} | {public} of {total} "
              f"| {seconds:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
