"""Reference observations: what the tests observe when run on the solution.

Hidden (and public) tests are judged against observations the grader computes itself from
``solutions/<topic>/<topic>.py``, cached on disk under a key of every source that could change
them. Students' ``check()`` uses ``assignments/<topic>/snapshots.json`` instead (``make
snapshots``), which holds the public tests' reference observations only.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch

from .collect import Case
from .manifest import REPO, Assignment
from .notebook import read_submission
from .supervisor import run_submission

SNAPSHOT_FORMAT = 1


class ReferenceFailure(Exception):
    """The reference solution fails its own tests: an authoring error, reported to the instructor."""


def cache_dir() -> Path:
    return Path(os.environ.get("AUTOGRADER_CACHE", REPO / ".cache" / "reference"))


def _sources_key(assignment: Assignment, device_type: str) -> str:
    h = hashlib.sha256()
    files = [assignment.solution_path, *sorted(assignment.public_tests.glob("*.py")),
             *sorted(assignment.hidden_tests.glob("*.py")), *sorted((REPO / "autograder").glob("*.py")),
             *sorted((REPO / "shared").glob("*.py")), assignment.root / "assignment.toml"]
    for f in files:
        if f.exists():
            h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    h.update(f"{device_type}|{torch.__version__}".encode())
    return h.hexdigest()[:20]


def compute(assignment: Assignment, cases: list[Case], device: str) -> dict[str, list[dict]]:
    """Run the cases on the reference solution (sandboxed like any submission)."""
    report = run_submission(read_submission(assignment.solution_path), cases, assignment, device)
    problems = [f"cell {q}: {e}" for q, e in report.cell_errors.items()]
    out = {}
    for c in cases:
        o = report.outcomes.get(c.id, {"status": "missing", "message": "not run"})
        if o["status"] != "passed":
            problems.append(f"{c.name} [{c.id}]: {o['status']}: {o.get('message', '')}")
        elif not o["obs"]:
            problems.append(f"{c.name} [{c.id}]: observed nothing (every test must observe a value)")
        else:
            out[c.id] = o["obs"]
    if problems:
        raise ReferenceFailure(f"the reference solution of {assignment.id} fails its tests:\n  "
                               + "\n  ".join(problems))
    return out


def observations(assignment: Assignment, cases: list[Case], device: str) -> dict[str, list[dict]]:
    """Reference observations for ``cases`` on ``device``, computed once and cached."""
    device_type = device.split(":")[0]
    path = cache_dir() / f"{assignment.id}-{device_type}-{_sources_key(assignment, device_type)}.json"
    cached = {}
    if path.exists():
        try:
            cached = json.loads(path.read_text())
        except ValueError:
            cached = {}
    missing = [c for c in cases if c.id not in cached]
    if missing:
        cached.update(compute(assignment, missing, device))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(cached, sort_keys=True))
        os.chmod(tmp, 0o600)  # the sandboxed child (user nobody) must not read the reference
        tmp.replace(path)
    return {c.id: cached[c.id] for c in cases}


# ---------------------------------------------------------------------------- snapshots


def write_snapshots(assignment: Assignment, cases: list[Case]) -> Path:
    """Write the public tests' reference observations (CPU) for students' ``check()``.

    Stored reproducibly (``autograder.snapshots``): rounded far inside the tolerances, and a
    value that moved only in its last bits keeps the bytes already stored.
    """
    from . import snapshots

    public = [c for c in cases if c.public]
    obs = compute(assignment, public, "cpu")
    path = assignment.snapshots_path
    path.write_text(snapshots.snapshot_text(assignment.id, obs, snapshots.read(path)))
    return path


def load_snapshots(assignment: Assignment) -> dict[str, list[dict]]:
    from . import snapshots

    try:
        return snapshots.load(assignment.snapshots_path)
    except snapshots.SnapshotError as e:
        raise ReferenceFailure(str(e)) from None
