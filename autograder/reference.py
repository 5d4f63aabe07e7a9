"""Reference observations: what the tests observe when run on the solution.

Hidden (and public) tests are judged against observations the grader computes itself from
``solutions/<topic>/<topic>.py``. Students' ``check()`` uses ``assignments/<topic>/snapshots.json``
instead (``make snapshots``), which holds the public tests' reference observations only.

Seeds: every test's inputs come from a seed made of a salt and the test's id. Students' checks
and the snapshots use the public salt ``""``; grading uses ``RUN_SALT``, drawn anew by every
grading process, so a submission cannot tell which test is running from its inputs, nor replay
a snapshot. The reference is therefore computed once per grading process (a batch shares it
with its workers), kept on disk (the sandboxed child is forked from the grader and must not
find expected values in its memory) and read back only if its content hash, kept in this
process, still matches: nothing a child could have written decides another submission's grade.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import secrets
import shutil
import tempfile
from pathlib import Path

import torch

from .collect import Case
from .manifest import REPO, Assignment
from .notebook import read_submission
from .supervisor import run_submission

SNAPSHOT_FORMAT = 1
PUBLIC_SALT = ""
RUN_SALT = secrets.token_hex(8)
_DIGESTS: dict[str, str] = {}  # cache file -> sha256 of what this process wrote there
_TMP: list[Path] = []


class ReferenceFailure(Exception):
    """The reference solution fails its own tests: an authoring error, reported to the instructor."""


def cache_dir() -> Path:
    """Where reference observations are kept: ``$AUTOGRADER_CACHE``, else a private folder of this
    process (removed when it exits)."""
    if os.environ.get("AUTOGRADER_CACHE"):
        return Path(os.environ["AUTOGRADER_CACHE"])
    if not _TMP:
        _TMP.append(Path(tempfile.mkdtemp(prefix="autograder-reference-")))
        atexit.register(shutil.rmtree, _TMP[0], True)
    return _TMP[0]


def _sources_key(assignment: Assignment, device_type: str) -> str:
    """A digest of everything the reference observations depend on (read again only when a file's size or
    modification time changed since this process last read it)."""
    files = [assignment.solution_path, *sorted(assignment.public_tests.glob("*.py")),
             *sorted(assignment.hidden_tests.glob("*.py")), *sorted((REPO / "autograder").glob("*.py")),
             *sorted(p for p in (REPO / "shared").rglob("*") if p.is_file() and "__pycache__" not in p.parts),
             assignment.root / "assignment.toml"]
    stats = []
    for f in files:
        with contextlib.suppress(OSError):
            st = f.stat()
            stats.append((str(f), st.st_size, st.st_mtime_ns))
    seen = (tuple(stats), device_type)
    if seen not in _SOURCES:
        h = hashlib.sha256()
        for name, _size, _mtime in stats:
            with contextlib.suppress(OSError):
                h.update(Path(name).name.encode() + b"\0" + Path(name).read_bytes() + b"\0")
        h.update(f"{device_type}|{torch.__version__}".encode())
        _SOURCES[seen] = h.hexdigest()[:20]
    return _SOURCES[seen]


_SOURCES: dict[tuple, str] = {}


def compute(assignment: Assignment, cases: list[Case], device: str, salt: str = PUBLIC_SALT) -> dict[str, list[dict]]:
    """Run the cases on the reference solution (sandboxed like any submission)."""
    report = run_submission(read_submission(assignment.solution_path), cases, assignment, device, salt=salt)
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


def observations(assignment: Assignment, cases: list[Case], device: str,
                 salt: str | None = None) -> dict[str, list[dict]]:
    """Reference observations for ``cases`` on ``device`` with ``salt`` (this run's by default)."""
    salt = RUN_SALT if salt is None else salt
    device_type = device.split(":")[0]
    path = _cache_path(assignment, device_type, salt)
    cached = _read_verified(path)
    missing = [c for c in cases if c.id not in cached]
    if missing:
        cached.update(compute(assignment, missing, device, salt))
        data = json.dumps(cached, sort_keys=True).encode()
        _write_private(path, data)
        _DIGESTS[str(path)] = hashlib.sha256(data).hexdigest()
    return {c.id: cached[c.id] for c in cases}


def _cache_path(assignment: Assignment, device_type: str, salt: str) -> Path:
    key = hashlib.sha256(f"{_sources_key(assignment, device_type)}|{salt}".encode()).hexdigest()[:24]
    return cache_dir() / f"{assignment.id}-{device_type}-{key}.json"


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def prepare(assignment: Assignment, cases: list[Case], device: str, path: Path) -> Path:
    """Once, where the grader's image is built (Gradescope's ``setup.sh``): a salt drawn now and the
    observations of every case with it, in one file only the grader's user can read. A grading
    process then adopts both (``use_prepared``) instead of computing the reference itself; graded code
    never sees the file (it is outside the child's root, and the child is another user)."""
    device_type = device.split(":")[0]
    salt = secrets.token_hex(8)
    data = {"format": SNAPSHOT_FORMAT, "key": _sources_key(assignment, device_type), "salt": salt,
            "observations": compute(assignment, cases, device, salt)}
    _write_private(path, json.dumps(data, sort_keys=True).encode())
    return path


def use_prepared(assignment: Assignment, device: str, path: Path) -> bool:
    """Adopt a prepared file's salt and observations for this process, if it was made from exactly
    these sources; ``False`` (nothing changed: this process computes its own) otherwise."""
    global RUN_SALT
    device_type = device.split(":")[0]
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict) or data.get("key") != _sources_key(assignment, device_type):
        return False
    RUN_SALT = data["salt"]
    target = _cache_path(assignment, device_type, RUN_SALT)
    body = json.dumps(data["observations"], sort_keys=True).encode()
    _write_private(target, body)
    _DIGESTS[str(target)] = hashlib.sha256(body).hexdigest()
    return True


def _read_verified(path: Path) -> dict:
    """The cache file's content if it is exactly what this process (or its batch parent) wrote."""
    expected = _DIGESTS.get(str(path))
    if expected is None:
        return {}
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    if hashlib.sha256(data).hexdigest() != expected:
        return {}  # changed since: recompute
    return json.loads(data)


# ---------------------------------------------------------------------------- snapshots


def write_snapshots(assignment: Assignment, cases: list[Case]) -> Path:
    """Write the public tests' reference observations (CPU) for students' ``check()``, and beside them the
    mutants' signatures on those tests (``diagnoses.json``: the mistakes a check can name).

    Stored reproducibly (``autograder.snapshots``): rounded far inside the tolerances, and a
    value that moved only in its last bits keeps the bytes already stored.
    """
    from . import snapshots
    from .mutants import write_public

    public = [c for c in cases if c.public]
    obs = compute(assignment, public, "cpu", PUBLIC_SALT)
    path = assignment.snapshots_path
    path.write_text(snapshots.snapshot_text(assignment.id, obs, snapshots.read(path)))
    write_public(assignment, public)
    return path


def load_snapshots(assignment: Assignment) -> dict[str, list[dict]]:
    from . import snapshots

    try:
        return snapshots.load(assignment.snapshots_path)
    except snapshots.SnapshotError as e:
        raise ReferenceFailure(str(e)) from None
