# MUTANT: relu
# WHY: the gradient is passed where x >= 0, so at exactly x = 0 it is dout instead of torch's 0
# CORNER: x exactly 0
# %%
# GRADED: relu
import torch


def relu_forward(x):
    return x.clamp(min=0), x


def relu_backward(dout, cache):
    x = cache
    return dout * (x >= 0)
