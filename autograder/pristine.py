"""Undoing a submission's monkeypatches of the libraries tests rely on, before and after every test.

A cell that replaces ``torch.allclose``, ``torch.Tensor.__eq__``, pytest's ``raises`` machinery
or the engine's own helpers cannot make a wrong answer's observations match (they are judged in
the parent), but it could disable a test's own checks (an ``assert``, ``pytest.raises``) or
break the tests of *other* questions. The snapshot is taken in the warm grader, which never ran
student code: the listed modules, and every class they define. ``restore`` puts back every
attribute whose object was swapped, removes what was added to a class (``torch.Tensor.abs = ...``
shadows the C base class's method), and names what it found changed, so a change made while a
test ran fails that test (``runner.run_cases``), and one made when a cell ran reaches no test.
"""

from __future__ import annotations

import importlib
import sys
from operator import is_

MODULES = ("builtins", "math", "json", "os", "signal", "time", "numpy", "torch", "torch.nn", "torch.nn.functional",
           "torch.nn.init", "torch.linalg", "torch.fft", "torch.testing", "torch.optim", "torch.autograd",
           "torch.utils.data", "pytest", "shared", "shared.compare", "shared.seed", "shared.models", "shared.linalg",
           "shared.data", "autograder.runner", "autograder.observations", "autograder.testing", "autograder.policy",
           "autograder.guard", "_pytest.python_api", "_pytest.approx", "_pytest.raises", "_pytest.outcomes",
           "_pytest._code.code", "_pytest.assertion.util", "_pytest.assertion.rewrite")
CLASSES = ("torch.Tensor", "torch.nn.Module", "torch.nn.Linear", "torch.nn.Embedding", "torch.nn.LayerNorm",
           "torch.nn.Parameter", "torch.optim.Optimizer", "torch.Generator", "autograder.runner.Observer")


def _load(dotted: str):
    module, _, attr = dotted.rpartition(".")
    try:
        return importlib.import_module(dotted)
    except ImportError:
        return getattr(importlib.import_module(module), attr)


# what the standard library caches on classes as they are used: copyreg's ``__slotnames__`` (``torch.save``
# pickles a tensor): removed like any addition, never reported
LIBRARY_CACHES = frozenset({"__slotnames__"})


class Pristine:
    """A snapshot of MODULES' and CLASSES' attributes, restorable by identity."""

    def __init__(self) -> None:
        self.saved: list[tuple[str, object, dict]] = []
        seen: set[int] = set()
        for name in MODULES + CLASSES:
            try:
                obj = _load(name)
            except (ImportError, AttributeError):
                continue
            for label, target in [(name, obj), *_own_classes(name, obj)]:
                if id(target) not in seen:
                    seen.add(id(target))
                    self.saved.append((label, target, dict(vars(target))))
        self.modules = {name: sys.modules.get(name) for name in MODULES}
        # per saved target, its keys and values as last found clean: the same objects again (a test that
        # touched nothing) are clean without looking at each attribute
        self.clean: list[tuple[tuple, tuple] | None] = [None] * len(self.saved)

    def restore(self) -> list[str]:
        """Put back what was swapped; return the dotted names that had been (empty if none)."""
        from .policy import is_guard

        changed = []
        for name, mod in self.modules.items():
            now = sys.modules.get(name)
            if mod is not None and now is not mod and not (now is not None and is_guard(now)):
                sys.modules[name] = mod
                changed.append(f"sys.modules[{name!r}]")

        for i, (label, obj, attrs) in enumerate(self.saved):
            current = vars(obj)
            clean = self.clean[i]
            if clean is not None and len(current) == len(clean[0]) and all(map(is_, current, clean[0])) \
                    and all(map(is_, current.values(), clean[1])):
                continue
            for key, value in attrs.items():
                now = current.get(key, _MISSING)
                if now is not value and not is_guard(now):  # a forbidden API's guard stays (policy)
                    changed.append(f"{label}.{key}")
                    try:
                        setattr(obj, key, value)
                    except (AttributeError, TypeError):
                        pass
            if isinstance(obj, type):  # an attribute added to a class shadows what its bases define
                for key in [k for k, v in list(current.items()) if k not in attrs and not is_guard(v)]:
                    if key not in LIBRARY_CACHES:
                        changed.append(f"{label}.{key}")
                    try:
                        delattr(obj, key)
                    except (AttributeError, TypeError):
                        pass
            current = vars(obj)
            self.clean[i] = (tuple(current), tuple(current.values()))
        return changed


def _own_classes(name: str, obj) -> list[tuple[str, type]]:
    """The classes a module defines itself (pytest's RaisesContext, ExceptionInfo, ApproxBase, ...)."""
    if not isinstance(obj, type(sys)) or name in ("builtins", "torch", "numpy"):
        return []
    return [(f"{name}.{k}", v) for k, v in list(vars(obj).items())
            if isinstance(v, type) and getattr(v, "__module__", None) == name]


_MISSING = object()
