# MUTANT: relu
# WHY: the mask is taken from the sign of the upstream gradient instead of from the input x
# %%
# GRADED: relu
import torch


def relu_forward(x):
    return x.clamp(min=0), x


def relu_backward(dout, cache):
    x = cache
    return dout * (dout > 0)
