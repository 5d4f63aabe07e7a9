# MUTANT: softmax
# WHY: subtracts the single largest value of the whole tensor instead of each slice's own, so slices far below it
#   underflow.
# %%
# GRADED: softmax
import torch


def softmax(x, dim=-1):
    # The shift changes nothing mathematically (its gradient is exactly zero), so it is detached.
    shift = x.max().detach()
    e = torch.exp(x - shift)  # largest entry is exp(0) = 1: no overflow
    return e / e.sum(dim=dim, keepdim=True)
