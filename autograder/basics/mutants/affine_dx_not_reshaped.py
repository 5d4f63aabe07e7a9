# MUTANT: affine
# WHY: dx keeps the flattened (N, D) shape instead of the shape of the original x
# CORNER: x with more than two dimensions
# %%
# GRADED: affine


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    dx = dout @ w.T
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(dim=0)
    return dx, dw, db
