"""Sealing test modules: nothing a test hands to graded code leads back to the rest of its file.

A test gives graded code trusted objects: a stand-in for another question's function
(``substitute``), a trusted class, a callback. In Python every function carries its module's
globals (``f.__globals__``), and a closure its cells, so one stand-in would lead to every helper
and every test of the file, to oracles of other questions and to code that calls forbidden APIs
as a trusted caller. ``seal`` rebuilds every function a test file defines (methods of its classes,
closures and ``functools`` caches included) with globals holding only the names its own code
uses, and a helper module a function uses (``H.trusted_cell``) as a view of only the attributes
it names. A function that rebinds a global (``global x``) keeps the module's globals.
"""

from __future__ import annotations

import functools
import types

_CODE_FLAGS_STORE = ("STORE_GLOBAL", "DELETE_GLOBAL")


def _names(code: types.CodeType) -> set[str]:
    """Every global or attribute name a code object (and the code nested in it) may look up."""
    out = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            out |= _names(const)
    return out


def _rebinds_globals(code: types.CodeType) -> bool:
    import dis

    if any(ins.opname in _CODE_FLAGS_STORE for ins in dis.get_instructions(code)):
        return True
    return any(_rebinds_globals(c) for c in code.co_consts if isinstance(c, types.CodeType))


class _Sealer:
    def __init__(self, module: types.ModuleType, helper_prefix: str):
        self.d = module.__dict__
        self.prefix = helper_prefix
        self.memo: dict[int, object] = {}
        self.classes: set[int] = set()

    def own(self, f) -> bool:
        return isinstance(f, types.FunctionType) and f.__globals__ is self.d

    def function(self, f: types.FunctionType):
        if id(f) in self.memo:
            return self.memo[id(f)]
        if _rebinds_globals(f.__code__):
            self.memo[id(f)] = f
            return f
        g = {k: self.d[k] for k in ("__builtins__", "__name__", "__file__") if k in self.d}
        closure = None
        if f.__closure__:
            closure = tuple(types.CellType() for _ in f.__closure__)
        new = types.FunctionType(f.__code__, g, f.__name__, f.__defaults__, closure)
        self.memo[id(f)] = new
        new.__kwdefaults__ = f.__kwdefaults__
        new.__qualname__, new.__doc__, new.__module__ = f.__qualname__, f.__doc__, f.__module__
        new.__annotations__ = dict(f.__annotations__)
        new.__dict__.update({k: self.value(v) for k, v in f.__dict__.items()})
        for cell, old in zip(closure or (), f.__closure__ or ()):
            try:
                cell.cell_contents = self.value(old.cell_contents)
            except ValueError:  # an empty cell stays empty
                pass
        names = _names(f.__code__)
        for name in names:
            if name in self.d:
                g[name] = self.value(self.d[name], names)
        return new

    def value(self, v, names: set[str] | None = None):
        if self.own(v):
            return self.function(v)
        if isinstance(v, type) and v.__module__ == self.d.get("__name__"):
            self.cls(v)
            return v
        if isinstance(v, (staticmethod, classmethod)) and self.own(v.__func__):
            return type(v)(self.function(v.__func__))
        if isinstance(v, property):
            parts = [self.function(p) if self.own(p) else p for p in (v.fget, v.fset, v.fdel)]
            return property(*parts, v.__doc__)
        wrapped = getattr(v, "__wrapped__", None)
        if self.own(wrapped) and hasattr(v, "cache_parameters"):  # functools.cache / lru_cache
            params = v.cache_parameters()
            return functools.lru_cache(maxsize=params["maxsize"], typed=params["typed"])(self.function(wrapped))
        if isinstance(v, functools.partial) and self.own(v.func):
            return functools.partial(self.function(v.func), *v.args, **v.keywords)
        if isinstance(v, types.ModuleType) and v.__name__.startswith(self.prefix) and names is not None:
            return types.SimpleNamespace(**{n: getattr(v, n) for n in names if hasattr(v, n)})
        return v

    def cls(self, c: type) -> None:
        if id(c) in self.classes:
            return
        self.classes.add(id(c))
        for k, v in list(vars(c).items()):
            new = self.value(v)
            if new is not v:
                setattr(c, k, new)


def seal(module: types.ModuleType, helper_prefix: str = "autograder_tests.") -> None:
    """Rebuild, in place, what ``module`` defines so that none of it leads back to the module (see above)."""
    s = _Sealer(module, helper_prefix)
    for k, v in list(module.__dict__.items()):
        if not k.startswith("__"):
            module.__dict__[k] = s.value(v)  # a helper module stays whole here; functions see views of it
