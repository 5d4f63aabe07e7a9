"""``written``: students' written answers, rendered with nbconvert for grading.

For each student: one page per written question in manifest order (its title, the figures of the
code cells just before it, the answer), as HTML, and as PDF when a PDF engine is installed
(``xelatex`` for nbconvert's LaTeX route, or Playwright's Chromium already on the machine for
WebPDF; nothing is ever downloaded). The PDF starts each question on a new page, in manifest
order, as a Gradescope PDF assignment expects. For TAs: one page per question with every
student's answer, anonymised by default (``key.csv`` maps the numbers back to students).
"""

from __future__ import annotations

import csv
import functools
import html
import importlib.util
import json
import shutil
from pathlib import Path

from .manifest import Assignment
from .notebook import GRADED_RE, NotebookError, _single_notebook, parse_percent

CONTEXT = 3  # code cells before an answer whose figures are shown with it
BREAK = '<div style="page-break-before: always; break-before: page"></div>'


def _question_of(cell: dict) -> str | None:
    first = "".join(cell.get("source", "")).lstrip("\n").split("\n", 1)[0]
    if cell.get("cell_type") == "markdown":
        first = "# " + first.lstrip("#").strip()
    m = GRADED_RE.match(first)
    return m.group(1) if m else None


def load_notebook(path: Path):
    """An nbformat notebook from an .ipynb, a zip holding one, or a jupytext percent .py."""
    import nbformat

    raw = path.read_bytes()
    if path.suffix == ".py":
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(c.source) if c.kind == "code" else nbformat.v4.new_markdown_cell(c.source)
                    for c in parse_percent(raw.decode("utf-8"))]
        return nb
    if raw.startswith(b"PK\x03\x04"):
        inner = _single_notebook(raw)
        if inner is None:
            raise NotebookError(f"{path.name} is a zip archive that does not hold exactly one notebook")
        raw = inner[1].encode("utf-8")
    try:
        return nbformat.reads(raw.decode("utf-8"), as_version=4)
    except Exception as e:  # nbformat raises several kinds for a broken file
        raise NotebookError(f"{path.name} cannot be read as a notebook ({type(e).__name__})") from None


def answers(a: Assignment, nb) -> dict[str, list]:
    """written question -> its cells: the figures (outputs only) of the code cells before it, then the answer."""
    manual = {q.id for q in a.questions if q.manual}
    out: dict[str, list] = {}
    for i, cell in enumerate(nb.cells):
        q = _question_of(cell)
        if q not in manual or q in out:
            continue
        context = []
        for prev in reversed(nb.cells[max(0, i - CONTEXT):i]):
            if prev.cell_type != "code" or _question_of(prev):
                break
            figures = [o for o in prev.get("outputs", []) if o.get("output_type") in ("display_data", "execute_result")
                       and any(k.startswith("image/") for k in o.get("data", {}))]
            if figures:
                c = prev.copy()
                c["outputs"] = figures
                c.setdefault("metadata", {})["tags"] = ["remove_input"]
                context.insert(0, c)
        out[q] = [*context, cell]
    return out


def _heading(nbformat, a: Assignment, qid: str, first: bool, who: str | None = None):
    q = a.question(qid)
    n = [x.id for x in a.questions if x.manual].index(qid) + 1
    title = f"Written question {n}: {q.title} ({q.points:g} points)" + (f" | {who}" if who else "")
    cells = [] if first else [nbformat.v4.new_raw_cell("\\clearpage", metadata={"raw_mimetype": "text/latex",
                                                                               "format": "text/latex"})]
    cells.append(nbformat.v4.new_markdown_cell(("" if first else BREAK + "\n\n") + f"# {html.escape(title)}"))
    return cells


def student_notebook(a: Assignment, found: dict[str, list], name: str):
    """One page per written question, in manifest order; a missing answer says so."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["title"] = f"{a.id}: written answers of {name}"
    for i, q in enumerate(x.id for x in a.questions if x.manual):
        nb.cells += _heading(nbformat, a, q, i == 0)
        nb.cells += found.get(q) or [nbformat.v4.new_markdown_cell("_No answer: the notebook has no "
                                                                   f"`# GRADED: {q}` cell._")]
    return nb


@functools.cache
def _exporter(kind: str):  # building one loads its templates: once per kind
    from nbconvert import HTMLExporter, PDFExporter, WebPDFExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    c = Config()
    c.TagRemovePreprocessor.remove_input_tags = {"remove_input"}
    c.TagRemovePreprocessor.enabled = True
    if kind == "webpdf":
        c.WebPDFExporter.allow_chromium_download = False  # never download a browser
    cls = {"html": HTMLExporter, "latex": PDFExporter, "webpdf": WebPDFExporter}[kind]
    ex = cls(config=c)
    ex.register_preprocessor(TagRemovePreprocessor(config=c), enabled=True)
    return ex


def pdf_engine() -> str | None:
    """``latex`` or ``webpdf`` when one is installed here, else None (nothing is downloaded to get one)."""
    if shutil.which("xelatex"):
        return "latex"
    if importlib.util.find_spec("playwright") is not None:
        try:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as p:
                if Path(p.chromium.executable_path).exists():
                    return "webpdf"
        except Exception:  # no browser, no driver: no engine
            return None
    return None


def _write(nb, path: Path, kind: str) -> Path:
    body, _ = _exporter(kind).from_notebook_node(nb)
    path.write_bytes(body if isinstance(body, bytes) else body.encode("utf-8"))
    return path


def _students(a: Assignment, path: Path) -> dict[str, Path]:
    if path.is_file():
        return {path.stem: path}
    from .batch import find_submissions

    return {e.student: e.path for e in find_submissions(path, a.id) if e.path is not None}


def render_written(a: Assignment, path: Path, out: Path, *, anonymise: bool = True, pdf: bool = True) -> dict:
    """Per-student pages (HTML, PDF where possible), per-question collations and ``key.csv`` under ``out``."""
    import nbformat

    manual = [q.id for q in a.questions if q.manual]
    if not manual:
        return {"students": 0, "message": f"{a.id} has no written questions"}
    engine = pdf_engine() if pdf else None
    (out / "students").mkdir(parents=True, exist_ok=True)
    (out / "questions").mkdir(exist_ok=True)
    found: dict[str, dict[str, list]] = {}
    problems = []
    for student, p in sorted(_students(a, path).items()):
        try:
            found[student] = answers(a, load_notebook(p))
        except (NotebookError, OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            problems.append(f"{student}: {e}")
    pdfs = 0
    for student, qs in found.items():
        nb = student_notebook(a, qs, student)
        _write(nb, out / "students" / f"{_safe(student)}.html", "html")
        if engine:
            _write(nb, out / "students" / f"{_safe(student)}.pdf", engine)
            pdfs += 1
    meta = {}
    if path.is_dir():
        from .roster import read_metadata

        meta = read_metadata(path)  # Gradescope's export: who each submission belongs to
    who = {s: meta.get(s, {}).get("name") or s for s in found}
    labels = {s: (f"Student {i + 1}" if anonymise else who[s]) for i, s in enumerate(sorted(found))}
    with open(out / "key.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["label", "student", "name", "sid", "email"])
        w.writerows([[labels[s], s, *(meta.get(s, {}).get(k, "") for k in ("name", "sid", "email"))]
                     for s in sorted(found)])
    for q in manual:
        nb = nbformat.v4.new_notebook()
        for i, s in enumerate(sorted(found)):
            nb.cells += _heading(nbformat, a, q, i == 0, labels[s])
            nb.cells += found[s].get(q) or [nbformat.v4.new_markdown_cell("_No answer._")]
        _write(nb, out / "questions" / f"{q}.html", "html")
    links = "".join(f"<li><a href='questions/{q}.html'>{html.escape(q)}</a></li>" for q in manual)
    (out / "index.html").write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>Written answers: {html.escape(a.id)}</title></head>"
        f"<body><h1>Written answers: {html.escape(a.id)}</h1><p>{len(found)} students. Grade question by question:"
        f"</p><ul>{links}</ul><p>Per student: students/&lt;name&gt;.html"
        f"{' and .pdf' if engine else ''}.</p></body></html>\n")
    if engine:
        message = f"wrote HTML and PDF ({engine}) of {len(found)} students and {len(manual)} question pages in {out}"
    else:
        message = (f"no PDF engine (xelatex, or Playwright with its Chromium) is installed: wrote HTML only, "
                   f"{len(found)} students and {len(manual)} question pages in {out}")
    if problems:
        message += "\nunreadable: " + "; ".join(problems)
    return {"students": len(found), "pdfs": pdfs, "engine": engine, "problems": problems, "message": message}


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.@" else "_" for c in name) or "_"
