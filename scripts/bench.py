"""`make bench`: how long and how much memory grading takes.

Measures, for one assignment:
- cold: a fresh `python -m autograder grade` process per submission (what a naive Gradescope
  run pays), first with an empty reference cache, then with it warm;
- warm: submissions graded one after another in one process that has already imported torch
  (each still in its own sandboxed child), mixing the reference, the blank template and mutants.
Peak memory is the largest resident set of the grader or any child it waited for.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")


def cold(topic: str, submission: str, cache: str) -> tuple[float, float]:
    env = {**os.environ, "AUTOGRADER_CACHE": cache}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "autograder", "grade", topic, submission, "--no-details"],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main(topic: str = "optimizers") -> int:
    from autograder.api import grade, mutant_submission
    from autograder.manifest import load_assignment

    a = load_assignment(topic)
    grade(a, a.solution_path)  # reference observations into the cache
    subs = [("reference", a.solution_path), ("blank", a.notebook_path)]
    subs += [(p.stem, mutant_submission(a, p)[1]) for p in sorted(a.mutants_dir.glob("*.py"))]
    times = []
    t0 = time.perf_counter()
    for _name, sub in subs:
        t = time.perf_counter()
        grade(a, sub)
        times.append(time.perf_counter() - t)
    total = time.perf_counter() - t0
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"warm, {len(subs)} submissions in one process: {total:.2f} s, per submission mean "
          f"{statistics.mean(times):.3f} s, median {statistics.median(times):.3f} s, max {max(times):.3f} s")
    print(f"peak RSS: warm grader {parent:.0f} MB, largest sandboxed child {child:.0f} MB")

    with tempfile.TemporaryDirectory() as cache:
        t_empty, _ = cold(topic, str(a.solution_path), cache)
        t_cached, peak = cold(topic, str(a.solution_path), cache)
    print(f"cold, empty reference cache : {t_empty:6.2f} s (reference computed, then the submission graded)")
    print(f"cold, reference cached      : {t_cached:6.2f} s per submission, peak RSS {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
