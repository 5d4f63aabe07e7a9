"""``written``: every student's written answers with their figures, per student and per question."""

from __future__ import annotations

import csv
import re

import pytest

from autograder import cli, written
from tests.instructors_class import STUDENTS, ZIPPED, answer, build_class


@pytest.fixture(scope="module")
def export(tmp_path_factory, optimizers):
    return build_class(optimizers, tmp_path_factory.mktemp("written") / "export")


def test_written_pages_of_a_class(export, optimizers, tmp_path, capsys):
    out = tmp_path / "w"
    assert cli.main(["written", "optimizers", str(export), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    engine = written.pdf_engine()
    assert ("PDF" in said) if engine else "no PDF engine" in said and "wrote HTML only" in said
    manual = [q for q in optimizers.questions if q.manual]
    pages = sorted((out / "students").glob("*.html"))
    assert [p.stem for p in pages] == sorted([*STUDENTS, ZIPPED])
    for folder, (_name, sid, *_) in STUDENTS.items():
        page = out / "students" / f"{folder}.html"
        text = page.read_text()
        heads = re.findall(r"Written question (\d): ([^<(]+)", text)
        assert [(int(n), t.strip()) for n, t in heads] == [(i + 1, q.title) for i, q in enumerate(manual)]
        assert all(answer(sid, q.id) in text for q in manual)
        assert text.count("src=\"data:image/png;base64") == len(manual)  # the figure before each answer
        assert "plt.show()" not in text and "BEGIN SOLUTION" not in text
        assert text.count("page-break-before: always") == len(manual) - 1  # one question per page
        if engine:
            assert page.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    q_page = (out / "questions" / "written_ns.html").read_text()
    assert all(f"Student {i}" in q_page for i in range(1, 6)) and not any(s in q_page for s in STUDENTS)
    assert q_page.count("answers written_ns") == 5
    with open(out / "key.csv") as f:
        key = {r["label"]: r for r in csv.DictReader(f)}
    assert key["Student 1"]["student"] == ZIPPED and key["Student 2"]["sid"] == "3031"
    assert cli.main(["written", "optimizers", str(export), "--out", str(tmp_path / "n"), "--names", "--no-pdf"]) == 0
    assert "Alice Ng" in (tmp_path / "n" / "questions" / "written_mup.html").read_text()  # from the metadata


def test_one_notebook_and_no_engine(export, optimizers, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(written, "pdf_engine", lambda: None)
    nb = export / "submission_1002" / "optimizers.ipynb"
    assert cli.main(["written", "optimizers", str(nb), "--out", str(tmp_path / "one")]) == 0
    assert "no PDF engine" in capsys.readouterr().out
    assert [p.name for p in (tmp_path / "one" / "students").iterdir()] == ["optimizers.html"]
    assert cli.main(["written", "optimizers", str(tmp_path / "typo.ipynb"), "--out", str(tmp_path / "x")]) == 2


def test_missing_answer_and_unreadable(optimizers, tmp_path):
    from tests.conftest import write_notebook

    (tmp_path / "c").mkdir()
    write_notebook(tmp_path / "c" / "blank.ipynb", [("code", "import torch")])
    (tmp_path / "c" / "broken.ipynb").write_text("{")
    res = written.render_written(optimizers, tmp_path / "c", tmp_path / "o", pdf=False)
    assert res["students"] == 1 and "broken" in res["message"]
    assert "No answer" in (tmp_path / "o" / "students" / "blank.html").read_text()


def test_pdfs_where_an_engine_exists(export, optimizers, tmp_path, monkeypatch):
    """With an engine, each student also gets a PDF whose questions start on new pages (LaTeX \\clearpage)."""
    seen = []

    class FakePDF:
        def from_notebook_node(self, nb):
            seen.append(nb)
            return b"%PDF-1.7 stand-in", {}

    real = written._exporter
    monkeypatch.setattr(written, "pdf_engine", lambda: "latex")
    monkeypatch.setattr(written, "_exporter", lambda kind: FakePDF() if kind == "latex" else real(kind))
    res = written.render_written(optimizers, export, tmp_path / "p")
    assert res["pdfs"] == 5 and "HTML and PDF (latex)" in res["message"]
    assert (tmp_path / "p" / "students" / "submission_1002.pdf").read_bytes().startswith(b"%PDF")
    breaks = [c for c in seen[0].cells if c.cell_type == "raw"]
    assert len(breaks) == 2 and all(c.source == "\\clearpage" and c.metadata["format"] == "text/latex"
                                    for c in breaks)
