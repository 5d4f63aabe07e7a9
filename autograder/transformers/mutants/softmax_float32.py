# MUTANT: softmax
# WHY: computes in and returns float32 whatever the input's precision.
# %%
# GRADED: softmax
import torch


def softmax(x, dim=-1):
    # The shift changes nothing mathematically (its gradient is exactly zero), so it is detached.
    x = x.float()
    shift = x.amax(dim=dim, keepdim=True).detach()
    e = torch.exp(x - shift)  # largest entry is exp(0) = 1: no overflow
    return e / e.sum(dim=dim, keepdim=True)
