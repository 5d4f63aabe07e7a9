"""Reading notebooks and building the module that tests see as ``sub``.

A notebook is a list of cells. Grading runs only two kinds of code cell:

- graded cells, whose first line is ``# GRADED: <question-id>``;
- import-only cells (every top-level statement an ``import``), so that a student's
  ``import numpy as np`` in the first cell still works.

Each graded cell is compiled on its own: a syntax error, or an exception while the
cell runs, costs only its own question. Both ``.ipynb`` files and jupytext
percent-format ``.py`` sources (the instructors' masters) are read here.
"""

from __future__ import annotations

import ast
import json
import re
import types
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

MAX_BYTES = 64 << 20  # refused before reading: a notebook with plots is a few MB; clearing outputs fixes a larger one
MAGIC = {b"PK\x03\x04": "a zip archive", b"%PDF": "a PDF", b"\x89PNG": "a PNG image", b"\x1f\x8b": "gzip data",
         b"\xd0\xcf\x11\xe0": "an Office document"}
GRADED_RE = re.compile(r"^\s*#\s*GRADED:\s*([A-Za-z_][A-Za-z0-9_\-]*)\s*$", re.ASCII)
HEADER_RE = re.compile(r"^\s*#\s*GRADED\s*:(.*)$")  # any graded-cell header, valid id or not
PERCENT_RE = re.compile(r"^# %%(.*)$")


class NotebookError(Exception):
    """The submission cannot be read as a notebook; the message says why, for the student."""


@dataclass
class Cell:
    kind: str  # "code" or "markdown"
    source: str
    index: int  # position in the notebook, for messages

    @property
    def header(self) -> str | None:
        """What follows ``# GRADED:`` on the cell's first line (stripped), whether a valid id or not."""
        first = self.source.lstrip("\n").split("\n", 1)[0]
        if self.kind == "markdown":
            first = "# " + first.lstrip("#").strip()
        m = HEADER_RE.match(first)
        return m.group(1).strip() if m else None

    @property
    def question(self) -> str | None:
        """The question id of a graded cell (ASCII letters, digits, ``_`` and ``-``), else None."""
        head = self.header
        return head if head is not None and GRADED_RE.match(f"# GRADED: {head}") else None

    @property
    def import_only(self) -> bool:
        if self.kind != "code" or self.header is not None:  # a mistyped graded header is not an import cell
            return False
        try:
            tree = ast.parse(self.source)
        except SyntaxError:
            return False
        return bool(tree.body) and all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in tree.body)


@dataclass
class Submission:
    """What grading takes from a notebook: the import-only cells and one source per question."""

    imports: list[Cell] = field(default_factory=list)
    graded: dict[str, Cell] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    rejected: int = 0  # code cells with a `# GRADED:` header that is not a valid id

    def keep_only(self, ids: list[str]) -> None:
        """Drop graded cells whose id is not one of ``ids`` (the manifest's autograded questions),
        each with a note for the student: they are not run."""
        for q in [q for q in self.graded if q not in ids]:
            cell = self.graded.pop(q)
            self.rejected += 1
            self.warnings.append(f"`# GRADED: {q}` (cell {cell.index + 1}) names no autograded question of this "
                                 "assignment: the cell was not run")
        note = f"the graded ids of this assignment are: {', '.join(ids)}"
        if self.rejected and note not in self.warnings:
            self.warnings.append(note)


def header_problem(head: str) -> str:
    """Why ``head`` (what follows ``# GRADED:``) is not a valid question id, for the student."""
    for ch in head:
        if not ch.isascii():
            name = unicodedata.name(ch, f"U+{ord(ch):04X}")
            return f"contains the non-ASCII character {ch!r} ({name}); ids are plain ASCII"
    if not head:
        return "has no question id"
    return "is not a question id (ids are ASCII letters, digits, `_` and `-`, alone on the line)"


# ---------------------------------------------------------------------------- reading


def read_cells(path: str | Path) -> list[Cell]:
    """Cells of an ``.ipynb`` notebook or a jupytext percent-format ``.py`` file."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise NotebookError(f"{path.name} is larger than {MAX_BYTES >> 20} MB: clear the outputs "
                                "(Kernel > Restart & Clear Output) and submit again")
        raw = path.read_bytes()
    except OSError as e:
        raise NotebookError(f"cannot read {path.name}: {e.strerror}") from None
    if raw.startswith(b"PK\x03\x04"):
        inner = _single_notebook(raw)
        if inner is not None:  # some learning-management systems zip the one notebook
            return parse_ipynb(inner[1], inner[0])
    for magic, kind in MAGIC.items():
        if raw.startswith(magic):
            raise NotebookError(f"{path.name} is {kind}, not a notebook: submit the .ipynb file itself")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise NotebookError(f"{path.name} is not UTF-8 text (byte {e.start}); save it again from Jupyter") from None
    if path.suffix == ".py":
        return parse_percent(text)
    return parse_ipynb(text, path.name)


def _single_notebook(raw: bytes) -> tuple[str, str] | None:
    """(name, text) of the only notebook in a zip that holds nothing else, else None."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            infos = [i for i in z.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")
                     and not Path(i.filename).name.startswith(".")]
            if len(infos) != 1 or not infos[0].filename.endswith(".ipynb") or infos[0].file_size > MAX_BYTES:
                return None
            return Path(infos[0].filename).name, z.read(infos[0]).decode("utf-8")
    except (zipfile.BadZipFile, UnicodeDecodeError, OSError, RuntimeError):
        return None


def parse_ipynb(text: str, name: str = "notebook") -> list[Cell]:
    if not text.strip():
        raise NotebookError(f"{name} is empty")
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as e:
        raise NotebookError(f"{name} is not valid notebook JSON (line {e.lineno}: {e.msg}); "
                            "download it again with File > Download") from None
    if not isinstance(nb, dict):
        raise NotebookError(f"{name} is not a notebook (the JSON top level is not an object)")
    if nb.get("nbformat") == 3 and "worksheets" in nb:  # old format: cells live in worksheets
        raw_cells = [c for ws in nb.get("worksheets", []) for c in ws.get("cells", [])]
    else:
        raw_cells = nb.get("cells")
    if not isinstance(raw_cells, list):
        raise NotebookError(f"{name} has no list of cells")
    cells = []
    for i, c in enumerate(raw_cells):
        if not isinstance(c, dict):
            continue
        kind = c.get("cell_type")
        src = c.get("source", c.get("input", ""))
        if isinstance(src, list):
            src = "".join(s for s in src if isinstance(s, str))
        if kind in ("code", "markdown") and isinstance(src, str):
            cells.append(Cell(kind, src, i))
    return cells


def parse_percent(text: str) -> list[Cell]:
    """Parse jupytext's percent format (``# %%`` code, ``# %% [markdown]`` markdown)."""
    cells: list[Cell] = []
    kind, lines, started = "code", [], False

    def flush() -> None:
        src = "\n".join(lines).strip("\n")
        if started and (src or kind == "code"):
            if kind == "markdown":
                src = "\n".join(_uncomment(line) for line in src.split("\n"))
            if src:
                cells.append(Cell(kind, src, len(cells)))

    for line in text.split("\n"):
        m = PERCENT_RE.match(line)
        if m:
            flush()
            kind = "markdown" if "[markdown]" in m.group(1) or "[md]" in m.group(1) else "code"
            lines, started = [], True
        elif started:
            lines.append(line)
    flush()
    return cells


def _uncomment(line: str) -> str:
    if line.startswith("# "):
        return line[2:]
    return line[1:] if line.startswith("#") else line


def submission_from_cells(cells: list[Cell]) -> Submission:
    sub = Submission()
    for cell in cells:
        q = cell.question
        if cell.kind == "code" and q is None and cell.header is not None:
            sub.rejected += 1
            sub.warnings.append(f"`# GRADED: {cell.header}` (cell {cell.index + 1}) {header_problem(cell.header)}: "
                                "the cell was not run; retype the id exactly as the assignment gives it")
        if q and cell.kind == "code":
            if q in sub.graded:
                sub.warnings.append(f"{q}: the notebook has more than one `# GRADED: {q}` cell; "
                                    "the last one is graded")
            sub.graded[q] = cell
        elif cell.import_only:
            sub.imports.append(cell)
    return sub


def read_submission(path: str | Path) -> Submission:
    return submission_from_cells(read_cells(path))


# ---------------------------------------------------------------------------- building


class StudentModule(types.ModuleType):
    """The module built from a submission's cells; a missing name says which cell should define it."""

    def __init__(self, name: str, owners: dict[str, str], errors: dict[str, str]):
        super().__init__(name)
        self.__dict__["_owners"] = owners  # name -> question id that must define it
        self.__dict__["_errors"] = errors  # question id -> why its cell did not run

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        q = self._owners.get(name)
        if q and q in self._errors:
            raise AttributeError(f"{q}: `{name}` is missing because the `# GRADED: {q}` cell did not run: "
                                 f"{self._errors[q]}")
        if q:
            raise AttributeError(f"{q}: `{name}` is not defined; define it in the cell that starts with "
                                 f"`# GRADED: {q}`")
        raise AttributeError(f"the notebook defines no `{name}` in its graded cells")


def compile_cell(cell: Cell, label: str) -> types.CodeType:
    return compile(cell.source, f"<{label}>", "exec", dont_inherit=True)


def describe_exception(e: BaseException, filename_prefix: str = "<") -> str:
    """One line: the exception and the line of the notebook cell where it happened."""
    if isinstance(e, SyntaxError):
        return f"SyntaxError: {e.msg} (line {e.lineno} of the cell)"
    tb, where = e.__traceback__, ""
    while tb is not None:
        fn = tb.tb_frame.f_code.co_filename
        if fn.startswith(filename_prefix):
            where = f" (line {tb.tb_lineno} of {fn.strip('<>')})"
        tb = tb.tb_next
    return f"{type(e).__name__}: {e}{where}"


def build_module(sub: Submission, owners: dict[str, str], *, skip: set[str] = frozenset(),
                 on_cell=None, forbidden: dict[str, tuple[str, ...]] | None = None) -> StudentModule:
    """Execute import cells and graded cells, each on its own, into a fresh module.

    ``on_cell(question)`` is called before each graded cell runs, so a supervisor can tell
    which cell hung or crashed. Errors are kept in ``module._errors``. While a graded cell
    runs, the APIs its question forbids are disabled (``policy.forbid``); while any cell runs,
    every forbidden API of the assignment is guarded (``policy.building``), so what one cell
    takes from a library stays guarded when another question's tests run. With ``forbidden``
    (the manifest's questions), a graded cell whose id is not one of them is not run.
    """
    from .policy import building, forbid, watch

    errors: dict[str, str] = {}
    mod = StudentModule("submission", owners, errors)
    mod.__dict__["__builtins__"] = __builtins__
    known = None if forbidden is None else set(forbidden) | set(owners.values())
    with building(forbidden or {}):
        for cell in sub.imports:
            try:
                exec(compile_cell(cell, f"cell {cell.index}"), mod.__dict__)
            except BaseException as e:  # an import the grader lacks costs only what needs it
                errors.setdefault("_imports", describe_exception(e))
        for q, cell in sub.graded.items():
            if q in skip:
                continue
            if known is not None and q not in known:
                errors[q] = f"`# GRADED: {q}` names no question of this assignment; the cell was not run"
                continue
            if on_cell:
                on_cell(q)
            try:
                with forbid((forbidden or {}).get(q, ()), q):
                    exec(compile_cell(cell, f"GRADED: {q}"), mod.__dict__)
            except BaseException as e:  # SystemExit / KeyboardInterrupt at import cost only this cell
                errors[q] = describe_exception(e)
    if forbidden:
        watch(mod, owners, forbidden)
    return mod


def reference_module(topic: str) -> StudentModule:
    """The reference solution of ``topic`` as a module (instructor tools and oracle tests)."""
    from .manifest import load_assignment

    a = load_assignment(topic)
    mod = build_module(read_submission(a.solution_path), a.owners)
    if mod._errors:
        raise RuntimeError(f"reference solution of {topic} failed to build: {mod._errors}")
    return mod
