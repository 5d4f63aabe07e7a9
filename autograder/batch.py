"""Grading a class: a folder of submissions, in parallel, into a gradebook that survives a crash.

The fixed cost is paid once: this process imports torch and the tests, computes the reference,
then forks worker processes (one per core by default, at least one: this process never grades);
each worker grades submissions one after another, each in its own sandboxed children
(``supervisor.run_submission``). Workers are supervised: one that dies or stalls past the
submission's deadline is replaced, and costs that submission an error row and nothing else.
Every result is committed to SQLite as it arrives, so a killed batch resumes where it stopped
(``regrade`` forces a fresh grading); a submission whose grading crashed is retried on resume,
at most MAX_ATTEMPTS times in all, then recorded as failed. The batch always ends with grades.csv.
"""

from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing
import multiprocessing.connection
import os
import signal
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from .gradebook import Gradebook
from .manifest import Assignment
from .results import feedback_markdown

NOTEBOOK_SUFFIXES = (".ipynb", ".py")
MAX_ATTEMPTS = 2  # gradings of one submission that may crash before it is recorded as failed
CRASHED = "crashed"  # sha256 column of a crashed row: "crashed:<attempts>:<sha256>"
SKIP = ("submission_metadata.yml", "submission_metadata.json")


@dataclass(frozen=True)
class Entry:
    student: str
    path: Path | None  # None: a folder with nothing in it
    sha256: str
    file: str = ""  # the graded file, as the student named it (inside their folder or zip)
    warning: str = ""  # e.g. several notebooks: which one was graded, for the student and the instructor


def _sha(path: Path | None) -> str:
    if path is None:
        return "empty"
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


HIDDEN = ("__MACOSX",)  # besides names starting with ".": .ipynb_checkpoints, .git, .DS_Store


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") or part in HIDDEN for part in rel.parts)


def _choose(folder: Path, topic: str) -> tuple[Path | None, str]:
    """The file to grade in one student's folder, and a warning when the choice was not obvious.

    Hidden files and folders at any depth never count (JupyterLab's stale checkpoints, macOS's
    ``__MACOSX``, ``.git``). Among several notebooks, the one named after the assignment, else the one
    saved last."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not _hidden(p.relative_to(folder)))
    notebooks = [p for p in files if p.suffix == ".ipynb"]
    for group in (notebooks, [p for p in files if p.suffix in NOTEBOOK_SUFFIXES], files):
        if group:
            named = [p for p in group if p.stem == topic]
            path = named[0] if named else max(group, key=lambda p: (p.stat().st_mtime, p.name))
            warning = ""
            if len(notebooks) > 1:
                names = ", ".join(p.relative_to(folder).as_posix() for p in notebooks)
                warning = (f"{len(notebooks)} notebooks were submitted ({names}); "
                           f"{path.relative_to(folder).as_posix()} was graded")
            return path, warning
    return None, ""


def _pick(folder: Path, topic: str) -> Path | None:
    """The file to grade in one student's folder (Gradescope's export gives one per submission)."""
    return _choose(folder, topic)[0]


def find_submissions(folder: Path, topic: str, ignored: list | None = None) -> list[Entry]:
    """One entry per student: a notebook directly in ``folder``, a sub-folder (Gradescope's layout) or a
    zip. Anything else (notes, hidden files) is not a student; it is listed in ``ignored`` with why."""
    import zipfile

    entries = []
    for item in sorted(folder.iterdir()):
        if _hidden(Path(item.name)) or item.name in SKIP:
            continue
        warning = ""
        if item.is_dir():
            path, warning = _choose(item, topic)
            student, file = item.name, (path.relative_to(item).as_posix() if path else "")
        elif item.suffix in NOTEBOOK_SUFFIXES:
            path, student, file = item, item.stem, item.name
        elif item.suffix == ".zip" and zipfile.is_zipfile(item):  # read as one submission (read_submission)
            path, student, file = item, item.stem, item.name
        else:
            if ignored is not None:
                ignored.append((item.name, "not a notebook, a folder or a zip"))
            continue
        entries.append(Entry(student, path, _sha(path), file, warning))
    return entries


# ----------------------------------------------------------------------------- workers

_ASSIGNMENT: Assignment | None = None
_DEVICE = "cpu"


def _grade_one(entry: Entry) -> dict:
    """In a worker: grade one submission; returns plain data for the gradebook."""
    from .api import grade

    t0 = time.perf_counter()
    result = grade(_ASSIGNMENT, entry.path or Path(os.devnull), _DEVICE, label=entry.student, diagnose=True)
    if entry.path is None:
        result.errors[:] = [f"the submission folder of {entry.student} is empty"]
    data = result.to_gradescope()
    data.setdefault("extra_data", {})["graded_file"] = entry.file
    if entry.warning:
        data["extra_data"]["warnings"] = [entry.warning]
        data["output"] = f"Note: {entry.warning}.\n\n" + data.get("output", "")
    return {"student": entry.student, "sha256": entry.sha256, "score": result.score,
            "max_score": result.max_score, "questions": data["extra_data"]["questions"], "results": data,
            "errors": list(result.errors), "seconds": time.perf_counter() - t0, "flags": result.flag_lines(),
            "details": result.instructor_details()}


def _worker(conn) -> None:
    """A worker's life: grade what the batch sends until it sends None."""
    import torch

    torch.set_num_threads(1)  # parallelism comes from the workers
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the batch's to handle
    while True:
        entry = conn.recv()
        if entry is None:
            return
        conn.send(_grade_one(entry))


def _failed_row(a: Assignment, entry: Entry, why: str, attempts: int, seconds: float) -> dict:
    final = attempts >= MAX_ATTEMPTS
    message = (f"grading this submission failed ({why})" +
               (f"; it failed {attempts} times and is recorded as failed" if final else "; it is retried on resume"))
    questions = {q.id: {"score": 0.0, "max_score": q.points} for q in a.graded}
    results = {"score": 0.0, "output": f"{a.title}: {message}. The course staff has been told.",
               "visibility": "visible", "stdout_visibility": "hidden", "tests": [],
               "extra_data": {"assignment": a.id, "questions": questions}}
    return {"student": entry.student, "sha256": entry.sha256 if final else f"{CRASHED}:{attempts}:{entry.sha256}",
            "score": 0.0, "max_score": sum(q.points for q in a.graded), "questions": questions, "results": results,
            "errors": [message], "seconds": seconds, "flags": [f"grading crashed: {why}"]}


def _attempts(stored: str | None, sha: str) -> int:
    """How often this very submission's grading crashed before (from the gradebook's sha column)."""
    if stored and stored.startswith(CRASHED + ":"):
        _, n, old = stored.split(":", 2)
        return int(n) if old == sha else 0
    return 0


def deadline_seconds(a: Assignment) -> float:
    """How long a worker may take on one submission before it counts as stalled."""
    from .supervisor import GRACE, STARTUP

    return sum(q.time_limit + GRACE for q in a.graded) + 2 * STARTUP


def _supervise(a: Assignment, todo: list[Entry], jobs: int, previous: dict[str, str], deadline: float):
    """Yield one gradebook row per entry, from supervised workers (replaced when they die or stall)."""
    ctx = multiprocessing.get_context("fork")
    queue = deque(todo)
    idle: list = []
    busy: dict = {}  # conn -> (process, entry, started)

    def spawn():
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(child,), daemon=True)
        proc.start()
        child.close()
        idle.append((proc, parent))

    def retire(proc, conn):
        conn.close()
        if proc.is_alive():
            os.kill(proc.pid, signal.SIGKILL)
        proc.join()

    def dispatch():
        while queue and len(busy) + len(idle) < jobs:
            spawn()
        while queue and idle:
            proc, conn = idle.pop()
            entry = queue.popleft()
            conn.send(entry)
            busy[conn] = (proc, entry, time.monotonic())

    try:
        while queue or busy:
            dispatch()
            waits = [*busy, *(p.sentinel for p, _, _ in busy.values())]
            ready = multiprocessing.connection.wait(waits, timeout=1.0)
            now = time.monotonic()
            for conn, (proc, entry, started) in list(busy.items()):
                why = None
                if conn in ready:
                    try:
                        row = conn.recv()
                    except (EOFError, OSError):
                        why = "the grading worker died"
                    else:
                        del busy[conn]
                        idle.append((proc, conn))
                        dispatch()  # the worker's next submission first: storing this row must not keep it idle
                        yield row
                        continue
                elif proc.sentinel in ready or not proc.is_alive():
                    why = f"the grading worker died (exit code {proc.exitcode})"
                elif now - started > deadline:
                    why = f"the grading worker stalled for more than {deadline:.0f} s"
                if why is not None:
                    del busy[conn]
                    retire(proc, conn)
                    attempts = _attempts(previous.get(entry.student), entry.sha256) + 1
                    yield _failed_row(a, entry, why, attempts, now - started)
    finally:
        for proc, conn in idle + [(p, c) for c, (p, _, _) in busy.items()]:
            try:
                conn.send(None)
            except OSError:
                pass
            proc.join(timeout=5)
            retire(proc, conn)


def grade_folder(a: Assignment, folder: Path, out: Path, *, device: str = "cpu", jobs: int | None = None,
                 regrade: bool = False, progress: bool = True) -> dict:
    """Grade every submission in ``folder``; results, feedback, gradebook and CSV under ``out``."""
    from . import mutants, reference
    from .collect import collect
    from .supervisor import warm_up

    global _ASSIGNMENT, _DEVICE
    ignored: list = []
    entries = find_submissions(folder, a.id, ignored)
    book = Gradebook(out / "gradebook.sqlite")
    previous = {} if regrade else book.graded(a.id)
    todo = [e for e in entries if previous.get(e.student) != e.sha256
            and _attempts(previous.get(e.student), e.sha256) < MAX_ATTEMPTS]
    warm_up(a.solution_path)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    cases = collect(a)
    reference.observations(a, cases, device)  # computed once, on disk; not kept in this process
    if len(todo) > len(a.graded):  # the mistakes feedback names (``autograder.diagnose``), shared by the workers
        mutants.compute_all(a, cases, device, jobs)  # the same way; for a few submissions (a regrade), only the
        # questions they fail are computed, by the worker that needs them
    gc.collect()
    from .hugepages import collapse_once

    collapse_once()  # what the workers are forked from, now grown by the reference and the mistakes (``hugepages``)
    _ASSIGNMENT, _DEVICE = a, device
    t0 = time.perf_counter()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc=f"grading {a.id}", unit="sub")
    try:
        from .scores import adjusted

        overrides = book.overrides(a.id)
        for row in _supervise(a, todo, jobs, previous, deadline_seconds(a)):
            book.put(a.id, row)
            write_student_files(out / _safe(row["student"]), adjusted(row["results"],
                                                                      overrides.get(row["student"], {}), a))
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        book.export_csv(a, out / "grades.csv")
    seconds = time.perf_counter() - t0
    present = {e.student for e in entries}
    rows = [r for r in book.rows(a.id) if r["student"] in present]
    return {"submissions": len(entries), "graded": len(todo), "skipped": len(entries) - len(todo),
            "seconds": seconds, "jobs": jobs, "out": str(out), "ignored": ignored,
            "errors": sum(1 for r in rows if r["errors"]),
            "warnings": sum(1 for r in rows if r["results"].get("extra_data", {}).get("warnings"))}


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.@" else "_" for c in name) or "_"


def write_student_files(folder: Path, results: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (folder / "feedback.md").write_text(feedback_markdown(results))
