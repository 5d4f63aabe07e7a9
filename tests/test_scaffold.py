"""`make new-topic`: a new topic's files pass the validation suite's rules as written."""

from __future__ import annotations

import shutil

import pytest

from autograder.api import grade, grade_mutant, grade_without
from autograder.cli import keeps_at_most
from autograder.collect import collect
from autograder.manifest import list_topics, load_assignment
from autograder.mutants import headers as mutant_headers
from autograder.reference import write_snapshots
from autograder.release import in_sync, release
from autograder.scaffold import new_topic
from tests.conftest import TOY_REPO


@pytest.fixture
def repo(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(TOY_REPO, repo)
    (repo / "course.toml").write_text('topics = ["toy"]\n')
    (repo / "README.md").write_text(
        "# Course\n\n| topic | questions |\n| --- | --- |\n| `toy` | add, scale |\n\nMore.\n")
    return repo


def test_a_new_topic_passes_the_validation_rules(repo):
    written = new_topic("stability", repo=repo)
    assert all(p.exists() for p in written)
    a = load_assignment("stability", repo=repo)
    release(a)
    write_snapshots(a, collect(a, hidden=False))
    assert in_sync(a)
    ref = grade(a, a.solution_path)
    assert not ref.errors and ref.score == ref.max_score > 0, ref.table()
    blank = grade(a, a.notebook_path)
    assert not blank.errors and blank.score == 0, blank.table()
    for q in a.graded:
        assert grade_without(a, q.id).questions[q.id][0] < q.points
    mutants = sorted(a.mutants_dir.glob("*.py"))
    assert len(mutants) >= 3
    for path in mutants:
        target, r = grade_mutant(a, path)
        s, m = r.questions[target]
        assert s < m, f"{path.name} is not caught"
        assert "CORNER" in mutant_headers(path) or s <= keeps_at_most(m), f"{path.name} keeps {s} of {m}"
    for path in sorted(a.variants_dir.glob("*.py")):
        target, r = grade_mutant(a, path)
        assert r.score == r.max_score, f"the variant {path.name} loses points:\n{r.table()}"
    assert list_topics(repo) == ["toy", "stability"]
    assert "| `stability` |" in (repo / "README.md").read_text().split("More.")[0]


def test_a_new_topic_never_overwrites_and_checks_its_id(repo):
    with pytest.raises(FileExistsError, match="toy exists already"):
        new_topic("toy", repo=repo)
    with pytest.raises(ValueError, match="not a topic id"):
        new_topic("Bad-Name", repo=repo)
    assert (repo / "course.toml").read_text() == 'topics = ["toy"]\n'
