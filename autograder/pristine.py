"""Undoing a submission's monkeypatches of the libraries tests rely on, before every test.

A cell that replaces ``torch.allclose``, ``torch.Tensor.__eq__`` or the engine's own helpers
cannot make a wrong answer pass (observations are judged in the parent), but it could break
the tests of *other* questions. The child snapshots these namespaces before any student code
runs and puts back every attribute whose object was swapped, before each test.
"""

from __future__ import annotations

import importlib
import sys

MODULES = ("builtins", "math", "json", "os", "signal", "time", "numpy", "torch", "torch.nn", "torch.nn.functional",
           "torch.nn.init", "torch.linalg", "torch.fft", "torch.testing", "torch.optim", "torch.autograd",
           "torch.utils.data", "pytest", "shared", "shared.compare", "shared.seed", "shared.models", "shared.linalg",
           "shared.data", "autograder.runner", "autograder.observations", "autograder.testing", "autograder.policy",
           "autograder.guard")
CLASSES = ("torch.Tensor", "torch.nn.Module", "torch.nn.Linear", "torch.nn.Embedding", "torch.nn.LayerNorm",
           "torch.nn.Parameter", "torch.optim.Optimizer", "torch.Generator", "autograder.runner.Observer")


def _load(dotted: str):
    module, _, attr = dotted.rpartition(".")
    try:
        return importlib.import_module(dotted)
    except ImportError:
        return getattr(importlib.import_module(module), attr)


class Pristine:
    """A snapshot of MODULES' and CLASSES' attributes, restorable by identity."""

    def __init__(self) -> None:
        self.saved: list[tuple[object, dict]] = []
        for name in MODULES + CLASSES:
            try:
                obj = _load(name)
            except (ImportError, AttributeError):
                continue
            self.saved.append((obj, dict(vars(obj))))
        self.modules = {name: sys.modules.get(name) for name in MODULES}

    def restore(self) -> None:
        for name, mod in self.modules.items():
            if mod is not None and sys.modules.get(name) is not mod:
                sys.modules[name] = mod
        for obj, attrs in self.saved:
            current = vars(obj)
            for key, value in attrs.items():
                if current.get(key, _MISSING) is not value:
                    try:
                        setattr(obj, key, value)
                    except (AttributeError, TypeError):
                        pass


_MISSING = object()
