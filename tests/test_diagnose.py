"""Diagnoses: a student's failing outputs that are a known mistake's get that mistake's WHY, and nothing else does.

Unit tests of the matching rule (exactly the mistake's failing tests, each matched within the test's own
tolerance; ties and partial matches name nothing), then, per question of every topic, every mutant graded
as a submission names itself (its signature is told apart from every other mutant's, or it is marked
``# DIAGNOSE: no``) and the shipped ``diagnoses.json`` agrees with the mutants; then the whole path a
student sees: ``check()`` on a saved notebook, and the grader's results.json and feedback.md.
"""

from __future__ import annotations

import json

import pytest
import torch

from autograder import diagnose
from autograder.collect import Case
from autograder.diagnose import Mistake, attach, signature
from autograder.manifest import REPO, list_topics, load_assignment
from autograder.observations import encode
from autograder.results import TestResult as Outcome
from autograder.results import feedback_markdown

TOPICS = list_topics()


def obs(name, value, rtol=None, atol=None):
    return {"name": name, "value": encode(value), "rtol": rtol, "atol": atol}


def passed(*records):
    return {"status": "passed", "obs": list(records)}


def case(i, question="q", public=True):
    return Case(f"public/test_q.py::test_{i}", question, f"{question}: test {i}", func=None, public=public)


def result(c, ok):
    return Outcome(c, ok, 1.0 if ok else 0.0, 1.0, "" if ok else "wrong", "passed" if ok else "wrong result")


X32 = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float32)
WRONG = torch.tensor([1.5, 2.5, 3.5], dtype=torch.float32)
A, B = case(1), case(2)
NO_BIAS = Mistake("no_bias", "q", "leaves out the bias", {A.id: signature(passed(obs("y", WRONG)))})


def test_a_student_with_the_mistakes_outputs_gets_its_why_under_the_failing_test():
    results = [result(A, False), result(B, True)]
    found = attach(results, {A.id: passed(obs("y", WRONG.clone())), B.id: passed(obs("y", X32))}, [NO_BIAS])
    assert found == {"q": NO_BIAS}
    assert results[0].diagnosis == NO_BIAS.line() and not results[1].diagnosis
    assert "leaves out the bias" in results[0].student_output


def test_outputs_within_the_tests_tolerance_match_and_outside_do_not():
    near = WRONG * (1 + 3e-5)  # float32: judged at 1e-4 relative
    assert diagnose.diagnose({A.id: signature(passed(obs("y", near)))}, [NO_BIAS]) is NO_BIAS
    far = WRONG * 1.01
    assert diagnose.diagnose({A.id: signature(passed(obs("y", far)))}, [NO_BIAS]) is None
    loose = Mistake("m", "q", "why", {A.id: signature(passed(obs("y", WRONG, rtol=0.05)))})  # the test's own
    assert diagnose.diagnose({A.id: signature(passed(obs("y", far)))}, [loose]) is loose


def test_failing_other_tests_too_or_fewer_names_nothing():
    both = {A.id: signature(passed(obs("y", WRONG))), B.id: signature(passed(obs("y", X32 * 7)))}
    assert diagnose.diagnose(both, [NO_BIAS]) is None  # another mistake besides, or another mistake altogether
    two = Mistake("two", "q", "why", {A.id: NO_BIAS.tests[A.id], B.id: signature(passed(obs("y", X32 * 7)))})
    assert diagnose.diagnose({A.id: signature(passed(obs("y", WRONG)))}, [two]) is None


def test_two_mistakes_with_the_same_outputs_name_neither():
    twin = Mistake("twin", "q", "another why", dict(NO_BIAS.tests))
    assert diagnose.diagnose({A.id: signature(passed(obs("y", WRONG)))}, [NO_BIAS, twin]) is None


def test_the_mistake_that_matches_more_observations_wins():
    short = Mistake("short", "q", "why", {A.id: signature(passed(obs("y", WRONG)))})
    longer = Mistake("longer", "q", "why", {A.id: signature(passed(obs("y", WRONG), obs("z", WRONG)))})
    student = {A.id: signature(passed(obs("y", WRONG), obs("z", WRONG)))}
    assert diagnose.diagnose(student, [short, longer]) is longer


def test_failure_messages_match_without_where_in_the_cell_it_happened():
    mine = {"status": "error", "message": "ValueError: bad shape (in GRADED: q cell, line 3: `x = y @ w`)"}
    theirs = {"status": "error", "message": "ValueError: bad shape (in GRADED: q cell, line 9: `z = a @ b`)"}
    m = Mistake("m", "q", "why", {A.id: signature(theirs)})
    assert diagnose.diagnose({A.id: signature(mine)}, [m]) is m
    other = {"status": "error", "message": "ValueError: another shape"}
    assert diagnose.diagnose({A.id: signature(other)}, [m]) is None


def test_failure_messages_match_when_their_numbers_differ_only_in_the_last_digits():
    theirs = {"status": "failed", "message": "yours moved by [0.03162265387978336, 0.0316227664]; expected 0.01"}
    close = {"status": "failed", "message": "yours moved by [0.03162265387971234, 0.0316227661]; expected 0.01"}
    far = {"status": "failed", "message": "yours moved by [0.0299, 0.0316227661]; expected 0.01"}
    m = Mistake("m", "q", "why", {A.id: signature(theirs)})
    assert diagnose.diagnose({A.id: signature(close)}, [m]) is m
    assert diagnose.diagnose({A.id: signature(far)}, [m]) is None


def test_time_limits_crashes_and_unwritten_cells_name_nothing():
    assert signature({"status": "timeout", "message": "the time limit ran out"}) is None
    timeout = Mistake("slow", "q", "why", {A.id: None})
    assert diagnose.diagnose({A.id: None}, [timeout]) is None
    unwritten = {"status": "failed", "message": "not implemented yet: q"}
    assert diagnose.diagnose({A.id: signature(unwritten)}, [NO_BIAS]) is None


def test_a_question_that_passes_gets_nothing():
    results = [result(A, True), result(B, True)]
    assert attach(results, {A.id: passed(obs("y", WRONG))}, [NO_BIAS]) == {}
    assert not any(t.diagnosis for t in results)


def test_hidden_tests_carry_a_diagnosis_only_where_their_visibility_allows():
    hidden = case(3, public=False)
    m = Mistake("m", "q", "why", {hidden.id: signature(passed(obs("y", WRONG)))})
    outcomes = {hidden.id: passed(obs("y", WRONG))}
    results = [result(hidden, False)]
    assert attach(results, outcomes, [m], visible=lambda t: t.case.public) == {}
    results = [result(hidden, False)]
    assert attach(results, outcomes, [m], visible=lambda t: True) == {"q": m}
    assert results[0].student_output == f"hidden test failed (wrong result)\n{m.line()}"


def test_the_file_round_trips_and_holds_no_code(tmp_path):
    path = tmp_path / "diagnoses.json"
    path.write_text(diagnose.file_text("toy", [NO_BIAS]))
    (back,) = diagnose.read(path)
    assert back.name == "no_bias" and back.why == NO_BIAS.why
    assert diagnose.diagnose({A.id: signature(passed(obs("y", WRONG)))}, [back]) == back
    assert diagnose.read(tmp_path / "missing.json") == []


# ---------------------------------------------------------------------------- every mutant of every topic


QUESTIONS = [(t, q.id) for t in TOPICS for q in load_assignment(t).graded]


@pytest.fixture(scope="module")
def public_salt():
    import autograder.reference as reference

    saved, reference.RUN_SALT = reference.RUN_SALT, reference.PUBLIC_SALT
    yield
    reference.RUN_SALT = saved


@pytest.mark.parametrize("topic,question", QUESTIONS)
def test_every_mutant_graded_as_a_submission_names_itself(topic, question, public_salt):
    """Each mutant's signature on its question's tests (public and hidden), computed as the grader does, is
    diagnosed as that mutant and no other: its outputs tell it apart from every other mutant of the
    question, or it is marked `# DIAGNOSE: no`. The public part is what `diagnoses.json` ships."""
    from autograder import mutants
    from autograder.collect import collect

    a = load_assignment(topic)
    cases = [c for c in collect(a) if c.question == question]
    found = mutants.mistakes(a, question, cases, "cpu")
    wrong = {m.name: sorted(o.name for o in found if o is not m and diagnose.diagnose(m.tests, [m, o]) is not m)
             for m in found}
    confused = {name: others for name, others in wrong.items() if others}
    assert not confused, (f"{question}: these mutants' outputs cannot be told apart from the others named: mark "
                          f"one of each pair `# DIAGNOSE: no` (or make a test tell them apart): {confused}")
    for m in found:
        assert diagnose.diagnose(m.tests, found) is m
    public = {c.id for c in cases if c.public}
    shipped = {m.name: m for m in diagnose.read(a.diagnoses_path) if m.question == question}
    expected = {m.name: {t: s for t, s in m.tests.items() if t in public} for m in found}
    expected = {name: tests for name, tests in expected.items() if tests}
    assert set(shipped) == set(expected), f"{a.diagnoses_path.name} is stale: run `make snapshots HW={topic}`"
    for name, tests in expected.items():
        assert set(shipped[name].tests) == set(tests), f"{name}: run `make snapshots HW={topic}`"
        stale = [t for t, s in tests.items() if not diagnose._matched(s, shipped[name].tests[t])]
        assert not stale, f"{name} outputs other values on {stale} now: run `make snapshots HW={topic}`"


# ---------------------------------------------------------------------------- as the student sees it


def _mutant_notebook(a, name, path):
    from autograder.api import mutant_notebook

    path.write_text(mutant_notebook(a, a.mutants_dir / f"{name}.py")[1])
    return path


def test_check_names_the_mistake_from_the_shipped_file(tmp_path):
    from autograder.check import check_notebook

    a = load_assignment("optimizers")
    res, text = check_notebook(_mutant_notebook(a, "adam_no_bias_correction", tmp_path / "optimizers.ipynb"))
    assert not res.passed
    why = next(m.why for m in diagnose.read(a.diagnoses_path) if m.name == "adam_no_bias_correction")
    assert f"Likely mistake: {why.rstrip('.')}" in text, text
    assert text.count("Likely mistake") == 1, text


def test_the_grader_names_the_mistake_in_results_and_feedback(tmp_path):
    from autograder.api import grade

    a = load_assignment("optimizers")
    r = grade(a, _mutant_notebook(a, "sgd_nesterov_ignored", tmp_path / "optimizers.ipynb"), diagnose=True)
    assert r.diagnoses == {"sgd": "sgd_nesterov_ignored"}
    data = r.to_gradescope()
    lines = [t["output"] for t in data["tests"] if "Likely mistake" in t.get("output", "")]
    assert len(lines) == 1 and "Nesterov" in lines[0]
    assert "sgd_nesterov_ignored" not in json.dumps(data["tests"])  # the student reads the WHY, not the file name
    assert "Likely mistake" in feedback_markdown(data)
    blank = grade(a, a.notebook_path, diagnose=True)  # unwritten cells: nothing to diagnose, nothing computed
    assert blank.diagnoses == {} and not any(t.diagnosis for t in blank.tests)


@pytest.mark.parametrize("topic", TOPICS)
def test_the_shipped_file_holds_no_mutant_code(topic):
    """diagnoses.json ships to students: outputs and WHY lines, never a line of a mutant's code (a failure
    message loses the cell's line it quotes)."""
    from autograder.notebook import parse_percent

    a = load_assignment(topic)
    text = a.diagnoses_path.read_text()
    for path in sorted(a.mutants_dir.glob("*.py")):
        for cell in parse_percent(path.read_text()):
            for line in cell.source.splitlines():
                code = line.strip()
                if len(code) >= 20 and not code.startswith("#"):
                    assert json.dumps(code)[1:-1] not in text, f"{path.name}'s line `{code}` is in diagnoses.json"


# ---------------------------------------------------------------------------- code the mutants did not write

HELD_OUT = sorted((REPO / "tests" / "fixtures" / "heldout_mistakes").glob("*.py"))


@pytest.mark.parametrize("path", HELD_OUT, ids=[p.stem for p in HELD_OUT])
def test_a_mistake_written_another_way_is_named_and_two_mistakes_are_not(path):
    """Wrong code written apart from the mutant library (other ops, other structure, the same mistake) is named
    that mistake when graded; code with two mistakes at once is named none."""
    from autograder.api import grade_mutant
    from autograder.mutants import headers

    topic = path.stem.split("_", 1)[0]
    expect = next(line.split(":", 1)[1].strip() for line in path.read_text().splitlines()
                  if line.startswith("# EXPECT:"))
    question = headers(path)["MUTANT"]
    _, r = grade_mutant(topic, path, diagnose=True)
    assert r.questions[question][0] < r.questions[question][1], f"{path.name} is not even wrong"
    assert r.diagnoses.get(question, "none") == expect, r.table()


@pytest.mark.parametrize("size", [1, 8], ids=["one_submission_lazily", "a_class_prepared_once"])
def test_a_class_folder_names_each_students_mistake_in_their_feedback(size, tmp_path):
    """Batch grading: with more submissions than questions the mistakes are computed once before the workers
    fork; with a few (a regrade), by the worker that needs them. Either way each student's feedback.md names
    their own mistake, and a correct submission's names none."""
    from autograder.batch import grade_folder
    from autograder.mutants import headers
    from autograder.release import student_notebook

    a = load_assignment("optimizers")
    folder = tmp_path / "class"
    folder.mkdir()
    wrong = ["sgd_nesterov_ignored", "adam_no_bias_correction", "muon_nesterov_ignored"]
    for i in range(size):
        name = wrong[i % len(wrong)] if i < size - 1 or size == 1 else "reference"
        path = folder / f"s{i}_{name}.ipynb"
        if name == "reference":
            path.write_text(student_notebook(a.solution_path, strip=False))
        else:
            _mutant_notebook(a, name, path)
    summary = grade_folder(a, folder, tmp_path / "out", progress=False)
    assert summary["errors"] == 0
    for path in folder.iterdir():
        feedback = (tmp_path / "out" / path.stem / "feedback.md").read_text()
        name = path.stem.split("_", 1)[1]
        if name == "reference":
            assert "Likely mistake" not in feedback
        else:
            why = headers(a.mutants_dir / f"{name}.py")["WHY"]
            assert f"Likely mistake: {why.rstrip('.')}" in feedback, feedback
            assert feedback.count("Likely mistake") == 1, feedback
