"""``written``: students' written answers, rendered for grading as safe, self-contained HTML (and PDF).

For each student: one page per written question in manifest order (its title, the figures of the
code cells just before it, the answer), as HTML, and as PDF when a Chromium is installed (the
system's ``chromium``, ``chromium-browser`` or ``google-chrome``, or Playwright's already on the
machine; nothing is ever downloaded). The PDF starts each question on a new page, in manifest
order, as a Gradescope PDF assignment expects. For TAs: one page per question with every
student's answer, anonymised by default (``key.csv`` maps the numbers back to students).

Whatever a student writes is data on these pages. Every fragment built from a notebook (markdown,
outputs, attachments, math) goes through :func:`sanitise`, an allow-list over ``html.parser`` that
re-serialises only known-inert elements and attributes with every text and value escaped: no
script, no event handler, no ``javascript:``/``vbscript:``/``data:`` URL but raster images, no
frame, object, form, meta, base, link or style element, SVG and MathML without their active
parts. Active outputs (``application/javascript``, widget views) are dropped with a note; HTML
outputs (pandas tables) are sanitised and kept. Each page also carries a Content-Security-Policy
that forbids every script and network load, as a second wall. Math (``$x^2$``, ``$$...$$``,
``\\begin{align}``) is converted to MathML here, without any script or CDN.
"""

from __future__ import annotations

import base64
import binascii
import csv
import html
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

from .manifest import Assignment
from .notebook import GRADED_RE, NotebookError, _single_notebook, parse_percent

CONTEXT = 3  # code cells before an answer whose figures are shown with it
BREAK = '<div class="break" style="page-break-before: always; break-before: page"></div>'
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; base-uri 'none'; "
       "form-action 'none'; frame-src 'none'; object-src 'none'")
HEAD_META = (f'<meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="{CSP}">'
             '<meta name="referrer" content="no-referrer">')
MAX_SOURCE = 200_000  # characters of one cell or output rendered; past that, the text is cut
MAX_MATH = 5_000  # characters of one formula converted to MathML
PDF_TIMEOUT = 120  # seconds for Chromium to print one student's PDF
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;max-width:860px;margin:1.5em auto;
 padding:0 1em;color:#1d1d1d;line-height:1.45}
h1{font-size:1.35em;border-bottom:2px solid #4a7ab5;padding-bottom:.2em;margin-top:1.2em}
.who{color:#666;font-size:.9em;margin:0}
.answer{contain:content;overflow:hidden;position:relative;border-left:3px solid #d5dfec;padding:.1em 0 .1em 1em}
.answer h3,.answer h4,.answer h5,.answer h6{margin:.8em 0 .3em}
.answer img{max-width:100%;height:auto}
.answer svg{max-width:100%;height:auto}
.answer table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
.answer td,.answer th{border:1px solid #ccc;padding:2px 8px;text-align:right}
.answer th{background:#f3f3f3}
.answer pre{background:#f6f8fa;padding:.5em .7em;overflow-x:auto;white-space:pre-wrap;word-break:break-word;
 font-size:.85em}
.answer code{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.92em}
.answer blockquote{color:#555;border-left:3px solid #ddd;margin-left:0;padding-left:1em}
math{font-family:"STIX Two Math","Latin Modern Math","Cambria Math",math}
math[display=block]{margin:.5em 0;padding:.15em 0;overflow-x:auto;overflow-y:hidden;max-width:100%}
.tex{color:#8a1f11}
.muted{color:#777;font-style:italic}
.figure{margin:.4em 0}
@page{size:letter;margin:14mm}
@media print{body{max-width:none;margin:0}.answer{border-left:none;padding-left:0}math[display=block]{overflow:visible}}
"""


class WrittenError(Exception):
    pass


# ---------------------------------------------------------------------------------------- sanitiser

_HTML_TAGS = frozenset("""a abbr b bdi bdo blockquote br caption cite code col colgroup dd del dfn div dl dt em
figcaption figure h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q rp rt ruby s samp small span strong sub
sup table tbody td tfoot th thead time tr u ul var wbr""".split())
_HTML_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
# dropped together with everything inside them (the rest of a dropped element's content is kept as text)
_DROP_CONTENT = frozenset("""script style template iframe object embed applet noscript noembed noframes frameset frame
title head textarea select xmp plaintext foreignobject annotation-xml audio video canvas metadata set animate
animatemotion animatetransform discard handler listener math-script""".split())
_RAW_TEXT = frozenset("script style iframe noscript noembed noframes textarea title xmp plaintext".split())
_HTML_ATTRS = {
    "*": {"title", "lang", "dir", "align", "valign", "style", "class"},
    "a": {"href"}, "img": {"src", "alt", "width", "height"}, "td": {"colspan", "rowspan", "scope"},
    "th": {"colspan", "rowspan", "scope"}, "table": {"border"}, "ol": {"start", "type", "reversed"},
    "li": {"value"}, "col": {"span"}, "colgroup": {"span"}, "time": {"datetime"},
}
_NUMERIC_ATTRS = {"width", "height", "colspan", "rowspan", "border", "start", "span", "value"}
_CLASSES = frozenset("tex code stream error result md-source raw dataframe".split())
_SVG_TAGS = frozenset("""svg g defs path rect circle ellipse line polyline polygon text tspan clippath lineargradient
radialgradient stop symbol use marker mask pattern title desc image""".split())
_SVG_ATTRS = frozenset("""id transform d x y x1 y1 x2 y2 cx cy r rx ry fx fy width height points viewbox
preserveaspectratio fill fill-opacity fill-rule stroke stroke-width stroke-linecap stroke-linejoin stroke-miterlimit
stroke-dasharray stroke-dashoffset stroke-opacity opacity clip-path clip-rule clippathunits mask maskunits
marker-start marker-mid marker-end font-family font-size font-weight font-style text-anchor dominant-baseline
alignment-baseline baseline-shift letter-spacing word-spacing dx dy rotate offset stop-color stop-opacity
gradientunits gradienttransform spreadmethod patternunits patterntransform patterncontentunits markerwidth
markerheight refx refy orient markerunits version xmlns xmlns:xlink href xlink:href style visibility overflow
vector-effect paint-order textlength lengthadjust text-decoration shape-rendering image-rendering
text-rendering color""".split())
_SVG_URL_REFS = frozenset("fill stroke clip-path mask marker-start marker-mid marker-end".split())
_MATH_TAGS = frozenset("""math semantics annotation mrow mi mn mo ms mtext mspace msub msup msubsup mfrac msqrt mroot
mover munder munderover mtable mtr mtd mlabeledtr mstyle mpadded mphantom menclose merror mmultiscripts
mprescripts none""".split())
_MATH_ATTRS = frozenset("""display mathvariant mathsize mathcolor mathbackground stretchy fence separator lspace rspace
accent accentunder movablelimits displaystyle scriptlevel columnalign rowalign columnspacing rowspacing
columnlines rowlines frame framespacing width height depth linethickness notation xmlns minsize maxsize
symmetric largeop form encoding linebreak voffset columnspan rowspan dir""".split())
_NS = {"svg": "http://www.w3.org/2000/svg", "xlink": "http://www.w3.org/1999/xlink",
       "math": "http://www.w3.org/1998/Math/MathML"}
_CSS_PROPS = frozenset("""color background-color background font font-weight font-style font-family font-size
font-variant line-height text-align text-decoration text-transform vertical-align white-space word-break border
border-top border-right border-bottom border-left border-color border-style border-width border-collapse
border-spacing padding padding-top padding-right padding-bottom padding-left width height max-width min-width
list-style-type fill fill-opacity fill-rule stroke stroke-width stroke-linecap stroke-linejoin stroke-dasharray
stroke-dashoffset stroke-opacity stroke-miterlimit opacity text-anchor dominant-baseline clip-rule""".split())
_CSS_FUNCS = frozenset({"rgb", "rgba", "hsl", "hsla"})
_CSS_BAD = ("url(", "expression", "@import", "\\", "/*", "script", "behavior", "binding", "<", ">", "image-set",
            "element(", "&")
_ACTIVE_VALUE = re.compile(r"url\s*\(|expression\s*\(|javascript:|vbscript:|data:", re.I)
_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]+")  # browsers drop these from URLs (inside and at the ends)
_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|jpg|gif|webp);base64,([a-z0-9+/]+=*)", re.I)
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):", re.I)
_REF = re.compile(r"""url\(\s*['"]?#([\w.\-]+)['"]?\s*\)""")
_ID = re.compile(r"[A-Za-z_][\w.\-]*")


def safe_url(value: str, kind: str) -> str | None:
    """``value`` when it is a safe link (``href``: http, https, mailto, #fragment) or image (``src``: a
    base64 PNG, JPEG, GIF or WebP data URL); None for anything else (``javascript:``, ``data:text/html``...)."""
    url = _CONTROL.sub("", value)
    if kind == "src":
        m = _DATA_IMAGE.fullmatch(url)
        return f"data:image/{m.group(1).lower()};base64,{m.group(2)}" if m else None
    if url.startswith("#"):
        return url
    m = _SCHEME.match(url)
    return url if m and m.group(1).lower() in ("http", "https", "mailto") else None


def safe_style(value: str) -> str | None:
    """A style attribute keeping only plain declarations of allowed properties (no URL, no positioning)."""
    low = value.lower()
    if any(b in low for b in _CSS_BAD):
        return None
    kept = []
    for decl in value.split(";"):
        prop, colon, val = decl.partition(":")
        prop, val = prop.strip().lower(), val.strip()
        if not colon or prop not in _CSS_PROPS or not re.fullmatch(r"[#\w\s.,%+\-'\"()!/]*", val):
            continue
        if any(f.lower() not in _CSS_FUNCS for f in re.findall(r"([\w-]+)\s*\(", val)):
            continue
        kept.append(f"{prop}: {val}")
    return "; ".join(kept) or None


class _Sanitiser(HTMLParser):
    """Re-serialises an HTML fragment keeping only allow-listed elements and attributes.

    Text and attribute values are always escaped, so the browser can only ever see the elements this
    class writes; unknown elements are dropped (their text kept), active ones with their content;
    every element left open is closed at the end, so a fragment cannot swallow the page around it.
    ``prefix`` is put before SVG ids (and the references to them) to keep fragments apart.
    """

    def __init__(self, prefix: str):
        super().__init__(convert_charrefs=True)
        self.prefix = prefix
        self.out: list[str] = []
        self.stack: list[tuple[str, str]] = []  # (tag, namespace) of the open elements
        self.skipping: str | None = None  # an element dropped with its content
        self.skip_depth = 0

    def _ns(self) -> str:
        return self.stack[-1][1] if self.stack else "html"

    def handle_starttag(self, tag, attrs):
        self._start(tag, attrs, closed=False)

    def handle_startendtag(self, tag, attrs):
        self._start(tag, attrs, closed=True)

    def _start(self, tag: str, attrs, closed: bool) -> None:
        if self.skipping:
            if tag == self.skipping and not closed and tag not in _RAW_TEXT:
                self.skip_depth += 1
            return
        if tag in _DROP_CONTENT:
            if not closed and tag not in _HTML_VOID:
                self.skipping, self.skip_depth = tag, 1
            return
        ns = self._ns()
        if ns == "html" and tag in ("svg", "math"):
            ns = tag
        if tag not in {"html": _HTML_TAGS, "svg": _SVG_TAGS, "math": _MATH_TAGS}[ns]:
            return  # dropped; its text stays
        kept = self._attrs(tag, ns, attrs)
        if ns == "html" and tag == "img" and not any(k == "src" for k, _ in kept):
            return  # an image whose source was refused (x, javascript:, a remote URL): nothing to show
        if ns == "html" and tag == "a" and any(k == "href" for k, _ in kept):
            kept.append(("rel", "noopener noreferrer nofollow"))
        self.out.append(f"<{tag}" + "".join(f' {k}="{html.escape(v, quote=True)}"' for k, v in kept) + ">")
        if ns == "html" and tag in _HTML_VOID:
            return
        if closed:
            self.out.append(f"</{tag}>")
        else:
            self.stack.append((tag, ns))

    def handle_endtag(self, tag):
        if self.skipping:
            if tag == self.skipping:
                self.skip_depth -= 1
                if self.skip_depth <= 0:
                    self.skipping = None
            return
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                while len(self.stack) > i:
                    self.out.append(f"</{self.stack.pop()[0]}>")
                return

    def handle_data(self, data):
        if not self.skipping:
            self.out.append(html.escape(data, quote=False))

    # comments, doctypes, processing instructions and CDATA sections are never written

    def _attrs(self, tag: str, ns: str, attrs) -> list[tuple[str, str]]:
        kept, seen = [], set()
        for name, value in attrs:
            if name in seen:  # a browser keeps the first of twice the same attribute
                continue
            seen.add(name)
            value = self._attr(tag, ns, name, "" if value is None else value)
            if value is not None:
                kept.append(("href" if name == "xlink:href" else name, value))
        return kept

    def _attr(self, tag: str, ns: str, name: str, value: str) -> str | None:
        if name.startswith("on"):
            return None
        if name == "style":
            return safe_style(value)
        if ns == "html":
            if name not in _HTML_ATTRS["*"] and name not in _HTML_ATTRS.get(tag, ()):
                return None
            if name == "href":
                return safe_url(value, "href")
            if name == "src":
                return safe_url(value, "src")
            if name == "class":  # only the page's own classes
                kept = [c for c in value.split() if c in _CLASSES]
                return " ".join(kept) or None
            if name in _NUMERIC_ATTRS:
                return value.strip() if re.fullmatch(r"\s*\d{1,5}%?\s*", value) else None
            return None if _ACTIVE_VALUE.search(value) else value
        if ns == "svg":
            if name not in _SVG_ATTRS:
                return None
            if name in ("xmlns", "xmlns:xlink"):
                return value if value == _NS["svg" if name == "xmlns" else "xlink"] else None
            if name == "id":
                return self.prefix + value if _ID.fullmatch(value) else None
            if name in ("href", "xlink:href"):
                if tag == "image":
                    return safe_url(value, "src")
                ref = _CONTROL.sub("", value)
                return "#" + self.prefix + ref[1:] if tag == "use" and _ID.fullmatch(ref[1:]) and ref[:1] == "#" \
                    else None
            if name in _SVG_URL_REFS and "url" in value.lower():
                m = _REF.fullmatch(value.strip())
                return f"url(#{self.prefix}{m.group(1)})" if m else None
            return None if _ACTIVE_VALUE.search(value) else value
        if name not in _MATH_ATTRS:  # MathML: no href, no xlink, no actions
            return None
        if name == "xmlns":
            return value if value == _NS["math"] else None
        return None if _ACTIVE_VALUE.search(value) else value

    def result(self) -> str:
        self.close()
        while self.stack:
            self.out.append(f"</{self.stack.pop()[0]}>")
        return "".join(self.out)


def sanitise(fragment: str, prefix: str = "") -> str:
    """``fragment`` with everything that could run, load or escape its place removed (see ``_Sanitiser``)."""
    s = _Sanitiser(prefix)
    s.feed(fragment)
    return s.result()


# ---------------------------------------------------------------------------------------- rendering

def _text(value) -> str:
    """A notebook's multiline string (a string or a list of lines)."""
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return "" if value is None else str(value)


def _cut(text: str) -> str:
    if len(text) <= MAX_SOURCE:
        return text
    return text[:MAX_SOURCE] + f"\n[... {len(text) - MAX_SOURCE} more characters not shown]"


def _pre(text: str, cls: str) -> str:
    return f'<pre class="{cls}">{html.escape(_cut(text), quote=False)}</pre>'


def math_html(tex: str, display: bool) -> str:
    """``tex`` as MathML (converted here, no script); the TeX itself, escaped, when it cannot be converted."""
    tex = tex.strip()
    out = None
    if tex and len(tex) <= MAX_MATH:
        try:
            from latex2mathml.converter import convert

            out = convert(tex, display="block" if display else "inline")
        except Exception:  # any TeX the converter does not know: show the source
            out = None
    if out is None:
        shown = html.escape(f"$${tex}$$" if display else f"${tex}$", quote=False)
        out = f'<code class="tex">{shown}</code>'
    return out


def _markdown_renderer(attachments: dict):
    from nbconvert.filters.markdown_mistune import IPythonRenderer

    class Renderer(IPythonRenderer):
        """nbconvert's markdown renderer with math as MathML, headings below the page's, and only
        raster attachments; its output is sanitised like any other fragment."""

        def heading(self, text, level, **attrs):
            n = min(int(level) + 2, 6)  # h1 is the question's, h2 the student's
            return f"<h{n}>{text}</h{n}>\n"

        def block_math(self, body):
            return math_html(body, True)

        def multiline_math(self, text):
            return math_html(text.strip("$"), True)

        def latex_environment(self, name, body):
            return math_html(f"\\begin{{{name}}}{body}\\end{{{name}}}", True)

        def inline_math(self, body):
            return math_html(body, False)

        def block_code(self, code, info=None):
            return _pre(code, "code")

        def block_mermaidjs(self, code):
            return _pre(code, "code")

        def _embed_image_or_attachment(self, src):
            if src.startswith("attachment:"):
                bundle = self.attachments.get(src[len("attachment:"):]) or {}
                for mime in ("image/png", "image/jpeg", "image/gif", "image/webp"):
                    if isinstance(bundle, dict) and mime in bundle:
                        url = safe_url(f"data:{mime};base64,{_text(bundle[mime])}", "src")
                        if url:
                            return url
                return ""
            return src

    return Renderer(escape=False, allow_harmful_protocols=False, exclude_anchor_links=True,
                    attachments=attachments if isinstance(attachments, dict) else {})


def markdown_html(source: str, prefix: str, attachments: dict | None = None) -> str:
    """A markdown cell (or output) as sanitised HTML, math included."""
    source = _cut(source)
    try:
        from nbconvert.filters.markdown_mistune import MarkdownWithMath

        rendered = MarkdownWithMath(renderer=_markdown_renderer(attachments or {})).render(source)
    except Exception:  # a markdown the parser chokes on is shown as text
        return _pre(source, "md-source")
    return sanitise(rendered, prefix)


def _drop_marker(source: str) -> str:
    """A written answer without its ``# GRADED: <id>`` line (the page's heading already says which)."""
    lines = source.split("\n")
    for i, line in enumerate(lines):
        if line.strip():
            if GRADED_RE.match("# " + line.strip().lstrip("#").strip()):
                del lines[i]
            break
    return "\n".join(lines)


_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_RASTER = ("image/png", "image/jpeg", "image/gif", "image/webp")
_SAFE_TEXT = ("text/markdown", "text/latex", "text/plain")


def output_html(output: dict, prefix: str) -> str:
    """One output of a code cell: images, sanitised HTML and SVG, text; active types dropped with a note."""
    kind = output.get("output_type")
    if kind == "stream":
        return _pre(_ANSI.sub("", _text(output.get("text"))), "stream")
    if kind == "error":
        tb = "\n".join(_text(t) for t in output.get("traceback") or []) or \
            f"{_text(output.get('ename'))}: {_text(output.get('evalue'))}"
        return _pre(_ANSI.sub("", tb), "error")
    if kind not in ("display_data", "execute_result"):
        return ""
    data = output.get("data") or {}
    if not isinstance(data, dict):
        return ""
    for mime in _RASTER:
        if mime in data:
            payload = re.sub(r"\s", "", _text(data[mime]))
            url = safe_url(f"data:{mime};base64,{payload}", "src")
            if url and _decodes(url):
                return f'<div class="figure"><img alt="figure" src="{html.escape(url)}"></div>'
    if "image/svg+xml" in data:
        return f'<div class="figure">{sanitise(_cut(_text(data["image/svg+xml"])), prefix)}</div>'
    if "text/html" in data:
        return f'<div class="html-output">{sanitise(_cut(_text(data["text/html"])), prefix)}</div>'
    if "text/markdown" in data:
        return markdown_html(_text(data["text/markdown"]), prefix)
    if "text/latex" in data:
        return markdown_html(_text(data["text/latex"]), prefix)
    if "text/plain" in data:
        return _pre(_ANSI.sub("", _text(data["text/plain"])), "result")
    if not data:
        return ""
    kinds = ", ".join(sorted(str(k)[:80] for k in data))
    return f'<p class="muted">[an output of type {html.escape(kinds)} is not shown: it would run code]</p>'


def _decodes(url: str) -> bool:
    try:
        base64.b64decode(url.split(",", 1)[1], validate=True)
        return True
    except (binascii.Error, ValueError):
        return False


def code_html(source: str, prefix: str) -> str:
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer

        return sanitise(highlight(_cut(source), PythonLexer(), HtmlFormatter(noclasses=True)), prefix)
    except ImportError:
        return _pre(source, "code")


def cell_html(cell: dict, prefix: str) -> str:
    """A cell as sanitised HTML: markdown rendered (marker line dropped), code with its outputs."""
    kind = cell.get("cell_type")
    source = _text(cell.get("source"))
    if kind == "markdown":
        return markdown_html(_drop_marker(source), prefix, cell.get("attachments"))
    if kind == "code":
        source = _drop_marker(source)  # a code cell given as the answer: its marker comment is not shown either
        parts = [code_html(source, prefix + "s-")] if source.strip() else []
        parts += [output_html(o, f"{prefix}o{j}-") for j, o in enumerate(cell.get("outputs") or [])
                  if isinstance(o, dict)]
        return "\n".join(parts)
    return _pre(source, "raw") if source.strip() else ""


def document(title: str, body: str) -> str:
    """A whole page: the CSP first, then the title (escaped) and ``body`` (built from escaped or sanitised parts)."""
    return (f"<!doctype html>\n<html lang=\"en\"><head>{HEAD_META}<title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body>\n{body}\n</body></html>\n")


# ---------------------------------------------------------------------------------------- notebooks

def _question_of(cell: dict) -> str | None:
    first = _text(cell.get("source", "")).lstrip("\n").split("\n", 1)[0]
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
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except Exception as e:  # nbformat raises several kinds for a broken file
        raise NotebookError(f"{path.name} cannot be read as a notebook ({type(e).__name__})") from None
    if not isinstance(nb.get("cells"), list) or not all(isinstance(c, dict) for c in nb.cells):
        raise NotebookError(f"{path.name} has no list of cells")
    return nb


def answers(a: Assignment, nb) -> dict[str, list[dict]]:
    """written question -> its cells: the figures (outputs only, no code) of the code cells before it, the answer."""
    manual = {q.id for q in a.questions if q.manual}
    out: dict[str, list[dict]] = {}
    for i, cell in enumerate(nb.cells):
        q = _question_of(cell)
        if q not in manual or q in out:
            continue
        context: list[dict] = []
        for prev in reversed(nb.cells[max(0, i - CONTEXT):i]):
            if prev.get("cell_type") != "code" or _question_of(prev):
                break
            figures = [o for o in prev.get("outputs") or [] if isinstance(o, dict)
                       and o.get("output_type") in ("display_data", "execute_result")
                       and isinstance(o.get("data"), dict) and any(str(k).startswith("image/") for k in o["data"])]
            if figures:
                context.insert(0, {"cell_type": "code", "source": "", "outputs": figures})
        out[q] = [*context, cell]
    return out


def _title(a: Assignment, qid: str) -> str:
    q = a.question(qid)
    n = [x.id for x in a.questions if x.manual].index(qid) + 1
    return f"Written question {n}: {q.title} ({q.points:g} point{'' if q.points == 1 else 's'})"


def _answer(cells: list[dict] | None, prefix: str, missing: str) -> str:
    if not cells:
        return f'<div class="answer"><p class="muted">{html.escape(missing)}</p></div>'
    body = "\n".join(cell_html(c, f"{prefix}c{j}-") for j, c in enumerate(cells))
    return f'<div class="answer">\n{body}\n</div>'


def student_page(a: Assignment, found: dict[str, list], name: str) -> str:
    """One page per written question, in manifest order; a missing answer says so."""
    parts = [f'<p class="who">{html.escape(a.id)}: written answers of {html.escape(name)}</p>']
    for i, q in enumerate(x.id for x in a.questions if x.manual):
        parts.append((BREAK if i else "") + f'<section class="question"><h1>{html.escape(_title(a, q))}</h1>'
                     + _answer(found.get(q), f"q{i}-", f"No answer: the notebook has no `# GRADED: {q}` cell.")
                     + "</section>")
    return document(f"{a.id}: written answers of {name}", "\n".join(parts))


def question_page(a: Assignment, q: str, found: dict[str, dict[str, list]], labels: dict[str, str]) -> str:
    """Every student's answer to ``q``, one per printed page, under their label."""
    parts = []
    for i, s in enumerate(sorted(found)):
        parts.append((BREAK if i else "") + f'<section class="question"><h1>{html.escape(_title(a, q))} | '
                     f"{html.escape(labels[s])}</h1>" + _answer(found[s].get(q), f"s{i}-", "No answer.")
                     + "</section>")
    return document(f"{a.id}: {q}, every answer", "\n".join(parts))


# ---------------------------------------------------------------------------------------- PDF

def find_chromium() -> str | None:
    """An installed Chromium: the system's, else Playwright's already downloaded one (never downloads)."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    roots = [os.environ.get("PLAYWRIGHT_BROWSERS_PATH"), Path.home() / ".cache" / "ms-playwright"]
    for root in (Path(r) for r in roots if r):
        for pattern in ("chromium-*/chrome-linux*/chrome", "chromium_headless_shell-*/chrome-linux*/headless_shell",
                        "chromium-*/chrome-mac*/Chromium.app/Contents/MacOS/Chromium"):
            found = sorted(root.glob(pattern))
            if found and os.access(found[-1], os.X_OK):
                return str(found[-1])
    return None


def pdf_engine() -> str | None:
    """The Chromium that prints the PDFs, or None (then HTML only)."""
    return find_chromium()


def chromium_args(browser: str, page: Path, pdf: Path, profile: str) -> list[str]:
    """Headless printing of a local page: a fresh profile, no background network services (the page's CSP
    forbids scripts and loads; `--blink-settings=scriptEnabled=false` would stop Chromium printing at all)."""
    args = [browser, "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--disable-default-apps", "--disable-dev-shm-usage", "--mute-audio",
            f"--user-data-dir={profile}", "--no-pdf-header-footer",
            "--print-to-pdf-no-header", f"--print-to-pdf={pdf}", page.resolve().as_uri()]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.insert(1, "--no-sandbox")  # Chromium's sandbox refuses to run as root
    return args


def print_pdf(browser: str, page: Path, pdf: Path, timeout: float = PDF_TIMEOUT) -> Path:
    """``page`` printed to ``pdf`` by ``browser``; WrittenError when it fails."""
    pdf.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="written-chromium-") as profile:
        proc = subprocess.Popen(chromium_args(browser, page, pdf, profile), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            said, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise WrittenError(f"Chromium did not print {page.name} within {timeout:g} s") from None
        finally:
            try:  # its helpers (zygote, renderer) go with it
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    if not pdf.exists() or not pdf.read_bytes()[:5] == b"%PDF-":
        tail = said.decode("utf-8", "replace").strip().splitlines()[-1:] if said else []
        raise WrittenError(f"Chromium printed no PDF of {page.name} (exit {proc.returncode}"
                           f"{': ' + tail[0][:200] if tail else ''})")
    return pdf


# ---------------------------------------------------------------------------------------- the command

def _students(a: Assignment, path: Path) -> dict[str, Path]:
    if path.is_file():
        return {path.stem: path}
    from .batch import find_submissions

    return {e.student: e.path for e in find_submissions(path, a.id) if e.path is not None}


def render_written(a: Assignment, path: Path, out: Path, *, anonymise: bool = True, pdf: bool = True) -> dict:
    """Per-student pages (HTML, PDF where Chromium exists), per-question collations and ``key.csv`` under ``out``."""
    from .csvsafe import writer

    manual = [q.id for q in a.questions if q.manual]
    if not manual:
        return {"students": 0, "message": f"{a.id} has no written questions"}
    meta = {}
    if path.is_dir():
        from .roster import read_metadata

        meta = read_metadata(path)  # Gradescope's export: who each submission belongs to (checked first)
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
        page = out / "students" / f"{_safe(student)}.html"
        page.write_text(student_page(a, qs, student), encoding="utf-8")
        if engine:
            try:
                print_pdf(engine, page, page.with_suffix(".pdf"))
                pdfs += 1
            except (WrittenError, OSError) as e:
                problems.append(f"{student}: {e}")
    who = {s: meta.get(s, {}).get("name") or s for s in found}
    labels = {s: (f"Student {i + 1}" if anonymise else who[s]) for i, s in enumerate(sorted(found))}
    with open(out / "key.csv", "w", newline="", encoding="utf-8") as f:
        w = writer(csv.writer(f))
        w.writerow(["label", "student", "name", "sid", "email"])
        w.writerows([[labels[s], s, *(meta.get(s, {}).get(k, "") for k in ("name", "sid", "email"))]
                     for s in sorted(found)])
    for q in manual:
        (out / "questions" / f"{q}.html").write_text(question_page(a, q, found, labels), encoding="utf-8")
    links = "".join(f'<li><a href="questions/{html.escape(q)}.html">{html.escape(q)}</a></li>' for q in manual)
    (out / "index.html").write_text(document(
        f"Written answers: {a.id}",
        f"<h1>Written answers: {html.escape(a.id)}</h1><p>{len(found)} students. Grade question by question:</p>"
        f"<ul>{links}</ul><p>Per student: students/&lt;name&gt;.html{' and .pdf' if engine else ''}.</p>"),
        encoding="utf-8")
    if engine:
        message = (f"wrote HTML and PDF (Chromium, {engine}) of {len(found)} students ({pdfs} PDFs) and "
                   f"{len(manual)} question pages in {out}")
    else:
        message = (f"no PDF engine (no Chromium is installed: chromium, chromium-browser, google-chrome or "
                   f"Playwright's): wrote HTML only, {len(found)} students and {len(manual)} question pages in {out}"
                   if pdf else f"wrote HTML of {len(found)} students and {len(manual)} question pages in {out}")
    if problems:
        message += "\nproblems: " + "; ".join(problems)
    return {"students": len(found), "pdfs": pdfs, "engine": engine, "problems": problems, "message": message}


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.@" else "_" for c in name) or "_"
