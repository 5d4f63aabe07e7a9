# MUTANT: relu
# WHY: the upstream gradient is passed through unchanged, also where the input was negative
# %%
# GRADED: relu
import torch


def relu_forward(x):
    return x.clamp(min=0), x


def relu_backward(dout, cache):
    x = cache
    return dout.clone()
