"""Helpers for test authors (import them in test files: ``from autograder.testing import substitute``)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

_MISSING = object()


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
