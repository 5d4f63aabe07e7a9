# MUTANT: relu
# WHY: the backward pass zeroes entries of the upstream gradient dout in place and returns it, changing the caller's tensor
# %%
# GRADED: relu
import torch


def relu_forward(x):
    return x.clamp(min=0), x


def relu_backward(dout, cache):
    x = cache
    dout[x <= 0] = 0
    return dout
