"""A class for the similarity report: independent implementations of each question and planted copies.

Independent: the reference's cell and every correct variant (``autograder/<topic>/variants``), each
written separately. Planted: a copy of one of them with its variables renamed, top-level helpers
and methods reordered, comments added and the formatting changed (what ``ast.unparse`` writes).
"""

from __future__ import annotations

import ast
import json
import random
from pathlib import Path

from autograder.notebook import parse_percent

KEEP = {"self", "params", "closure", "group", "p", "state", "defaults", "step", "forward", "zero_grad",
        "super", "torch", "math"}


class _Rename(ast.NodeTransformer):
    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        node.id = self.mapping.get(node.id, node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.mapping.get(node.arg, node.arg)
        return node


def disguise(source: str, keep: set[str], seed: int = 0) -> str:
    """The same code with local names renamed, helpers and methods reordered and comments sprinkled."""
    head, _, body = source.partition("\n")
    tree = ast.parse(body)
    local = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            local.add(n.id)
        elif isinstance(n, ast.arg):
            local.add(n.arg)
    rng = random.Random(seed)
    mapping = {name: f"{name}_{rng.choice(['tmp', 'val', 'x', 'cur'])}{i}"
               for i, name in enumerate(sorted(local - keep - {"self"}))}
    _Rename(mapping).visit(tree)
    defs = [s for s in tree.body if isinstance(s, (ast.FunctionDef, ast.ClassDef))]
    others = [s for s in tree.body if s not in defs]
    tree.body = others + defs[::-1]  # helpers reordered
    for cls in (s for s in tree.body if isinstance(s, ast.ClassDef)):
        methods = [m for m in cls.body if isinstance(m, ast.FunctionDef)]
        cls.body = [m for m in cls.body if m not in methods] + methods[::-1]
    lines = []
    for i, line in enumerate(ast.unparse(tree).splitlines()):
        lines.append(line)
        if i % 4 == 1 and line.strip() and not line.rstrip().endswith((":", "(", "[", "{", ",", "\\")):
            lines.append(" " * (len(line) - len(line.lstrip())) + "# my own working, see the lecture notes")
    return f"{head}\n# I wrote this myself\n" + "\n".join(lines) + "\n"


def implementations(a) -> dict[str, dict[str, str]]:
    """question -> name -> cell source: the reference's and each variant's."""
    out: dict[str, dict[str, str]] = {}
    for c in parse_percent(a.solution_path.read_text()):
        if c.question and c.kind == "code":
            out.setdefault(c.question, {})["reference"] = c.source
    for path in sorted(a.variants_dir.glob("*.py")):
        for c in parse_percent(path.read_text()):
            if c.question and c.kind == "code":
                out.setdefault(c.question, {})[path.stem] = c.source
    return out


def write_cells(path: Path, cells: list[str]) -> Path:
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": s}
                    for s in ["import torch\nimport math", *cells]],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb))
    return path


def build_similarity_class(a, root: Path, planted: list[str]) -> tuple[Path, set, set]:
    """One student per implementation (its own question's cell only) and a disguised copy of each in
    ``planted``; returns the folder, the planted pairs and the independent pairs, as (question, a, b)."""
    impls = implementations(a)
    keep = KEEP | set(a.owners)
    copies, independent = set(), set()
    for q, named in impls.items():
        names = sorted(named)
        for n in names:
            write_cells(root / f"{n}.ipynb" if n != "reference" else root / f"reference_{q}.ipynb", [named[n]])
        student = {n: (n if n != "reference" else f"reference_{q}") for n in names}
        independent |= {(q, *sorted((student[x], student[y]))) for i, x in enumerate(names) for y in names[i + 1:]}
        for n in names:
            if n in planted or f"reference_{q}" in planted and n == "reference":
                copy = f"copy_of_{student[n]}"
                write_cells(root / f"{copy}.ipynb", [disguise(named[n], keep, seed=len(copies))])
                copies.add((q, *sorted((student[n], copy))))
    return root, copies, independent


# ------------------------------------------------------------------------------------ held-out classes

FIXTURES = Path(__file__).parent / "similarity_fixtures"
HELD_OUT = {"adam": "optimizers", "lstm_cell": "rnn"}  # question -> topic


def origin(student: str) -> str:
    """Who wrote a held-out student's cell: ``ind_ana``, ``wrong_ana``, ``keep_ana`` and every
    ``copy_ana__<how>`` share the origin ``ana``."""
    name = student.split("__")[0]
    return name.split("_", 1)[1] if "_" in name else name


def held_out_cells(a, question: str, with_copies: bool = True) -> dict[str, str]:
    """student -> their cell of ``question``: the fixtures under similarity_fixtures/<question>/
    (independent ``ind_*``, wrong ``wrong_*``, skeleton keepers ``keep_*``, planted ``copy_<origin>__<how>``)
    and ``keep_olga``, who handed in the released skeleton's cell untouched."""
    from autograder.similarity import skeleton_cells

    cells = {p.stem: p.read_text() for p in sorted((FIXTURES / question).glob("*.py"))
             if with_copies or not p.stem.startswith("copy_")}
    cells["keep_olga"] = skeleton_cells(a)[question]
    return cells


def build_held_out_class(a, question: str, root: Path, with_copies: bool = True,
                         cells: dict[str, str] | None = None) -> tuple[Path, set, set]:
    """One notebook per student: the released skeleton's graded cells with ``question``'s replaced by
    theirs. Returns the folder, the planted pairs (same origin) and the independent pairs, as
    (question, a, b) with a < b."""
    from autograder.similarity import skeleton_cells

    skeleton = skeleton_cells(a)
    cells = cells if cells is not None else held_out_cells(a, question, with_copies)
    for student, source in cells.items():
        write_cells(root / f"{student}.ipynb", [source if q == question else s for q, s in skeleton.items()])
    names = sorted(cells)
    pairs = [(question, x, y) for i, x in enumerate(names) for y in names[i + 1:]]
    planted = {p for p in pairs if origin(p[1]) == origin(p[2])}
    return root, planted, set(pairs) - planted


# ------------------------------------------------------------------------------------ automatic disguises

class _Hoist(ast.NodeTransformer):
    """Moves one sub-expression of a statement into a temporary assigned just before it."""

    def __init__(self, rng, name):
        self.rng, self.name, self.done, self.hoisted = rng, name, False, None

    def generic_visit(self, node):
        if isinstance(node, (ast.Lambda, ast.IfExp, ast.BoolOp, ast.ListComp, ast.GeneratorExp, ast.DictComp,
                             ast.SetComp, ast.JoinedStr)):
            return node  # evaluated lazily or in its own scope: leave it alone
        return super().generic_visit(node)

    def visit_Call(self, node):
        return self._maybe(self.generic_visit(node))

    def visit_BinOp(self, node):
        return self._maybe(self.generic_visit(node))

    def _maybe(self, node):
        if not self.done and self.rng.random() < 0.35:
            self.done, self.hoisted = True, node
            return ast.Name(self.name, ast.Load())
        return node


def _names(node) -> tuple[set[str], set[str]]:
    """(read, written) names of a statement; a call counts as writing every name it mentions."""
    read, written = set(), set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            (written if isinstance(n.ctx, ast.Store) else read).add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.ClassDef)):
            written.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            written.update((a.asname or a.name).split(".")[0] for a in n.names)
    if any(isinstance(n, (ast.Call, ast.Subscript, ast.Attribute)) and not isinstance(node, ast.Assign)
           for n in ast.walk(node)) or any(isinstance(t, (ast.Subscript, ast.Attribute))
                                           for t in getattr(node, "targets", [])):
        written |= read
    if isinstance(node, (ast.Return, ast.Raise, ast.Continue, ast.Break, ast.If, ast.For, ast.While, ast.With,
                         ast.Try, ast.FunctionDef, ast.ClassDef, ast.Expr, ast.AugAssign)):
        written |= read | {"<effect>"}
    return read, written


def _shuffle(stmts: list, rng) -> list:
    """A random order of ``stmts`` that keeps every pair sharing a name one of them writes in order
    (and statements with effects in their order)."""
    info = [_names(s) for s in stmts]
    before = {j: {i for i in range(j) if (info[i][1] & (info[j][0] | info[j][1])) or (info[j][1] & info[i][0])}
              for j in range(len(stmts))}
    out, left = [], list(range(len(stmts)))
    while left:
        ready = [j for j in left if not (before[j] & set(left))]
        j = rng.choice(ready)
        out.append(stmts[j])
        left.remove(j)
    return out


def perturb(source: str, keep: set[str], seed: int, splits: int = 3) -> str:
    """A disguised copy of a cell, made automatically: local names renamed, independent statements
    reordered (in every block), ``splits`` sub-expressions moved into temporaries, comments added."""
    head, _, body = source.partition("\n")
    rng = random.Random(seed)
    tree = ast.parse(body)
    for node in ast.walk(tree):
        for field in ("body", "orelse"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and all(isinstance(s, ast.stmt) for s in block):
                doc = block[:1] if isinstance(block[0], ast.Expr) and isinstance(block[0].value, ast.Constant) else []
                setattr(node, field, doc + _shuffle(block[len(doc):], rng))
    for k in range(splits):
        funcs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
        if not funcs:
            break
        f = rng.choice(funcs)
        candidates = [(blk, i) for blk in [f.body] + [n.body for n in ast.walk(f)
                                                        if isinstance(n, (ast.For, ast.If, ast.With))]
                      for i, s in enumerate(blk) if isinstance(s, (ast.Assign, ast.Return, ast.Expr))
                      and not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        if not candidates:
            break
        blk, i = rng.choice(candidates)
        h = _Hoist(rng, f"tmp_{k}")
        for _ in range(4):
            if isinstance(blk[i], ast.Expr):  # an argument of the call, not the call made for its effect
                blk[i].value = h.generic_visit(blk[i].value)
            else:
                blk[i] = h.visit(blk[i])
            if h.done:
                blk.insert(i, ast.Assign([ast.Name(f"tmp_{k}", ast.Store())], h.hoisted, lineno=0))
                break
    ast.fix_missing_locations(tree)
    local = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    local |= {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
    words = ["val", "tmp", "cur", "x", "acc", "res", "buf"]
    mapping = {name: f"{rng.choice(words)}_{i}" for i, name in enumerate(sorted(local - keep - {"self"}))}
    _Rename(mapping).visit(tree)
    text = ast.unparse(tree)
    starts = {n.lineno for n in ast.walk(ast.parse(text)) if isinstance(n, ast.stmt)}
    lines = []
    for k, line in enumerate(text.splitlines(), start=1):
        if k in starts and rng.random() < 0.2:
            lines.append(" " * (len(line) - len(line.lstrip())) + f"# step {rng.randint(1, 99)}")
        lines.append(line)
    return f"{head}\n" + "\n".join(lines) + "\n"


def api_names(skeleton: str) -> set[str]:
    """Names a disguise must keep: what the skeleton defines and its functions' parameters (callers pass
    them by keyword)."""
    tree = ast.parse(skeleton)
    names = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    names |= {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
    return names | KEEP


class _Mutate(ast.NodeTransformer):
    """Changes a few operators and constants at random (the code then computes something else)."""

    def __init__(self, rng, rate):
        self.rng, self.rate = rng, rate

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)) and self.rng.random() < self.rate:
            node.op = self.rng.choice([ast.Add(), ast.Sub(), ast.Mult()])
        return node

    def visit_Constant(self, node):
        if isinstance(node.value, (int, float)) and not isinstance(node.value, bool) and self.rng.random() < self.rate:
            return ast.copy_location(ast.Constant(node.value + self.rng.randint(1, 3)), node)
        return node


def synthetic_class(a, question: str, root: Path, n: int, seed: int = 0) -> Path:
    """``n`` students on ``question`` for timing: each a disguised (``perturb``) and slightly changed
    (``_Mutate``) version of one of the held-out class's cells, the other questions left as released."""
    from autograder.similarity import skeleton_cells

    rng = random.Random(seed)
    skeleton = skeleton_cells(a)
    keep = api_names(skeleton[question])
    bases = [s for s in sorted(held_out_cells(a, question)) if not s.startswith("keep_")]
    cells = held_out_cells(a, question)
    for k in range(n):
        head, _, body = cells[rng.choice(bases)].partition("\n")
        tree = _Mutate(rng, 0.04).visit(ast.parse(body))
        source = perturb(f"{head}\n{ast.unparse(ast.fix_missing_locations(tree))}\n", keep, seed=rng.randrange(1 << 30))
        write_cells(root / f"s{k:04d}.ipynb", [source if q == question else s for q, s in skeleton.items()])
    return root
