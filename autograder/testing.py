"""Helpers for test authors (import them in test files: ``from autograder.testing import substitute``)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

_MISSING = object()
_RUN = {"seed": 0}  # the running test's seed, set by the runner before each test


def seeded(k: int) -> int:
    """A seed for the ``k``-th generator a test makes: ``torch.Generator().manual_seed(seeded(0))``.

    Derived from the running test's seed, which is drawn anew for every grading run (and fixed
    for students' checks and the snapshots), so inputs made from constants cannot be recognised.
    """
    from shared.seed import stable_hash

    return stable_hash(f"{_RUN['seed']}:{int(k)}")


def load_helpers(test_file: str, name: str = "_helpers.py"):
    """The trusted helper module beside a topic's hidden tests (``H = load_helpers(__file__)``).

    Loaded like a test file (assertions rewritten, trusted by the guard) and kept out of
    ``sys.modules``, so a submission cannot import the tests' stand-ins by name.
    """
    from pathlib import Path

    from .collect import load_test_module

    path = Path(test_file).with_name(name)
    return load_test_module(path, f"autograder_tests.{path.parents[1].name}.helpers.{path.stem}")


def namespace(sub) -> dict:
    """The dict the submission's cells run in (their globals), when grading and in a kernel."""
    if type(sub).__name__ == "KernelModule":
        return sys.modules["__main__"].__dict__
    return sub.__dict__


@contextlib.contextmanager
def substitute(sub, **replacements) -> Iterator[None]:
    """Temporarily point names the student's code looks up at trusted replacements.

    Isolates questions from each other: Muon's tests run with a trusted ``newton_schulz`` so
    that a bug there costs points only on its own question. Code that inlined the helper
    instead of calling it by name is unaffected, so a stand-in must give the same values.
    """
    ns = namespace(sub)
    saved = {name: ns.get(name, _MISSING) for name in replacements}
    ns.update(replacements)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is _MISSING:
                ns.pop(name, None)
            else:
                ns[name] = old


def _fail_unless(msg: str | None, invariant: str) -> None:
    if msg:
        raise AssertionError(f"{invariant}\n{msg}")


def expect_close(actual, expected, invariant: str, *, rtol: float = 1e-5, atol: float = 1e-8,
                 name: str = "output") -> None:
    """Fail, when ``actual`` is not ``expected`` within ``|a - e| <= atol + rtol * |e|`` (``torch.allclose``'s
    rule and defaults), with a message that teaches: the invariant, then what was expected and what came
    out (shape, the largest error and where, NaN), as ``observe()`` reports it. NaN never matches here,
    even NaN: both sides of an invariant come from the student's code."""
    import torch

    from shared.compare import compare

    if type(actual) is torch.Tensor and actual.is_floating_point() and bool(torch.isnan(actual).any()):
        where = tuple(torch.nonzero(torch.isnan(actual))[0].tolist())
        _fail_unless(f"{name}: got NaN at index {where}", invariant)
    _fail_unless(compare(actual, expected, rtol=rtol, atol=atol, name=name, check_dtype=False), invariant)


def expect_equal(actual, expected, invariant: str, *, name: str = "output") -> None:
    """``expect_close`` for values that must be identical (token ids, an unchanged input)."""
    expect_close(actual, expected, invariant, rtol=0.0, atol=0.0, name=name)


@contextlib.contextmanager
def expect_raises(exception: type[BaseException], invariant: str) -> Iterator[None]:
    """``pytest.raises`` with a message that says which rule was broken when nothing is raised
    (pytest's own says only "DID NOT RAISE"). Another exception propagates, as with pytest.raises."""
    try:
        yield
    except exception:
        return
    raise AssertionError(f"{invariant}; nothing was raised")
