"""Undoing a submission's monkeypatches of the libraries tests rely on, before and after every test.

A cell that replaces ``torch.allclose``, ``torch.Tensor.__eq__``, pytest's ``raises`` machinery
or the engine's own helpers cannot make a wrong answer's observations match (they are judged in
the parent), but it could disable a test's own checks (an ``assert``, ``pytest.raises``) or
break the tests of *other* questions. The snapshot is taken in the warm grader, which never ran
student code: the listed modules, and every class they define. ``restore`` puts back every
attribute whose object was swapped, removes what was added to a class (``torch.Tensor.abs = ...``
shadows the C base class's method), and names what it found changed, so a change made while a
test ran fails that test (``runner.run_cases``), and one made when a cell ran reaches no test.

``restore`` runs in every question's freshly forked process before its first test and after each
test. Comparing thousands of attributes there would write each object's reference count, a
copy-on-write fault per page (about 2000 of them, 10 ms per question, measured); where CPython keeps a
version tag in every dict (changed by every change to it, checked on this Python by ``_tags``), a
target whose dict still has the tag it had when last found clean is clean without reading it.
"""

from __future__ import annotations

import ctypes
import functools
import importlib
import sys
import types
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
        # per saved target (and sys.modules last), its dict's version tag and the tag it had when last found
        # clean (None: not yet); empty where this Python keeps no such tag
        tag = _tags()
        self.tags = [tag(_dict_of(obj)) for _, obj, _ in self.saved] + [tag(sys.modules)] if tag else []
        self.clean_tags: list[int | None] = [None] * len(self.tags)

    def restore(self) -> list[str]:
        """Put back what was swapped; return the dotted names that had been (empty if none)."""
        from .policy import is_guard

        changed = []
        tags, clean_tags = self.tags, self.clean_tags
        if not tags or tags[-1].value != clean_tags[-1]:
            for name, mod in self.modules.items():
                now = sys.modules.get(name)
                if mod is not None and now is not mod and not (now is not None and is_guard(now)):
                    sys.modules[name] = mod
                    changed.append(f"sys.modules[{name!r}]")
            if tags:
                clean_tags[-1] = tags[-1].value

        for i, (label, obj, attrs) in enumerate(self.saved):
            if tags and tags[i].value == clean_tags[i]:
                continue
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
            if tags:
                clean_tags[i] = tags[i].value
        return changed


def _own_classes(name: str, obj) -> list[tuple[str, type]]:
    """The classes a module defines itself (pytest's RaisesContext, ExceptionInfo, ApproxBase, ...)."""
    if not isinstance(obj, type(sys)) or name in ("builtins", "torch", "numpy"):
        return []
    return [(f"{name}.{k}", v) for k, v in list(vars(obj).items())
            if isinstance(v, type) and getattr(v, "__module__", None) == name]


_MISSING = object()


def _dict_of(obj) -> dict:
    """The dict itself behind ``vars(obj)`` (a class shows it through a read-only proxy)."""
    import gc

    found = vars(obj)
    if isinstance(found, dict):
        return found
    return next(d for d in gc.get_referents(found) if isinstance(d, dict))


@functools.cache
def _tags():
    """A reader of a dict's version tag (``ma_version_tag``, PEP 509: a new value on every change to the
    dict), or None where this Python has none where it is looked for. Checked, not assumed: on a module's
    and a class's dict, replacing, adding and removing an attribute must each change it."""
    if sys.implementation.name != "cpython":
        return None
    offset = 2 * ctypes.sizeof(ctypes.c_void_p) + ctypes.sizeof(ctypes.c_ssize_t)  # after the header and ma_used

    def tag(d: dict):
        return ctypes.c_uint64.from_address(id(d) + offset)

    module = types.ModuleType("probe")
    module.x = 1
    probe = type("Probe", (), {"x": 1})
    for target in (module, probe):
        t = tag(_dict_of(target))
        for change in (lambda o: setattr(o, "x", object()), lambda o: setattr(o, "y", 1), lambda o: delattr(o, "y")):
            before = t.value
            change(target)
            if t.value == before:
                return None
    return tag
