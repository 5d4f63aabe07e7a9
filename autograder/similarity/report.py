"""The similarity report's files: index.html, similarity.csv, flagged.json and pairs/*.html.

Everything students wrote (their cells, and their names, which come from file names) is HTML-escaped
on the pages, and a CSV cell that a spreadsheet would read as a formula (starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) gets a leading single quote.
"""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path
from urllib.parse import quote

MAX_PAGES = 2000  # side-by-side pages (the highest-scoring flagged pairs); flagged.json lists them all
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
STYLE = ("body{font-family:system-ui,sans-serif}td,th{border:1px solid #ccc;padding:3px 8px}"
         "table{border-collapse:collapse}.cols{display:flex;gap:1em}.cols div{flex:1;overflow:auto}"
         "pre{font-size:12px;background:#fafafa;padding:6px}.hit{background:#ffe08a}")


def csv_cell(v):
    """A value for a CSV cell that no spreadsheet runs as a formula."""
    if isinstance(v, str) and v.startswith(FORMULA_START):
        return "'" + v
    return v


def _file_name(q: str, a: str, b: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]", "_", f"{q}__{a}__{b}")[:150].lstrip(".") or "pair"
    name, k = base, 1
    while name in taken:
        k += 1
        name = f"{base}_{k}"
    taken.add(name)
    return f"pairs/{name}.html"


def _matched_lines(graph_x, graph_y, weights: dict[int, float]) -> set[int]:
    """Lines of x that made a feature (of weight > 0) y has too."""
    lines: set[int] = set()
    for f in graph_x.features & graph_y.features:
        if weights.get(f, 0.0) > 0:
            lines |= graph_x.lines.get(f, set())
    return lines


def side_by_side(q: str, x: str, y: str, sx: str, sy: str, score: float, hx: set[int], hy: set[int]) -> str:
    def column(src: str, hits: set[int]) -> str:
        out = []
        for k, line in enumerate(src.splitlines(), start=1):
            out.append(f"<span class={'hit' if k in hits else 'no'}>{html.escape(line) or ' '}</span>")
        return "<pre>" + "\n".join(out) + "</pre>"

    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(q)}: {html.escape(x)} ~ "
            f"{html.escape(y)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{html.escape(q)}: similarity {score:.2f}</h1><p>Highlighted lines compute something the other "
            "cell computes too (after renaming, reordering, inlining helpers and folding temporaries), and "
            "that neither the skeleton nor most of the class has.</p>"
            f"<div class=cols><div><h2>{html.escape(x)}</h2>{column(sx, hx)}</div>"
            f"<div><h2>{html.escape(y)}</h2>{column(sy, hy)}</div></div></body></html>\n")


def write_report(a, sources: dict[str, dict[str, str]], res: dict, out: Path, manual: float | None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "similarity.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["question", "a", "b", "score", "flagged", "threshold"])
        for p in sorted(res["pairs"], key=lambda p: (-p["score"], p["question"], p["a"], p["b"])):
            w.writerow([csv_cell(p["question"]), csv_cell(p["a"]), csv_cell(p["b"]), f"{p['score']:.4f}",
                        int(p["flagged"]), f"{res['questions'][p['question']]['threshold']:.4f}"])
    (out / "pairs").mkdir(exist_ok=True)
    rows, taken = [], set()
    for p in res["flagged"][:MAX_PAGES]:
        qs, graphs = res["graphs"][p["question"]]
        name = _file_name(p["question"], p["a"], p["b"], taken)
        gx, gy = graphs[p["a"]], graphs[p["b"]]
        (out / name).write_text(side_by_side(
            p["question"], p["a"], p["b"], sources[p["a"]][p["question"]], sources[p["b"]][p["question"]],
            p["score"], _matched_lines(gx, gy, qs.weights), _matched_lines(gy, gx, qs.weights)))
        p["page"] = name
        rows.append(f"<tr><td>{html.escape(p['question'])}</td><td>{html.escape(p['a'])}</td>"
                    f"<td>{html.escape(p['b'])}</td><td>{p['score']:.2f}</td><td><a href='{html.escape(quote(name))}'>"
                    "side by side</a></td></tr>")
    qrows = []
    for q, v in res["questions"].items():
        kind = "automatic" if v["automatic"] else "given"
        n_flag = sum(1 for p in res["flagged"] if p["question"] == q)
        skipped = ", ".join(v["not_compared"][:12]) + (" …" if len(v["not_compared"]) > 12 else "")
        qrows.append(f"<tr><td>{html.escape(q)}</td><td>{v['compared']}</td><td>{v['pairs']}</td>"
                     f"<td>{v['median']:.2f}</td><td>{v['mad']:.2f}</td><td>{v['threshold']:.2f} ({kind})</td>"
                     f"<td>{n_flag}</td><td>{len(v['not_compared'])}<br><small>{html.escape(skipped)}</small></td></tr>")
    how = (f"a threshold of {manual:g} on every question" if manual is not None else
           "a threshold per question from its own distribution of pair scores (the bulk of independent pairs "
           "described by its median and MAD; copies stand out above it)")
    (out / "index.html").write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>Similarity: {html.escape(a.id)}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>Similarity of graded cells: {html.escape(a.id)}</h1><p>{len(sources)} submissions. Cells are "
        "compared by what they compute (names, comments, layout, statement order, temporaries, local helpers "
        "and loops written as comprehensions do not matter); what the released skeleton has and what most of the "
        f"class shares counts for nothing. Flagged with {how}: {len(res['flagged'])} pairs"
        + (f" (side-by-side pages for the {MAX_PAGES} highest; flagged.json lists them all)"
           if len(res["flagged"]) > MAX_PAGES else "") + ". Every compared pair's score is in similarity.csv.</p>"
        "<h2>Questions</h2><table><tr><th>question</th><th>compared</th><th>pairs</th><th>median</th><th>MAD</th>"
        "<th>threshold</th><th>flagged</th><th>not compared (too little of their own)</th></tr>"
        + "".join(qrows) + "</table><h2>Flagged pairs</h2><table><tr><th>question</th><th>student</th>"
        "<th>student</th><th>similarity</th><th></th></tr>" + "".join(rows) + "</table></body></html>\n")
    (out / "flagged.json").write_text(json.dumps(res["flagged"], indent=2) + "\n")
