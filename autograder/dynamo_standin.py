"""A stand-in for ``torch._dynamo`` in the grading process, which never compiles.

Every ``torch.optim`` optimizer imports ``torch._dynamo`` (the compiler's front end: about 1.1 s
and 150 MB, nearly as much as torch itself) for two calls that do nothing in eager mode:
``graph_break()`` around ``step`` and ``disable(fn)`` around ``add_param_group`` and friends. A
Gradescope container pays that import for every submission. ``install`` puts this stand-in where
the module would be: it answers those two calls as eager mode does and imports the real module the
moment anything else is asked of it (an attribute, a submodule, ``torch.compile``), after which
every call goes to the real one, including through functions it wrapped before. An assignment whose
tests or reference use ``torch.func`` and the like (``needed``) gets the real module in the grading
process instead: imported in a question's process it would cost that process the second.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import re
import sys
import types
from pathlib import Path

NAME = "torch._dynamo"


class _StandIn(types.ModuleType):
    def __getattr__(self, name: str):  # anything but the eager no-ops below: the real module answers
        if name.startswith("__") and name.endswith("__") and name != "__path__":  # what scanners of
            raise AttributeError(name)  # sys.modules ask (__file__, __wrapped__); __path__: a submodule's import
        return getattr(_real(), name)


STAND_IN = _StandIn(NAME, __doc__)


def _real():
    """The real ``torch._dynamo``, imported now if the stand-in still holds its place.

    Its import wraps ``torch.manual_seed`` (for compiled code); the eager original is put back, so an
    import in the middle of a test is no change to the libraries tests rely on (``pristine``)."""
    if sys.modules.get(NAME) is STAND_IN:
        import torch

        before = dict(vars(torch))
        del sys.modules[NAME]
        real = importlib.import_module(NAME)
        for key, value in before.items():
            if vars(torch).get(key) is not value:
                setattr(torch, key, value)
        return real
    return importlib.import_module(NAME)


# What reaches the compiler's front end in eager mode too (torch.func's transforms, activation
# checkpointing, compiling): an assignment whose tests or reference use them gets the real module.
NEEDS_COMPILER = re.compile(r"\btorch\.func\b|\bfunctional_call\b|\bvmap\b|\bjac(rev|fwd)\b|\bhessian\b"
                            r"|torch\.utils\.checkpoint|\btorch\.compile\b|\b_dynamo\b|\btorch\.export\b")


def needed(sources: list[Path]) -> bool:
    """Whether these files (an assignment's tests and reference) use what needs the real module."""
    for path in sources:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            if NEEDS_COMPILER.search(path.read_text()):
                return True
    return False


def load() -> None:
    """The real module, in place of the stand-in if it is there (a grader process that grades an
    assignment which needs it, after one that did not)."""
    _real()


def _loaded() -> bool:
    return sys.modules.get(NAME, STAND_IN) is not STAND_IN


def graph_break() -> None:
    """Eager mode: nothing to break."""
    if _loaded():
        _real().graph_break()


def disable(fn=None, recursive: bool = True, *, reason=None, wrapping: bool = True):
    """Eager mode: ``fn`` runs as it is (once the real module is loaded, under its ``disable``)."""
    if fn is None:
        return functools.partial(disable, recursive=recursive, reason=reason, wrapping=wrapping)

    def call(*args, **kwargs):
        if _loaded():
            return _real().disable(fn, recursive)(*args, **kwargs)
        return fn(*args, **kwargs)

    return functools.wraps(fn)(call) if wrapping else call


def is_compiling() -> bool:
    return _real().is_compiling() if _loaded() else False


STAND_IN.graph_break = graph_break
STAND_IN.disable = disable
STAND_IN.is_compiling = is_compiling


def install() -> bool:
    """Put the stand-in in place (after torch: its import must not meet it) unless the real module is
    already imported; whether it is in place."""
    import torch  # noqa: F401

    if NAME not in sys.modules:
        sys.modules[NAME] = STAND_IN
    return sys.modules[NAME] is STAND_IN
