"""The grader's stand-in for ``torch._dynamo`` (``autograder.dynamo_standin``): eager results are those of
the real module, the real module is never imported for optimizers, and anything else imports it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from autograder.api import grade

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


def test_graded_code_that_trains_meets_the_stand_in(toy, toy_notebook):
    """In the sandboxed process a question's tests run in, an optimizer step leaves the compiler unimported
    (what the grader saved by not importing it is not spent again per question)."""
    cell = ("# GRADED: add\nimport sys\nimport torch\n"
            "def add(a, b):\n    w = torch.nn.Parameter(torch.zeros(1))\n    opt = torch.optim.Adam([w], lr=0.1)\n"
            "    (w - 1).pow(2).sum().backward()\n    opt.step()\n"
            "    assert 'torch._dynamo.convert_frame' not in sys.modules\n    return a + b\n")
    r = grade(toy, toy_notebook(add=cell))
    assert r.questions["add"] == (2.0, 2.0), r.table()
