"""APIs a question forbids: found statically in the parent, and guarded at run time in the child.

The static scan (``static_violations``) reads the cells without running them, so it is trusted;
it cannot see ``getattr(torch.optim, "S" + "GD")``. The run-time guards can: they are put on
the forbidden *objects*, so every route to one (another module's alias, ``__subclasses__()``,
``pkgutil.resolve_name``, a reference taken by another question's cell) ends in a guard:

- a Python class is guarded in place: its own methods (``__init__``, ``step``, ``forward``...)
  and ``__init_subclass__`` are replaced by guards for the duration of a window;
- a function or builtin is replaced, at every module attribute that holds that same object
  (found once per process by scanning ``sys.modules``), by a guard;
- a module is replaced in ``sys.modules`` (and wherever a module holds it) by a stub, and
  every function and class it defines is guarded as above;
- a second copy of a forbidden module (its file loaded again, read, or recompiled) is refused
  by an audit hook.

Who may call a guarded API (the caller rule): walk outward from the call to the first frame
that is not library code (the interpreter's stdlib and site-packages, frozen importlib, the
repository's ``shared/`` package, and this file); the call is allowed when that frame is the
engine's (``autograder/*.py``) or a registered test file's (``guard.TRUSTED_FILES``), refused
otherwise (a graded cell, a kernel cell, a file the submission wrote, or no such frame at all).
So a library wrapper (``functools.singledispatch``, a factory) called by student code is
refused, while a test's trusted stand-in may use the API.

Guards are persistent objects that check, when called, whether their API is forbidden right
now (``forbid`` activates a question's list for its tests and while its cell runs). While the
notebook is built (``building``), every forbidden API of the assignment is guarded (but only
the running cell's own list is refused), so what one cell takes from a library is a guard when
another question's tests run. The originals live only in a suspended generator's frame
(``_keeper``), which graded code cannot reach (the audit hook refuses ``gi_frame`` and the
garbage collector's lists), and the keeper hands one only to the engine or to a guard's own
code, never to graded code that asks it directly.

Graded code can import this module and change anything it holds (its tables, caches, the
libraries of kernels), so nothing a window relies on is read from there while graded code may
have run: each window's plan (what to replace where, the keys to switch on, the dispatcher's
switches, the files to refuse, what an answer may not be) is made by the engine, before any
submission runs when the grader ``prepare``s, and kept by the keeper with the kernel libraries
and the file rule. What graded code can still reach from outside (a library's finalizer that
unregisters the grader's kernels) is checked when the window closes.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
import types
from typing import NamedTuple

from . import guard
from .guard import ForbiddenAPIError, trusted_file  # noqa: F401 - trusted_file kept for callers of policy

# ============================================================================ static scan


def _aliases(trees: list[ast.AST]) -> dict[str, str]:
    names: dict[str, str] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        names[a.asname] = a.name
                    else:
                        root = a.name.split(".")[0]
                        names[root] = root
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(parts)])


def _matches(dotted: str, forbidden: tuple[str, ...]) -> str | None:
    for f in forbidden:
        if dotted == f or dotted.startswith(f + "."):
            return f
    return None


# Forbidden in every graded cell: ways to change what torch itself computes for the tests (kernels
# registered over aten ops, dispatch and function modes, tensor subclasses that intercept every op)
# and torch's raw layers, where unguarded aliases of forbidden functions live. No assignment needs them.
EVERYWHERE = ("torch.library", "torch.ops", "torch._C", "torch._ops", "torch.overrides", "torch.utils._python_dispatch")
HOOK_NAMES = ("__torch_function__", "__torch_dispatch__")


def _hook_names(tree: ast.AST) -> str | None:
    """A tensor-subclass hook defined or named anywhere in the cell (a def, an attribute, a string)."""
    for node in ast.walk(tree):
        name = (node.name if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else
                node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else
                node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None)
        if name in HOOK_NAMES:
            return name
    return None


def _imported(tree: ast.AST) -> list[tuple[str, str, int]]:
    """(dotted API, name it binds, line) for each import in a cell."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, a.asname or a.name.split(".")[0], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out += [(f"{node.module}.{a.name}", a.asname or a.name, node.lineno) for a in node.names]
    return out


def _defines(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def static_violations(sub, forbidden: dict[str, tuple[str, ...]],
                      owners: dict[str, str] | None = None) -> dict[str, str]:
    """question -> message, for graded cells that name an API their question forbids (or that no
    graded cell may use: EVERYWHERE, HOOK_NAMES), and for import-only cells.

    Import-only cells are scanned against the union of every question's list and EVERYWHERE,
    and a hit is attributed so that an honest import costs nothing:

    - an import of an EVERYWHERE API (or a tensor-subclass hook) costs every graded question
      of the notebook: it has no honest use in any assignment and acts on every question;
    - an import of an API that question q forbids costs q when it binds a name q's cell must
      define and that cell does not define it (``from torch.optim import Adam`` answers
      ``adam`` with torch's own class), or
      when q's graded cell uses the name it binds (the alias rule below). It costs nothing
      else: ``from torch.optim import SGD`` for another question that may use SGD is honest.
      A use the scan cannot see (``globals()["SGD"]``) meets the run-time guard instead.
    """
    owners = owners or {}
    defined: dict[str, set[str]] = {}  # question -> names its own cell defines at top level
    for q, cell in sub.graded.items():
        with contextlib.suppress(SyntaxError):
            defined[q] = _defines(ast.parse(cell.source))
    import_trees = []
    for cell in sub.imports:
        with contextlib.suppress(SyntaxError):
            import_trees.append((cell, ast.parse(cell.source)))
    found: dict[str, str] = {}
    for cell, tree in import_trees:
        hook = _hook_names(tree)
        for dotted, bound, line in _imported(tree):
            f = _matches(dotted, EVERYWHERE) or (hook and dotted)
            if f:
                for q in sub.graded:
                    found.setdefault(q, f"the import cell {cell.index + 1} imports {f} (line {line}); no cell may "
                                       "(it reaches below torch's public API and changes what every question computes)")
                continue
            for q, banned in forbidden.items():
                f = _matches(dotted, banned)
                if f and owners.get(bound) == q and bound not in defined.get(q, ()):
                    found.setdefault(q, f"{q}: the import cell {cell.index + 1} binds `{bound}` to {f} (line {line}), "
                                       f"which this question asks you to implement yourself")
    trees = [t for _, t in import_trees]
    for q, cell in sub.graded.items():
        if q in found:
            continue
        banned = forbidden.get(q, ())
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        hook = _hook_names(tree)
        if hook:
            found[q] = (f"{q}: the cell defines or names {hook}, which changes how torch computes for the tests; "
                        "graded code may not use it")
            continue
        aliases = _aliases([*trees, tree])
        for node in ast.walk(tree):
            hits = []
            if isinstance(node, (ast.Attribute, ast.Name)):
                d = _dotted(node, aliases)
                hits = [d] if d else []
            elif isinstance(node, ast.Import):
                hits = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                hits = [f"{node.module}.{a.name}" for a in node.names]
            for d in hits:
                f = _matches(d, banned)
                if f:
                    found[q] = (f"{q}: the cell uses {f} (line {getattr(node, 'lineno', '?')}), which this "
                                f"question asks you to implement yourself")
                    break
                f = _matches(d, EVERYWHERE)
                if f:
                    found[q] = (f"{q}: the cell uses {f} (line {getattr(node, 'lineno', '?')}); no graded cell may "
                                "(it reaches below torch's public API)")
                    break
            if q in found:
                break
    return found


# ============================================================================ the caller rule

_HERE = frozenset({__file__, os.path.normpath(__file__), os.path.realpath(__file__)})
_ENGINE_DIRS = frozenset({str(guard.ENGINE), os.path.realpath(guard.ENGINE)})
_LIBRARY_ROOTS = guard.LIBRARY_ROOTS


BOUNDARIES = ("run_case", "build_module")  # engine functions that hand control to a test or a cell


def _make_judge(trusted_files):
    """``responsible(frame) -> filename | None`` and ``trusted(filename) -> bool``, bound now.

    ``trusted_files()`` gives the registered test files (a frozen set once grading has begun).
    """
    library = guard.judge_files(_LIBRARY_ROOTS, (), frozenset())
    here, engine = _HERE, _ENGINE_DIRS
    dirname, normpath = os.path.dirname, os.path.normpath
    engine_files: dict[str, bool] = {}  # file name -> whether it is the engine's (a pure function of the name)

    def in_engine(name: str) -> bool:
        found = engine_files.get(name)
        if found is None:
            found = engine_files[name] = dirname(normpath(name)) in engine
        return found

    def decides(name: str) -> bool:  # the engine or a test file, even where installed into site-packages
        return in_engine(name) or name in trusted_files()

    def responsible(frame) -> str | None:
        """The file that answers for a call: the first frame, walking out from the call, that is not a
        library's (a test or the engine decides for what it calls; graded code is refused). What a test
        hands to graded code (a stand-in, a loss function) answers for itself: sealed test modules
        (``seal``) keep everything else of the test file out of graded code's reach."""
        while frame is not None:
            code = frame.f_code
            name = code.co_filename
            if name in here:
                frame = frame.f_back
                continue
            if code.co_name in BOUNDARIES and in_engine(name):
                caller = frame.f_back  # it counts only where the engine itself called it
                while caller is not None and library(caller.f_code.co_filename) and not decides(
                        caller.f_code.co_filename):
                    caller = caller.f_back
                if caller is not None and not decides(caller.f_code.co_filename):
                    return caller.f_code.co_filename
                return name
            if decides(name) or not library(name):
                return name
            frame = frame.f_back
        return None

    def trusted(name: str | None) -> bool:
        if name is None:
            return False
        return name in trusted_files() or in_engine(name)

    return responsible, trusted


def responsible_frame(frame=None) -> tuple[str | None, bool]:
    """(file of the responsible frame, whether it is trusted), walking out from ``frame`` (a tool
    for tests and the engine; the guards use their own bound copy)."""
    responsible, trusted = _make_judge(lambda: guard.TRUSTED_FILES)
    name = responsible(frame if frame is not None else sys._getframe(1))
    return name, trusted(name)


# ============================================================================ the keeper

def _keeper(calling: frozenset, returning):
    """Holds the originals of guarded objects, what is forbidden now, and what only the engine may
    use (the windows' plans, the dispatcher's switches, the kernel libraries, the file rule); answers
    through ``send``.

    An original goes to the engine, or to a guard's own code (``calling``: the code of ``_call``, of
    an operator's kernel and of a dispatch switch's guard, which call the original and hand back only
    its result; ``returning``: ``_checked``'s, which hands back a module or a class hook, never a
    function) for a caller the window allows: graded code that asks the keeper itself gets nothing,
    inside a window or out of one (a cell could otherwise keep an original for its question's tests).
    The code objects are this module's own, taken when it was imported: a function given one of them
    still calls the original rather than returning it.

    Commands: ("call", key), ("kernel", key, overload), ("checked", dotted, args) -> the original if
    the caller may use it; admin commands (only for a trusted caller, i.e. the engine): ("put", key,
    obj[, returnable]), ("on", [(keys, message), ...]), ("off", [(keys, message), ...]), ("get", key),
    ("get_all", keys), ("freeze",), ("adopt",), ("watch", module, names), ("watched", question),
    ("refusals",), ("keep", name, value) (the first value wins), ("kept", name). Replies are (ok, value).
    """
    getframe, frozenset_, getpid, getppid = sys._getframe, frozenset, os.getpid, os.getppid
    frozen: dict = {}  # pid -> test files: a forked child freezes its own, after its parent collected the tests
    responsible, trusted = _make_judge(lambda: frozen.get(getpid(), guard.TRUSTED_FILES))
    originals: dict = {}
    returnable: set = set()  # keys whose original ``_checked`` may hand back (modules, __init_subclass__ hooks)
    active: dict = {}
    watched: dict = {}
    refused: dict = {}  # pid -> messages: a forked child reports only what was refused in it
    rules: dict = {}  # dispatch-state function -> when its arguments make it refused
    kept: dict = {}
    asked_directly = "graded code may not ask the grader for a guarded original"
    reply = None
    while True:
        try:
            cmd = yield reply
            op = cmd[0]
            if op in ("call", "kernel"):  # a kernel's activity is its operator's; its original, its overload's
                caller = getframe(1)
                why = active.get(cmd[1])
                code = caller.f_code
                through_guard = code in calling or (code is returning and cmd[-1] in returnable)
                if (why or not through_guard) and not trusted(responsible(caller)):
                    message = why[-1] if why else asked_directly
                    mine = refused.setdefault(getpid(), [])
                    if len(mine) < 100:
                        mine.append(message)
                    reply = (False, ForbiddenAPIError(message))
                else:
                    reply = (True, originals[cmd[-1]])
            elif op == "checked":  # a dispatch-state function: refused when its arguments touch the kernel key
                caller = getframe(1)
                rule = rules.get(cmd[1])
                refuse = caller.f_code not in calling or (rule is not None and rule(cmd[2]))
                if refuse and not trusted(responsible(caller)):
                    why = (f"graded code may not use {cmd[1]}, which turns off the grader's checks"
                           if caller.f_code in calling else asked_directly)
                    mine = refused.setdefault(getpid(), [])
                    if len(mine) < 100:
                        mine.append(why)
                    reply = (False, ForbiddenAPIError(why))
                else:
                    reply = (True, originals[cmd[1]])
            elif not trusted(responsible(getframe(1))):
                reply = (False, ForbiddenAPIError("graded code may not change what is forbidden"))
            elif op == "put":
                originals.setdefault(cmd[1], cmd[2])
                if len(cmd) > 3 and cmd[3]:
                    returnable.add(cmd[1])
                reply = (True, None)
            elif op == "keep":
                reply = (True, kept.setdefault(cmd[1], cmd[2]))
            elif op == "kept":
                reply = (True, kept.get(cmd[1]))
            elif op == "get":
                reply = (True, originals.get(cmd[1]))
            elif op == "get_all":  # one caller check for a whole window's originals
                reply = (True, [originals.get(k) for k in cmd[1]])
            elif op == "on":  # [(keys, message), ...]: a whole window in one caller check
                for ks, msg in cmd[1]:
                    for k in ks:
                        active.setdefault(k, []).append(msg)
                reply = (True, None)
            elif op == "off":
                for ks, msg in cmd[1]:
                    for k in ks:
                        msgs = active.get(k, [])
                        if msg in msgs:
                            msgs.remove(msg)
                        if not msgs:
                            active.pop(k, None)
                reply = (True, None)
            elif op == "freeze":
                frozen.setdefault(getpid(), frozenset_(guard.TRUSTED_FILES))
                reply = (True, None)
            elif op == "adopt":  # a process forked by a grader process that built the module: its parent's are its own
                parent = getppid()
                if parent in frozen:
                    frozen[getpid()] = frozen[parent]
                if parent in watched:
                    watched[getpid()] = watched[parent]
                reply = (True, None)
            elif op == "watch":
                watched.setdefault(getpid(), (cmd[1], cmd[2]))  # first wins, per process (a child builds its own)
                reply = (True, None)
            elif op == "watched":
                mod, names = watched.get(getpid(), (None, {}))
                reply = (True, (mod, names.get(cmd[1], ())))
            elif op == "rule":
                originals.setdefault(cmd[1], cmd[2])
                rules.setdefault(cmd[1], cmd[3])
                reply = (True, None)
            elif op == "note":  # the engine records a refusal it found itself (a switched-off check)
                mine = refused.setdefault(getpid(), [])
                if len(mine) < 100:
                    mine.append(cmd[1])
                reply = (True, None)
            elif op == "refusals":
                reply = (True, refused.pop(getpid(), []))
                refused.clear()  # what a parent left behind is not this process's to report
            else:
                reply = (False, ValueError(op))
        except GeneratorExit:  # closed (at exit): every guard then refuses everyone
            raise
        except BaseException as e:  # noqa: BLE001 - a signal arriving here must not end the keeper
            reply = (False, e)


def _ask(*cmd):
    ok, value = _KEEPER.send(cmd)
    if not ok:
        raise value
    return value


def _call(key, args, kwargs):
    """What every guard runs: the original, if the caller may use it now."""
    ok, value = _KEEPER.send(("call", key))
    if not ok:
        raise value
    return value(*args, **kwargs)


def _checked(key):
    """The original itself, if the caller may use it now (a module's attributes, a class's hook)."""
    ok, value = _KEEPER.send(("call", key))
    if not ok:
        raise value
    return value


def adopt() -> None:
    """In a process the grading child forked after building the module (engine only): the test files
    its parent froze and the module it watches are this process's too (they are kept per process)."""
    _ask("adopt")
    register = _ask("kept", "file rule")
    if register is not None:
        register({}, "adopt")


def refusals() -> list[str]:
    """Messages of the forbidden-API calls refused since the last call (engine only): the hook for an
    integrity flag on the question."""
    return _ask("refusals")


# ============================================================================ guards

_MISSING = object()
_GUARDS: dict = {}  # key -> the guard object (persistent; holds no original)
_RAW_IDS: dict = {}  # member key -> id of the original function (the keeper keeps it alive)
_BASES: dict = {}  # key of a class's __init_subclass__ guard -> the class
GUARDED_DUNDERS = ("__init__", "__new__", "__call__")


def _function_guard(key, original, name: str):
    def guarded(*args, **kwargs):
        return _call(key, args, kwargs)

    for attr in ("__name__", "__qualname__", "__doc__", "__module__"):
        with contextlib.suppress(AttributeError, TypeError):
            setattr(guarded, attr, getattr(original, attr))
    with contextlib.suppress(TypeError, ValueError):
        guarded.__signature__ = inspect.signature(original)
    return guarded


def _module_stub(key, module: types.ModuleType):
    stub = types.ModuleType(module.__name__)

    def __getattr__(name: str):
        # dunders stay plain AttributeErrors: torch and inspect probe every module's __file__
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return getattr(_checked(key), name)

    stub.__getattr__ = __getattr__
    return stub


def _identity(obj):
    return obj


def _subclass_guard(key):
    def __init_subclass__(cls, **kwargs):
        own = _checked(key)  # the class's own __init_subclass__ function, or None
        if own is not None:
            return own(cls, **kwargs)
        return super(_BASES[key], cls).__init_subclass__(**kwargs)

    return classmethod(__init_subclass__)


def _remember(key, guard_obj):
    _GUARDS[key] = guard_obj
    _guards()[id(guard_obj)] = (guard_obj, key)
    return guard_obj


def _guards() -> dict:
    """id(guard) -> (the guard, its key), kept by the keeper (``_GUARDS`` is this module's, so graded code
    can add to it)."""
    found = _ask("kept", "guards")
    return found if found is not None else _ask("keep", "guards", {})


def _guard_key(obj):
    """The key of ``obj`` when it is one of the guards, else None (engine only)."""
    entry = _guards().get(id(obj))
    return entry[1] if entry is not None and entry[0] is obj else None


def is_guard(obj) -> bool:
    """Whether ``obj`` is one of the guards (engine only: ``pristine`` leaves a guard in place)."""
    return _guard_key(obj) is not None


# ============================================================================ what a dotted name means


class _Target:
    """One guarded object: kind is "function", "class" (a Python class, guarded in place) or "module"."""

    def __init__(self, kind: str, dotted: str, key, holder=None, attr: str = ""):
        self.kind, self.dotted, self.key, self.holder, self.attr = kind, dotted, key, holder, attr
        self.cls: type | None = None
        self.members: list[tuple[str, object, str]] = []  # class: (attribute, member key, "plain"/"static"/"class")
        self.file: str | None = None  # the file that defines it (a second copy is refused)


_RESOLVED: dict[str, list[_Target]] = {}
_HEAPTYPE = 1 << 9


def _lookup(dotted: str):
    """(holder, attribute, object) for a dotted name, importing modules as needed; None if absent."""
    if dotted in sys.modules:
        parent, _, attr = dotted.rpartition(".")
        return (sys.modules.get(parent), attr, sys.modules[dotted])
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        if i == len(parts):
            parent, _, attr = dotted.rpartition(".")
            return (sys.modules.get(parent), attr, obj)
        holder = obj
        for name in parts[i:-1]:
            holder = getattr(holder, name, None)
        obj = getattr(holder, parts[-1], None) if holder is not None else None
        return None if obj is None else (holder, parts[-1], obj)
    return None


def _source_file(obj) -> str | None:
    code = getattr(obj, "__code__", None)
    if isinstance(code, types.CodeType):
        return code.co_filename
    if isinstance(obj, type):
        mod = sys.modules.get(getattr(obj, "__module__", "") or "")
        return getattr(mod, "__file__", None)
    return None


def _own_members(module: types.ModuleType) -> list[tuple[str, object]]:
    """Functions and classes a module defines itself (not those it imports)."""
    name, file = module.__name__, getattr(module, "__file__", None)
    out = []
    for attr, value in list(vars(module).items()):
        if attr.startswith("__") or not (isinstance(value, (type, types.FunctionType))):
            continue
        if getattr(value, "__module__", None) == name or (file and _source_file(value) == file):
            out.append((attr, value))
        elif isinstance(value, type) and file and any(
                _source_file(v) == file for v in vars(value).values() if isinstance(v, types.FunctionType)):
            out.append((attr, value))
    return out


def _register(kind: str, dotted: str, obj, holder=None, attr: str = "") -> _Target:
    key = id(obj)
    t = _Target(kind, dotted, key, holder, attr)
    t.file = getattr(obj, "__file__", None) if kind == "module" else _source_file(obj)
    if kind == "class":
        t.cls = obj
        for name, value in list(vars(obj).items()):
            if name == "__init_subclass__" or (name.startswith("__") and name not in GUARDED_DUNDERS):
                continue
            if isinstance(value, staticmethod):
                how, raw = "static", value.__func__
            elif isinstance(value, classmethod):
                how, raw = "class", value.__func__
            elif isinstance(value, types.FunctionType):
                how, raw = "plain", value
            else:
                continue
            mkey = ("member", key, name)
            if mkey not in _GUARDS:
                _ask("put", mkey, raw)
                _RAW_IDS[mkey] = id(raw)
                g = _function_guard(mkey, raw, name)
                _remember(mkey, g if how == "plain" else staticmethod(g) if how == "static" else classmethod(g))
            t.members.append((name, mkey, how))
        skey = ("subclass", key)
        if skey not in _GUARDS:
            own = vars(obj).get("__init_subclass__")
            _ask("put", skey, own.__func__ if isinstance(own, classmethod) else None, True)
            _BASES[skey] = obj
            _remember(skey, _subclass_guard(skey))
        t.members.append(("__init_subclass__", skey, "class"))
        return t
    if key not in _GUARDS:
        _ask("put", key, obj, kind == "module")
        _remember(key, _module_stub(key, obj) if kind == "module" else _function_guard(key, obj, dotted))
    return t


def _resolve(dotted: str) -> list[_Target]:
    """The objects a dotted API name stands for (a module brings every function and class it defines)."""
    if dotted in _RESOLVED:
        return _RESOLVED[dotted]
    found = _lookup(dotted)
    targets: list[_Target] = []
    if found is not None:
        holder, attr, obj = found
        key = _guard_key(obj)
        if key is not None:  # already guarded (a nested window): the original is with the keeper
            obj = _ask("get", key)
        if isinstance(obj, types.ModuleType):
            targets.append(_register("module", dotted, obj, holder, attr))
            for name, member in _own_members(obj):
                targets += _resolve_object(f"{dotted}.{name}", member, obj, name)
        else:
            targets += _resolve_object(dotted, obj, holder, attr)
    _RESOLVED[dotted] = targets
    return targets


def _resolve_object(dotted: str, obj, holder, attr: str) -> list[_Target]:
    if isinstance(obj, type) and obj.__flags__ & _HEAPTYPE:
        return [_register("class", dotted, obj, holder, attr)]
    if callable(obj) and not isinstance(obj, type):
        return [_register("function", dotted, obj, holder, attr)]
    return []


# ============================================================================ where objects are held

_INDEX: dict = {}  # key -> [(module dict, attribute)] holding the original (no object held here but dicts)


def _index(keys: set) -> None:
    """Find, in one pass over ``sys.modules``, every module attribute holding an original in ``keys``."""
    todo = {k for k in keys if k not in _INDEX and isinstance(k, int)}
    if not todo:
        return
    for k in todo:
        _INDEX[k] = []
    for mod in list(sys.modules.values()):
        d = getattr(mod, "__dict__", None) if isinstance(mod, types.ModuleType) else None
        if not isinstance(d, dict) or todo.isdisjoint(map(id, d.values())):
            continue
        for name, value in list(d.items()):
            if id(value) in todo:
                _INDEX[id(value)].append((d, name))


class _Plan(NamedTuple):
    """What a window of forbidden APIs puts in place and checks, worked out once by the engine (``_plan``)
    and kept by the keeper. Graded code can import this module and change its tables (``_RESOLVED``,
    ``_GUARDS``, ``_INDEX``); a window reads none of them, only its plan, which graded code cannot reach.
    """
    # (how, where, name, original, guard): "member" sets a class's own member, "holder" a class attribute
    # that holds the original, "dict" an entry of a dict that holds it (a module's, or sys.modules)
    installs: tuple
    window: tuple  # ((keys, message), ...): switched on in the keeper while the window is open
    operators: tuple  # the operators whose kernels apply the caller rule while it is open
    overloads: tuple  # their overloads' names ("aten::_fused_sgd_.tensor_lr"), whose kernels must stay in place
    tls: tuple  # the dispatcher's switches for the kernels' key, bound before graded code ran (or ())
    files: tuple  # (path, module name): the files that define the APIs, which graded code may not load again
    module_files: tuple  # those of the forbidden modules alone (what a question's window adds)
    answers: tuple  # (originals and guards, classes, members): id -> the API an answer may not be (``borrowed``)


def _make_plan(apis: tuple[str, ...], question: str) -> _Plan:
    """The plan of a window (engine only): resolves the APIs, registers their guards and kernels."""
    targets = _targets(apis)
    operators = _install_kernels(apis)
    plain = [t for t in targets if t.kind != "class"]
    _index({t.key for t in plain})
    originals = dict(zip((keys := [t.key for t in plain]), _ask("get_all", keys)))
    installs: list = []
    message: dict = {}
    answers: tuple[dict, dict, dict] = ({}, {}, {})
    for t in targets:
        said = f"{question}: {t.dotted} may not be used in this question; implement it yourself"
        if t.kind == "class":
            answers[1][id(t.cls)] = t.dotted
            for name, mkey, _how in t.members:
                installs.append(("member", t.cls, name, None, _GUARDS[mkey]))
                message[mkey] = said
                answers[2][id(_GUARDS[mkey])] = t.dotted
                if mkey in _RAW_IDS:
                    answers[2][_RAW_IDS[mkey]] = t.dotted
            continue
        original, g = originals[t.key], _GUARDS[t.key]
        message[t.key] = said
        answers[0][t.key] = answers[0][id(g)] = t.dotted
        installs += [("dict", d, name, original, g) for d, name in _INDEX.get(t.key, ())]
        holder = t.holder
        if isinstance(holder, type):
            installs.append(("holder", holder, t.attr, original, g))
        elif isinstance(holder, types.ModuleType):
            installs.append(("dict", vars(holder), t.attr, original, g))
        if t.kind == "module":
            installs.append(("dict", sys.modules, t.dotted, original, g))
    for op, api in operators.items():
        message[("kernel", op)] = (f"{question}: {api} may not be used in this question (graded code reached its "
                                   f"kernel {op}); implement it yourself")
    by_message: dict[str, list] = {}
    for k, said in message.items():
        by_message.setdefault(said, []).append(k)
    from .kernels import overloads

    modules = [t for t in targets if t.kind == "module"]
    return _Plan(tuple(installs), tuple((tuple(ks), said) for said, ks in by_message.items()), tuple(operators),
                 tuple(f"aten::{name}" for op in operators for name in overloads(op)), _tls() if operators else (),
                 tuple(_files_of(targets).items()), tuple(_files_of(modules).items()), answers)


def _plan(apis: tuple[str, ...], question: str) -> _Plan:
    """The window's plan, from the keeper (made now, by the engine, the first time it is asked for)."""
    name = ("plan", tuple(apis), question)
    found = _ask("kept", name)
    return found if found is not None else _ask("keep", name, _make_plan(tuple(apis), question))


@contextlib.contextmanager
def _installed(plan: _Plan):
    """Put the plan's guards in place (class members, module attributes, sys.modules); undo on exit."""
    undo: list = []
    try:
        for how, where, name, original, g in plan.installs:
            if how == "dict":
                if where.get(name) is original:
                    where[name] = g
                    undo.append((where, name, original))
                continue
            current = vars(where).get(name, _MISSING)
            if current is g or (how == "holder" and getattr(where, name, None) is not original):
                continue
            setattr(where, name, g)
            undo.append((where, name, current))
        yield
    finally:
        for target, name, value in reversed(undo):
            if isinstance(target, dict):
                target[name] = value
            elif value is _MISSING:
                with contextlib.suppress(AttributeError, TypeError):
                    delattr(target, name)
            else:
                setattr(target, name, value)


def _targets(apis) -> list[_Target]:
    from .kernels import API_OBJECTS

    out: list[_Target] = []
    for dotted in apis:
        if dotted.startswith("aten::"):
            continue
        out += _resolve(dotted)
        for extra in API_OBJECTS.get(dotted, ()):
            out += _resolve(extra)
    return out


# ============================================================================ second copies

def _install_file_rule():
    """An audit hook that refuses, to untrusted code, reading, compiling or executing the file of a
    forbidden module again (a second copy of its classes and functions would carry no guard). Its
    ``register`` (which adds files) is kept by the keeper only: the tables it shares with the hook
    are out of graded code's reach."""
    found = _ask("kept", "file rule")
    if found is not None:
        return found
    getframe, fsdecode, isabs, join, getcwd = sys._getframe, os.fsdecode, os.path.isabs, os.path.join, os.getcwd
    normpath, realpath, isinstance_, code_type = os.path.normpath, os.path.realpath, isinstance, types.CodeType
    sha = hashlib.sha256
    getpid, getppid = os.getpid, os.getppid
    frozen: dict = {}  # pid -> test files, as in the keeper
    responsible, trusted = _make_judge(lambda: frozen.get(getpid(), guard.TRUSTED_FILES))
    files: dict[str, str] = {}  # path -> module name
    basenames: set[str] = set()
    sources: dict[int, dict[bytes, str]] = {}  # length -> digest -> module name
    busy: list = []

    def register(entries: dict[str, str], freeze: bool | str) -> None:
        if freeze == "adopt":
            if getppid() in frozen:
                frozen[getpid()] = frozen[getppid()]
        elif freeze:
            frozen.setdefault(getpid(), frozenset(guard.TRUSTED_FILES))
        for path, name in entries.items():
            if normpath(path) in files:
                continue
            for p in {normpath(path), realpath(path)}:
                files[p] = name
                basenames.add(p.rpartition("/")[2])
            if path.endswith(".py"):
                with contextlib.suppress(OSError, ValueError):
                    data = open(path, "rb").read()  # noqa: SIM115 - read once, before any submission runs
                    sources.setdefault(len(data), {})[sha(data).digest()] = name
                    text = data.decode()
                    sources.setdefault(len(text), {})[sha(text.encode()).digest()] = name

    def by_path(name) -> str | None:
        if not isinstance_(name, (str, bytes)):
            return None
        name = fsdecode(name)
        if name.rpartition("/")[2] not in basenames:
            return None
        if not isabs(name):
            name = join(getcwd(), name)
        return files.get(normpath(name)) or files.get(realpath(name))

    def by_source(src) -> str | None:
        if not isinstance_(src, (str, bytes)) or len(src) not in sources:
            return None
        data = src.encode() if isinstance_(src, str) else src
        return sources[len(src)].get(sha(data).digest())

    def hook(event: str, args: tuple) -> None:
        if busy or not files:
            return
        if event == "open":
            hit = by_path(args[0]) if args else None
        elif event == "exec":
            hit = by_path(args[0].co_filename) if args and isinstance_(args[0], code_type) else None
        elif event == "compile":
            hit = (by_path(args[1]) if len(args) > 1 else None) or (by_source(args[0]) if args else None)
        else:
            return
        if hit is None:
            return
        busy.append(1)
        try:
            who = responsible(getframe(1))
            allowed = who is None or trusted(who)
        finally:
            busy.pop()
        if not allowed:
            raise ForbiddenAPIError(f"{who.strip('<>')}: graded code may not read or load {hit} from its file "
                                    "(a second copy of a forbidden module); implement it yourself")

    sys.addaudithook(hook)
    return _ask("keep", "file rule", register)


_FILES_OF: dict[str, dict[str, str]] = {}


def _files_of(targets: list[_Target]) -> dict[str, str]:
    key = "\n".join(t.dotted for t in targets)
    if key not in _FILES_OF:
        _FILES_OF[key] = _find_files(targets)
    return _FILES_OF[key]


def _find_files(targets: list[_Target]) -> dict[str, str]:
    out = {}
    for t in targets:
        if t.file and os.path.isabs(t.file) and os.path.exists(t.file):
            out[t.file] = t.dotted.rsplit(".", 1)[0] if t.kind != "module" else t.dotted
            if t.file.endswith(".py"):
                with contextlib.suppress(NotImplementedError, ValueError):
                    out[importlib.util.cache_from_source(t.file)] = out[t.file]
    return out


# ============================================================================ answers that are borrowed


def answers_of(apis: tuple[str, ...]) -> tuple:
    """What an answer may not be when ``apis`` are forbidden (the plan's tables, for ``borrowed``)."""
    return _plan(tuple(apis), "").answers


def borrowed(obj, answers: tuple, depth: int = 4) -> str | None:
    """The forbidden API that ``obj`` (a name a question's cell must define) is, wraps or derives from.

    Tests are trusted callers, so an answer that *is* torch's class (``Adam = torch.optim.Adam``), a
    subclass of it, or a library wrapper around it (``functools.singledispatch(torch.add)``,
    ``functools.partial``) would pass the caller rule: it is refused here instead. ``answers``: a
    plan's tables (originals and guards, classes, class members by id).
    """
    keys, classes, members = answers
    stack, seen = [(obj, 0)], set()
    while stack:
        o, d = stack.pop()
        if id(o) in seen or d > depth or isinstance(o, types.ModuleType) and id(o) not in keys:
            continue
        seen.add(id(o))
        for table in (keys, classes, members):
            if id(o) in table:
                return table[id(o)]
        nxt: list = []
        try:
            if isinstance(o, type):
                nxt += [b for b in o.__mro__[1:] if id(b) in classes]
                if o.__flags__ & _HEAPTYPE and (o.__module__ not in sys.modules or o.__module__ == "__main__"):
                    nxt += list(vars(o).values())  # a class defined in a cell: what its body holds
            elif isinstance(o, (staticmethod, classmethod)):
                nxt.append(o.__func__)
            elif isinstance(o, functools.partial):
                nxt += [o.func, *o.args, *o.keywords.values()]
            elif isinstance(o, types.MethodType):
                nxt += [o.__func__, o.__self__]
            elif isinstance(o, (list, tuple, set, frozenset)):
                nxt += list(o)[:64]
            elif isinstance(o, dict):
                nxt += list(o.values())[:64]
            if isinstance(o, types.FunctionType):
                nxt += [c.cell_contents for c in (o.__closure__ or ()) if _filled(c)]
                nxt += list(o.__defaults__ or ()) + list((o.__kwdefaults__ or {}).values())
            kind = type(o)
            if kind is types.FunctionType:  # a function's own attributes are its __dict__
                wrapped = o.__dict__.get("__wrapped__")
            elif isinstance(o, type) or not (kind.__flags__ & _HEAPTYPE or kind.__dictoffset__):
                wrapped = None  # an instance of a built-in type without attributes of its own (str, descriptors)
            else:
                wrapped = inspect.getattr_static(o, "__wrapped__", None)
            if wrapped is not None:
                nxt.append(wrapped)
        except Exception:  # noqa: BLE001 - an odd object is simply not looked into
            continue
        stack += [(n, d + 1) for n in nxt]
    return None


def _filled(cell) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True


def watch(module, owners: dict[str, str], forbidden: dict[str, tuple[str, ...]]) -> None:
    """Register the built submission: before each test of a question, the names its cell must
    define are checked against what the question forbids (``borrowed``)."""
    names: dict[str, list[str]] = {}
    for name, q in owners.items():
        if forbidden.get(q):
            names.setdefault(q, []).append(name)
    _ask("watch", module, {q: tuple(v) for q, v in names.items()})


# ============================================================================ windows


@contextlib.contextmanager
def forbid(apis: tuple[str, ...], question: str):
    """While inside, each API in ``apis`` refuses untrusted callers (ForbiddenAPIError); restore on exit.

    Also refuses, before a test, an answer of ``question`` that is one of these APIs (``borrowed``).
    """
    if not apis:
        yield
        return
    plan = _plan(apis, question)
    if not plan.installs and not plan.operators:
        yield
        return
    if plan.module_files:
        _install_file_rule()(dict(plan.module_files), False)
    with _installed(plan), _kernel_window(plan):
        _ask("on", plan.window)
        try:
            mod, names = _ask("watched", question)
            for name in names:
                value = mod.__dict__.get(name) if mod is not None else None
                hit = borrowed(value, plan.answers) if value is not None else None
                if hit:
                    raise ForbiddenAPIError(f"{question}: `{name}` is {hit} (or wraps or derives from it), which this "
                                            "question asks you to implement yourself")
            yield
        finally:
            _ask("off", plan.window)


def prepare(forbidden: dict[str, tuple[str, ...]]) -> None:
    """Make the plan of every question's window and of the build's (``building``) once: resolve every
    forbidden API, find where modules hold them, register the kernels of their operators. A warm
    parent that calls this before forking spares each grading child the scan of ``sys.modules`` and the
    registrations (no torch op runs), and its children's windows read only plans made before any
    graded code ran."""
    union = tuple(dict.fromkeys(api for apis in forbidden.values() for api in apis))
    targets = _targets(union)
    switches = {id(f[2]) for dotted in DISPATCH_SWITCHES if (f := _lookup(dotted)) is not None}
    _index({t.key for t in targets if t.kind != "class"} | switches)  # one pass over sys.modules, here
    from .kernels import _overload_index

    _overload_index()  # the operators' overloads, listed here once instead of in every child
    _plan(union, "")
    for question, apis in forbidden.items():
        if apis:
            _plan(tuple(apis), question)


# What could switch the dispatcher's check of forbidden kernels off, and when a call of it is refused to
# graded code (``guard_dispatch`` turns each kind into its rule).
DISPATCH_SWITCHES = {
    "torch._C._ExcludeDispatchKeyGuard": "names the key", "torch._C.ExcludeDispatchKeyGuard": "names the key",
    "torch._C._ForceDispatchKeyGuard": "any arguments", "torch._C._SetExcludeDispatchKeyGuard": "is the key",
    "torch._C._dispatch_tls_set_dispatch_key_excluded": "is the key",
    "torch._C._dispatch_tls_set_dispatch_key_included": "is the key", "torch._C._DisableAutocast": "always",
    "torch.set_autocast_enabled": "the autocast device", "torch._C._dispatch_library": "the aten library",
}


# ============================================================================ kernels at the dispatcher

class _Switches(NamedTuple):
    """The dispatcher's thread-local switches for ``kernels.KEY``, bound before any graded code runs and
    kept by the keeper (graded code may replace ``torch._C``'s attributes, not these)."""
    key: object
    included: object
    excluded: object
    include: object
    exclude: object
    guard: object  # torch._C._ExcludeDispatchKeyGuard
    keyset: object
    has_kernel: object  # torch._C._dispatch_has_kernel_for_dispatch_key


def _tls() -> _Switches:
    found = _ask("kept", "switches")
    if found is not None:
        return found
    import torch

    from .kernels import KEY

    C = torch._C
    key = getattr(C.DispatchKey, KEY)
    return _ask("keep", "switches", _Switches(
        key, C._dispatch_tls_is_dispatch_key_included, C._dispatch_tls_is_dispatch_key_excluded,
        C._dispatch_tls_set_dispatch_key_included, C._dispatch_tls_set_dispatch_key_excluded,
        C._ExcludeDispatchKeyGuard, C.DispatchKeySet(key), C._dispatch_has_kernel_for_dispatch_key))


def _install_kernels(apis) -> dict[str, str]:
    """Register, once per process, a kernel under ``kernels.KEY`` for every operator behind ``apis``;
    returns operator -> API for them (operators this torch does not have are left out). The libraries
    that hold the kernels (they unregister when destroyed) are kept by the keeper only."""
    from . import kernels

    wanted = kernels.operators(apis)
    if not wanted:
        return {}
    import torch

    tls = _tls()
    libs = _ask("kept", "kernel libraries")
    if libs is None:
        fallback = torch.library.Library("_", "IMPL")
        fallback.fallback(torch.library.fallthrough_kernel, kernels.KEY)  # every other operator: no cost
        libs = _ask("keep", "kernel libraries", (fallback, torch.library.Library("aten", "IMPL"), set()))
    lib, done = libs[1], libs[2]
    found = {}
    for op, api in wanted.items():
        names = kernels.overloads(op)
        if not names:
            continue
        found[op] = api
        if op in done:
            continue
        key = ("kernel", op)
        packet = getattr(torch.ops.aten, op.removeprefix("aten::"))
        for name in names:
            overload = getattr(packet, name.partition(".")[2] or "default")
            raw = overload._op
            _ask("put", key + (name,), raw)
            lib.impl(name, _kernel_for(key, name, tls), kernels.KEY)
        done.add(op)
    return found


def _kernel_for(key, name, tls: _Switches):
    """The kernel of one overload: the original, with the key excluded, for a caller the keeper allows
    (the caller rule of every guard, applied to the Python frames that led to this operator)."""
    send = _KEEPER.send
    exclude, keyset = tls.guard, tls.keyset
    full = key + (name,)

    def kernel(*args, **kwargs):
        ok, original = send(("kernel", key, full))
        if not ok:
            raise original
        with exclude(keyset):
            return original(*args, **kwargs)

    return kernel


@contextlib.contextmanager
def _kernel_window(plan: _Plan):
    """Switch ``kernels.KEY`` on for this thread while inside (so the operators' kernels run). That graded
    code switched it off, or took the grader's kernels away (a library's finalizer unregisters them; a
    cell may have done it before the test began), is found on the way out: that is flagged and fails
    the test."""
    if not plan.operators:
        yield
        return
    tls, overloads = plan.tls, plan.overloads
    key = tls.key

    def check(intact: bool) -> None:
        if intact and all(tls.has_kernel(name, key) for name in overloads):
            return
        why = "graded code switched off the grader's check of forbidden kernels"
        _ask("note", why)
        raise ForbiddenAPIError(f"{why}; nothing in an assignment needs it")

    before = (tls.included(key), tls.excluded(key))
    tls.exclude(key, False)
    tls.include(key, True)
    try:
        yield
    finally:
        intact = tls.included(key) and not tls.excluded(key)
        tls.include(key, before[0])
        tls.exclude(key, before[1])
        check(intact)


@contextlib.contextmanager
def building(forbidden: dict[str, tuple[str, ...]]):
    """While a notebook is built: every API any question forbids is guarded (refused only inside
    ``forbid`` for the running cell's question), and its module's file may not be loaded again."""
    union = tuple(dict.fromkeys(api for apis in forbidden.values() for api in apis))
    if not union:
        yield
        return
    _ask("freeze")  # the registered test files, as they are before any submission code runs
    plan = _plan(union, "")
    _install_file_rule()(dict(plan.files), True)
    with _installed(plan):
        yield


def guard_dispatch() -> None:
    """In the grading child, before graded code runs: the functions that could switch ``kernels.KEY`` off
    for a moment (exclude it, force the thread's key sets, disable autocast keys, redispatch below it,
    register other kernels over the grader's) refuse graded code when they would touch it. They are
    replaced wherever a module holds them, like a forbidden API's guards, and their originals stay
    with the keeper. What is reached all the same is caught when the window closes (``_kernel_window``)."""
    import torch

    from .kernels import AUTOCAST_DEVICE

    tls = _tls()
    key = tls.key

    def has_key(args) -> bool:
        return any(isinstance(a, torch._C.DispatchKeySet) and a.has(key) for a in args)

    def is_key(args) -> bool:
        return bool(args) and args[0] == key

    def autocast_device(args) -> bool:
        return bool(args) and isinstance(args[0], str) and args[0].split(":")[0] in (AUTOCAST_DEVICE, "privateuse1")

    C = torch._C
    rules = {"names the key": has_key, "any arguments": lambda args: bool(args), "is the key": is_key,
             "always": lambda args: True, "the autocast device": autocast_device,
             "the aten library": lambda args: len(args) > 1 and args[1] in ("aten", "_")}
    found = {dotted: f for dotted in DISPATCH_SWITCHES if (f := _lookup(dotted)) is not None}
    _index({id(obj) for _holder, _attr, obj in found.values()})  # one pass (none after `prepare`)
    for dotted, (holder, attr, obj) in found.items():
        if is_guard(obj):
            continue
        _ask("rule", dotted, obj, rules[DISPATCH_SWITCHES[dotted]])
        g = _remember(dotted, _rule_guard(dotted, obj))
        for d, name in _INDEX.get(id(obj), ()):
            if d.get(name) is obj:
                d[name] = g
        if vars(holder).get(attr) is obj:
            setattr(holder, attr, g)
    handle = C._DispatchOperatorHandle
    for method in ("redispatch_boxed",):
        dotted = f"torch._C._DispatchOperatorHandle.{method}"
        original = vars(handle).get(method)
        if original is not None and dotted not in _GUARDS:
            _ask("rule", dotted, original, lambda args: True)
            setattr(handle, method, _remember(dotted, _rule_guard(dotted, original)))


def _rule_guard(dotted: str, original):
    send = _KEEPER.send

    def guarded(*args, **kwargs):
        ok, value = send(("checked", dotted, args))
        if not ok:
            raise value
        return value(*args, **kwargs)

    for attr in ("__name__", "__qualname__", "__doc__"):
        with contextlib.suppress(AttributeError, TypeError):
            setattr(guarded, attr, getattr(original, attr))
    return guarded


def _inner_code(function, name: str) -> types.CodeType:
    return next(c for c in function.__code__.co_consts if isinstance(c, types.CodeType) and c.co_name == name)


# The keeper starts last, with the code of the guards that may receive an original (``_keeper``).
_KEEPER = _keeper(frozenset({_call.__code__, _inner_code(_kernel_for, "kernel"), _inner_code(_rule_guard, "guarded")}),
                  _checked.__code__)
next(_KEEPER)
