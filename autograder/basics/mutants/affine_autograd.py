# MUTANT: affine
# WHY: the gradients come from autograd, which this assignment forbids: they are not computed by hand
# %%
# GRADED: affine
import torch


def affine_forward(x, w, b):
    leaves = [t.detach().requires_grad_(True) for t in (x, w, b)]
    out = leaves[0].reshape(x.shape[0], -1) @ leaves[1] + leaves[2]
    return out.detach(), (leaves, out)


def affine_backward(dout, cache):
    leaves, out = cache
    return torch.autograd.grad(out, leaves, dout)
