# ATTACK: add
# WHY: another question's cell (scale, which may use torch.add) keeps torch.add for the add cell
# %%
# GRADED: add
def add(a, b):
    return globals()["_kept"](a, b)

# %%
# GRADED: scale
import torch

_kept = torch.add


class Scale(torch.nn.Module):
    def __init__(self, n):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(n))

    def forward(self, x):
        return x * self.weight
