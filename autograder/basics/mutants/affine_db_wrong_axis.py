# MUTANT: affine
# WHY: db reduces the upstream gradient over the wrong axis (each example's outputs, not the batch)
# %%
# GRADED: affine


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(dim=1)
    return dx, dw, db
