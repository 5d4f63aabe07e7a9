# MUTANT: relu
# WHY: the mask is the wrong way round: the gradient passes where the input was negative
# %%
# GRADED: relu


def relu_forward(x):
    return x.clamp(min=0), x


def relu_backward(dout, cache):
    x = cache
    return dout * (x < 0)
