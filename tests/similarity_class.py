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
