"""Grading a class: a folder of submissions, in parallel, into a gradebook that survives a crash.

The fixed cost is paid once: this process imports torch and the tests, computes the reference,
then forks one worker per core; each worker grades submissions one after another, each in its
own sandboxed child (``supervisor.run_submission``). Every result is committed to SQLite as it
arrives, so a killed batch resumes where it stopped (``regrade`` forces a fresh grading).
"""

from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing
import os
import time
from dataclasses import dataclass
from pathlib import Path

from .gradebook import Gradebook
from .manifest import Assignment
from .results import feedback_markdown

NOTEBOOK_SUFFIXES = (".ipynb", ".py")
SKIP = ("submission_metadata.yml", "submission_metadata.json")


@dataclass(frozen=True)
class Entry:
    student: str
    path: Path | None  # None: a folder with nothing in it
    sha256: str


def _sha(path: Path | None) -> str:
    if path is None:
        return "empty"
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _pick(folder: Path, topic: str) -> Path | None:
    """The file to grade in one student's folder (Gradescope's export gives one per submission)."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    notebooks = [p for p in files if p.suffix == ".ipynb"]
    for group in (notebooks, [p for p in files if p.suffix in NOTEBOOK_SUFFIXES], files):
        if group:
            named = [p for p in group if p.stem == topic]
            return (named or group)[0]
    return None


def find_submissions(folder: Path, topic: str) -> list[Entry]:
    """One entry per student: a file directly in ``folder`` or a sub-folder (Gradescope's layout)."""
    entries = []
    for item in sorted(folder.iterdir()):
        if item.name.startswith(".") or item.name in SKIP:
            continue
        path = _pick(item, topic) if item.is_dir() else item
        student = item.name if item.is_dir() else item.stem
        entries.append(Entry(student, path, _sha(path)))
    return entries


# ---------------------------------------------------------------------------- workers

_ASSIGNMENT: Assignment | None = None
_DEVICE = "cpu"


def _grade_one(entry: Entry) -> dict:
    """In a worker: grade one submission; returns plain data for the gradebook."""
    import torch

    from .api import grade

    torch.set_num_threads(1)  # parallelism comes from the workers
    t0 = time.perf_counter()
    result = grade(_ASSIGNMENT, entry.path or Path(os.devnull), _DEVICE, label=entry.student)
    if entry.path is None:
        result.errors[:] = [f"the submission folder of {entry.student} is empty"]
    data = result.to_gradescope()
    return {"student": entry.student, "sha256": entry.sha256, "score": result.score,
            "max_score": result.max_score, "questions": data["extra_data"]["questions"], "results": data,
            "errors": list(result.errors), "seconds": time.perf_counter() - t0}


def grade_folder(a: Assignment, folder: Path, out: Path, *, device: str = "cpu", jobs: int | None = None,
                 regrade: bool = False, progress: bool = True) -> dict:
    """Grade every submission in ``folder``; results, feedback, gradebook and CSV under ``out``."""
    from . import reference
    from .collect import collect
    from .supervisor import warm_up

    global _ASSIGNMENT, _DEVICE
    entries = find_submissions(folder, a.id)
    book = Gradebook(out / "gradebook.sqlite")
    done = {} if regrade else book.graded(a.id)
    todo = [e for e in entries if done.get(e.student) != e.sha256]
    warm_up(a.solution_path)
    reference.observations(a, collect(a), device)  # computed once, on disk; not kept in this process
    gc.collect()
    _ASSIGNMENT, _DEVICE = a, device
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    t0 = time.perf_counter()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc=f"grading {a.id}", unit="sub")
    if jobs == 1:
        results = map(_grade_one, todo)
    else:
        pool = multiprocessing.get_context("fork").Pool(jobs, maxtasksperchild=200)
        results = pool.imap_unordered(_grade_one, todo)
    try:
        for row in results:
            book.put(a.id, row)
            write_student_files(out / _safe(row["student"]), row["results"])
            if bar is not None:
                bar.update(1)
    finally:
        if jobs > 1:
            pool.close()
            pool.join()
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - t0
    book.export_csv(a, out / "grades.csv")
    return {"submissions": len(entries), "graded": len(todo), "skipped": len(entries) - len(todo),
            "seconds": seconds, "jobs": jobs, "out": str(out)}


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.@" else "_" for c in name) or "_"


def write_student_files(folder: Path, results: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (folder / "feedback.md").write_text(feedback_markdown(results))
