# MUTANT: relu
# WHY: the upstream gradient is passed through unchanged, also where the input was negative
# %%
# GRADED: relu


def relu_forward(x):
    return x.clamp(min=0), x


def relu_backward(dout, cache):
    return dout.clone()
