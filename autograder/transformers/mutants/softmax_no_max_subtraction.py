# MUTANT: softmax
# WHY: exponentiates without subtracting the maximum first, so large inputs overflow.
# %%
# GRADED: softmax
import torch


def softmax(x, dim=-1):
    # The shift changes nothing mathematically (its gradient is exactly zero), so it is detached.
    e = torch.exp(x)  # largest entry is exp(0) = 1: no overflow
    return e / e.sum(dim=dim, keepdim=True)
