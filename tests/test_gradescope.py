"""The Gradescope autograder zip, unpacked into a simulated /autograder and run end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest

from autograder.gradescope import build, verify
from autograder.manifest import list_topics, load_assignment
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
    # this topic's mutants, for the mistakes feedback names (out of the child's view like the hidden tests);
    # no other topic's folder, no variant (a correct implementation), no cache
    assert "autograder/optimizers/mutants/adam_no_bias_correction.py" in names
    others = [n for n in names if n.startswith("autograder/") and n.count("/") > 1
              and n.split("/")[1] in set(list_topics()) - {"optimizers"}]
    assert not others, others
    assert not any("variants" in n or "__pycache__" in n for n in names)
    assert build(a, tmp_path / "again.zip").read_bytes() == path.read_bytes()
    assert "torch==2.14.1" in zipfile.ZipFile(path).read("requirements.txt").decode()


@pytest.mark.slow
@pytest.mark.parametrize("topic", list_topics())
def test_the_zip_unpacked_alone_grades_reference_full_and_blank_zero(topic, tmp_path):
    """What `make gradescope` checks before it keeps a zip: unpacked alone, prepared as setup.sh does,
    run_autograder gives the reference full marks and the blank template zero."""
    a = load_assignment(topic)
    assert verify(build(a, tmp_path / f"{topic}.zip"), a) == []


def test_a_zip_missing_a_data_file_fails_its_check(tmp_path, monkeypatch):
    """The check proves something: a zip that leaves out shared/'s weights fails it for LoRA."""
    import autograder.gradescope as gradescope

    if "lora" not in list_topics():
        pytest.skip("no lora topic")
    a = load_assignment("lora")
    files = gradescope._files
    monkeypatch.setattr(gradescope, "_files", lambda a: [f for f in files(a) if f.suffix != ".pt"])
    assert verify(build(a, tmp_path / "lora.zip"), a)


def test_an_empty_submission_is_told_so(built, tmp_path):
    a, path = built
    root = tmp_path / "autograder"
    with zipfile.ZipFile(path) as z:
        z.extractall(root / "source")
    (root / "submission").mkdir()
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable,
           "AUTOGRADER_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0.0 and "empty" in results["output"]


def test_run_uses_what_setup_prepared(tmp_path, monkeypatch):
    """setup.sh computes the reference observations once, with a salt of its own; a submission's run
    only grades (here the reference is never computed again), and the salt is not the public one."""
    import autograder.reference as reference
    from autograder.gradescope import prepare, prepared_path, run

    monkeypatch.setenv("AUTOGRADER_CACHE", str(tmp_path / "cache"))
    prepared = prepare("optimizers", tmp_path)
    assert prepared == prepared_path(tmp_path, "optimizers") and oct(prepared.stat().st_mode)[-3:] == "600"
    salt = json.loads(prepared.read_text())["salt"]
    assert salt and salt != reference.PUBLIC_SALT

    def no_compute(*args, **kwargs):
        raise AssertionError("the reference was computed again")

    monkeypatch.setattr(reference, "compute", no_compute)
    (tmp_path / "submission").mkdir()
    a = load_assignment("optimizers")
    (tmp_path / "submission" / "optimizers.ipynb").write_text(student_notebook(a.solution_path, strip=False))
    results = json.loads(run("optimizers", tmp_path).read_text())
    assert results["score"] == sum(q.points for q in a.graded), results.get("output")
    assert reference.RUN_SALT == salt
