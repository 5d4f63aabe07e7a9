# ATTACK: add
# WHY: another question's cell asks the grader's keeper of originals for torch.add directly (no window is open while cells run)
# %%
# GRADED: add
def add(a, b):
    return globals()["_kept"](a, b)

# %%
# GRADED: scale
import torch

import autograder.policy as policy

_guard = getattr(torch, "a" + "dd")
_key = _guard.__closure__[0].cell_contents  # the guard's key, in its closure
_kept = policy._KEEPER.send(("call", _key))[1]


class Scale(torch.nn.Module):
    def __init__(self, n):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(n))

    def forward(self, x):
        return x * self.weight
