"""Forbidden operators are refused at torch's dispatcher, on the real topics (autograder.kernels).

The object guards cover what a manifest names in Python (``torch.softmax``, ``torch.optim.Adam``); the
same computation is reachable below that API, through ``torch._VF``, ``torch.ops.aten``,
``torch._C._VariableFunctions`` and the C base class of ``torch.Tensor``. Each attack here is correct code
(the control grades it with the question's forbidden list emptied: full marks there), so losing its
points under the real manifest shows the refusal, not a bug in the attack.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from autograder.api import grade, mutant_submission
from autograder.manifest import load_assignment

ADAM_FUSED = '''# ATTACK: adam
# %%
# GRADED: adam
import torch


class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        if lr < 0.0 or eps < 0.0 or weight_decay < 0.0 or not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError("invalid hyperparameter")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            kernel = torch._VF._fused_adamw_ if group["decoupled"] else torch._VF._fused_adam_
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                state["step"] += 1
                kernel([p], [p.grad], [state["exp_avg"]], [state["exp_avg_sq"]], [],
                       [torch.tensor(float(state["step"]))], lr=group["lr"], beta1=beta1, beta2=beta2,
                       weight_decay=group["weight_decay"], eps=group["eps"], amsgrad=False, maximize=False)
        return loss
'''

SOFTMAX_VF = '''# ATTACK: softmax
# %%
# GRADED: softmax
import torch


def softmax(x, dim=-1):
    return getattr(torch, "_" + "VF").softmax(x, dim)
'''

SOFTMAX_BASE_CLASS = '''# ATTACK: softmax
# %%
# GRADED: softmax
import torch


def softmax(x, dim=-1):
    return super(torch.Tensor, x).softmax(dim)
'''

CONV2D_OPS = '''# ATTACK: conv2d
# %%
# GRADED: conv2d
import torch


def conv2d(x, weight, bias=None, stride=1, padding=0):
    return getattr(getattr(torch, "o" + "ps"), "aten").conv2d(x, weight, bias, [stride, stride], [padding, padding])
'''

ATTACKS = {"adam_fused_kernel": ("optimizers", ADAM_FUSED), "softmax_vf": ("transformers", SOFTMAX_VF),
           "softmax_tensor_base_class": ("transformers", SOFTMAX_BASE_CLASS), "conv2d_ops_aten": ("cnn", CONV2D_OPS)}


def _without_forbidden(a, question: str):
    qs = tuple(dataclasses.replace(q, forbidden=()) if q.id == question else q for q in a.questions)
    return dataclasses.replace(a, questions=qs)


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_a_forbidden_kernel_below_the_python_api_is_refused_and_flagged(name):
    topic, text = ATTACKS[name]
    a = load_assignment(topic)
    question, sub = mutant_submission(a, Path(name), text)
    control = grade(_without_forbidden(a, question), sub, label=name)
    assert control.questions[question][0] == control.questions[question][1], (
        f"the attack is not correct code, so it proves nothing:\n{control.table()}")
    r = grade(a, mutant_submission(a, Path(name), text)[1], label=name)
    score, full = r.questions[question]
    assert score <= full / 3, r.table()
    assert r.flags.get(question), "a reached forbidden kernel is flagged for the instructor"
    dependants = {q.id for q in a.questions if question in q.depends_on}
    assert all(s == m for q, (s, m) in r.questions.items() if q != question and q not in dependants), r.table()
