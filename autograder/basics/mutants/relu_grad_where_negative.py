# MUTANT: relu
# WHY: the gradient is passed where x < 0 and blocked where x > 0 (the mask is the wrong way round)
# %%
# GRADED: relu
import torch


def relu_forward(x):
    return x.clamp(min=0), x


def relu_backward(dout, cache):
    x = cache
    return dout * (x < 0)
