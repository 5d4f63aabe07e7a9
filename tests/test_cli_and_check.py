"""The student- and instructor-facing entry points: `check()` in a kernel and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import pytest

from autograder.check import check
from autograder.manifest import REPO, load_assignment
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
    assert "`Adam` is not defined" in out and "# GRADED: adam" in out


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
