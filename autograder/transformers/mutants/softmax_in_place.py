# MUTANT: softmax
# WHY: subtracts the maximum in place, changing the caller's tensor.
# %%
# GRADED: softmax
import torch


def softmax(x, dim=-1):
    # The shift changes nothing mathematically (its gradient is exactly zero), so it is detached.
    shift = x.amax(dim=dim, keepdim=True).detach()
    x -= shift
    e = torch.exp(x)  # largest entry is exp(0) = 1: no overflow
    return e / e.sum(dim=dim, keepdim=True)
