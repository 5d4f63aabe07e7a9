"""``similarity``: which students' graded cells are copies of each other, despite cosmetic changes.

Each question's graded cell is normalised at the AST level: comments and docstrings vanish,
formatting is whatever ``ast.unparse`` writes, and every name the cell binds (variables,
arguments, helpers, classes) becomes ``_``, so renaming changes nothing; names it only uses
(``torch``, ``math.sqrt``, attributes) stay, since they carry the algorithm. Each top-level
statement gives a set of token k-grams, so reordering helpers changes nothing either; the k-grams
of the released skeleton's cell (the signature and docstring every student starts from) are
removed. Two students' similarity on a question is the Jaccard index of their sets.
"""

from __future__ import annotations

import ast
import csv
import html
import io
import itertools
import json
import tokenize
from pathlib import Path

from .manifest import Assignment
from .notebook import NotebookError, read_cells, read_submission

K = 6  # tokens per k-gram
MIN_GRAMS = 8  # below this many k-grams left after the skeleton, a cell is too small to compare


class _Names(ast.NodeTransformer):
    def __init__(self, bound: set[str]):
        self.bound = bound

    def visit_Name(self, node):
        return ast.copy_location(ast.Name("_" if node.id in self.bound else node.id, node.ctx), node)

    def visit_arg(self, node):
        node.arg, node.annotation = "_", None
        return node

    def visit_FunctionDef(self, node):
        node.name, node.returns = "_", None
        node.body = _strip_docstring(node.body)
        self.generic_visit(node)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        node.name = "_"
        node.body = _strip_docstring(node.body)
        self.generic_visit(node)
        return node


def _strip_docstring(body: list) -> list:
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:] or [ast.Pass()]
    return body


def _bound(tree: ast.AST) -> set[str]:
    names = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            names.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(n.name)
        elif isinstance(n, ast.arg):
            names.add(n.arg)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in n.names if a.asname)
    return names


def _tokens(code: str) -> list[str]:
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    try:
        return [t.string for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type not in skip]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return code.split()


def statements(source: str) -> list[list[str]]:
    """The normalised token lists of a cell's top-level statements (imports left out)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # compare what can be compared: the raw tokens, comments dropped
        return [_tokens(source)]
    tree.body = [s for s in _strip_docstring(tree.body) if not isinstance(s, (ast.Import, ast.ImportFrom))]
    tree = _Names(_bound(tree)).visit(tree)
    return [_tokens(ast.unparse(s)) for s in tree.body]


def fingerprint(source: str) -> set[int]:
    grams = set()
    for toks in statements(source):
        grams.update(hash(tuple(toks[i:i + K])) for i in range(max(1, len(toks) - K + 1)))
    return grams


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def skeleton_cells(a: Assignment) -> dict[str, str]:
    """The released notebook's graded cells (what every student starts from)."""
    try:
        return {c.question: c.source for c in read_cells(a.notebook_path) if c.question and c.kind == "code"}
    except (NotebookError, OSError):
        return {}


def compare(a: Assignment, sources: dict[str, dict[str, str]], threshold: float = 0.8) -> dict:
    """``sources``: student -> question -> cell source. Every pair's score per question, and the flagged ones."""
    skeleton = {q: fingerprint(s) for q, s in skeleton_cells(a).items()}
    pairs, flagged = [], []
    for q in a.graded:
        prints = {s: fingerprint(cells[q.id]) - skeleton.get(q.id, set())
                  for s, cells in sources.items() if q.id in cells}
        prints = {s: p for s, p in prints.items() if len(p) >= MIN_GRAMS}
        for x, y in itertools.combinations(sorted(prints), 2):
            score = jaccard(prints[x], prints[y])
            pairs.append({"question": q.id, "a": x, "b": y, "score": round(score, 4)})
            if score >= threshold:
                flagged.append(pairs[-1])
    flagged.sort(key=lambda p: (-p["score"], p["question"], p["a"], p["b"]))
    return {"pairs": pairs, "flagged": flagged}


def class_sources(a: Assignment, folder: Path) -> dict[str, dict[str, str]]:
    from .batch import find_submissions

    out = {}
    for e in find_submissions(folder, a.id):
        if e.path is None:
            continue
        try:
            sub = read_submission(e.path)
        except NotebookError:
            continue
        out[e.student] = {q: c.source for q, c in sub.graded.items()}
    return out


def _side_by_side(q: str, x: str, y: str, sx: str, sy: str, score: float) -> str:
    norm_x = {" ".join(t) for t in _line_norms(sx)}
    norm_y = {" ".join(t) for t in _line_norms(sy)}

    def column(src: str, other: set[str]) -> str:
        lines = []
        for line, toks in zip(src.splitlines(), _line_norms(src, keep_all=True)):
            hit = toks and " ".join(toks) in other
            lines.append(f"<span class={'hit' if hit else 'no'}>{html.escape(line) or ' '}</span>")
        return "<pre>" + "\n".join(lines) + "</pre>"

    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(q)}: {html.escape(x)} ~ "
            f"{html.escape(y)}</title><style>body{{font-family:system-ui,sans-serif}}.cols{{display:flex;gap:1em}}"
            ".cols div{flex:1;overflow:auto}pre{font-size:12px;background:#fafafa;padding:6px}"
            ".hit{background:#ffe08a}</style></head><body>"
            f"<h1>{html.escape(q)}: similarity {score:.2f}</h1><p>Highlighted lines have a normalised twin on the "
            f"other side.</p><div class=cols><div><h2>{html.escape(x)}</h2>{column(sx, norm_y)}</div>"
            f"<div><h2>{html.escape(y)}</h2>{column(sy, norm_x)}</div></div></body></html>\n")


def _line_norms(src: str, keep_all: bool = False) -> list[list[str]]:
    """Per source line, its tokens with the cell's bound names replaced (comments dropped)."""
    try:
        bound = _bound(ast.parse(src))
    except SyntaxError:
        bound = set()
    out = []
    for line in src.splitlines():
        toks = ["_" if t in bound else t for t in _tokens(line.strip())]
        if toks or keep_all:
            out.append(toks if len(toks) > 2 else [])
    return out


def similarity_report(a: Assignment, folder: Path, out: Path, threshold: float = 0.8) -> dict:
    """index.html, similarity.csv (every pair) and one side-by-side page per flagged pair under ``out``."""
    sources = class_sources(a, folder)
    res = compare(a, sources, threshold)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "similarity.csv", "w", newline="") as f:
        w = csv.DictWriter(f, ["question", "a", "b", "score"])
        w.writeheader()
        w.writerows(sorted(res["pairs"], key=lambda p: (-p["score"], p["question"], p["a"], p["b"])))
    (out / "pairs").mkdir(exist_ok=True)
    rows = []
    for p in res["flagged"]:
        name = f"pairs/{p['question']}__{p['a']}__{p['b']}.html".replace(" ", "_")
        (out / name).write_text(_side_by_side(p["question"], p["a"], p["b"], sources[p["a"]][p["question"]],
                                              sources[p["b"]][p["question"]], p["score"]))
        rows.append(f"<tr><td>{html.escape(p['question'])}</td><td>{html.escape(p['a'])}</td>"
                    f"<td>{html.escape(p['b'])}</td><td>{p['score']:.2f}</td><td><a href='{html.escape(name)}'>"
                    "side by side</a></td></tr>")
    (out / "index.html").write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>Similarity: {html.escape(a.id)}</title>"
        "<style>body{font-family:system-ui,sans-serif}td,th{border:1px solid #ccc;padding:3px 8px}"
        "table{border-collapse:collapse}</style></head><body>"
        f"<h1>Similarity of graded cells: {html.escape(a.id)}</h1><p>{len(sources)} submissions, threshold "
        f"{threshold:g} (Jaccard of normalised token 6-grams, skeleton removed); {len(res['flagged'])} pairs "
        "flagged. Every pair's score is in similarity.csv.</p><table><tr><th>question</th><th>student</th>"
        "<th>student</th><th>similarity</th><th></th></tr>" + "".join(rows) + "</table></body></html>\n")
    (out / "flagged.json").write_text(json.dumps(res["flagged"], indent=2) + "\n")
    return {"students": len(sources), "questions": len(a.graded), "flagged": res["flagged"],
            "html": out / "index.html"}
