"""The student- and instructor-facing entry points: `check()` in a kernel and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import pytest

from autograder.check import check
from autograder.manifest import REPO, list_topics, load_assignment
from autograder.notebook import reference_module


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True, text=True, cwd=REPO,
                          timeout=600)


@pytest.fixture
def kernel(monkeypatch):
    """A stand-in for a notebook kernel's __main__ namespace."""
    main = types.ModuleType("__main__")
    monkeypatch.setitem(sys.modules, "__main__", main)
    return main


def test_check_passes_on_the_reference_in_a_kernel(kernel, capsys):
    ref = reference_module("optimizers")
    kernel.__dict__.update({k: v for k, v in vars(ref).items() if not k.startswith("_")})
    result = check("sgd", topic="optimizers")
    out = capsys.readouterr().out
    assert result.tests and all(t.passed for t in result.tests), out
    assert "public tests passed" in out


def test_check_teaches_on_an_empty_kernel(kernel, capsys):
    result = check("adam", topic="optimizers")
    out = capsys.readouterr().out
    assert result.tests and not any(t.passed for t in result.tests)
    assert "`Adam` is not defined" in result.tests[0].message
    lines = out.strip().splitlines()  # one line for the question, not one per test; then the summary
    assert lines[0].startswith("\N{BALLOT X} adam: not implemented yet") and "# GRADED: adam" in lines[0]
    assert len(lines) == 2 and lines[1].startswith("adam: 0/")


def test_check_lists_the_valid_ids(kernel, capsys):
    assert check("sdg", topic="optimizers") is None
    out = capsys.readouterr().out
    a = load_assignment("optimizers")
    assert "no autograded question 'sdg'" in out and ", ".join(q.id for q in a.graded) in out
    assert "Traceback" not in out


def test_check_reports_a_cell_that_does_not_compile(kernel, capsys):
    """The kernel's history has the sgd cell with a syntax error: that is what check() reports, not the
    AttributeError of the class it never defined (nor an older definition still in the namespace)."""
    ref = reference_module("optimizers")
    kernel.SGD = ref.SGD  # an earlier, correct version is still defined
    kernel.In = ["", "# GRADED: sgd\nclass SGD(torch.optim.Optimizer)\n    pass\n"]
    result = check("sgd", topic="optimizers")
    out = capsys.readouterr().out
    assert "sgd: the `# GRADED: sgd` cell does not compile: SyntaxError" in out, out
    assert "AttributeError" not in out and not result.tests


def test_check_summary_shows_once_in_jupyter(kernel, capsys):
    """Jupyter, VS Code and Colab display a cell's last value; check() returns one that displays nothing."""
    from IPython.core.formatters import DisplayFormatter

    result = check("lr_schedule", topic="optimizers")
    assert capsys.readouterr().out.count("public tests passed") == 1
    assert DisplayFormatter().format(result) == ({}, {})


def test_check_knows_its_assignment_from_the_setup_cell(kernel, capsys, tmp_path, monkeypatch):
    """Not from the working directory nor the file name: the released setup cell says which assignment."""
    import autograder
    import autograder.check as check_module

    monkeypatch.setattr(check_module, "_CURRENT", [])
    monkeypatch.chdir(tmp_path)
    a = load_assignment("transformers")
    cells = json.loads(a.notebook_path.read_text())["cells"]
    setup = next("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    exec(compile(setup, "<setup cell>", "exec"), kernel.__dict__)
    assert check_module._CURRENT == ["transformers"]
    result = autograder.check()
    out = capsys.readouterr().out
    assert {t.case.question for t in result.tests} == {q.id for q in a.graded}
    assert "installing" not in out


@pytest.mark.parametrize("topic", list_topics())
def test_cli_check_passes_on_the_reference(topic):
    """`python -m autograder check` in a fresh process, as a student runs it on a saved notebook: the
    public tests' stand-ins (torch built-ins called from a test file) are the tests', not the
    notebook's, so a question that forbids an API its stand-in uses still passes."""
    proc = run_cli("check", str(load_assignment(topic).solution_path))
    assert proc.returncode == 0 and "\N{BALLOT X}" not in proc.stdout, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "public tests passed" in proc.stdout.splitlines()[-1]


def test_cli_check_one_question(tmp_path):
    """`check --question q` runs only q's tests; the notebook's folder has no assignment.toml."""
    nb = tmp_path / "Copy of optimizers.ipynb"
    nb.write_text(load_assignment("optimizers").notebook_path.read_text())
    proc = run_cli("check", str(nb), "--question", "adam")
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("\N{BALLOT X} adam: not implemented yet"), proc.stdout
    assert lines[1].startswith("adam: 0/")


def test_check_restores_the_students_random_state(kernel):
    import torch

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check("lr_schedule", topic="optimizers", quiet=True)
    assert torch.equal(torch.rand(3), expected)


def test_cli_grade_writes_results_json(tmp_path):
    a = load_assignment("optimizers")
    proc = run_cli("grade", "optimizers", str(a.solution_path), "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["score"] == sum(q.points for q in a.graded)
    assert "total" in proc.stdout


def test_cli_check_on_the_blank_template_fails_cleanly():
    proc = run_cli("check", "assignments/optimizers/optimizers.ipynb")
    assert proc.returncode == 1, proc.stderr
    assert "not implemented" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr


def test_cli_release_check_and_list():
    assert run_cli("release", "--check").returncode == 0
    proc = run_cli("list")
    assert proc.returncode == 0 and "optimizers" in proc.stdout


def test_cli_unknown_topic_is_one_clear_line(tmp_path):
    proc = run_cli("grade", "nosuchtopic", str(tmp_path / "x.ipynb"))
    assert proc.returncode == 2 and "no assignment 'nosuchtopic'" in proc.stderr


def test_require_stops_an_experiment_before_its_figure(kernel, monkeypatch):
    """An experiment cell's first line: a question still holding the template's raise is one clear line."""
    import autograder.check as check_module
    from autograder import require

    monkeypatch.setattr(check_module, "_CURRENT", ["optimizers"])
    kernel.In = ["", '# GRADED: adam\nclass Adam:\n    def step(self):\n'
                 '        raise NotImplementedError("adam: replace this line with your code")\n']
    with pytest.raises(NotImplementedError, match=r"adam: not implemented yet; write the cell that starts with "
                                                 r"`# GRADED: adam` first"):
        require("adam")
    with pytest.raises(NotImplementedError, match=r"sgd: `SGD` is not defined: run the cell"):
        require("sgd")
    kernel.In.append("# GRADED: adam\nclass Adam:\n    def step(self):\n        return None\n")
    kernel.Adam = object
    require("adam")


def test_scripts_run_their_own_checkout(tmp_path):
    """A second checkout's scripts import its own autograder, not the one the venv's editable install names."""
    import shutil

    copy = tmp_path / "second"
    for part in ("autograder", "shared", "scripts", "assignments"):
        shutil.copytree(REPO / part, copy / part, ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"))
    shutil.copy(REPO / "course.toml", copy / "course.toml")
    proc = subprocess.run([sys.executable, str(copy / "scripts" / "demo.py"), "nosuchtopic"], capture_output=True,
                          text=True, cwd=tmp_path, timeout=600)
    assert proc.returncode != 0 and "no assignment 'nosuchtopic'" in proc.stderr
    assert str(copy) in proc.stderr and str(REPO / "assignments") not in proc.stderr


def test_checks_of_two_assignments_in_one_process_judge_each_by_its_own_rules(tmp_path):
    """Building a notebook freezes the test files trusted in this process: the second assignment's public
    tests (transformers' use torch.softmax, which its attention question forbids to students) must already
    be among them, or its reference would be blamed for what its tests call."""
    from autograder.check import check_notebook
    from autograder.release import student_notebook

    for topic in ("optimizers", "transformers"):
        a = load_assignment(topic)
        path = tmp_path / f"{topic}.ipynb"
        path.write_text(student_notebook(a.solution_path, strip=False))
        result, text = check_notebook(path)
        assert result.passed, text
