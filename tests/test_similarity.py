"""``similarity``: planted copies found however they are disguised, independent solutions left alone.

Two held-out-style classes (``tests/similarity_fixtures``: Adam's ``step`` and ``lstm_cell``, each with
ten independent correct solutions, four wrong ones, students who kept the released skeleton and
planted copies renamed, commented, reordered, with a helper inlined or extracted, a loop turned into a
comprehension, expressions split or merged), the optimizers reference and its variants with
disguised copies, and classes made by disguising solutions automatically (``perturb``).
"""

from __future__ import annotations

import csv
import json
import time

import pytest

from autograder import cli
from autograder.manifest import load_assignment
from autograder.similarity import similarity, skeleton_cells
from autograder.similarity.report import csv_cell
from tests.similarity_class import (
    HELD_OUT,
    api_names,
    build_held_out_class,
    build_similarity_class,
    held_out_cells,
    origin,
    perturb,
    write_cells,
)


def run(topic: str, folder, out, *extra: str) -> tuple[set, dict]:
    """Runs the command; returns the flagged pairs and every compared pair's score, as (question, a, b)."""
    assert cli.main(["similarity", topic, str(folder), "--out", str(out), *extra]) == 0
    flagged = {(p["question"], *sorted((p["a"], p["b"]))) for p in json.loads((out / "flagged.json").read_text())}
    with open(out / "similarity.csv") as f:
        scores = {(r["question"], *sorted((r["a"], r["b"]))): float(r["score"]) for r in csv.DictReader(f)}
    return flagged, scores


@pytest.fixture(scope="module", params=sorted(HELD_OUT))
def held_out(request, tmp_path_factory):
    """(question, topic, folder, planted pairs, independent pairs, flagged, scores) of a held-out class."""
    question = request.param
    topic = HELD_OUT[question]
    base = tmp_path_factory.mktemp(question)
    folder, planted, independent = build_held_out_class(load_assignment(topic), question, base / "class")
    flagged, scores = run(topic, folder, base / "out")
    return question, topic, folder, planted, independent, flagged, scores, base / "out"


def test_held_out_class_every_copy_flagged_and_nothing_else(held_out):
    question, topic, folder, planted, independent, flagged, scores, out = held_out
    assert len(planted) >= 9 and len({origin(b) for _, a, b in planted}) >= 7
    assert planted <= flagged  # renamed, commented, reordered, inlined, extracted, comprehension, split, merged
    assert flagged == planted  # no independent pair, no skeleton keeper, no other question
    lowest = min(scores[p] for p in planted)
    highest = max(scores[p] for p in independent if p in scores)
    print(f"\n{question}: lowest planted-copy score {lowest:.2f}, highest independent pair {highest:.2f}")
    assert lowest > highest + 0.3
    index = (out / "index.html").read_text()
    assert index.count("side by side") == len(planted)


def test_held_out_skeleton_keepers_not_compared(held_out):
    question, topic, folder, planted, independent, flagged, scores, out = held_out
    keepers = {s for s in held_out_cells(load_assignment(topic), question) if s.startswith("keep_")}
    assert len(keepers) >= 2
    assert not any(set(p[1:]) & keepers for p in scores)  # too little of their own to compare
    assert not any(p[0] != question for p in scores)  # the other questions: the skeleton everywhere
    assert "keep_olga" in (out / "index.html").read_text()  # listed as not compared


def test_held_out_side_by_side_pages(held_out):
    question, topic, folder, planted, independent, flagged, scores, out = held_out
    pages = sorted((out / "pairs").glob("*.html"))
    assert len(pages) == len(planted)
    for page in pages:
        text = page.read_text()
        assert text.count("class=hit") >= 5  # the lines that compute what the other cell computes


@pytest.mark.parametrize("question", sorted(HELD_OUT))
def test_class_of_independent_solutions_flags_nothing(question, tmp_path):
    topic = HELD_OUT[question]
    folder, planted, independent = build_held_out_class(load_assignment(topic), question, tmp_path / "class",
                                                        with_copies=False)
    assert not planted
    flagged, scores = run(topic, folder, tmp_path / "out")
    assert flagged == set()
    assert max(scores.values()) < 0.4  # below the automatic threshold's floor (0.45)


@pytest.mark.parametrize("question", sorted(HELD_OUT))
def test_automatic_disguises_of_every_solution_flagged(question, tmp_path):
    """Copies made by a program, not by hand: names renamed, independent statements shuffled in every
    block, sub-expressions moved into temporaries, comments added; one of every student's cell."""
    topic = HELD_OUT[question]
    a = load_assignment(topic)
    keep = api_names(skeleton_cells(a)[question])
    cells = held_out_cells(a, question, with_copies=False)
    for k, (student, source) in enumerate(sorted(cells.items())):
        if not student.startswith("keep_"):
            cells[f"copy_{origin(student)}__auto"] = perturb(source, keep, seed=k)
    folder, planted, independent = build_held_out_class(a, question, tmp_path / "class", cells=cells)
    flagged, scores = run(topic, folder, tmp_path / "out")
    assert flagged == planted and len(planted) >= 14
    assert min(scores[p] for p in planted) > 0.9 > 0.4 > max(scores[p] for p in independent if p in scores)


def test_code_most_of_the_class_shares_is_ignored(tmp_path):
    """Most of the class hands in the same cell (the reference, a hint pasted whole): those pairs are
    not flagged, and it does not hide a pair of copies elsewhere."""
    a = load_assignment("rnn")
    cells = held_out_cells(a, "lstm_cell", with_copies=False)
    common = cells["ind_ana"]
    for k in range(len(cells) + 2):
        cells[f"pasted_{k:02d}"] = common
    assert sum(c == common for c in cells.values()) > len(cells) / 2  # most of the class
    cells["copy_ben__renamed"] = cells["ind_ben"].replace("gates", "pre").replace("in_gate", "ii")
    folder, _, _ = build_held_out_class(a, "lstm_cell", tmp_path / "class", cells=cells)
    flagged, scores = run("rnn", folder, tmp_path / "out")
    assert flagged == {("lstm_cell", "copy_ben__renamed", "ind_ben")}


def test_shared_part_counts_for_nothing(tmp_path):
    """More than half the class shares the same __init__ (validation pasted from a hint): two students
    whose steps differ are not flagged for it."""
    a = load_assignment("optimizers")
    cells = held_out_cells(a, "adam", with_copies=False)
    hint = cells["ind_alice"].split("    @torch.no_grad()")[0]
    students = sorted(s for s in cells if s.startswith(("ind_", "wrong_")))
    for s in students[:10]:
        cells[s] = hint + "    @torch.no_grad()" + cells[s].split("    @torch.no_grad()", 1)[1]
    folder, planted, _ = build_held_out_class(a, "adam", tmp_path / "class", cells=cells)
    flagged, scores = run("optimizers", folder, tmp_path / "out")
    assert not planted and flagged == set()


def test_manual_threshold_overrides(held_out, tmp_path):
    question, topic, folder, planted, independent, flagged, scores, out = held_out
    # a few independent pairs reach it (a little below: the CSV rounds)
    low = round(sorted(scores.values())[-len(planted) - 3] - 0.001, 4)
    flagged_low, scores_low = run(topic, folder, tmp_path / "low", "--threshold", f"{low}")
    assert planted < flagged_low
    with open(tmp_path / "low" / "similarity.csv") as f:
        assert {r["threshold"] for r in csv.DictReader(f)} == {f"{low:.4f}"}
    flagged_none, _ = run(topic, folder, tmp_path / "none", "--threshold", "1.01")
    assert flagged_none == set()


def test_optimizers_variants_and_their_disguised_copies(optimizers, tmp_path):
    """The reference and the correct variants of every question (written separately), a disguised
    copy of each: renamed, helpers and methods reordered, comments added, reformatted."""
    planted = [p.stem for p in optimizers.variants_dir.glob("*.py")] + [f"reference_{q.id}" for q in optimizers.graded]
    folder, copies, independent = build_similarity_class(optimizers, tmp_path / "class", planted)
    assert len(copies) >= 20 and len(independent) >= 20
    flagged, scores = run("optimizers", folder, tmp_path / "sim")
    assert flagged == copies
    print(f"\nplanted: min {min(scores[c] for c in copies):.2f}; independent: max "
          f"{max(scores[c] for c in independent if c in scores):.2f} over {len(copies)} and {len(independent)} pairs")
    assert min(scores[c] for c in copies) > 0.9 and max(scores[c] for c in independent if c in scores) < 0.5
    page = (tmp_path / "sim" / "pairs" / "sgd__copy_of_sgd_foreach__sgd_foreach.html").read_text()
    assert page.count("class=hit") > 10 and "I wrote this myself" in page


def test_report_escapes_what_students_wrote(tmp_path):
    """Cells holding markup and names that look like spreadsheet formulas: the pages escape them and
    similarity.csv neutralises them."""
    a = load_assignment("rnn")
    cells = held_out_cells(a, "lstm_cell", with_copies=False)
    evil = cells.pop("ind_ben").replace('"""One LSTM step', '"""<script>alert(1)</script> One LSTM step') \
        .replace("    h, c = state\n", "    h, c = state  # </pre><script>alert(2)</script>\n")
    cells["=HYPERLINK(1)"] = evil
    cells["<img src=x onerror=alert(3)>"] = evil.replace("in_gate", "ig").replace("out_gate", "og")
    for name, was in (("+cmd", "ind_cara"), ("-2", "ind_dev"), ("@SUM(A1)", "ind_eli")):
        cells[name] = cells.pop(was)
    folder, _, _ = build_held_out_class(a, "lstm_cell", tmp_path / "class", cells=cells)
    flagged, scores = run("rnn", folder, tmp_path / "out")
    assert flagged == {("lstm_cell", "<img src=x onerror=alert(3)>", "=HYPERLINK(1)")}
    pages = [tmp_path / "out" / "index.html", *(tmp_path / "out" / "pairs").glob("*.html")]
    assert len(pages) == 1 + len(flagged)
    for page in pages:
        text = page.read_text()
        assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[1].read_text()
    assert "&lt;/pre&gt;&lt;script&gt;alert(2)" in pages[1].read_text()
    with open(tmp_path / "out" / "similarity.csv", newline="") as f:
        cells = [c for row in csv.reader(f) for c in row]
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    assert "'=HYPERLINK(1)" in cells and "'+cmd" in cells and "'-2" in cells and "'@SUM(A1)" in cells
    assert csv_cell("\tx") == "'\tx" and csv_cell("\rx") == "'\rx" and csv_cell("ok") == "ok" and csv_cell(0.5) == 0.5


LSTM_BASE = """# GRADED: lstm_cell
def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    h, c = state
    H = h.shape[1]
    z = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i = torch.sigmoid(z[:, :H])
    f = torch.sigmoid(z[:, H:2 * H])
    g = torch.tanh(z[:, 2 * H:3 * H])
    o = torch.sigmoid(z[:, 3 * H:])
    c_next = f * c + i * g
    return o * torch.tanh(c_next), c_next
"""

SAME = {
    "renamed and commented": """# GRADED: lstm_cell
def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    hid, cell = state  # previous state
    size = hid.shape[1]
    pre = x @ W_ih.T + b_ih + hid @ W_hh.T + b_hh
    a = torch.sigmoid(pre[:, :size])
    b = torch.sigmoid(pre[:, size:2 * size])
    cand = torch.tanh(pre[:, 2 * size:3 * size])
    out = torch.sigmoid(pre[:, 3 * size:])
    new_cell = b * cell + a * cand  # the new cell state
    return out * torch.tanh(new_cell), new_cell
""",
    "independent statements reordered": """# GRADED: lstm_cell
def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    h, c = state
    H = h.shape[1]
    z = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    o = torch.sigmoid(z[:, 3 * H:])
    g = torch.tanh(z[:, 2 * H:3 * H])
    f = torch.sigmoid(z[:, H:2 * H])
    i = torch.sigmoid(z[:, :H])
    c_next = i * g + f * c
    return o * torch.tanh(c_next), c_next
""",
    "expressions merged": """# GRADED: lstm_cell
def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    h, c = state
    H = h.shape[1]
    z = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    c_next = torch.sigmoid(z[:, H:2 * H]) * c + torch.sigmoid(z[:, :H]) * torch.tanh(z[:, 2 * H:3 * H])
    return torch.sigmoid(z[:, 3 * H:]) * torch.tanh(c_next), c_next
""",
    "expressions split": """# GRADED: lstm_cell
def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    h, c = state
    H = h.shape[1]
    zx = x @ W_ih.T
    zx = zx + b_ih
    zh = h @ W_hh.T + b_hh
    z = zx + zh
    i = torch.sigmoid(z[:, :H])
    f = torch.sigmoid(z[:, H:2 * H])
    g = torch.tanh(z[:, 2 * H:3 * H])
    o = torch.sigmoid(z[:, 3 * H:])
    keep = f * c
    c_next = keep + i * g
    squashed = torch.tanh(c_next)
    h_next = o * squashed
    return h_next, c_next
""",
    "helper extracted": """# GRADED: lstm_cell
def _affine(v, W, b):
    return v @ W.T + b


def _gate(z, k, H, act):
    return act(z[:, k * H:(k + 1) * H])


def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    h, c = state
    H = h.shape[1]
    z = _affine(x, W_ih, b_ih) + _affine(h, W_hh, b_hh)
    i, f, g = _gate(z, 0, H, torch.sigmoid), _gate(z, 1, H, torch.sigmoid), _gate(z, 2, H, torch.tanh)
    c_next = f * c + i * g
    return torch.sigmoid(z[:, 3 * H:]) * torch.tanh(c_next), c_next
""",
}

LOOPS = ("""# GRADED: clip
def total(grads, clip):
    out = []
    for g in grads:
        if g is not None:
            out.append(g.norm() ** 2)
    s = 0.0
    for v in out:
        s += v
    return min(1.0, clip / (s ** 0.5 + 1e-6)) if clip > 0 else 1.0
""", """# GRADED: clip
def total(grads, clip):
    squares = [g.norm() ** 2 for g in grads if g is not None]
    if clip > 0:
        return min(1.0, clip / (sum(squares) ** 0.5 + 1e-6))
    return 1.0
""")

DIFFERENT = """# GRADED: lstm_cell
def lstm_cell(x, state, W_ih, W_hh, b_ih, b_hh):
    h, c = state
    gates = (torch.cat([x, h], 1) @ torch.cat([W_ih, W_hh], 1).t() + b_ih + b_hh).chunk(4, 1)
    c = gates[1].sigmoid() * c + gates[0].sigmoid() * gates[2].tanh()
    return gates[3].sigmoid() * c.tanh(), c
"""


SPELLED = {  # the same operation spelled another way
    "x.t() for x.T": LSTM_BASE.replace(".T", ".t()"),
    "torch.matmul for @": LSTM_BASE.replace("x @ W_ih.T", "torch.matmul(x, W_ih.T)")
    .replace("h @ W_hh.T", "h.mm(W_hh.T)"),
    "methods for functions": LSTM_BASE.replace("torch.sigmoid(z[:, :H])", "z[:, :H].sigmoid()")
    .replace("torch.tanh(c_next)", "F.tanh(c_next)"),
    "torch.add and mul": LSTM_BASE.replace("c_next = f * c + i * g", "c_next = torch.add(f.mul(c), i * g)"),
    "size for shape": LSTM_BASE.replace("h.shape[1]", "h.size(1)"),
    "F.linear": LSTM_BASE.replace("x @ W_ih.T + b_ih", "F.linear(x, W_ih, b_ih)"),
}

SGD = ("""# GRADED: sgd
def update(params, lr, mom, bufs):
    for p, b in zip(params, bufs):
        b.mul_(mom).add_(p.grad)
        p.add_(b, alpha=-lr)
""", """# GRADED: sgd
def update(params, lr, mom, bufs):
    for p, b in zip(params, bufs):
        b.mul_(mom)
        b.add_(p.grad)
        p.data -= lr * b
""")


@pytest.mark.parametrize("how", sorted(SPELLED))
def test_spellings_of_the_same_operation_compute_the_same(how):
    assert similarity(LSTM_BASE, SPELLED[how]) == 1.0


def test_in_place_updates_spelled_differently_compute_the_same():
    assert similarity(*SGD) == 1.0


@pytest.mark.parametrize("how", sorted(SAME))
def test_disguises_compute_the_same(how):
    assert similarity(LSTM_BASE, SAME[how]) == 1.0


def test_loop_and_comprehension_and_early_return_compute_the_same():
    assert similarity(*LOOPS) == 1.0


def test_different_computations_differ():
    assert similarity(LSTM_BASE, DIFFERENT) < 0.3
    skeleton = LSTM_BASE.split("    H =")[0] + "    return h, c\n"  # what both start from counts for nothing
    assert similarity(LSTM_BASE, DIFFERENT, skeleton) < similarity(LSTM_BASE, DIFFERENT)


def test_cells_that_do_not_parse_are_compared_by_their_tokens():
    broken = LSTM_BASE.replace("return o", "return (o")
    assert similarity(broken, broken.replace("# GRADED", "# my work\n# GRADED")) == 1.0
    assert similarity(broken, LSTM_BASE) < 0.5


def test_skeleton_only_submissions_are_not_flagged(optimizers, tmp_path):
    from autograder.notebook import read_cells

    skeleton = [c.source for c in read_cells(optimizers.notebook_path) if c.question and c.kind == "code"]
    for s in ("ann", "ben", "cy"):
        write_cells(tmp_path / "class" / f"{s}.ipynb", skeleton)
    assert cli.main(["similarity", "optimizers", str(tmp_path / "class"), "--out", str(tmp_path / "o")]) == 0
    assert json.loads((tmp_path / "o" / "flagged.json").read_text()) == []
    assert cli.main(["similarity", "optimizers", str(tmp_path / "no_such_class"), "--out", str(tmp_path / "o")]) == 2


def test_speed_of_a_large_class(tmp_path):
    """300 students on one question (the held-out LSTM class disguised over and over): well under a minute."""
    from tests.similarity_class import synthetic_class

    a = load_assignment("rnn")
    folder = synthetic_class(a, "lstm_cell", tmp_path / "class", 300, seed=1)
    t0 = time.perf_counter()
    flagged, scores = run("rnn", folder, tmp_path / "out")
    seconds = time.perf_counter() - t0
    print(f"\n300 students: {seconds:.1f} s, {len(scores)} pairs, {len(flagged)} flagged")
    assert len(scores) >= 40000 and seconds < 60


def test_side_by_side_pages_capped(tmp_path, monkeypatch):
    """A class with more flagged pairs than pages: the highest-scoring get pages, flagged.json has all."""
    from autograder.similarity import report

    monkeypatch.setattr(report, "MAX_PAGES", 3)
    a = load_assignment("rnn")
    folder, planted, _ = build_held_out_class(a, "lstm_cell", tmp_path / "class")
    flagged, _ = run("rnn", folder, tmp_path / "out")
    assert flagged == planted and len(planted) > 3
    assert len(list((tmp_path / "out" / "pairs").glob("*.html"))) == 3
    assert "side-by-side pages for the 3 highest" in (tmp_path / "out" / "index.html").read_text()
