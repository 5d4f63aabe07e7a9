"""APIs a question forbids: found statically in the parent, and disabled at run time in the child.

The static scan reads the graded cell (and the import cells for aliases) without running it,
so it is trusted. The run-time stubs catch what a scan cannot see (``getattr(torch.optim, "S" + "GD")``).
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import sys
import types

from .guard import ForbiddenAPIError, trusted_file
from .notebook import Submission


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


def static_violations(sub: Submission, forbidden: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """question -> message, for graded cells that name an API their question forbids (or that no
    graded cell may use: EVERYWHERE, HOOK_NAMES)."""
    import_trees = []
    for cell in sub.imports:
        with contextlib.suppress(SyntaxError):
            import_trees.append(ast.parse(cell.source))
    found: dict[str, str] = {}
    for q, cell in sub.graded.items():
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
        aliases = _aliases([*import_trees, tree])
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


def _trusted_caller(depth: int = 2) -> bool:
    """Whether the code that reached the stub is the grader's, a library's or a test's (``guard``).

    Student code runs from notebook cells, whose code objects have no file on disk
    (``<GRADED: adam>`` when grading, ``/tmp/ipykernel_*/...`` in a kernel), or from modules it
    wrote into its scratch folder: it is refused.
    """
    return trusted_file(sys._getframe(depth).f_code.co_filename)


def _stub(dotted: str, original: object, question: str) -> object:
    msg = f"{question}: {dotted} may not be used in this question; implement it yourself"

    def call(*args, **kwargs):
        if _trusted_caller():
            return original(*args, **kwargs)
        raise ForbiddenAPIError(msg)

    def attr(name: str):
        # dunders stay plain AttributeErrors: torch and inspect probe every module's __file__
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        if _trusted_caller(3):
            return getattr(original, name)
        raise ForbiddenAPIError(msg)

    if isinstance(original, types.ModuleType):
        mod = types.ModuleType(dotted)
        mod.__getattr__ = lambda name: attr(name)
        return mod
    if isinstance(original, type):
        def construct(cls, *args, **kwargs):
            if _trusted_caller():
                return original(*args, **kwargs)
            raise ForbiddenAPIError(msg)

        def subclass(cls, **kwargs):
            if not _trusted_caller():
                raise ForbiddenAPIError(msg)

        meta = type("ForbiddenMeta", (type,), {"__getattr__": lambda cls, name: attr(name), "__call__": construct})
        return meta(original.__name__, (), {"__init_subclass__": classmethod(subclass)})
    return call


def _resolve(dotted: str):
    """The module or attribute (e.g. ``torch.Tensor``) a dotted name refers to, else None."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for name in parts[i:]:
            obj = getattr(obj, name, None)
        return obj
    return None


@contextlib.contextmanager
def forbid(apis: tuple[str, ...], question: str):
    """Replace each dotted API by a stub that raises ForbiddenAPIError; restore on exit."""
    undo = []
    for dotted in apis:
        parent_name, _, attr = dotted.rpartition(".")
        parent = _resolve(parent_name)
        original = getattr(parent, attr, None)
        if original is None:
            continue
        stub = _stub(dotted, original, question)
        setattr(parent, attr, stub)
        undo.append((parent, attr, original))
        if dotted in sys.modules:
            undo.append((sys.modules, dotted, sys.modules[dotted]))
            sys.modules[dotted] = stub
    try:
        yield
    finally:
        for target, key, original in reversed(undo):
            if target is sys.modules:
                sys.modules[key] = original
            else:
                setattr(target, key, original)
