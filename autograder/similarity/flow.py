"""What a cell computes, as a graph of values: the same for code that is only spelled differently.

A cell is evaluated symbolically, the way a compiler numbers values: every expression becomes a node
of a graph shared by the whole class (hash-consed, so the same computation gets the same id in every
student's cell), built from the operations, the attributes and functions used, the constants, and the
values it uses, never from the names that hold them. Variables are substituted by their values and
helpers the cell defines are inlined at their call sites, so renaming, reordering independent
statements, splitting an expression into temporaries or merging them back, inlining a helper or
extracting one leave the graph unchanged. Control flow is folded into values: the two branches of an
``if`` merge into ``phi(condition, then, else)`` (a conditional expression gives the same node), an
early ``return`` or ``continue`` guards what follows, and a loop whose body appends to a list or adds
to an accumulator becomes the comprehension or ``sum`` that computes the same thing. Sums and products
are flattened and sorted (``a - b`` is ``a + (-b)``, ``a / b`` is ``a * b**-1``) and constants folded.

What the cell does is the set of its effects ("sinks"): values returned, raised, stored into an
object or a container, and calls made for their side effect (``p.add_(...)``), each with the
conditions it happens under. A cell's features are every node reachable from its sinks: small ones
(``h @ W.T``) that many students share, and large ones that only a copy shares.
"""

from __future__ import annotations

import ast
import io
import math
import tokenize
from dataclasses import dataclass, field

ALIASES = {"F": "torch.nn.functional", "nn": "torch.nn", "np": "numpy", "optim": "torch.optim"}
# methods that change a container when called as a statement (``xs.append(x)``, ``state.update(...)``);
# torch's in-place methods end with an underscore (``p.add_(u)``) and are in place wherever they are called
LIST_MUTATORS = {"append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault", "sort",
                 "reverse", "add", "discard"}
# torch functions that are also tensor methods (``torch.sigmoid(x)`` is ``x.sigmoid()``), and the
# functional ones that compute the same (``F.sigmoid``); both become the method on their first argument
TENSOR_METHODS = {
    "abs", "add", "addcdiv", "addcmul", "argmax", "argmin", "bmm", "chunk", "clamp", "clamp_max", "clamp_min",
    "cos", "cumsum", "div", "dot", "erf", "exp", "flatten", "lerp", "log", "log_softmax", "logsumexp", "matmul",
    "max", "maximum", "mean", "min", "minimum", "mm", "mul", "multiply", "neg", "norm", "outer", "pow", "relu",
    "reshape", "rsqrt", "sigmoid", "sign", "sin", "softmax", "split", "sqrt", "square", "squeeze", "std", "sub",
    "subtract", "sum", "t", "tanh", "transpose", "true_divide", "unsqueeze", "var", "gelu", "silu"}
# where a method's ``dim`` goes among its positional arguments (``x.sum(dim=1)`` is ``x.sum(1)``)
DIM_POS = {"sum": 0, "mean": 0, "softmax": 0, "log_softmax": 0, "logsumexp": 0, "cumsum": 0, "argmax": 0,
           "argmin": 0, "max": 0, "min": 0, "unsqueeze": 0, "squeeze": 0, "std": 0, "var": 0, "chunk": 1,
           "split": 1, "norm": 1, "cat": 1, "stack": 1}
UNROLL = 8  # loops and comprehensions over range(n), n at most this, are unrolled (gates written one by one)
MAX_INLINE_DEPTH = 8  # nested inlined calls; deeper (or recursive) calls stay opaque
MAX_NODES = 20000  # per cell: a pathological cell stops growing its graph here
K = 5  # tokens per k-gram of a cell that does not parse

_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
        ast.Pow: "**", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|", ast.BitXor: "^",
        ast.BitAnd: "&"}
_CMP = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.Is: "is",
        ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}


class Graph:
    """Hash-consed nodes shared by every cell of a class. A node's key is a tuple: its kind (a str),
    then labels (str) and children (int ids)."""

    def __init__(self):
        self.ids: dict[tuple, int] = {}
        self.keys: list[tuple] = []

    def node(self, key: tuple) -> int:
        i = self.ids.get(key)
        if i is None:
            i = self.ids[key] = len(self.keys)
            self.keys.append(key)
        return i

    def children(self, i: int) -> list[int]:
        return [c for c in self.keys[i][1:] if type(c) is int]

    def reachable(self, roots) -> set[int]:
        seen, todo = set(), list(roots)
        while todo:
            i = todo.pop()
            if i not in seen:
                seen.add(i)
                todo.extend(c for c in self.keys[i][1:] if type(c) is int and c not in seen)
        return seen

    def describe(self, i: int, depth: int = 3) -> str:
        """A readable rendering of a node (for debugging and the report's tooltips)."""
        key = self.keys[i]
        parts = [self.describe(c, depth - 1) if type(c) is int else c for c in key[1:]] if depth > 0 else ["…"]
        return f"{key[0]}({', '.join(parts)})"


@dataclass(eq=False)
class Func:
    """A function or lambda the cell defines: inlined where it is called."""
    node: ast.AST
    frame: object  # the frame it was defined in (its free variables are that frame's)
    snapshot: dict
    static: bool = False


@dataclass(eq=False)
class Bound:
    func: Func
    self_value: int


@dataclass(eq=False)
class ClassInfo:
    name: str
    label: str
    methods: dict[str, Func] = field(default_factory=dict)


class _Stop(Exception):
    pass


_LOOP = -1  # marker in the guard stack: the start of a loop body


class Evaluator:
    """Evaluates one cell into sinks of a shared :class:`Graph`; ``lines`` maps each node the cell
    made to the source lines (first, last) of the statements that made it."""

    def __init__(self, graph: Graph, fixed: frozenset[str] = frozenset()):
        self.g = graph
        self.fixed = fixed  # names every student must define (the skeleton's): they label entry points
        self.env: dict = {}
        self.mem: dict[tuple[int, int], int] = {}
        self.guards: list[int] = []
        self.sinks: set[int] = set()
        self.lines: dict[int, set[tuple[int, int]]] = {}
        self.cur: tuple[int, int] = (0, 0)
        self.stack: list[Func] = []
        self.frame: object = "module"
        self.module_env: dict = {}
        self.inlined: set[Func] = set()
        self.made = 0
        self.statement_call: ast.Call | None = None
        self.inlined_call: ast.Call | None = None
        self.assigned_cache: dict[int, set[str]] = {}
        self.mutated: set[str] = set()  # names of this frame changed in place (m.mul_(b), xs.append(x))
        self.replacements: list[tuple[int, int]] = []  # (old, new) objects this frame changed in place
        self.bound_names: set[str] = set()
        self._fn_cache: dict[Func, int] = {}

    # ------------------------------------------------------------------ nodes

    def n(self, *key) -> int:
        i = self.g.node(key)
        self.made += 1
        if self.made > MAX_NODES:
            raise _Stop
        where = self.lines.get(i)
        if where is None:
            self.lines[i] = {self.cur}
        else:
            where.add(self.cur)
        return i

    def key(self, i) -> tuple:
        return self.g.keys[i] if type(i) is int else ("?",)

    def const(self, v) -> int:
        if isinstance(v, bool) or v is None or v is Ellipsis:
            return self.n("const", repr(v))
        if isinstance(v, (int, float)):
            try:
                f = float(v)
            except OverflowError:
                return self.n("num", repr(v))
            return self.n("num", repr(f)) if math.isfinite(f) else self.n("num", repr(v))
        if isinstance(v, str):
            return self.n("str", v)
        return self.n("const", repr(v))

    def num(self, i) -> float | None:
        k = self.key(i)
        if k[0] == "num":
            try:
                return float(k[1])
            except ValueError:
                return None
        return None

    def val(self, v) -> int:
        """A node for any value: functions become the node of what they compute from their arguments."""
        if type(v) is int:
            return v
        if isinstance(v, Bound):
            return self.fn_node(v.func, v.self_value)
        if isinstance(v, Func):
            return self.fn_node(v)
        if isinstance(v, ClassInfo):
            return self.n("class", v.label)
        return self.n("const", "?")

    def fn_node(self, f: Func, self_value: int | None = None) -> int:
        if self_value is None and f in self._fn_cache:
            return self._fn_cache[f]
        args = f.node.args
        count = len(args.posonlyargs) + len(args.args) - (self_value is not None)
        out = self.inline(f, [self.n("arg", str(k)) for k in range(max(count, 0))], [], self_value)
        v = self.n("fn", out if out is not None else self.n("const", "?"))
        if self_value is None:
            self._fn_cache[f] = v
        return v

    # ------------------------------------------------------------------ algebra

    def nary(self, op: str, a: int, b: int) -> int:
        ops = []
        for x in (a, b):
            k = self.key(x)
            ops.extend(k[1:] if k[0] == op else [x])
        negate = False
        if op == "*":
            stripped = []
            for x in ops:
                k = self.key(x)
                if k[0] == "neg":
                    negate, x = not negate, k[1]
                stripped.append(x)
            ops = stripped
        nums = [self.num(x) for x in ops]
        folded = [v for v in nums if v is not None]
        rest = [x for x, v in zip(ops, nums) if v is None]
        if folded:
            c = math.fsum(folded) if op == "+" else math.prod(folded)
            if op == "*" and c == 0 and not negate:
                return self.const(0.0)
            if op == "*" and c < 0:
                negate, c = not negate, -c
            if not ((op == "+" and c == 0) or (op == "*" and c == 1)) or not rest:
                rest.append(self.const(c))
        if op == "*":  # x * x is x ** 2
            counts: dict[int, int] = {}
            for x in rest:
                counts[x] = counts.get(x, 0) + 1
            rest = [x if c == 1 else self.n("**", x, self.const(float(c))) for x, c in counts.items()]
        rest.sort()
        out = rest[0] if len(rest) == 1 else self.n(op, *rest)
        return self.neg(out) if negate else out

    def neg(self, a: int) -> int:
        k = self.key(a)
        if k[0] == "neg":
            return k[1]
        v = self.num(a)
        if v is not None:
            return self.const(-v)
        return self.n("neg", a)

    def inv(self, a: int) -> int:
        k = self.key(a)
        if k[0] == "inv":
            return k[1]
        v = self.num(a)
        if v:
            return self.const(1.0 / v)
        return self.n("inv", a)

    def listy(self, a: int) -> bool:
        k = self.key(a)
        return k[0] in ("list", "append", "concat") or (k[0] == "comp" and k[1] in ("seq", "flat")) \
            or (k[0] == "mu" and self.listy(k[1]))

    def binop(self, op: str, a: int, b: int) -> int:
        if op == "+":
            if self.listy(a) or self.listy(b):
                kb = self.key(b)
                if kb[0] == "list" and len(kb) == 2:
                    return self.append(a, kb[1])
                return self.concat(a, b)
            return self.nary("+", a, b)
        if op == "-":
            return self.nary("+", a, self.neg(b))
        if op == "*":
            return self.nary("*", a, b)
        if op == "/":
            return self.nary("*", a, self.inv(b))
        if op == "**":
            if self.num(b) == 1.0:
                return a
            x, y = self.num(a), self.num(b)
            if x is not None and y is not None:
                try:
                    return self.const(float(x ** y))
                except (OverflowError, ZeroDivisionError, TypeError):
                    pass
        return self.n(op, a, b)

    def append(self, lst: int, item: int) -> int:
        guards = self.loop_guards()
        if not guards and self.key(lst)[0] == "list":  # xs = [a]; xs.append(b) is [a, b]
            return self.n("list", *self.key(lst)[1:], item)
        return self.n("append", lst, item, self.conds(guards))

    def small_range(self, it: int) -> int | None:
        """n when ``it`` is ``range(n)`` with a small constant n (the loop is unrolled)."""
        k = self.key(it)
        if k[0] == "call" and len(k) == 3 and self.key(k[1]) == ("global", "range"):
            n = self.num(k[2])
            if n is not None and n == int(n) and 1 <= n <= UNROLL:
                return int(n)
        return None

    def concat(self, a: int, b: int) -> int:
        ka = self.key(a)
        if ka[0] == "list" and len(ka) == 1:
            return b
        return self.n("concat", a, b)

    def not_(self, a: int) -> int:
        k = self.key(a)
        if k[0] == "not":
            return k[1]
        return self.n("not", a)

    def boolop(self, op: str, parts: list[int]) -> int:
        flat: list[int] = []
        for p in parts:
            k = self.key(p)
            flat.extend(k[1:] if k[0] == op else [p])
        flat = sorted(set(flat))
        return flat[0] if len(flat) == 1 else self.n(op, *flat)

    def cmp(self, op: str, a: int, b: int) -> int:
        if op == ">":
            return self.n("<", b, a)
        if op == ">=":
            return self.n("<=", b, a)
        if op in ("==", "!="):
            node = self.n("==", *sorted((a, b)))
            return node if op == "==" else self.not_(node)
        if op in ("is not", "not in"):
            return self.not_(self.n(op.split()[-1], a, b))
        return self.n(op, a, b)

    def phi(self, c: int, a: int, b: int) -> int:
        if a == b:
            return a
        k = self.key(c)
        if k[0] == "not":
            c, a, b = k[1], b, a
        return self.n("phi", c, a, b)

    def conds(self, parts) -> int:
        flat: list[int] = []
        for p in parts:
            k = self.key(p)
            flat.extend(k[1:] if k[0] == "and" else [p])
        return self.n("conds", *sorted(set(flat)))

    def loop_guards(self) -> list[int]:
        out = []
        for gd in reversed(self.guards):
            if gd == _LOOP:
                break
            out.append(gd)
        return out

    def sink(self, kind: str, *values: int) -> None:
        guards = [gd for gd in self.guards if gd != _LOOP]
        node = self.n("sink", kind, *values)
        self.sinks.add(self.n("when", node, self.conds(guards)) if guards else node)

    # ------------------------------------------------------------------ statements

    def block(self, stmts: list[ast.stmt]):
        """Runs statements; returns None (fell through) or ("return", v) / ("continue",) / ("break",) /
        ("raise",)."""
        for k, s in enumerate(stmts):
            if isinstance(s, ast.If):
                handled, out = self.if_(s, stmts[k + 1:])
                if handled or out is not None:
                    return out
                continue
            out = self.stmt(s)
            if out is not None:
                return out
        return None

    def stmt(self, s: ast.stmt):
        self.cur = (s.lineno, getattr(s, "end_lineno", s.lineno) or s.lineno)
        method = getattr(self, "s_" + type(s).__name__, None)
        if method is None:
            for child in ast.iter_child_nodes(s):
                if isinstance(child, ast.expr):
                    self.sink("expr", self.val(self.ev(child)))
            return None
        return method(s)

    def s_Expr(self, s):
        if isinstance(s.value, ast.Constant) and isinstance(s.value.value, str):
            return None  # a docstring or a bare string
        e = s.value
        container = isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute) and e.func.attr in LIST_MUTATORS \
            and self._root_name(e.func.value)
        self.statement_call = e if container else None
        v = self.ev(e)
        self.statement_call = None
        # out.append(x), state.update(...): the container's new value carries it; a helper of the cell
        # called for its effects: they are sinks already, its result is dropped
        if not container and self.inlined_call is not e:
            in_place = isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute) and _in_place(e.func.attr)
            self.sink("inplace" if in_place else "do", self.val(v))
        return None

    def s_Assign(self, s):
        v = self.ev(s.value)
        for t in s.targets:
            self.bind(t, v)

    def s_AnnAssign(self, s):
        if s.value is not None:
            self.bind(s.target, self.ev(s.value))

    def s_AugAssign(self, s):
        if isinstance(s.target, ast.Attribute) and s.target.attr == "data":  # p.data -= u changes p
            s = ast.AugAssign(s.target.value, s.op, s.value, lineno=s.lineno, end_lineno=s.end_lineno)
        cur = self.val(self.ev(_load(s.target)))
        v = self.binop(_OPS.get(type(s.op), "?"), cur, self.val(self.ev(s.value)))
        self.bind(s.target, v)
        if isinstance(s.target, ast.Name) and self.key(cur)[0] != "mu":
            self.sink("inplace", v)  # p -= lr * u changes the tensor p

    def s_NamedExpr(self, s):  # pragma: no cover - an expression, handled in ev
        return None

    def s_Return(self, s):
        return ("return", self.val(self.ev(s.value)) if s.value is not None else self.const(None))

    def s_Raise(self, s):
        if s.exc is not None:
            self.sink("raise", self.val(self.ev(s.exc)))
        return ("raise",)

    def s_Assert(self, s):
        self.sink("assert", self.val(self.ev(s.test)))

    def s_Continue(self, s):
        return ("continue",)

    def s_Break(self, s):
        return ("break",)

    def s_Pass(self, s):
        return None

    def s_Global(self, s):
        return None

    s_Nonlocal = s_Global

    def s_Delete(self, s):
        for t in s.targets:
            if isinstance(t, ast.Name):
                self.env.pop(t.id, None)

    def s_Import(self, s):
        for a in s.names:
            if a.asname:
                self.env[a.asname] = self.n("global", a.name)
            else:
                top = a.name.split(".")[0]
                self.env[top] = self.n("global", top)

    def s_ImportFrom(self, s):
        for a in s.names:
            if a.name != "*":
                self.env[a.asname or a.name] = self.n("global", f"{'.' * s.level}{s.module or ''}.{a.name}")

    def s_FunctionDef(self, s):
        static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in s.decorator_list)
        self.env[s.name] = Func(s, self.frame, dict(self.env), static)

    s_AsyncFunctionDef = s_FunctionDef

    def s_ClassDef(self, s):
        label = s.name if s.name in self.fixed else "_"
        info = ClassInfo(s.name, label)
        bases = [self.val(self.ev(b)) for b in s.bases]
        self.sink("class", self.n("class", label), *bases)
        self.env[s.name] = info
        for item in s.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in item.decorator_list)
                info.methods[item.name] = Func(item, "module", {}, static)
            elif not (isinstance(item, ast.Expr) and isinstance(item.value, ast.Constant)):
                self.cur = (item.lineno, item.end_lineno or item.lineno)
                for child in ast.iter_child_nodes(item):
                    if isinstance(child, ast.expr) and not isinstance(child, ast.Name):
                        self.sink("classattr", self.n("class", label), self.val(self.ev(child)))

    def s_With(self, s):
        for item in s.items:
            ctx = self.val(self.ev(item.context_expr))
            if item.optional_vars is not None:
                self.bind(item.optional_vars, self.n("enter", ctx))
        return self.block(s.body)

    s_AsyncWith = s_With

    def s_Try(self, s):
        out = self.block(s.body)
        for h in s.handlers:
            if h.name:
                self.env[h.name] = self.n("exc", self.val(self.ev(h.type)) if h.type else self.const(None))
            self.block(h.body)
        self.block(s.orelse)
        self.block(s.finalbody)
        return out if out and out[0] == "return" else None

    s_TryStar = s_Try

    def s_Match(self, s):
        subject = self.val(self.ev(s.subject))
        for case in s.cases:
            self.guards.append(self.n("case", subject, self.n("pattern", ast.dump(case.pattern))))
            self.block(case.body)
            self.guards.pop()

    # ------------------------------------------------------------------ binding

    def bind(self, target: ast.expr, v) -> None:
        if isinstance(target, ast.Name):
            self.env[target.id] = v
        elif isinstance(target, (ast.Tuple, ast.List)):
            k = self.key(v)
            starred = any(isinstance(e, ast.Starred) for e in target.elts)
            if k[0] in ("tuple", "list") and len(k) - 1 == len(target.elts) and not starred:
                for t, item in zip(target.elts, k[1:]):
                    self.bind(t, item)
                return
            v = self.val(v)
            for j, t in enumerate(target.elts):
                if isinstance(t, ast.Starred):
                    self.bind(t.value, self.n("rest", v, str(j)))
                else:
                    self.bind(t, self.item(v, self.const(float(j))))
        elif isinstance(target, ast.Starred):
            self.bind(target.value, v)
        elif isinstance(target, ast.Attribute):
            base = self.val(self.ev(target.value))
            attr = self.n("attrname", target.attr)
            self.mem[(base, attr)] = self.val(v)
            self.sink("store", base, attr, self.val(v))
        elif isinstance(target, ast.Subscript):
            base = self.val(self.ev(target.value))
            idx = self.val(self.ev(target.slice))
            self.mem[(base, idx)] = self.val(v)
            self.sink("store", base, idx, self.val(v))

    def rebind(self, expr: ast.expr, v: int) -> None:
        """After an in-place call on ``expr`` (``m.mul_(b)``, ``xs.append(x)``): ``expr`` now holds ``v``."""
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and _in_place(expr.func.attr):
            self.rebind(expr.func.value, v)
        elif isinstance(expr, (ast.Name, ast.Attribute, ast.Subscript)):
            if isinstance(expr, ast.Name):
                self.mutated.add(expr.id)
            saved = self.sinks
            self.sinks = set()  # the in-place call is the effect, not a store
            try:
                self.bind(expr, v)
            finally:
                self.sinks = saved

    def _root_name(self, expr: ast.expr) -> bool:
        return isinstance(expr, (ast.Name, ast.Attribute, ast.Subscript))

    def load(self, base: int, idx: int) -> int:
        """Reading ``base[idx]`` (or ``base.attr``) that nothing in the cell wrote."""
        k = self.key(idx)
        if k[0] == "attrname":
            return self.n("attr", base, k[1])
        return self.item(base, idx) if self.num(idx) is not None else self.n("sub", base, idx)

    def item(self, v: int, idx: int) -> int:
        k = self.key(v)
        j = self.num(idx)
        if k[0] in ("tuple", "list") and j is not None and j == int(j) and -len(k) < j + 1 <= len(k) - 1:
            return k[1:][int(j)]
        return self.n("item", v, idx)

    def bind_iter(self, target: ast.expr, it: int) -> None:
        """Binds a loop's (or a comprehension's) target to the elements of ``it``."""
        k = self.key(it)
        if isinstance(target, (ast.Tuple, ast.List)) and k[0] == "call" and len(target.elts) >= 2:
            fn = self.key(k[1])
            args = [a for a in k[2:] if self.key(a)[0] != "kw"]
            if fn == ("global", "enumerate") and len(target.elts) == 2 and args:
                self.bind(target.elts[0], self.n("index", args[0]))
                self.bind_iter(target.elts[1], args[0])
                return
            if fn == ("global", "zip") and len(args) == len(target.elts):
                for t, a in zip(target.elts, args):
                    self.bind_iter(t, a)
                return
        self.bind(target, self.n("elem", it))

    # ------------------------------------------------------------------ control flow

    def if_(self, s: ast.If, rest: list[ast.stmt]):
        """Returns (whether ``rest`` was run here, the outcome)."""
        self.cur = (s.lineno, s.lineno)
        c = self.val(self.ev(s.test))
        body, orelse = s.body, s.orelse
        if self.key(c)[0] == "not":
            c, body, orelse = self.key(c)[1], orelse, body
        env0, mem0 = self.env, self.mem
        branches = []
        for cond, stmts in ((c, body), (self.not_(c), orelse)):
            self.env, self.mem = dict(env0), dict(mem0)
            self.guards.append(cond)
            out = self.block(stmts)
            self.guards.pop()
            branches.append((self.env, self.mem, out))
        (env_t, mem_t, out_t), (env_e, mem_e, out_e) = branches
        if out_t is None and out_e is None:
            self.env = self.merge(c, env_t, env_e, env0)
            self.mem = self.merge(c, mem_t, mem_e, mem0, mem=True)
            return False, None
        if out_t is not None and out_e is not None:
            self.env, self.mem = env_e, mem_e
            if out_t[0] == "return" and out_e[0] == "return":
                return True, ("return", self.phi(c, out_t[1], out_e[1]))
            return True, out_t if out_t[0] == "return" else out_e
        # one branch leaves: the rest of the block runs after the other one only
        if out_t is None:
            c, out_t, env_e, mem_e = self.not_(c), out_e, env_t, mem_t
        self.env, self.mem = env_e, mem_e
        if out_t[0] in ("continue", "break"):
            self.guards.append(self.not_(c))
            out = self.block(rest)
            self.guards.pop()
            if out_t[0] == "break":
                self.sink("break", c)
            return True, out
        out = self.block(rest)
        if out_t[0] == "return":
            other = out[1] if out and out[0] == "return" else self.const(None)
            return True, ("return", self.phi(c, out_t[1], other))
        return True, out

    def merge(self, c: int, a: dict, b: dict, before: dict, mem: bool = False) -> dict:
        out = {}
        for k in a.keys() | b.keys():
            x, y = a.get(k), b.get(k)
            old = before.get(k)
            if mem:
                old = old if old is not None else self.load(*k)
                x, y = (x if x is not None else old), (y if y is not None else old)
            if x is None or y is None or x is y or x == y or type(x) is not int or type(y) is not int:
                out[k] = x if x is not None else y
                continue
            kx, ky = self.key(x), self.key(y)
            if kx[0] == "append" and kx[1] == old and y == old:
                out[k] = x  # the append carries its condition
            elif ky[0] == "append" and ky[1] == old and x == old:
                out[k] = y
            elif kx[0] == "append" and ky[0] == "append" and kx[1] == ky[1] == old:
                common = sorted(set(self.key(kx[3])[1:]) & set(self.key(ky[3])[1:]))
                out[k] = self.n("append", old, self.phi(c, kx[2], ky[2]), self.n("conds", *common))
            else:
                out[k] = self.phi(c, x, y)
        return out

    def loop(self, s, it: int, bind_target) -> None:
        assigned = self.assigned_cache.get(id(s))
        if assigned is None:
            assigned = self.assigned_cache[id(s)] = _assigned(s.body)
        assigned = set(assigned)
        targets = _assigned([ast.Assign([s.target], ast.Constant(0))]) if isinstance(s, (ast.For, ast.AsyncFor)) \
            else set()
        env0 = self.env
        mus = {v: self.n("mu", env0[v], it) for v in assigned - targets if type(env0.get(v)) is int}
        assigned |= targets
        self.env = dict(env0)
        self.env.update(mus)
        bind_target()
        self.guards.append(_LOOP)
        out = self.block(s.body)
        while self.guards and self.guards[-1] != _LOOP:
            self.guards.pop()
        self.guards.pop()
        if out and out[0] == "return":
            self.sink("return-in-loop", out[1])
        body = self.env
        self.env = dict(env0)
        for v in assigned:
            f = body.get(v)
            if f is None:
                continue
            self.env[v] = self.after_loop(f, mus[v], env0[v], it) if v in mus and type(f) is int else f
        self.block(s.orelse)

    def after_loop(self, f: int, mu: int, init: int, it: int) -> int:
        """A loop-carried variable's value after the loop: a comprehension or a reduction where the loop
        builds one, else ``loop(last value)``."""
        if f == mu:
            return init
        conds: list[int] = []
        k = self.key(f)
        if k[0] == "phi" and k[3] == mu:
            conds, f = [k[1]], k[2]
        elif k[0] == "phi" and k[2] == mu:
            conds, f = [self.not_(k[1])], k[3]
        k = self.key(f)
        if k[0] == "append" and k[1] == mu and not self.contains(k[2], mu):
            return self.concat(init, self.seq(k[2], it, conds + list(self.key(k[3])[1:])))
        if k[0] == "concat" and k[1] == mu and not self.contains(k[2], mu):
            return self.concat(init, self.n("comp", "flat", k[2], self.n("gen", it, self.conds(conds))))
        if k[0] in ("+", "*") and mu in k[1:]:
            rest = list(k[1:])
            rest.remove(mu)
            if not any(self.contains(r, mu) for r in rest):
                e = rest[0] if len(rest) == 1 else self.n(k[0], *rest)
                return self.n("reduce", k[0], init, self.seq(e, it, conds))
        return self.n("loop", f)

    def seq(self, elt: int, it: int, conds: list[int]) -> int:
        """``[elt for x in it if conds]``; ``[x for x in it]`` is ``it`` itself."""
        if not conds and self.key(elt) == ("elem", it):
            return it
        return self.n("comp", "seq", elt, self.n("gen", it, self.conds(conds)))

    def contains(self, root: int, target: int) -> bool:
        return target in self.g.reachable([root])

    def s_For(self, s):
        it = self.val(self.ev(s.iter))
        n = self.small_range(it)
        if n and isinstance(s.target, ast.Name) and not s.orelse and not any(
                isinstance(x, (ast.Break, ast.Continue, ast.Return, ast.FunctionDef, ast.Lambda)) for x in ast.walk(s)):
            for j in range(n):  # for k in range(4): ... is the four bodies one after the other
                self.env[s.target.id] = self.const(float(j))
                self.block(s.body)
            return None
        self.loop(s, it, lambda: self.bind_iter(s.target, it))

    s_AsyncFor = s_For

    def s_While(self, s):
        it = self.n("while", self.val(self.ev(s.test)))
        self.loop(s, it, lambda: None)

    # ------------------------------------------------------------------ expressions

    def ev(self, e: ast.expr | None):
        if e is None:
            return self.const(None)
        method = getattr(self, "e_" + type(e).__name__, None)
        if method is None:
            return self.n("expr", type(e).__name__, *[self.val(self.ev(c)) for c in ast.iter_child_nodes(e)
                                                      if isinstance(c, ast.expr)])
        return method(e)

    def e_Constant(self, e):
        return self.const(e.value)

    def e_Name(self, e):
        if e.id in self.env:
            return self.env[e.id]
        if e.id in self.bound_names:
            return self.n("unbound")
        return self.n("global", ALIASES.get(e.id, e.id))

    def e_Attribute(self, e):
        base = self.ev(e.value)
        if isinstance(base, ClassInfo) and e.attr in base.methods:
            return base.methods[e.attr]
        if isinstance(base, Bound) or isinstance(base, Func):
            base = self.val(base)
        k = self.key(base)
        if k[0] == "global":
            return self.n("global", f"{k[1]}.{e.attr}")
        if e.attr == "data" and type(base) is int:
            return base  # p.data is p's values
        attr = self.n("attrname", e.attr)
        if (base, attr) in self.mem:
            return self.mem[(base, attr)]
        if e.attr == "T" and type(base) is int:
            return self.n("T", base)  # x.T is x.t()
        cls = self.env.get("__class__")
        if isinstance(cls, ClassInfo) and base == self.env.get("__self__") and e.attr in cls.methods:
            f = cls.methods[e.attr]
            return f if f.static else Bound(f, base)
        return self.n("attr", base, e.attr)

    def e_Subscript(self, e):
        base = self.val(self.ev(e.value))
        idx = self.val(self.ev(e.slice))
        if (base, idx) in self.mem:
            return self.mem[(base, idx)]
        return self.load(base, idx)

    def e_Slice(self, e):
        lo = self.val(self.ev(e.lower))
        if self.num(lo) == 0.0:
            lo = self.const(None)
        return self.n("slice", lo, self.val(self.ev(e.upper)), self.val(self.ev(e.step)))

    def e_Tuple(self, e):
        return self.n("tuple", *[self.val(self.ev(x)) for x in e.elts])

    def e_List(self, e):
        return self.n("list", *[self.val(self.ev(x)) for x in e.elts])

    def e_Set(self, e):
        return self.n("set", *sorted({self.val(self.ev(x)) for x in e.elts}))

    def e_Dict(self, e):
        pairs = sorted((self.val(self.ev(k)) if k is not None else self.const("**"), self.val(self.ev(v)))
                       for k, v in zip(e.keys, e.values))
        return self.n("dict", *[x for p in pairs for x in p])

    def e_Starred(self, e):
        return self.n("star", self.val(self.ev(e.value)))

    def e_BinOp(self, e):
        return self.binop(_OPS.get(type(e.op), "?"), self.val(self.ev(e.left)), self.val(self.ev(e.right)))

    def e_UnaryOp(self, e):
        v = self.val(self.ev(e.operand))
        if isinstance(e.op, ast.USub):
            return self.neg(v)
        if isinstance(e.op, ast.Not):
            return self.not_(v)
        if isinstance(e.op, ast.UAdd):
            return v
        return self.n("~", v)

    def e_BoolOp(self, e):
        return self.boolop("and" if isinstance(e.op, ast.And) else "or", [self.val(self.ev(v)) for v in e.values])

    def e_Compare(self, e):
        parts, left = [], self.val(self.ev(e.left))
        for op, right_e in zip(e.ops, e.comparators):
            right = self.val(self.ev(right_e))
            parts.append(self.cmp(_CMP[type(op)], left, right))
            left = right
        return self.boolop("and", parts)

    def e_IfExp(self, e):
        return self.phi(self.val(self.ev(e.test)), self.val(self.ev(e.body)), self.val(self.ev(e.orelse)))

    def e_NamedExpr(self, e):
        v = self.ev(e.value)
        self.bind(e.target, v)
        return v

    def e_Lambda(self, e):
        return Func(e, self.frame, dict(self.env))

    def e_JoinedStr(self, e):
        return self.n("fstr", *[self.val(self.ev(v)) for v in e.values])

    def e_FormattedValue(self, e):
        spec = self.val(self.ev(e.format_spec)) if e.format_spec is not None else self.const(None)
        return self.n("fmt", self.val(self.ev(e.value)), str(e.conversion), spec)

    def e_ListComp(self, e):
        return self.comp(e, "seq")

    e_GeneratorExp = e_ListComp

    def e_SetComp(self, e):
        return self.comp(e, "set")

    def e_DictComp(self, e):
        return self.comp(e, "dict")

    def comp(self, e, kind: str) -> int:
        saved = self.env
        self.env = dict(saved)
        gen = e.generators[0]
        if kind == "seq" and len(e.generators) == 1 and not gen.ifs and isinstance(gen.target, ast.Name):
            n = self.small_range(self.val(self.ev(gen.iter)))
            if n:  # [f(k) for k in range(4)] is [f(0), f(1), f(2), f(3)]
                items = []
                for j in range(n):
                    self.env[gen.target.id] = self.const(float(j))
                    items.append(self.val(self.ev(e.elt)))
                self.env = saved
                return self.n("list", *items)
        gens = []
        for gen in e.generators:
            it = self.val(self.ev(gen.iter))
            self.bind_iter(gen.target, it)
            gens.append((it, [self.val(self.ev(c)) for c in gen.ifs]))
        elt = self.n("pair", self.val(self.ev(e.key)), self.val(self.ev(e.value))) if kind == "dict" \
            else self.val(self.ev(e.elt))
        self.env = saved
        it, conds = gens[-1]
        if kind == "seq":
            v = self.seq(elt, it, conds)
        else:
            v = self.n("comp", kind, elt, self.n("gen", it, self.conds(conds)))
        for it, conds in reversed(gens[:-1]):
            v = self.n("comp", "flat" if kind == "seq" else kind, v, self.n("gen", it, self.conds(conds)))
        return v

    def e_Call(self, e):
        f = e.func
        fv = self.ev(f)
        pos, kws = [], []
        for a in e.args:
            if isinstance(a, ast.Starred):
                pos.append(self.n("star", self.val(self.ev(a.value))))
            else:
                pos.append(self.ev(a))
        for kw in e.keywords:
            kws.append((kw.arg or "**", self.ev(kw.value)))
        if isinstance(fv, (Func, Bound)):
            func, self_value = (fv.func, fv.self_value) if isinstance(fv, Bound) else (fv, None)
            out = self.inline(func, pos, kws, self_value, e)
            if out is not None:
                self.inlined_call = e
                return out
        if isinstance(fv, ClassInfo) and "__init__" in fv.methods:
            obj = self.n("new", fv.label, *[self.val(p) for p in pos])
            self.inline(fv.methods["__init__"], pos, kws, obj)
            return obj
        pos = [self.val(p) for p in pos]
        kwn = sorted(self.n("kw", k, self.val(v)) for k, v in kws)
        if isinstance(f, ast.Attribute) and not isinstance(fv, (Func, Bound, ClassInfo)) \
                and self.key(self.val(fv))[0] == "attr":
            recv = self.key(self.val(fv))[1]
            return self.method(e, recv, pos, kwn)
        fn = self.val(fv)
        name = self.key(fn)[1] if self.key(fn)[0] == "global" else None
        if name == "dict" and not pos and all(k != "**" for k, _ in kws):
            pairs = sorted((self.const(k), self.val(v)) for k, v in kws)
            return self.n("dict", *[x for p in pairs for x in p])
        if name == "slice" and 1 <= len(pos) <= 3 and not kwn:
            lo, hi, st = ([self.const(None)] + pos + [self.const(None)])[:3] if len(pos) == 1 \
                else (pos + [self.const(None)])[:3]
            return self.n("slice", self.const(None) if self.num(lo) == 0.0 else lo, hi, st)
        if name in ("list", "tuple") and len(pos) == 1 and not kwn and self.key(pos[0])[0] == "comp":
            return pos[0]
        if name == "sum" and 1 <= len(pos) <= 2 and not kwn:
            start = pos[1] if len(pos) > 1 else self.const(0.0)
            return self.n("reduce", "+", start, pos[0])
        if name == "range" and len(pos) == 2 and self.num(pos[0]) == 0.0:
            pos = pos[1:]
        short = name.rsplit(".", 1)[-1] if name else None
        if name and name.startswith("torch.") and pos and self.key(pos[0])[0] != "star":
            kwd = {k: self.val(v) for k, v in kws}
            if short in TENSOR_METHODS:
                return self.tensor_op(short, pos[0], pos[1:], kwd)
            if name in ("torch.cat", "torch.stack", "torch.concat", "torch.concatenate"):
                return self.tensor_op("stack" if short == "stack" else "cat", pos[0], pos[1:], kwd)
            if name == "torch.nn.functional.linear" and len(pos) + len(kwd) >= 2:
                args = pos + [kwd.pop(k) for k in ("weight", "bias") if k in kwd]
                out = self.binop("@", args[0], self.n("T", args[1]))
                return self.binop("+", out, args[2]) if len(args) > 2 else out
        v = self.n("call", fn, *pos, *kwn)
        if name and _in_place(name.rsplit(".", 1)[-1]) and pos and not isinstance(e.args[0], ast.Starred):
            self.mutate(e.args[0], pos[0], v)  # torch._foreach_mul_(params, s): params now holds the product
        return v

    def method(self, call: ast.Call, recv: int, pos: list[int], kwn: list[int]) -> int:
        f = call.func
        name = f.attr
        container = call is self.statement_call
        if container and name == "append" and len(pos) == 1:
            self.mutate(f.value, recv, self.append(recv, pos[0]))
            return self.const(None)
        if container and name == "extend" and len(pos) == 1:
            self.mutate(f.value, recv, self.concat(recv, pos[0]))
            return self.const(None)
        if _in_place(name) and isinstance(f.value, ast.Call) and isinstance(f.value.func, ast.Attribute) \
                and _in_place(f.value.func.attr):
            self.sink("inplace", recv)  # b.mul_(m).add_(g) is b.mul_(m); b.add_(g)
        if _in_place(name) and name[:-1] in TENSOR_METHODS:
            kwd = {self.key(k)[1]: self.key(k)[2] for k in kwn}
            v = self.tensor_op(name[:-1], recv, pos, kwd)  # x.add_(y) changes x to what x.add(y) computes
        elif name in TENSOR_METHODS or name in ("size", "dim"):
            kwd = {self.key(k)[1]: self.key(k)[2] for k in kwn}
            return self.tensor_op(name, recv, pos, kwd)
        else:
            v = self.n("mcall", name, recv, *pos, *kwn)
        if container or _in_place(name):
            self.mutate(f.value, recv, v)
        return v

    def tensor_op(self, name: str, x: int, args: list[int], kw: dict[str, int]) -> int:
        """``x.name(*args, **kw)`` in one spelling: arithmetic methods as operators (``x.add(y, alpha=a)``
        is ``x + a * y``, ``x.sqrt()`` is ``x ** 0.5``), ``x.t()`` and ``x.transpose(0, 1)`` as ``x.T``,
        ``x.size(1)`` as ``x.shape[1]``, a ``dim`` keyword as the positional argument."""
        kw = dict(kw)
        args = list(args)
        if name in DIM_POS and "dim" in kw and len(args) == DIM_POS[name]:
            args.append(kw.pop("dim"))
        one = len(args) == 1
        key = "alpha" if name in ("add", "sub", "subtract") else "value" if name in ("addcmul", "addcdiv") else ""
        scale = kw.get(key)
        if not kw.keys() - {key}:
            if name in ("add", "sub", "subtract") and one:
                y = self.binop("*", scale, args[0]) if scale is not None else args[0]
                return self.binop("+" if name == "add" else "-", x, y)
            if name in ("mul", "multiply") and one:
                return self.binop("*", x, args[0])
            if name in ("div", "true_divide") and one:
                return self.binop("/", x, args[0])
            if name == "pow" and one:
                return self.binop("**", x, args[0])
            if name in ("matmul", "mm", "bmm") and one:
                return self.binop("@", x, args[0])
            if name in ("addcmul", "addcdiv") and len(args) == 2:
                op = "*" if name == "addcmul" else "/"
                y = self.binop(op, args[0], args[1])
                return self.binop("+", x, self.binop("*", scale, y) if scale is not None else y)
            if not args:
                if name == "neg":
                    return self.neg(x)
                if name == "square":
                    return self.binop("**", x, self.const(2.0))
                if name in ("sqrt", "rsqrt"):
                    return self.binop("**", x, self.const(0.5 if name == "sqrt" else -0.5))
                if name == "t":
                    return self.n("T", x)
                if name == "size":
                    return self.n("attr", x, "shape")
            if name == "transpose" and len(args) == 2 and {self.num(a) for a in args} == {0.0, 1.0}:
                return self.n("T", x)
            if name == "size" and one:
                return self.load(self.n("attr", x, "shape"), args[0])
        return self.n("mcall", name, x, *args, *sorted(self.n("kw", k, v) for k, v in kw.items()))

    def mutate(self, expr: ast.expr, old: int, new: int) -> None:
        """An in-place change of the object ``expr`` evaluated to (``old``): whatever holds it, ``expr``
        and every variable or slot that aliases it, now holds ``new``."""
        self.replace(old, new)
        self.rebind(expr, new)

    def replace(self, old: int, new: int) -> None:
        if old == new:
            return
        for k, x in self.env.items():
            if x == old:
                self.env[k] = new
        for k, x in self.mem.items():
            if x == old:
                self.mem[k] = new
        self.replacements.append((old, new))

    def inline(self, func: Func, pos: list, kws: list, self_value: int | None = None, call: ast.Call | None = None):
        if len(self.stack) >= MAX_INLINE_DEPTH or func in self.stack:
            return None
        node = func.node
        if func.frame == "module":
            base = self.module_env or self.env
        elif func.frame is self.frame:
            base = self.env
        else:
            base = func.snapshot
        env = dict(base)
        args = node.args
        names = [a.arg for a in args.posonlyargs + args.args]
        given = list(pos)
        if self_value is not None and not func.static:
            given.insert(0, self_value)
        kwd = dict(kws)
        defaults = [None] * (len(names) - len(args.defaults)) + list(args.defaults)
        for j, name in enumerate(names):
            if j < len(given):
                env[name] = given[j]
            elif name in kwd:
                env[name] = kwd.pop(name)
            elif defaults[j] is not None:
                env[name] = self.ev(defaults[j])
            else:
                env[name] = self.n("missing", str(j))
        if args.vararg:
            env[args.vararg.arg] = self.n("tuple", *[self.val(x) for x in given[len(names):]])
        for a, d in zip(args.kwonlyargs, args.kw_defaults):
            env[a.arg] = kwd.pop(a.arg) if a.arg in kwd else (self.ev(d) if d is not None else self.n("missing", a.arg))
        if args.kwarg:
            env[args.kwarg.arg] = self.n("dict", *[x for k, v in sorted(kwd.items())
                                                   for x in (self.const(k), self.val(v))])
        if self_value is not None and isinstance(self.env.get("__class__"), ClassInfo):
            env["__class__"], env["__self__"] = self.env["__class__"], self_value
        saved = (self.env, self.frame, self.cur, self.mutated, self.replacements)
        self.env, self.frame, self.mutated, self.replacements = env, object(), set(), []
        self.stack.append(func)
        self.inlined.add(func)
        try:
            if isinstance(node, ast.Lambda):
                out = ("return", self.val(self.ev(node.body)))
            else:
                out = self.block(node.body)
            final, mutated, replaced = self.env, self.mutated, self.replacements
        finally:
            self.stack.pop()
            self.env, self.frame, self.cur, self.mutated, self.replacements = saved
        for old, new in replaced:  # what the helper changed in place, the caller's aliases see changed
            self.replace(old, new)
        if call is not None:  # an argument the helper changed in place is changed for the caller too
            offset = 1 if self_value is not None and not func.static else 0
            exprs = {name: call.args[j - offset] for j, name in enumerate(names)
                     if 0 <= j - offset < len(call.args) and not isinstance(call.args[j - offset], ast.Starred)}
            exprs.update({kw.arg: kw.value for kw in call.keywords if kw.arg in names})
            for name in mutated:
                if name in exprs and type(final.get(name)) is int:
                    self.rebind(exprs[name], final[name])
        return out[1] if out and out[0] == "return" else self.const(None)

    # ------------------------------------------------------------------ the cell

    def run(self, tree: ast.Module) -> None:
        """Module-level statements in order, then every function nothing calls, as an entry point with
        symbolic arguments; methods of classes with ``self`` bound to the instance."""
        called: dict[str, int] = {}
        for node in ast.walk(tree):  # one pass: the names the cell binds, and how often it uses each
            if isinstance(node, ast.Name):
                if isinstance(node.ctx, ast.Load):
                    called[node.id] = called.get(node.id, 0) + 1
                else:
                    self.bound_names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                called[node.attr] = called.get(node.attr, 0) + 1
            elif isinstance(node, ast.arguments):
                self.bound_names.update(a.arg for a in node.posonlyargs + node.args + node.kwonlyargs
                                        + [node.vararg, node.kwarg] if a)
        try:
            self.block(tree.body)
            self.module_env = self.env
            entries = []
            for name, v in list(self.module_env.items()):
                if isinstance(v, Func) and v.frame == "module" and not isinstance(v.node, ast.Lambda):
                    entries.append((name if name in self.fixed else "_", v, None))
                elif isinstance(v, ClassInfo):
                    for mname, m in v.methods.items():
                        label = f"{v.label}.{mname}" if v.label != "_" and mname in self.fixed | _DUNDER else "_"
                        entries.append((label, m, v))
            # functions nothing in the cell calls first, then what they did not reach, least called first
            entries.sort(key=lambda e: called.get(e[1].node.name, 0))
            for label, func, cls in entries:
                if func not in self.inlined:
                    self.entry(label, func, cls)
        except (_Stop, RecursionError):
            pass

    def entry(self, label: str, func: Func, cls: ClassInfo | None) -> None:
        args = func.node.args
        names = [a.arg for a in args.posonlyargs + args.args]
        env = dict(self.module_env)
        for j, name in enumerate(names):
            env[name] = self.n("param", label, str(j))
        if args.vararg:
            env[args.vararg.arg] = self.n("param", label, "*")
        for a in args.kwonlyargs:
            env[a.arg] = self.n("param", label, a.arg)
        if args.kwarg:
            env[args.kwarg.arg] = self.n("param", label, "**")
        if cls is not None and names and not func.static:
            env["__class__"], env["__self__"] = cls, env[names[0]]
        self.env, self.frame, self.guards = env, object(), []
        self.stack = [func]
        self.inlined.add(func)
        out = self.block(func.node.body)
        self.stack = []
        if out and out[0] == "return":
            self.sink("return", self.n("entry", label), out[1])


_DUNDER = {"__init__", "__call__", "forward", "step", "zero_grad"}


def _load(target: ast.expr) -> ast.expr:
    """``target`` (an assignment target) read instead of written."""
    t = ast.fix_missing_locations(ast.copy_location(type(target)(**{**{f: getattr(target, f) for f in target._fields},
                                                                     "ctx": ast.Load()}), target))
    return t


def _in_place(name: str) -> bool:
    return name.endswith("_") and not name.startswith("_") and not name.endswith("__")


def _assigned(stmts: list[ast.stmt]) -> set[str]:
    """Names a loop body rebinds (assignments, in-place calls on them), not counting nested scopes."""
    out: set[str] = set()
    todo: list[ast.AST] = list(stmts)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp,
                             ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                out.add(node.name)
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) \
                and isinstance(node.value.func, ast.Attribute) and node.value.func.attr in LIST_MUTATORS \
                and isinstance(node.value.func.value, ast.Name):
            out.add(node.value.func.value.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _in_place(node.func.attr):
            root = node.func.value
            while isinstance(root, ast.Call) and isinstance(root.func, ast.Attribute):
                root = root.func.value
            if isinstance(root, ast.Name):
                out.add(root.id)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Name) \
                and _in_place(_dotted(node.func).rsplit(".", 1)[-1]):
            out.add(node.args[0].id)
        todo.extend(ast.iter_child_nodes(node))
    return out


def _dotted(e: ast.expr) -> str:
    if isinstance(e, ast.Attribute):
        return f"{_dotted(e.value)}.{e.attr}"
    return e.id if isinstance(e, ast.Name) else ""


# ---------------------------------------------------------------------------------------- cells


@dataclass
class CellGraph:
    features: set[int]  # every node reachable from the cell's sinks
    lines: dict[int, set[int]]  # node -> source lines that made it
    parsed: bool = True


def cell_graph(graph: Graph, source: str, fixed: frozenset[str] = frozenset()) -> CellGraph:
    """The features of one cell (a graded cell's source) in ``graph``."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return _token_graph(graph, source)
    ev = Evaluator(graph, fixed)
    ev.run(tree)
    features = graph.reachable(ev.sinks)
    lines: dict[int, set[int]] = {}
    for node in features:
        spans = ev.lines.get(node)
        if spans:
            lines[node] = {ln for a, b in spans if a for ln in range(a, b + 1)}
    return CellGraph(features, lines)


def _token_graph(graph: Graph, source: str) -> CellGraph:
    """A cell that does not parse: k-grams of its tokens (comments dropped), one node each."""
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    toks: list[tuple[str, int]] = []
    done = 0  # the lines tokenized before an error (an unclosed bracket is only found at the end)
    try:
        for t in tokenize.generate_tokens(io.StringIO(source).readline):
            if t.type not in skip:
                toks.append((t.string, t.start[0]))
            done = t.end[0]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        toks = [(w, ln) for w, ln in toks if ln < done] if done else []
        toks += [(w, i + 1) for i, line in enumerate(source.splitlines()) if i + 1 >= max(done, 1)
                 for w in line.split("#", 1)[0].split()]
    features, lines = set(), {}
    for j in range(max(1, len(toks) - K + 1)):
        window = toks[j:j + K]
        if not window:
            break
        node = graph.node(("tokens", *[w for w, _ in window]))
        features.add(node)
        lines.setdefault(node, set()).update(ln for _, ln in window)
    return CellGraph(features, lines, parsed=False)


def defined_names(source: str) -> frozenset[str]:
    """The functions, classes and methods a cell defines (for the skeleton: the names every student keeps)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return frozenset()
    return frozenset(n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                       ast.ClassDef)))
