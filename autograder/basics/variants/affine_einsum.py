# VARIANT: affine
# WHY: einsum for every product, the flattened input kept in the cache next to x's original shape.
# %%
# GRADED: affine
import torch


def affine_forward(x, w, b):
    x2d = x.flatten(start_dim=1)  # (N, D)
    out = torch.einsum("nd,dm->nm", x2d, w) + b[None, :]
    return out, (x2d, x.shape, w)


def affine_backward(dout, cache):
    x2d, shape, w = cache
    dx = torch.einsum("nm,dm->nd", dout, w).reshape(shape)
    dw = torch.einsum("nd,nm->dm", x2d, dout)
    db = torch.einsum("nm->m", dout)
    return dx, dw, db
