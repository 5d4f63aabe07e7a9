"""Engine pieces on their own: notebook parsing, release, observations, collection, policy."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from autograder.collect import collect
from autograder.guard import TRUSTED_FILES
from autograder.notebook import Cell, build_module, parse_ipynb, parse_percent, submission_from_cells
from autograder.observations import decode, encode, judge
from autograder.policy import ForbiddenAPIError, forbid, static_violations
from autograder.release import ReleaseError, strip_solutions, student_notebook

TRUSTED_FILES.add(__file__)  # this file calls forbidden APIs as a test would; collect() registers those

MASTER = '''# ---
# jupyter: {}
# ---

# %% [markdown]
# # Title
# Some $x^2$.

# %%
import torch

# %%
# GRADED: f
def f(x):
    """Doubles."""
    # shape: (N,)
    # BEGIN SOLUTION
    y = x * 2
    return y
    # END SOLUTION

# %% [markdown]
# # GRADED: essay
# Explain.
#
# BEGIN SOLUTION
# The answer.
# END SOLUTION
'''


def test_parse_percent_cells():
    cells = parse_percent(MASTER)
    assert [c.kind for c in cells] == ["markdown", "code", "code", "markdown"]
    assert cells[0].source.startswith("# Title")
    assert cells[2].question == "f" and cells[3].question == "essay"
    assert cells[1].import_only and not cells[2].import_only


def test_parse_ipynb_list_and_string_sources():
    nb = {"cells": [{"cell_type": "code", "source": ["# GRADED: a\n", "x = 1\n"]},
                    {"cell_type": "code", "source": "import math"}, {"cell_type": "raw", "source": "z"}],
          "nbformat": 4}
    cells = parse_ipynb(json.dumps(nb))
    assert [c.question for c in cells] == ["a", None]
    sub = submission_from_cells(cells)
    assert list(sub.graded) == ["a"] and len(sub.imports) == 1


def test_old_nbformat3_worksheets_are_read():
    nb = {"nbformat": 3, "worksheets": [{"cells": [{"cell_type": "code", "input": "# GRADED: a\nx = 1"}]}]}
    assert parse_ipynb(json.dumps(nb))[0].question == "a"


@pytest.mark.parametrize("first", ["# GRADED: q1", "#GRADED: q1", "  # GRADED:q1  "])
def test_graded_marker_variants(first):
    assert Cell("code", f"{first}\nx = 1", 0).question == "q1"


def test_marker_must_be_first_line():
    assert Cell("code", "x = 1\n# GRADED: q1", 0).question is None


def test_build_module_isolates_errors():
    cells = [Cell("code", "import math", 0), Cell("code", "# GRADED: a\ndef a(): return math.pi", 1),
             Cell("code", "# GRADED: b\ndef b(:\n", 2), Cell("code", "# GRADED: c\nraise ValueError('boom')", 3)]
    mod = build_module(submission_from_cells(cells), {"a": "a", "b": "b", "c": "c"})
    assert mod.a() == math.pi
    assert "SyntaxError" in mod._errors["b"] and "ValueError: boom" in mod._errors["c"]
    with pytest.raises(AttributeError, match="did not run: SyntaxError"):
        _ = mod.b
    with pytest.raises(AttributeError, match="define it in the cell"):
        _ = build_module(submission_from_cells([]), {"a": "a"}).a


def test_release_strips_code_and_markdown():
    cells = parse_percent(MASTER)
    code = strip_solutions(cells[2], "f")
    assert "x * 2" not in code and 'raise NotImplementedError("f:' in code
    assert "    raise" in code and "# shape: (N,)" in code and '"""Doubles."""' in code
    compile(code, "released", "exec")
    md = strip_solutions(cells[3], "essay")
    assert "The answer" not in md and "_Type your answer here._" in md


def test_release_is_reproducible_and_valid(tmp_path):
    import nbformat

    master = tmp_path / "m.py"
    master.write_text(MASTER)
    a, b = student_notebook(master), student_notebook(master)
    assert a == b
    nb = nbformat.reads(a, as_version=4)
    nbformat.validate(nb)
    assert all(c.get("outputs", []) == [] for c in nb.cells)
    assert "x * 2" not in a


@pytest.mark.parametrize("bad", ["# BEGIN SOLUTION\nx", "# END SOLUTION", "# BEGIN SOLUTION\n# BEGIN SOLUTION"])
def test_release_rejects_unbalanced_markers(bad):
    with pytest.raises(ReleaseError):
        strip_solutions(Cell("code", bad, 0), "q")


@pytest.mark.parametrize("value", [
    torch.randn(3, 4), torch.randn(2, dtype=torch.float64), torch.arange(5), torch.tensor([True, False]),
    torch.randn(3).to(torch.bfloat16), torch.randn(2, 2, dtype=torch.complex64), np.arange(4.0), 1.5, 3, True,
    "text", None, [1, 2.0, torch.ones(2)], {"a": torch.zeros(1), "b": [1]}, float("nan"), float("-inf"),
])
def test_observation_roundtrip(value):
    enc = json.loads(json.dumps(encode(value)))
    assert judge([{"name": "v", "value": enc}], [{"name": "v", "value": encode(value)}]) is None
    got = decode(enc)
    if isinstance(value, torch.Tensor):
        assert got.dtype == value.dtype and torch.equal(got, value)


def test_judge_uses_reference_tolerance_and_names():
    ref = [{"name": "x", "value": encode(torch.ones(3)), "rtol": 0.0, "atol": 1e-3}]
    near = [{"name": "x", "value": encode(torch.ones(3) + 5e-4), "rtol": 1.0, "atol": 1.0}]
    far = [{"name": "x", "value": encode(torch.ones(3) + 5e-3), "rtol": 1.0, "atol": 1.0}]
    assert judge(near, ref) is None
    assert "max abs error" in judge(far, ref)  # the student's own (huge) tolerance is ignored
    assert "stopped before" in judge([], ref)
    assert "'y'" in judge([{**near[0], "name": "y"}], ref)


def test_unsupported_objects_never_match():
    class Liar(torch.Tensor):
        pass

    assert encode(Liar())["kind"] == "unsupported"
    assert encode(object())["kind"] == "unsupported"
    msg = judge([{"name": "v", "value": encode(object())}], [{"name": "v", "value": encode(torch.ones(1))}])
    assert msg and "expected a tensor" in msg


@pytest.mark.parametrize("student, reference", [
    (True, 1), (1, True), (0, False), ([1, 2], (1, 2, 3)), ({"a": 1}, {"a": True}),
    (torch.ones(2, dtype=torch.float64), torch.ones(2, dtype=torch.float32)), (torch.ones(2), torch.ones(1, 2)),
    (float("nan"), 1.0),
], ids=["true-1", "1-true", "0-false", "lengths", "nested-bool", "dtype", "shape", "nan"])
def test_identical_data_passes_and_nothing_else_does_on_that_path(student, reference):
    """Data identical to the reference's passes without decoding, but only when it is identical type for
    type (``True == 1`` for Python's ``==``): anything else is compared, and these differ as compare() sees
    them."""
    obs = [{"name": "v", "value": encode(reference), "rtol": None, "atol": None}]
    assert judge(obs, obs) is None
    assert judge([{"name": "v", "value": encode(student)}], obs) is not None


def test_an_unsupported_object_is_never_identical_to_itself():
    obs = [{"name": "v", "value": encode(object()), "rtol": None, "atol": None}]
    assert "cannot be compared" in judge(obs, obs)


def test_device_mismatch_is_reported():
    ref = encode(torch.ones(2))
    ref["device"] = "cuda"
    msg = judge([{"name": "v", "value": encode(torch.ones(2))}], [{"name": "v", "value": ref}])
    assert "device" in msg


def test_collect_expands_parametrize(toy):
    cases = collect(toy)
    names = [c.id for c in cases]
    assert "hidden/test_hidden.py::test_scale[2-f32]" in names and len([n for n in names if "test_scale" in n]) == 4
    scale = [c for c in cases if c.question == "scale"][0]
    assert scale.name.startswith("scale: scales by its weight") and not scale.public
    assert [c.weight for c in cases if c.id.endswith("test_add_broadcast")] == [2.0]


STUDENT_USES = """
def use_mul():
    return torch.mul(torch.ones(1), 2)
def subclass_sgd():
    class Sub(torch.optim.SGD):
        pass
def import_scheduler():
    from torch.optim.lr_scheduler import LambdaLR
"""


def test_forbid_stubs_and_restores():
    ns = {"torch": torch}
    exec(compile(STUDENT_USES, "<GRADED: q>", "exec"), ns)
    original = torch.mul
    with forbid(("torch.mul", "torch.optim.SGD", "torch.optim.lr_scheduler"), "q"):
        for use in ("use_mul", "subclass_sgd", "import_scheduler"):
            with pytest.raises(ForbiddenAPIError, match="q: torch"):
                ns[use]()
    assert torch.mul is original
    for use in ("use_mul", "subclass_sgd", "import_scheduler"):
        ns[use]()


def test_static_violations_follow_aliases():
    cells = [Cell("code", "import torch.optim as optim", 0),
             Cell("code", "# GRADED: a\nclass A(optim.SGD): pass", 1),
             Cell("code", "# GRADED: b\nfrom torch.optim import AdamW\n", 2),
             Cell("code", "# GRADED: c\nimport torch\nx = torch.optim.Optimizer", 3)]
    found = static_violations(submission_from_cells(cells), {"a": ("torch.optim.SGD",), "b": ("torch.optim.AdamW",),
                                                             "c": ("torch.optim.SGD",)})
    assert set(found) == {"a", "b"}


def test_no_graded_cell_may_reach_below_torchs_public_api():
    """Overriding aten kernels, dispatch or function modes, tensor-subclass hooks and torch's raw
    layers are refused in every question, whatever its own forbidden list says."""
    attempts = {
        "kernel": "import torch\nlib = torch.library.Library('aten', 'IMPL')\n",
        "alias": "import torch\ndef f(x):\n    return torch.ops.aten.softmax(x, -1)\n",
        "raw": "from torch._C import _VariableFunctions as VF\n",
        "mode": "from torch.utils._python_dispatch import TorchDispatchMode\n",
        "subclass": "import torch\nclass Liar(torch.Tensor):\n    @classmethod\n"
                    "    def __torch_function__(cls, func, types, args=(), kwargs=None):\n        return True\n",
        "setattr": "import torch\nclass T(torch.Tensor):\n    pass\nsetattr(T, '__torch_dispatch__', None)\n",
        "honest": "import torch\ndef f(x):\n    return torch.softmax(x, -1) @ x.mT\n",
    }
    cells = [Cell("code", f"# GRADED: {q}\n{src}", i) for i, (q, src) in enumerate(attempts.items())]
    found = static_violations(submission_from_cells(cells), {})
    assert set(found) == set(attempts) - {"honest"}, found


def test_forbid_lets_trusted_files_through():
    """Tests, torch and the engine may call what the question forbids; notebook cells may not."""
    student = compile("def f(x):\n    return torch.mul(x, 2)\n", "<GRADED: q>", "exec")
    ns = {"torch": torch}
    exec(student, ns)
    with forbid(("torch.mul", "torch.optim.SGD"), "q"):
        assert torch.mul(torch.ones(1), 3).item() == 3.0  # this test file is registered
        p = torch.nn.Parameter(torch.zeros(1))
        torch.optim.SGD([p], lr=0.1)
        with pytest.raises(ForbiddenAPIError):
            ns["f"](torch.ones(1))
        in_kernel = compile("g = lambda p: torch.optim.SGD([p], lr=0.1)", "/tmp/ipykernel_1/123.py", "exec")
        exec(in_kernel, ns)
        with pytest.raises(ForbiddenAPIError):
            ns["g"](p)


def test_forbid_methods_of_classes():
    ns = {"torch": torch}
    exec(compile("def f(x):\n    return x.softmax(-1)\n", "<GRADED: q>", "exec"), ns)
    with forbid(("torch.Tensor.softmax",), "q"):
        with pytest.raises(ForbiddenAPIError):
            ns["f"](torch.ones(3))
        assert torch.ones(2).softmax(-1).sum().item() == pytest.approx(1.0)  # trusted caller
    assert ns["f"](torch.ones(2)).sum().item() == pytest.approx(1.0)


def test_forbidden_module_stub_survives_introspection():
    """torch imports (e.g. dynamo on the first optimizer) probe every module's __file__."""
    import inspect

    with forbid(("torch.optim._functional",), "q"):
        inspect.getmodule(test_forbid_stubs_and_restores)  # walks sys.modules
        p = torch.nn.Parameter(torch.zeros(2))
        torch.optim.Optimizer([p], {"lr": 0.1})
        with pytest.raises(ForbiddenAPIError):
            exec(compile("from torch.optim._functional import sgd", "<GRADED: q>", "exec"), {})


def test_a_notebook_too_large_is_refused_before_it_is_read(tmp_path):
    """The cap fits notebooks (tens of MB), so a huge file never reaches the grader's memory."""
    from autograder.notebook import MAX_BYTES, NotebookError, read_submission

    big = tmp_path / "huge.ipynb"
    with open(big, "wb") as f:
        f.truncate(MAX_BYTES + 1)  # sparse: no disk used
    assert MAX_BYTES <= 100 << 20
    with pytest.raises(NotebookError, match="larger than 64 MB: clear the outputs"):
        read_submission(big)
