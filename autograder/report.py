"""``report``: how the class did, as one self-contained HTML page with matplotlib plots.

Per assignment: each question's mean, median and counts of zero and full scores, a histogram of
totals, and the tests most students fail (by name). Course-wide: every graded assignment side by
side and the distribution of course totals. Plots are inline PNGs: the page is one file to mail.
"""

from __future__ import annotations

import base64
import html
import io
import statistics
from pathlib import Path

from .gradebook import Gradebook
from .manifest import REPO, Assignment, load_assignment
from .roster import RosterError

CSS = """body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}img{max-width:100%}.muted{color:#777}"""


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return f'<img alt="plot" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _table(head: list[str], rows: list[list], left: int = 1) -> str:
    def cell(tag, i, v):
        return f"<{tag}{' class=l' if i < left else ''}>{html.escape(str(v))}</{tag}>"

    out = ["<table><tr>" + "".join(cell("th", i, h) for i, h in enumerate(head)) + "</tr>"]
    out += ["<tr>" + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>" for r in rows]
    return "\n".join(out) + "</table>"


def _page(title: str, body: list[str]) -> str:
    from .written import HEAD_META  # the same Content-Security-Policy as the written pages: no script, no loads

    return (f"<!doctype html><html><head>{HEAD_META}<title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>\n" + "\n".join(body) + "</body></html>\n")


def histogram(ax, values: list[float], top: float, title: str) -> None:
    """Students per score: bins of whole points (1, 2, 5, 10... wide) from 0 to ``top``, whole-number counts
    on the y axis and whole points on the x axis."""
    import math

    from matplotlib.ticker import MaxNLocator

    top = max(1, math.ceil(max([top, *values]) if values else top))
    width = next(w for w in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, top) if top / w <= 40)
    edges = list(range(0, top + width, width))  # at most 40 bars of a round width
    ax.hist(values, bins=edges, color="#4a7ab5", edgecolor="white")
    ax.set(title=title, xlabel="points", ylabel="students", xlim=(0, edges[-1]))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=10))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0)


def question_stats(a: Assignment, table: list[dict]) -> list[dict]:
    out = []
    for q in a.questions:
        scores = [r["questions"][q.id] for r in table]
        graded = scores if not q.manual else [r["questions"][q.id] for r in table if q.id not in r["pending"]]
        out.append({"question": q.id, "points": q.points, "manual": q.manual, "n": len(graded),
                    "mean": statistics.fmean(graded) if graded else 0.0,
                    "median": statistics.median(graded) if graded else 0.0,
                    "zero": sum(s == 0 for s in graded), "full": sum(s >= q.points for s in graded)})
    return out


def failure_ranking(rows: list[dict]) -> list[dict]:
    """Tests by how many students fail them (most first), with their names and questions."""
    seen: dict[str, dict] = {}
    for row in rows:
        for t in row["results"].get("tests", []):
            if "status" not in t:  # written: pending staff grading
                continue
            tid = t.get("extra_data", {}).get("test_id", t["name"])
            e = seen.setdefault(tid, {"name": t["name"], "question": t["extra_data"].get("question", ""),
                                      "failed": 0, "ran": 0})
            e["ran"] += 1
            e["failed"] += t["status"] == "failed"
    return sorted((e for e in seen.values() if e["failed"]), key=lambda e: (-e["failed"], e["name"]))


def topic_report(topic: str, grades: Path, out: Path, repo: Path = REPO) -> Path:
    """``out/index.html`` for the assignment graded into ``grades``; returns its path."""
    from .roster import course_lateness

    a = load_assignment(topic, repo)
    path = grades / "gradebook.sqlite"
    if not path.exists():
        raise RosterError(f"no gradebook in {grades}: grade the class folder first")
    book = Gradebook(path)
    late = course_lateness(grades.parent, repo).get(a.id, {})
    table, rows = book.table(a, late), book.rows(a.id)
    book.close()
    n = len(table)
    total_max = sum(q.points for q in a.questions)
    totals = [r["total"] for r in table]
    stats = question_stats(a, table)
    plt = _plt()
    body = [f"<p>{n} submissions; {total_max:g} points ({sum(q.points for q in a.graded):g} autograded, "
            f"{sum(q.points for q in a.questions if q.manual):g} written). Totals after late penalties: mean "
            f"{statistics.fmean(totals) if totals else 0:.2f}, median {statistics.median(totals) if totals else 0:.2f}."
            "</p>", "<h2>Questions</h2>",
            _table(["question", "points", "graded", "mean", "median", "zero", "full"],
                   [[s["question"] + (" (written)" if s["manual"] else ""), f"{s['points']:g}", s["n"],
                     f"{s['mean']:.2f}", f"{s['median']:.2f}", s["zero"], s["full"]] for s in stats])]
    fig, (h, b) = plt.subplots(1, 2, figsize=(10, 3.2))
    histogram(h, totals, total_max, "Totals")
    b.barh([s["question"] for s in stats][::-1], [s["mean"] / s["points"] if s["points"] else 0 for s in stats][::-1],
           color="#6a9f58")
    b.set(title="Mean score per question (fraction of its points)", xlim=(0, 1))
    body.append(_png(fig))
    ranking = failure_ranking(rows)
    body.append("<h2>Tests students fail most</h2>")
    body.append(_table(["test", "question", "failed", "of"],
                       [[e["name"], e["question"], e["failed"], e["ran"]] for e in ranking[:30]])
                if ranking else "<p class=muted>Every test passed for every student.</p>")
    late_rows = [r for r in table if r["late"].days]
    if late_rows:
        body.append(f"<p>{len(late_rows)} late submissions, {sum(r['late'].penalty >= 1 for r in late_rows)} not "
                    "accepted (out of slip days).</p>")
    out.mkdir(parents=True, exist_ok=True)
    page = out / "index.html"
    page.write_text(_page(f"{a.title or a.id}: class report", body))
    return page


def course_report(root: Path, out: Path, repo: Path = REPO) -> Path:
    """``out/index.html``: every assignment graded under ``root`` and the course totals."""
    from .roster import course_books, course_lateness, key_of

    books = course_books(root, repo)
    if not books:
        raise RosterError(f"no gradebook under {root}")
    late = course_lateness(root, repo)
    per: dict[str, list[float]] = {}
    people: dict[str, float] = {}
    maxima = {}
    for topic, path in books.items():
        a = load_assignment(topic, repo)
        maxima[topic] = sum(q.points for q in a.questions)
        book = Gradebook(path)
        for r in book.table(a, late.get(topic)):
            per.setdefault(topic, []).append(r["total"])
            people[key_of(r["student"], r)] = people.get(key_of(r["student"], r), 0.0) + r["total"]
        book.close()
    plt = _plt()
    fig, (bx, h) = plt.subplots(1, 2, figsize=(10, 3.2))
    bx.boxplot([[t / maxima[k] for t in v] for k, v in per.items()], tick_labels=list(per))
    bx.set(title="Totals per assignment (fraction of its points)", ylim=(0, 1.05))
    histogram(h, list(people.values()), sum(maxima.values()), "Course totals")
    body = [_table(["assignment", "points", "submissions", "mean", "median"],
                   [[k, f"{maxima[k]:g}", len(v), f"{statistics.fmean(v):.2f}", f"{statistics.median(v):.2f}"]
                    for k, v in per.items()]), _png(fig),
            f"<p>{len(people)} students; course total out of {sum(maxima.values()):g} points.</p>"]
    out.mkdir(parents=True, exist_ok=True)
    page = out / "index.html"
    page.write_text(_page("Course report", body))
    return page
