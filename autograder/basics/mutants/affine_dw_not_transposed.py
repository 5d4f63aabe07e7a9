# MUTANT: affine
# WHY: dw combines x and dout in the wrong order, giving the transpose of w's shape
# %%
# GRADED: affine


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = dout.T @ x.reshape(x.shape[0], -1)
    db = dout.sum(dim=0)
    return dx, dw, db
