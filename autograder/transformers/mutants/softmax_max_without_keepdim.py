# MUTANT: softmax
# WHY: subtracts the maximum along the wrong axis because its shape no longer lines up with the input.
# %%
# GRADED: softmax
import torch


def softmax(x, dim=-1):
    # The shift changes nothing mathematically (its gradient is exactly zero), so it is detached.
    shift = x.amax(dim=dim).detach()
    e = torch.exp(x - shift)  # largest entry is exp(0) = 1: no overflow
    return e / e.sum(dim=dim, keepdim=True)
