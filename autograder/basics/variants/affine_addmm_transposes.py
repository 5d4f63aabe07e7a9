# VARIANT: affine
# WHY: torch.addmm for the forward pass, dx computed as (w dout^T)^T, dw as (dout^T x)^T and db as a
# row of ones times dout: the same sums in another arrangement.
# %%
# GRADED: affine
import torch


def affine_forward(x, w, b):
    N = x.shape[0]
    out = torch.addmm(b, x.reshape(N, -1), w)  # (N, M)
    return out, {"x": x, "w": w}


def affine_backward(dout, cache):
    x, w = cache["x"], cache["w"]
    N = x.shape[0]
    x2d = x.reshape(N, -1)
    dx = (w @ dout.T).T.reshape(x.shape)
    dw = (dout.T @ x2d).T
    db = torch.ones(1, N, dtype=dout.dtype, device=dout.device) @ dout  # (1, M)
    return dx, dw, db[0]
