"""Every solution notebook executes end to end, at smoke size (COURSE_SMOKE=1), in a real kernel."""

from __future__ import annotations

import time

import pytest

from autograder.manifest import list_topics, load_assignment
from autograder.release import student_notebook


@pytest.mark.slow
@pytest.mark.parametrize("topic", list_topics())
def test_solution_notebook_executes(topic, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    a = load_assignment(topic)
    monkeypatch.setenv("COURSE_SMOKE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # one thread per kernel: the suite runs a worker per core
    nb = nbformat.reads(student_notebook(a.solution_path, strip=False), as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(a.root)}})
    t0 = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - t0
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "\N{BALLOT X}" not in text, "a check() in the solution notebook reports a failing public test"
    print(f"{topic}: solution notebook executed in {seconds:.1f} s at smoke size")
