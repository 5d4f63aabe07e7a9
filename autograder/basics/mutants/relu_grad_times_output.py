# MUTANT: relu
# WHY: the gradient is dout times the ReLU's output instead of dout times the 0/1 mask of where x > 0
# %%
# GRADED: relu
import torch


def relu_forward(x):
    return x.clamp(min=0), x


def relu_backward(dout, cache):
    x = cache
    return dout * x.clamp(min=0)
