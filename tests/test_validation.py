"""The validation suite, over every assignment: the tests prove themselves.

- the reference solution scores full marks;
- the blank template (the released notebook) scores zero, and the grader survives it;
- every mutant loses points on its own question, and keeps at most a third of that question's points
  unless its header marks it a corner case (`# CORNER: <the edge case>`);
- no question's tests use another question's cell unless it declares that it builds on it (with that cell
  blank, only the question and its dependents lose points): so no mutant can cost points elsewhere;
- every variant (a correct implementation written differently) scores full marks and is named no mistake;
- the released notebook and the public snapshots are in sync with their sources;
- every autograded question has public tests, hidden tests and at least three mutants.
"""

from __future__ import annotations

import pytest

from autograder.api import grade, grade_mutant, grade_without, lost_elsewhere
from autograder.cli import keeps_at_most
from autograder.collect import collect
from autograder.manifest import list_topics, load_assignment
from autograder.mutants import headers as mutant_headers
from autograder.observations import judge
from autograder.reference import load_snapshots
from autograder.reference import observations as reference_observations
from autograder.release import in_sync
from autograder.snapshots import read as read_snapshot_file
from autograder.snapshots import snapshot_text

TOPICS = list_topics()


@pytest.fixture(autouse=True)
def public_seeds(monkeypatch):
    """The validation suite proves the tests with the seeds students' checks use (the public salt):
    grading draws a fresh salt per run, and a test that holds only for some seeds is a test to fix,
    found by `scripts/seed_sweep.py`, not a CI run that fails at random."""
    import autograder.reference as reference

    monkeypatch.setattr(reference, "RUN_SALT", reference.PUBLIC_SALT)
MUTANTS = [(t, p.name) for t in TOPICS for p in sorted(load_assignment(t).mutants_dir.glob("*.py"))]
VARIANTS = [(t, p.name) for t in TOPICS for p in sorted(load_assignment(t).variants_dir.glob("*.py"))]


def test_there_is_something_to_validate():
    assert TOPICS and MUTANTS and VARIANTS


@pytest.mark.parametrize("topic", TOPICS)
def test_reference_scores_full_marks(topic):
    a = load_assignment(topic)
    r = grade(a, a.solution_path)
    assert not r.errors, r.errors
    assert r.score == r.max_score, r.table()


@pytest.mark.parametrize("topic", TOPICS)
def test_blank_template_scores_zero(topic):
    a = load_assignment(topic)
    r = grade(a, a.notebook_path)
    assert not r.errors, r.errors
    passing = [t.case.name for t in r.tests if t.passed]
    assert r.score == 0 and not passing, f"tests pass on the blank template: {passing}"
    assert all(t.kind in ("wrong result", "error") for t in r.tests), "the blank template crashed or hung the grader"


QUESTIONS = [(t, q.id) for t in TOPICS for q in load_assignment(t).graded]


@pytest.mark.parametrize("topic,question", QUESTIONS)
def test_other_questions_do_not_use_its_cell(topic, question):
    """With this question's cell as students receive it, it loses points (an integration question may keep
    those of its tests that train the questions it builds on) and only the questions that declare they
    build on it lose points too. A mutant or variant changes this cell alone, so the mutants below need
    only this question's tests and its dependents' (``grade_mutant``)."""
    a = load_assignment(topic)
    r = grade_without(a, question)
    assert not r.errors, r.errors
    s, m = r.questions[question]
    assert s < m, f"the blank {question} cell keeps all its points:\n{r.table()}"
    others = lost_elsewhere(a, question, r)  # integration questions declare what they build on
    assert not others, f"without the {question} cell, {others} lose points too (declare depends_on):\n{r.table()}"


@pytest.mark.parametrize("topic,mutant", MUTANTS)
def test_mutant_loses_points_on_its_question(topic, mutant):
    a = load_assignment(topic)
    target, r = grade_mutant(a, a.mutants_dir / mutant)
    s, m = r.questions[target]
    assert s < m, f"{mutant} is not caught by the {target} tests"
    # Proportionate: code wrong on every input keeps at most a third of its question's points; only a bug in
    # one edge case, declared with `# CORNER: <the edge case>`, may keep more (docs/authoring.md, "Mutants").
    if "CORNER" not in mutant_headers(a.mutants_dir / mutant):
        assert s <= keeps_at_most(m), (
            f"{mutant} keeps {s:g} of the {m:g} points of {target}, more than a third: weight the tests it fails "
            f"(or mark it `# CORNER: <the edge case>` if it is wrong on one edge case only):\n{r.table()}")


@pytest.mark.parametrize("topic", TOPICS)
def test_grading_is_deterministic(topic):
    a = load_assignment(topic)
    mutant = sorted(a.mutants_dir.glob("*.py"))[0]
    for grade_once in (lambda: grade(a, a.notebook_path), lambda: grade_mutant(a, mutant)[1]):
        first, second = grade_once().to_gradescope(), grade_once().to_gradescope()
        for r in (first, second):
            r["extra_data"].pop("seconds")
        assert first == second


@pytest.mark.parametrize("topic", TOPICS)
def test_release_in_sync(topic):
    assert in_sync(load_assignment(topic)), f"assignments/{topic}/{topic}.ipynb is stale: run `make release`"


@pytest.mark.parametrize("topic", TOPICS)
def test_snapshots_in_sync(topic):
    a = load_assignment(topic)
    public = collect(a, hidden=False)
    snap = load_snapshots(a)
    assert set(snap) == {c.id for c in public}, "public tests changed: run `make snapshots`"
    live = reference_observations(a, public, "cpu", salt="")
    stale = {cid: msg for cid in snap if (msg := judge(snap[cid], live[cid]))}
    assert not stale, f"snapshots differ from the reference: run `make snapshots`: {stale}"


@pytest.mark.parametrize("topic", TOPICS)
def test_snapshots_reproducible(topic):
    """Regenerating the snapshots here writes the very bytes stored (floats are rounded far inside the
    tolerances, and last-bit differences keep the stored value), so `make snapshots` on any machine
    leaves the file unchanged."""
    a = load_assignment(topic)
    live = reference_observations(a, collect(a, hidden=False), "cpu", salt="")
    stored = a.snapshots_path.read_text()
    assert snapshot_text(a.id, live, read_snapshot_file(a.snapshots_path)) == stored, "run `make snapshots`"


@pytest.mark.parametrize("topic,variant", VARIANTS)
def test_variant_scores_full_marks(topic, variant):
    """A correct implementation that differs from the reference (other ops, other order, other
    dtype path) passes every test: the tests check the contract, not the reference's code."""
    a = load_assignment(topic)
    target, r = grade_mutant(a, a.variants_dir / variant, diagnose=True)
    lost = {q: f"{s:g}/{m:g}" for q, (s, m) in r.questions.items() if s < m}
    assert not lost, f"the correct variant {variant} of {target} loses points on {lost}:\n{r.table()}"
    assert not r.diagnoses, f"the correct variant {variant} is told it makes a mistake: {r.diagnoses}"


@pytest.mark.parametrize("topic", TOPICS)
def test_every_question_is_tested_and_proved(topic):
    a = load_assignment(topic)
    cases = collect(a)
    mutant_targets = list(_targets(a.mutants_dir, "# MUTANT:"))
    variant_targets = set(_targets(a.variants_dir, "# VARIANT:"))
    for q in a.graded:
        assert any(c.public for c in cases if c.question == q.id), f"{q.id} has no public test"
        assert any(not c.public for c in cases if c.question == q.id), f"{q.id} has no hidden test"
        assert mutant_targets.count(q.id) >= 3, f"{q.id} has {mutant_targets.count(q.id)} mutants, needs 3"
        assert q.id in variant_targets, f"{q.id} has no correct variant in {a.variants_dir.name}/"
    for path in sorted(a.mutants_dir.glob("*.py")):  # the headers students' feedback is built from
        headers = mutant_headers(path)
        assert headers.get("WHY"), f"{path.name} has no `# WHY: <what the mistake is>` line"
        assert headers.get("DIAGNOSE", "no") == "no", f"{path.name}: the only DIAGNOSE is `# DIAGNOSE: no`"


def _targets(folder, header):
    for path in sorted(folder.glob("*.py")):
        for line in path.read_text().splitlines():
            if line.startswith(header):
                yield line.split(":", 1)[1].strip()
                break
