"""The Gradescope autograder zip, unpacked into a simulated /autograder and run end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest

from autograder.gradescope import build
from autograder.manifest import load_assignment
from autograder.release import student_notebook


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    a = load_assignment("optimizers")
    path = build(a, tmp_path_factory.mktemp("zip") / "optimizers.zip")
    return a, path


def test_zip_is_complete_and_reproducible(built, tmp_path):
    a, path = built
    names = zipfile.ZipFile(path).namelist()
    for needed in ("setup.sh", "run_autograder", "requirements.txt", "autograder/api.py", "shared/compare.py",
                   "assignments/optimizers/assignment.toml", "solutions/optimizers/optimizers.py",
                   "autograder/optimizers/tests/test_adam.py", "assignments/optimizers/snapshots.json"):
        assert needed in names
    assert not any("mutants" in n or "__pycache__" in n for n in names)
    assert build(a, tmp_path / "again.zip").read_bytes() == path.read_bytes()
    assert "torch==2.14.1" in zipfile.ZipFile(path).read("requirements.txt").decode()


@pytest.mark.parametrize("which,expected", [("reference", 13.0), ("blank", 0.0), ("missing", 0.0)])
def test_run_autograder_end_to_end(built, tmp_path, which, expected):
    a, path = built
    root = tmp_path / "autograder"
    with zipfile.ZipFile(path) as z:
        z.extractall(root / "source")
    (root / "submission").mkdir()
    if which == "reference":
        (root / "submission" / "optimizers.ipynb").write_text(student_notebook(a.solution_path, strip=False))
    elif which == "blank":
        (root / "submission" / "my_work.ipynb").write_text(a.notebook_path.read_text())
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable,
           "AUTOGRADER_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == expected
    if which == "missing":
        assert "empty" in results["output"]
    else:
        assert len(results["tests"]) > 90
