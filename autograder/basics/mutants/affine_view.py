# MUTANT: affine
# WHY: the flattening of x fails for an input that is not contiguous in memory (a transposed view)
# CORNER: x that is not contiguous in memory (a transposed view)
# %%
# GRADED: affine


def affine_forward(x, w, b):
    out = x.view(x.shape[0], -1) @ w + b
    return out, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    dx = (dout @ w.T).view(x.shape)
    dw = x.view(x.shape[0], -1).T @ dout
    db = dout.sum(dim=0)
    return dx, dw, db
