"""Every notebook, with correct code in its graded cells, runs end to end from the student bundle alone.

The bundle folder is copied where no repository is, its wheel installed into a fresh venv (third-party
packages seen through a ``.pth`` line: see ``bundle.student_venv``), and each notebook runs in a kernel
of that venv at smoke size (``COURSE_SMOKE=1``): every file it loads (weights, data) must come from the
wheel, and every ``check()`` in it must pass. This is what ``make student`` verifies before it says so.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from autograder.bundle import build, install_alone, requirement_gaps, run_solved_notebook
from autograder.manifest import list_topics


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    pytest.importorskip("nbclient")
    bundle = build(tmp_path_factory.mktemp("bundle") / "student")
    installed = install_alone(bundle, tmp_path_factory.mktemp("elsewhere"))
    assert not isinstance(installed, str), installed
    return installed


@pytest.mark.slow
@pytest.mark.parametrize("topic", list_topics())
def test_notebook_with_correct_code_runs_from_the_bundle(topic, installed):
    alone, python = installed
    t0 = time.perf_counter()
    assert run_solved_notebook(alone, python, topic) == []
    print(f"{topic}: ran from the bundle in {time.perf_counter() - t0:.1f} s at smoke size")


def test_the_wheel_requires_every_third_party_import(installed):
    assert requirement_gaps(installed[0]) == []


def test_a_missing_requirement_is_found(tmp_path, monkeypatch):
    """The requirement check works: a wheel that forgets torchvision is caught where cnn imports it."""
    import autograder.bundle as bundle

    monkeypatch.setattr(bundle, "DEPENDENCIES", tuple(d for d in bundle.DEPENDENCIES if "torchvision" not in d))
    out = build(tmp_path / "student", topics=["cnn"])
    assert any("imports torchvision" in gap for gap in requirement_gaps(out))


def test_a_missing_data_file_stops_the_notebook(installed, tmp_path):
    """The run checks what ships: without the LoRA base model's weights in the installed package, the LoRA
    notebook stops (so a forgotten data file cannot pass)."""
    if "lora" not in list_topics():
        pytest.skip("no lora topic")
    alone, python = installed
    where = subprocess.run([str(python), "-c", "import shared, pathlib; print(pathlib.Path(shared.__file__).parent)"],
                           capture_output=True, text=True, check=True, cwd=alone).stdout.strip()
    weights = next(p for p in __import__("pathlib").Path(where, "weights").glob("*.pt"))
    moved = tmp_path / weights.name
    shutil.move(weights, moved)
    try:
        problems = run_solved_notebook(alone, python, "lora")
    finally:
        shutil.move(moved, weights)
    assert problems and "lora" in problems[0]
