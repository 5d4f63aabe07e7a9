"""The grader's stand-in for ``torch._dynamo`` (``autograder.dynamo_standin``): eager results are those of
the real module, the real module is never imported for optimizers, and anything else imports it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

TRAIN = """
import sys, torch
from torch import optim
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
x, y = torch.randn(32, 4), torch.randn(32, 1)
out = []
for cls in (optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad, optim.NAdam, optim.RAdam):
    opt = cls(model.parameters(), lr=0.01)
    sched = optim.lr_scheduler.StepLR(opt, 2, gamma=0.5)
    for _ in range(3):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
        sched.step()
    opt.load_state_dict(opt.state_dict())
    out.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
print(repr(torch.stack(out).sum(1).tolist()))
print("REAL" if "torch._dynamo.convert_frame" in sys.modules else "STAND-IN")
"""


def _run(code: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True)
    return proc.stdout.strip().splitlines()


def test_optimizers_train_the_same_without_importing_the_compiler():
    with_real = _run("import torch, torch._dynamo\n" + TRAIN)
    with_stand_in = _run("import torch\nfrom autograder.dynamo_standin import install\nassert install()\n" + TRAIN)
    assert with_real[1] == "REAL" and with_stand_in[1] == "STAND-IN"
    assert with_stand_in[0] == with_real[0]  # the same floats, bit for bit


def test_anything_else_imports_the_real_module_and_earlier_wrappers_follow_it():
    out = _run("""
        import sys, torch
        from autograder import dynamo_standin
        assert dynamo_standin.install()
        opt = torch.optim.SGD([torch.nn.Parameter(torch.ones(2))], lr=0.1)  # wraps add_param_group via disable()
        assert torch._dynamo.is_compiling() is False and sys.modules["torch._dynamo"] is dynamo_standin.STAND_IN
        import torch._dynamo.utils  # a submodule: the real package first
        assert sys.modules["torch._dynamo"] is not dynamo_standin.STAND_IN
        assert torch._dynamo.config is sys.modules["torch._dynamo.config"]
        opt.add_param_group({"params": [torch.nn.Parameter(torch.ones(1))]})  # now under the real disable()
        print(torch.compile(lambda t: t * 3, backend="eager")(torch.ones(2)).tolist())
    """)
    assert out == ["[3.0, 3.0]"]


def test_the_real_module_stays_when_it_is_already_imported():
    assert _run("""
        import torch, torch._dynamo
        from autograder.dynamo_standin import install
        print(install(), type(torch._dynamo).__name__)
    """) == ["False module"]


GRADE_TOY = """
import sys, torch
from autograder.api import grade
from autograder.manifest import load_assignment
from tests.conftest import TOY_OK, TOY_REPO, write_notebook
toy = load_assignment(TOY_REPO / "assignments" / "toy" / "assignment.toml", repo=TOY_REPO.resolve())
path = write_notebook(__import__("pathlib").Path(sys.argv[1]) / "submission.ipynb",
                      [("code", "import torch"), ("code", sys.argv[2]), ("code", TOY_OK["scale"])])
r = grade(toy, path)
print(r.questions["add"], r.flags.get("add", []), r.sandbox == [] or "sandbox notes")
print("REAL" if "torch._dynamo.convert_frame" in sys.modules else "STAND-IN")
"""


def _grade_toy_alone(tmp_path, cell: str) -> list[str]:
    """The toy assignment graded in a fresh process (a test process may have imported the compiler)."""
    proc = subprocess.run([sys.executable, "-c", GRADE_TOY, str(tmp_path), cell], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).parent.parent)
    return proc.stdout.strip().splitlines()


def test_graded_code_that_trains_meets_the_stand_in(tmp_path):
    """In the sandboxed process a question's tests run in, an optimizer step leaves the compiler unimported
    (what the grader saved by not importing it is not spent again per question)."""
    cell = ("# GRADED: add\nimport sys\nimport torch\n"
            "def add(a, b):\n    w = torch.nn.Parameter(torch.zeros(1))\n    opt = torch.optim.Adam([w], lr=0.1)\n"
            "    (w - 1).pow(2).sum().backward()\n    opt.step()\n"
            "    assert 'torch._dynamo.convert_frame' not in sys.modules\n    return a + b\n")
    assert _grade_toy_alone(tmp_path, cell) == ["(2.0, 2.0) [] True", "STAND-IN"]


def test_graded_code_that_reaches_the_compiler_mid_test_is_graded_as_usual(tmp_path):
    """torch.func in a student's answer imports the real module inside a test (it wraps torch.manual_seed as it
    loads): the test is not failed for "replacing part of the libraries", and nothing is flagged."""
    cell = ("# GRADED: add\nimport torch\n"
            "def add(a, b):\n    g = torch.func.grad(lambda t: (t * t).sum())(torch.ones(2))\n"
            "    assert torch.equal(g, torch.full((2,), 2.0))\n    return a + b\n")
    assert _grade_toy_alone(tmp_path, cell) == ["(2.0, 2.0) [] True", "STAND-IN"]


def test_assignments_whose_tests_use_torch_func_get_the_real_module():
    from autograder.manifest import list_topics, load_assignment
    from autograder.supervisor import _needs_compiler

    needs = {t for t in list_topics() if _needs_compiler(load_assignment(t))}
    assert "metalearning" in needs and "optimizers" not in needs


def test_the_real_module_imported_late_leaves_torch_as_it_was():
    assert _run("""
        import torch
        from autograder import dynamo_standin
        assert dynamo_standin.install()
        seed = torch.manual_seed
        torch.func.grad(lambda t: (t * t).sum())(torch.ones(2))
        import sys
        print(sys.modules["torch._dynamo"] is not dynamo_standin.STAND_IN, torch.manual_seed is seed)
    """) == ["True True"]
