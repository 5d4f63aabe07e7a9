"""``similarity``: which students' graded cells are copies of each other, however disguised.

Each graded cell is turned into the graph of what it computes (:mod:`.flow`): names, comments,
layout, the order of independent statements, temporaries, local helpers and loops written as
comprehensions do not change it. Features the released skeleton has, or that most of the class
shares, count for nothing, and the rest weigh more the rarer they are (:mod:`.score`); two students'
similarity on a question is the weighted Jaccard index of their features, and the threshold that
flags a pair comes from the question's own distribution of pair scores unless one is given.
:mod:`.report` writes the pages.
"""

from __future__ import annotations

from pathlib import Path

from ..manifest import Assignment
from ..notebook import NotebookError, read_cells, read_submission
from .flow import CellGraph, Graph, cell_graph, defined_names
from .score import QuestionScores, flagged, score_question, threshold

__all__ = ["compare", "class_sources", "similarity", "similarity_report", "skeleton_cells", "Graph", "cell_graph"]


def skeleton_cells(a: Assignment) -> dict[str, str]:
    """The released notebook's graded cells (what every student starts from)."""
    try:
        return {c.question: c.source for c in read_cells(a.notebook_path) if c.question and c.kind == "code"}
    except (NotebookError, OSError):
        return {}


def class_sources(a: Assignment, folder: Path) -> dict[str, dict[str, str]]:
    """student -> question -> the source of their graded cell."""
    from ..batch import find_submissions

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


def similarity(x: str, y: str, skeleton: str = "") -> float:
    """Two cells' similarity on their own (no class to weigh features by: every feature weighs one)."""
    g = Graph()
    fixed = defined_names(skeleton)
    skel = cell_graph(g, skeleton, fixed).features if skeleton else set()
    fx, fy = cell_graph(g, x, fixed).features - skel, cell_graph(g, y, fixed).features - skel
    return len(fx & fy) / len(fx | fy) if fx | fy else 0.0


def score_sources(question: str, sources: dict[str, str], skeleton: str | None,
                  manual: float | None = None) -> tuple[QuestionScores, dict[str, CellGraph]]:
    """One question: every student's cell (``sources``: student -> source) scored against every other."""
    g = Graph()
    fixed = defined_names(skeleton or "")
    skel = cell_graph(g, skeleton, fixed) if skeleton else None
    seen: dict[str, CellGraph] = {}  # the same source (the skeleton handed in, say) is evaluated once
    cells = {s: seen.get(src) or seen.setdefault(src, cell_graph(g, src, fixed)) for s, src in sources.items()}
    q = score_question(question, cells, skel)
    threshold(q, manual)
    return q, cells


def compare(a: Assignment, sources: dict[str, dict[str, str]], threshold: float | None = None) -> dict:
    """``sources``: student -> question -> cell source. Every compared pair's score per question, the
    flagged pairs, each question's threshold and who was not compared (too little code of their own)."""
    skeleton = skeleton_cells(a)
    pairs, flags, questions, cells = [], [], {}, {}
    for qn in a.graded:
        q, graphs = score_sources(qn.id, {s: c[qn.id] for s, c in sources.items() if qn.id in c},
                                  skeleton.get(qn.id), threshold)
        hits = {(i, j) for i, j, _ in flagged(q)}
        iu, ju, s = q.pairs()
        for i, j, v in zip(iu.tolist(), ju.tolist(), s.tolist()):
            row = {"question": qn.id, "a": q.students[i], "b": q.students[j], "score": round(v, 4),
                   "flagged": (i, j) in hits}
            pairs.append(row)
            if row["flagged"]:
                flags.append(row)
        questions[qn.id] = {"threshold": round(q.threshold, 4), "automatic": q.automatic, **q.stats,
                            "compared": len(q.students), "not_compared": q.skipped}
        cells[qn.id] = (q, graphs)
    flags.sort(key=lambda p: (-p["score"], p["question"], p["a"], p["b"]))
    return {"pairs": pairs, "flagged": flags, "questions": questions, "graphs": cells}


def similarity_report(a: Assignment, folder: Path, out: Path, threshold: float | None = None) -> dict:
    """index.html, similarity.csv (every compared pair), flagged.json and one side-by-side page per
    flagged pair under ``out``."""
    from .report import write_report

    sources = class_sources(a, folder)
    res = compare(a, sources, threshold)
    write_report(a, sources, res, out, threshold)
    return {"students": len(sources), "questions": len(a.graded), "flagged": res["flagged"],
            "thresholds": {q: v["threshold"] for q, v in res["questions"].items()}, "html": out / "index.html"}
