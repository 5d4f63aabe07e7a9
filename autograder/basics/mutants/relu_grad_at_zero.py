# MUTANT: relu
# WHY: the gradient is passed at x exactly 0 too, where torch's convention gives 0
# CORNER: x exactly 0
# %%
# GRADED: relu


def relu_forward(x):
    return x.clamp(min=0), x


def relu_backward(dout, cache):
    x = cache
    return dout * (x >= 0)
