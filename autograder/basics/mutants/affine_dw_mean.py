# MUTANT: affine
# WHY: dw is divided by the batch size once more, although the upstream gradient already holds the 1/N
# %%
# GRADED: affine


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout / x.shape[0]
    db = dout.sum(dim=0)
    return dx, dw, db
