# MUTANT: relu
# WHY: the forward pass overwrites its input x instead of making a new tensor
# %%
# GRADED: relu


def relu_forward(x):
    out = x.clamp_(min=0)
    return out, x


def relu_backward(dout, cache):
    x = cache
    return dout * (x > 0)
