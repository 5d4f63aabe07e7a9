"""What release writes for students (metadata, setup cell), reproducible snapshots, and what students never read."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from autograder.manifest import REPO, list_topics, load_assignment
from autograder.notebook import Cell
from autograder.release import bundle_location, setup_cell, student_notebook
from autograder.results import feedback_markdown, scrub_paths
from autograder.snapshots import canonical, snapshot_text


@pytest.mark.parametrize("topic", list_topics())
def test_released_notebook_names_its_assignment_and_starts_with_the_setup_cell(topic):
    a = load_assignment(topic)
    nb = json.loads(a.notebook_path.read_text())
    assert nb["metadata"]["course"] == {"assignment": a.id, "bundle": bundle_location(REPO)}
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert code[0] == setup_cell(a.id, bundle_location(REPO))
    cell = Cell("code", code[0], 0)
    assert not cell.question and not cell.import_only  # never run when grading


def test_setup_cell_comes_from_course_toml(tmp_path):
    master = tmp_path / "solutions" / "demo" / "demo.py"
    master.parent.mkdir(parents=True)
    master.write_text("# %% [markdown]\n# # Demo\n\n# %%\nimport torch\n")
    (tmp_path / "course.toml").write_text('topics = ["demo"]\n[student]\nbundle = "https://example.edu/c-{version}.whl"\n')
    nb = json.loads(student_notebook(master))
    assert nb["metadata"]["course"]["bundle"].startswith("https://example.edu/c-0.")
    cells = nb["cells"]
    assert cells[0]["cell_type"] == "markdown" and "COURSE_BUNDLE = 'https://example.edu/c-" in "".join(
        cells[1]["source"])
    assert "".join(cells[2]["source"]) == "import torch"


def _tensor(values, dtype="float32"):
    arr = np.asarray(values, dtype=np.float64)
    return {"kind": "tensor", "dtype": dtype, "shape": list(arr.shape), "device": "cpu",
            "data": base64.b64encode(arr.tobytes()).decode()}


def _obs(values, dtype="float32"):
    return {"t": [{"name": "y", "value": _tensor(values, dtype), "rtol": None, "atol": None}]}


def test_snapshots_do_not_change_with_last_bits():
    base = [0.1234567891234, -2.5e-3, 1e-9, 3.0]
    first = snapshot_text("x", _obs(base, "float64"))
    noisy = [v * (1 + 3e-15) for v in base]
    assert snapshot_text("x", _obs(noisy, "float64"), json.loads(first)["tests"]) == first
    assert snapshot_text("x", _obs(noisy, "float64")) == first  # rounding alone absorbs last bits here
    moved = [base[0] * (1 + 1e-6)] + base[1:]  # a real change (10x the float64 rtol) is written
    assert snapshot_text("x", _obs(moved, "float64"), json.loads(first)["tests"]) != first
    f32 = snapshot_text("x", _obs(base))
    near = [v * (1 + 2e-7) for v in base]  # float32 results of another machine
    assert snapshot_text("x", _obs(near), json.loads(f32)["tests"]) == f32


def test_snapshots_judge_change_by_the_tests_own_tolerance():
    """A loss computed in float32 and observed as a Python float with rtol=1e-5: another CPU's
    kernels move it by about 1e-7 (a float64 tolerance would call that a change); a move near the
    test's own tolerance is a real change and is written."""
    def loss(v):
        return {"t": [{"name": "loss", "value": {"kind": "float", "v": v}, "rtol": 1e-5, "atol": None}]}

    first = snapshot_text("x", loss(7.331686497))
    assert snapshot_text("x", loss(7.331686974), json.loads(first)["tests"]) == first
    assert snapshot_text("x", loss(7.331686497 * (1 + 8e-6)), json.loads(first)["tests"]) != first


def test_canonical_rounds_inside_the_tolerance():
    v = canonical(_tensor([1 / 3, 2 / 3], "float64"))
    got = np.frombuffer(base64.b64decode(v["data"]))
    assert np.allclose(got, [1 / 3, 2 / 3], rtol=1e-9, atol=0) and not np.array_equal(got, [1 / 3, 2 / 3])
    assert canonical({"kind": "scalar", "v": 3}) == {"kind": "scalar", "v": 3}


def test_scrub_paths_hides_this_machine():
    import sysconfig

    text = f"FileNotFoundError: {REPO}/solutions/x.py and {sysconfig.get_paths()['purelib']}/torch/nn.py and /a/b/c.txt"
    out = scrub_paths(text)
    assert str(REPO) not in out and "site-packages" not in out and "/a/b/" not in out
    assert "x.py" in out and "c.txt" in out and "1/2" in scrub_paths("1/2")


def test_feedback_and_output_have_no_sandbox_notes(tmp_path):
    from autograder.results import GradeResult

    r = GradeResult(load_assignment("optimizers"), "sub.ipynb", "cpu")
    r.sandbox.append("runs as root: nobody cannot read this Python installation /usr/lib/python3")
    r.notes.append("sgd: the notebook has more than one `# GRADED: sgd` cell; the last one is graded")
    data = r.to_gradescope()
    assert "nobody" not in data["output"] and "more than one" in data["output"]
    assert data["extra_data"]["sandbox"] == r.sandbox
    assert "nobody" not in feedback_markdown(data)
