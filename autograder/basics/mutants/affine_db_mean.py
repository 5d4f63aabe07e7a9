# MUTANT: affine
# WHY: db averages the upstream gradient over the batch instead of adding up every example's share
# %%
# GRADED: affine


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.mean(dim=0)
    return dx, dw, db
