# VARIANT: relu
# WHY: caches the output instead of the input and takes the mask from out > 0, which is the same
# mask (out = max(x, 0) is positive exactly where x is); the forward pass with torch.maximum.
# %%
# GRADED: relu
import torch


def relu_forward(x):
    out = torch.maximum(x, torch.zeros_like(x))
    return out, out


def relu_backward(dout, cache):
    out = cache
    return dout * (out > 0).to(dout.dtype)
