"""Collecting test cases from pytest-style test files, in the trusted grading process.

Test files are written for pytest (``pytest.mark.question``, ``pytest.mark.parametrize``,
``pytest.raises``, plain ``assert`` with pytest's rewriting) but the grader runs them itself:
collection happens once in the warm parent, and forked children run the already-imported
functions, so a child never needs to read a test file from disk.
"""

from __future__ import annotations

import ast
import functools
import inspect
import itertools
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .guard import TRUSTED_FILES
from .manifest import Assignment
from .seal import seal

FIXTURES = ("sub", "observe", "device", "gen", "seed")


class CollectionError(Exception):
    """A test file is malformed (an authoring error, not the student's)."""


@dataclass(frozen=True)
class Case:
    id: str  # stable: "<public|hidden>/<file>::<function>[<params>]"
    question: str
    name: str  # what students read: "<question>: <docstring first line> [<params>]"
    func: Callable = field(compare=False, repr=False)
    kwargs: dict = field(compare=False, repr=False, default_factory=dict)
    public: bool = True
    weight: float = 1.0


def load_test_module(path: Path, modname: str) -> types.ModuleType:
    """Import a test file with pytest's assertion rewriting, so ``assert a == b`` explains itself."""
    source = path.read_bytes()
    tree = ast.parse(source, filename=str(path))
    try:
        from _pytest.assertion.rewrite import rewrite_asserts

        rewrite_asserts(tree, source, str(path), None)
    except Exception:  # rewriting is a nicety; plain asserts still work
        pass
    code = compile(tree, str(path), "exec", dont_inherit=True)
    TRUSTED_FILES.add(str(path))  # the child cannot see hidden test files, yet they may call forbidden APIs
    mod = types.ModuleType(modname)
    mod.__file__ = str(path)
    sys.modules[modname] = mod  # while it runs (dataclasses look themselves up there), not after:
    try:  # a submission must not find the tests' trusted helpers by module name
        exec(code, mod.__dict__)
    finally:
        sys.modules.pop(modname, None)
    seal(mod)  # nor by following what a test hands it (a stand-in's globals) back to the rest of the file
    return mod


def _marks(obj) -> list:
    from _pytest.mark.structures import get_unpacked_marks

    return get_unpacked_marks(obj)


def _param_id(v, name: str, i: int) -> str:
    if v is None or isinstance(v, (bool, int, float, str)):
        return str(v)
    if isinstance(v, type) or callable(v):
        return getattr(v, "__name__", f"{name}{i}")
    return f"{name}{i}"


def _expand(func, marks) -> list[tuple[str, dict]]:
    """(id suffix, kwargs) for every combination of stacked ``parametrize`` marks."""
    from _pytest.mark.structures import ParameterSet

    axes = []
    for m in reversed([m for m in marks if m.name == "parametrize"]):  # innermost decorator first
        names = m.args[0]
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        ids = m.kwargs.get("ids")
        axis = []
        for i, v in enumerate(m.args[1]):
            pid = None
            if isinstance(v, ParameterSet):
                pid, v = v.id, v.values
                v = v[0] if len(names) == 1 else v
            values = (v,) if len(names) == 1 else tuple(v)
            if len(values) != len(names):
                raise CollectionError(f"{func.__name__}: parametrize values {v!r} do not match {names}")
            if pid is None and ids is not None:
                pid = ids(v) if callable(ids) else ids[i]
            if pid is None:
                pid = "-".join(_param_id(x, n, i) for x, n in zip(values, names))
            axis.append((str(pid), dict(zip(names, values))))
        axes.append(axis)
    out = []
    for combo in itertools.product(*axes):
        kwargs = {}
        for _, kw in combo:
            kwargs.update(kw)
        out.append(("-".join(pid for pid, _ in combo), kwargs))
    return out


def collect_file(path: Path, *, public: bool, known: set[str], topic: str) -> list[Case]:
    kind = "public" if public else "hidden"
    mod = load_test_module(path, f"autograder_tests.{topic}.{kind}.{path.stem}")
    module_marks = _marks(mod) if hasattr(mod, "pytestmark") else []
    cases = []
    for fname, func in list(vars(mod).items()):
        if not (fname.startswith("test") and inspect.isfunction(func) and func.__module__ == mod.__name__):
            continue
        marks = _marks(func) + module_marks
        qmarks = [m for m in marks if m.name == "question"]
        if not qmarks:
            raise CollectionError(f"{path.name}::{fname} has no pytest.mark.question")
        q = qmarks[0].args[0]
        if q not in known:
            raise CollectionError(f"{path.name}::{fname} names question {q!r}, which the manifest lacks")
        weight = float(qmarks[0].kwargs.get("weight", 1.0))
        doc = (inspect.getdoc(func) or fname.removeprefix("test_").replace("_", " ")).split("\n")[0]
        doc = doc.removeprefix(f"{q}:").strip()
        params = set(inspect.signature(func).parameters)
        for suffix, kwargs in _expand(func, marks):
            unknown = params - set(FIXTURES) - set(kwargs)
            if unknown:
                raise CollectionError(f"{path.name}::{fname} asks for unknown fixtures {sorted(unknown)}; "
                                      f"only {FIXTURES} exist")
            tail = f"[{suffix}]" if suffix else ""
            cases.append(Case(id=f"{kind}/{path.name}::{fname}{tail}", question=q,
                              name=f"{q}: {doc}{' ' + tail if tail else ''}",
                              func=func, kwargs=kwargs, public=public, weight=weight))
    return cases


def collect(assignment: Assignment, *, public: bool = True, hidden: bool = True) -> list[Case]:
    """Every test case of an assignment, public first, in file and definition order.

    Collected once per process while the test files are unchanged (batch grading calls this
    for every submission).
    """
    files = []
    for flag, folder in ((True, assignment.public_tests), (False, assignment.hidden_tests)):
        if (flag and public) or (not flag and hidden):
            files += [(flag, p, p.stat().st_mtime_ns) for p in sorted(folder.glob("test_*.py"))]
    return list(_collect(assignment, tuple(files)))


@functools.lru_cache(maxsize=32)
def _collect(assignment: Assignment, files: tuple) -> tuple[Case, ...]:
    known = {q.id for q in assignment.graded}
    cases: list[Case] = []
    for flag, path, _mtime in files:
        cases.extend(collect_file(path, public=flag, known=known, topic=assignment.id))
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        raise CollectionError(f"duplicate test ids in {assignment.id}")
    return tuple(cases)
