"""`make bench`: how long and how much memory grading takes.

Measures, for one assignment:
- batch: a synthetic class of 120 notebooks (reference, blank, every mutant, repeated) graded as
  a folder by forked workers, against a cold `python -m autograder grade` process per submission
  (timed on a sample and extrapolated), with what is done once per batch (start-up, the reference, the
  mistakes feedback names) apart from the grading;
- cold: a fresh `python -m autograder grade` process per submission (what a naive Gradescope
  run pays), first with an empty reference cache, then with it warm;
- warm: submissions graded one after another in one process that has already imported torch
  (each still in its own sandboxed child), mixing the reference, the blank template and mutants;
- per question: its share of the submission's sandboxed child (sandbox set-up, module build), the fork
  of its own process and its tear-down, beside its tests' own compute (the reference, which runs to the end);
- gradescope cold: the zip unpacked and prepared as setup.sh does, then `run_autograder` in a fresh
  process per run, against `python -c "import torch"` in the same runs (the cold ratio).
Peak memory is the largest resident set of the grader or any child it waited for.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
# Run this checkout's code, whatever the virtual environment's editable install points at (a second
# checkout run with the first one's .venv must not grade, or write caches into, the first one).
CHECKOUT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(CHECKOUT))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CHECKOUT), os.environ.get("PYTHONPATH")]))


def cold(topic: str, submission: str, cache: str) -> tuple[float, float]:
    env = {**os.environ, "AUTOGRADER_CACHE": cache}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "autograder", "grade", topic, submission, "--no-details"],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def write_ipynb(sub, path) -> None:
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": c.source}
             for c in [*sub.imports, *sub.graded.values()]]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


def batch(a, size: int = 120, cold_sample: int = 6) -> None:
    from autograder.api import mutant_submission
    from autograder.batch import grade_folder
    from autograder.notebook import read_submission

    kinds = [("reference", read_submission(a.solution_path)), ("blank", read_submission(a.notebook_path))]
    kinds += [(p.stem, mutant_submission(a, p)[1]) for p in sorted(a.mutants_dir.glob("*.py"))]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        folder.mkdir()
        for i in range(size):
            name, sub = kinds[i % len(kinds)]
            write_ipynb(sub, folder / f"student{i:04d}_{name}.ipynb")
        t0 = time.perf_counter()
        summary = grade_folder(a, folder, Path(tmp) / "out", progress=False)
        warm = time.perf_counter() - t0
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        sample = sorted(folder.iterdir())[:cold_sample]
        t0 = time.perf_counter()
        for path in sample:
            subprocess.run([sys.executable, "-m", "autograder", "grade", a.id, str(path), "--no-details"],
                           check=True, stdout=subprocess.DEVNULL)
        cold_each = (time.perf_counter() - t0) / len(sample)
    grading = summary["seconds"]
    print(f"batch of {size} submissions, {summary['jobs']} workers: {warm:.1f} s in all, {warm / size:.3f} s per "
          f"submission, {size / warm * 60:.0f} submissions per minute; of which {warm - grading:.1f} s once "
          f"(start-up, the reference and the mistakes feedback names) and {grading:.1f} s grading "
          f"({size / grading * 60:.0f} per minute); largest worker or child {child:.0f} MB")
    print(f"cold, one process per submission: {cold_each:.2f} s each (mean of {len(sample)}), "
          f"{cold_each * size:.0f} s for the class: {cold_each * size / warm:.1f}x slower")


def gradescope_cold(a, runs: int = 4) -> None:
    """The path every Gradescope container pays: the zip unpacked alone and prepared as setup.sh does, then
    `run_autograder` on the reference in a fresh process, alternated with `python -c "import torch"`."""
    from autograder.gradescope import build, unpack_prepared
    from autograder.release import student_notebook

    with tempfile.TemporaryDirectory() as tmp:
        zip_path = build(a, Path(tmp) / f"{a.id}.zip")
        t0 = time.perf_counter()
        unpacked = unpack_prepared(zip_path, a, Path(tmp))
        if isinstance(unpacked, str):
            raise RuntimeError(unpacked)
        root, env = unpacked
        prepare = time.perf_counter() - t0
        (root / "submission").mkdir()
        (root / "submission" / f"{a.id}.ipynb").write_text(student_notebook(a.solution_path, strip=False))
        grading, imports = [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import torch"], check=True, env=env)
            imports.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            subprocess.run(["bash", str(root / "source" / "run_autograder")], check=True, env=env,
                           stdout=subprocess.DEVNULL)
            grading.append(time.perf_counter() - t0)
        result = json.loads((root / "results" / "results.json").read_text())
    g, i = statistics.median(grading), statistics.median(imports)
    print(f"gradescope, cold: setup.sh's preparation {prepare:.1f} s once; run_autograder on the reference "
          f"{g:.2f} s (median of {runs}, score {result['score']:g}) against {i:.2f} s for `import torch`: "
          f"cold ratio {g / i:.2f}x")


def overhead(results) -> None:
    """Per question, what grading costs beyond its tests' own compute: its share of the sandboxed child's
    set-up and module build (one per submission), the fork of its own process and its tear-down."""
    children = [c for r in results for c in r.children]
    if not children:
        return
    keys = ("sandbox", "build", "fork", "tests", "teardown")
    mean = {k: statistics.mean(c[k] for c in children) * 1000 for k in keys}
    print(f"per question ({len(children)} questions): sandbox set-up {mean['sandbox']:.0f} ms and module build "
          f"{mean['build']:.0f} ms (its share of the submission's child), fork {mean['fork']:.0f} ms, tear-down "
          f"{mean['teardown']:.0f} ms; overhead beyond the tests "
          f"{sum(mean[k] for k in keys if k != 'tests'):.0f} ms (tests themselves {mean['tests']:.0f} ms)")


def main(topic: str = "optimizers") -> int:
    from autograder.api import grade, mutant_submission
    from autograder.manifest import load_assignment

    a = load_assignment(topic)
    grade(a, a.solution_path)  # reference observations into the cache
    subs = [("reference", a.solution_path), ("blank", a.notebook_path)]
    subs += [(p.stem, mutant_submission(a, p)[1]) for p in sorted(a.mutants_dir.glob("*.py"))]
    times, results = [], []
    t0 = time.perf_counter()
    for _name, sub in subs:
        t = time.perf_counter()
        results.append(grade(a, sub))
        times.append(time.perf_counter() - t)
    total = time.perf_counter() - t0
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"warm, {len(subs)} submissions in one process: {total:.2f} s, per submission mean "
          f"{statistics.mean(times):.3f} s, median {statistics.median(times):.3f} s, max {max(times):.3f} s")
    print(f"peak RSS: warm grader {parent:.0f} MB, largest sandboxed child {child:.0f} MB")
    overhead(results[:1])  # the reference: every question runs to the end

    with tempfile.TemporaryDirectory() as cache:
        t_cold, peak = cold(topic, str(a.solution_path), cache)
    print(f"cold, one process, one submission: {t_cold:6.2f} s (the reference is computed in every grading "
          f"process, whose seeds are its own), peak RSS {peak:.0f} MB")
    gradescope_cold(a)
    batch(a)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
