# MUTANT: relu
# WHY: the backward pass overwrites the caller's upstream gradient dout
# %%
# GRADED: relu


def relu_forward(x):
    return x.clamp(min=0), x


def relu_backward(dout, cache):
    x = cache
    dout[x <= 0] = 0
    return dout
