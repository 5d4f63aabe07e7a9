# MUTANT: softmax
# WHY: always normalises over the last dimension, ignoring the one it is asked for.
# %%
# GRADED: softmax
import torch


def softmax(x, dim=-1):
    # The shift changes nothing mathematically (its gradient is exactly zero), so it is detached.
    shift = x.amax(dim=-1, keepdim=True).detach()
    e = torch.exp(x - shift)  # largest entry is exp(0) = 1: no overflow
    return e / e.sum(dim=-1, keepdim=True)
