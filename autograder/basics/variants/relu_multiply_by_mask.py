# VARIANT: relu
# WHY: the forward pass as x times the 0/1 mask (negative entries become -0.0, equal to 0), the mask
# kept in the cache and dout masked with masked_fill.
# %%
# GRADED: relu


def relu_forward(x):
    positive = x > 0
    return x * positive, positive


def relu_backward(dout, cache):
    return dout.masked_fill(~cache, 0.0)
