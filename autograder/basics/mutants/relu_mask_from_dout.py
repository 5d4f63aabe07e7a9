# MUTANT: relu
# WHY: the mask is taken from the sign of the upstream gradient instead of from the input x
# %%
# GRADED: relu


def relu_forward(x):
    return x.clamp(min=0), x


def relu_backward(dout, cache):
    return dout * (dout > 0)
