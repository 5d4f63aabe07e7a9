"""``written``: every student's written answers with their figures, per student and per question."""

from __future__ import annotations

import csv
import os
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
        assert "GRADED:" not in text  # the marker line is not rendered (not as a heading, not at all)
        assert "Content-Security-Policy" in text and "<script" not in text and "cdn" not in text.lower()
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
    """With a Chromium, each student also gets a PDF printed from their page (one question per printed page)."""
    printed = []

    def fake_print(browser, page, pdf, timeout=written.PDF_TIMEOUT):
        printed.append((browser, page.read_text()))
        pdf.write_bytes(b"%PDF-1.4 stand-in")
        return pdf

    monkeypatch.setattr(written, "pdf_engine", lambda: "/opt/fake/chromium")
    monkeypatch.setattr(written, "print_pdf", fake_print)
    res = written.render_written(optimizers, export, tmp_path / "p")
    assert res["pdfs"] == 5 and "HTML and PDF (Chromium, /opt/fake/chromium)" in res["message"]
    assert (tmp_path / "p" / "students" / "submission_1002.pdf").read_bytes().startswith(b"%PDF")
    assert all(b == "/opt/fake/chromium" and page.count("break-before: page") == 2 for b, page in printed)


def test_chromium_arguments(tmp_path, monkeypatch):
    page = tmp_path / "p.html"
    args = written.chromium_args("/usr/bin/chromium", page, tmp_path / "p.pdf", "/tmp/profile-x")
    for flag in ("--headless", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--user-data-dir=/tmp/profile-x",
                 f"--print-to-pdf={tmp_path / 'p.pdf'}"):
        assert flag in args
    assert args[-1] == page.resolve().as_uri()
    assert ("--no-sandbox" in args) == (os.geteuid() == 0)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert "--no-sandbox" not in written.chromium_args("c", page, tmp_path / "p.pdf", "/tmp/x")


@pytest.mark.skipif(written.find_chromium() is None, reason="no Chromium installed here (chromium, "
                    "chromium-browser, google-chrome or Playwright's): the PDF path is not run")
def test_real_pdf_has_one_page_per_question(export, optimizers, tmp_path):
    nb = export / "submission_1001" / "optimizers.ipynb"
    res = written.render_written(optimizers, nb, tmp_path / "r")
    assert res["pdfs"] == 1 and not res["problems"], res["message"]
    pdf = (tmp_path / "r" / "students" / "optimizers.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", pdf)) == 3  # one per written question
    assert not list(tmp_path.glob("**/written-chromium-*"))  # the profile is gone
