"""The mutant library as the grader uses it: each mutant's headers, and its signature on a question's tests.

A question's mistakes (``autograder.diagnose``) are computed like the reference's observations: each
mutant run in the sandbox on the question's tests with this run's salt, kept on disk only if its
content hash (kept in this process) still matches, and made once where a grader's image is built
(Gradescope's ``setup.sh``: ``prepare``/``use_prepared``). Students' checks read the public tests'
part from ``diagnoses.json`` (``write_public``), written with the snapshots.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from . import reference
from .collect import Case
from .diagnose import Mistake, file_text, from_table, read, signature, table
from .manifest import Assignment
from .observations import judge

HEADERS = ("MUTANT", "WHY", "CORNER", "DIAGNOSE")


def headers(path: Path) -> dict[str, str]:
    """A mutant's (or variant's) ``# KEY: value`` header lines before its first ``# %%`` cell, by key; a header
    continues on the ``#   ...`` lines (indented) that follow it."""
    out: dict[str, str] = {}
    last = None
    for line in path.read_text().splitlines():
        if line.startswith("# %%"):
            break
        key, sep, value = line.removeprefix("# ").partition(":")
        if line.startswith("# ") and sep and key in (*HEADERS, "VARIANT", "ATTACK"):
            last = key if key not in out else None
            out.setdefault(key, value.strip())
        elif last and line.startswith("#   "):
            out[last] += " " + line[1:].strip()
        else:
            last = None
    return out


def diagnosable(a: Assignment, question: str) -> list[Path]:
    """The question's mutants that may be named to a student (not ``# DIAGNOSE: no``)."""
    found = []
    for path in sorted(a.mutants_dir.glob("*.py")) if a.mutants_dir.is_dir() else ():
        h = headers(path)
        if h.get("MUTANT") == question and h.get("WHY") and h.get("DIAGNOSE", "").lower() != "no":
            found.append(path)
    return found


def run(a: Assignment, path: Path, cases: list[Case], device: str, salt: str,
        expected: dict[str, list[dict]]) -> Mistake:
    """One mutant on ``cases``: its signature on each test whose outcome is not the reference's."""
    from .api import mutant_submission
    from .supervisor import run_submission

    question, sub = mutant_submission(a, path)
    report = run_submission(sub, cases, a, device, salt=salt)
    tests = {}
    for c in cases:
        o = report.outcomes.get(c.id, {"status": "missing"})
        right = o.get("status") == "passed" and judge(list(o.get("obs") or []), expected[c.id]) is None
        if not right:
            tests[c.id] = signature(o)
    return Mistake(path.stem, question, headers(path)["WHY"], tests)


def _key(a: Assignment, device_type: str, salt: str, question: str, cases: list[Case]) -> str:
    h = hashlib.sha256(f"{reference._sources_key(a, device_type)}|{salt}|{question}".encode())
    for p in diagnosable(a, question):
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    h.update("|".join(sorted(c.id for c in cases)).encode())
    return h.hexdigest()[:24]


def _path(a: Assignment, device_type: str, salt: str, question: str, cases: list[Case]) -> Path:
    return reference.cache_dir() / f"{a.id}-{device_type}-mistakes-{_key(a, device_type, salt, question, cases)}.json"


class _Signatures(Mapping):
    """A mistake's signatures, read from their own file only when a student's failing tests are the mistake's
    (the index says which those are): a question's table is large, and most of it is never compared. The
    index, verified against the digest this process kept, holds each file's digest."""

    def __init__(self, ids: list[str], path: Path, digest: str):
        self._ids, self._path, self._digest, self._data = frozenset(ids), path, digest, None

    def __iter__(self):
        return iter(sorted(self._ids))

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, test) -> bool:
        return test in self._ids

    def __getitem__(self, test):
        if test not in self._ids:
            raise KeyError(test)
        if self._data is None:
            try:
                raw = self._path.read_bytes()
                ok = hashlib.sha256(raw).hexdigest() == self._digest
                self._data = json.loads(raw) if ok else {}
            except (OSError, ValueError):
                self._data = {}
        return self._data.get(test)  # None (a changed file): nothing matches it


def _save(path: Path, mistakes: list[Mistake]) -> None:
    """The question's table as an index (``path``, its digest kept by this process) and a file per mistake."""
    index = {}
    for i, m in enumerate(sorted(mistakes, key=lambda m: m.name)):
        body = json.dumps(dict(m.tests), sort_keys=True).encode()
        part = path.with_name(f"{path.stem}-{i}.json")
        reference._write_private(part, body)
        index[m.name] = {"question": m.question, "why": m.why, "tests": sorted(m.tests), "file": part.name,
                         "sha256": hashlib.sha256(body).hexdigest()}
    data = json.dumps(index, sort_keys=True).encode()
    reference._write_private(path, data)
    reference._DIGESTS[str(path)] = hashlib.sha256(data).hexdigest()


def _loaded(index: dict, folder: Path) -> list[Mistake]:
    return [Mistake(name, m["question"], m["why"], _Signatures(m["tests"], folder / m["file"], m["sha256"]))
            for name, m in sorted(index.items())]


def mistakes(a: Assignment, question: str, cases: list[Case], device: str, salt: str | None = None) -> list[Mistake]:
    """The question's diagnosable mutants, each with its signature on the ``cases`` (the question's tests) it
    fails, with ``salt`` (this run's by default): computed once per grading process, or adopted from
    ``prepare``."""
    salt = reference.RUN_SALT if salt is None else salt
    cases = [c for c in cases if c.question == question]
    if not cases:
        return []
    path = _path(a, device.split(":")[0], salt, question, cases)
    index = reference._read_verified(path)  # {} when not written here, changed since, or a question without any
    if index or (str(path) in reference._DIGESTS and not diagnosable(a, question)):
        return _loaded(index, path.parent)
    expected = reference.observations(a, cases, device, salt)
    found = [run(a, p, cases, device, salt, expected) for p in diagnosable(a, question)]
    _save(path, found)
    return found


def compute_all(a: Assignment, cases: list[Case], device: str, jobs: int = 1) -> None:
    """Every question's mistakes for this run, before a batch forks its workers (which then share them):
    the questions split over ``jobs`` processes forked from this one, each reporting the digests of the
    files it wrote (it runs the engine only; the mutants run in their sandboxed children)."""
    import multiprocessing

    questions, jobs = [q.id for q in a.graded], max(1, jobs)
    groups = [g for g in (questions[i::jobs] for i in range(jobs)) if g]
    _JOB[:] = [a, cases, device]  # inherited by the forked processes (test functions do not pickle)
    try:
        with multiprocessing.get_context("fork").Pool(len(groups)) as pool:
            for digests in pool.map(_compute_group, groups):
                reference._DIGESTS.update(digests)
    finally:
        _JOB.clear()


_JOB: list = []


def _compute_group(questions: list[str]) -> dict[str, str]:
    a, cases, device = _JOB
    before = dict(reference._DIGESTS)
    for q in questions:
        mistakes(a, q, cases, device)
    return {k: v for k, v in reference._DIGESTS.items() if before.get(k) != v}


# ---------------------------------------------------------------------------- made once: Gradescope, students


def prepare(a: Assignment, cases: list[Case], device: str, path: Path) -> Path:
    """Where the grader's image is built, after ``reference.use_prepared`` adopted the prepared salt: every
    question's mistakes with that salt, in one file only the grader's user can read."""
    device_type = device.split(":")[0]
    tables = {}
    for q in a.graded:
        mine = [c for c in cases if c.question == q.id]
        if mine:
            found = mistakes(a, q.id, mine, device)
            tables[q.id] = {"key": _key(a, device_type, reference.RUN_SALT, q.id, mine), "mistakes": table(found)}
    reference._write_private(path, json.dumps({"salt": reference.RUN_SALT, "tables": tables}, sort_keys=True).encode())
    return path


def use_prepared(a: Assignment, device: str, path: Path) -> int:
    """Adopt a prepared file's tables that were made from exactly these sources with this run's salt; how many."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return 0
    if not isinstance(data, dict) or data.get("salt") != reference.RUN_SALT:
        return 0
    adopted = 0
    device_type = device.split(":")[0]
    from .collect import collect

    cases = collect(a, hidden=True)
    for q in a.graded:
        mine = [c for c in cases if c.question == q.id]
        entry = (data.get("tables") or {}).get(q.id)
        if not mine or not isinstance(entry, dict) or entry.get("key") != _key(a, device_type, reference.RUN_SALT,
                                                                               q.id, mine):
            continue
        _save(_path(a, device_type, reference.RUN_SALT, q.id, mine), from_table(entry["mistakes"]))
        adopted += 1
    return adopted


def write_public(a: Assignment, cases: list[Case]) -> Path:
    """``diagnoses.json`` for students' checks: every diagnosable mutant's signature on the public tests it
    fails, with the public salt (the snapshots')."""
    public = [c for c in cases if c.public]
    found = [m for q in a.graded for m in mistakes(a, q.id, public, "cpu", reference.PUBLIC_SALT)]
    a.diagnoses_path.write_text(file_text(a.id, found, read(a.diagnoses_path)))
    return a.diagnoses_path
