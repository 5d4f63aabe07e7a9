# MUTANT: relu
# WHY: the upstream gradient is multiplied by the ReLU's output instead of by a 0/1 mask
# %%
# GRADED: relu


def relu_forward(x):
    return x.clamp(min=0), x


def relu_backward(dout, cache):
    x = cache
    return dout * x.clamp(min=0)
