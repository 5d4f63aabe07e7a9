# ATTACK: add
# WHY: returns a tensor of millions of numbers, so the result event is tens of megabytes (a slow reader
# would spend the other tests' time on it)
# %%
# GRADED: add
import torch


def add(a, b):
    return torch.zeros(3_000_000, dtype=torch.float64)
