# VARIANT: softmax
# WHY: moves `dim` to the last axis and back (movedim) instead of reducing along `dim` with keepdim,
# takes the max with torch.max(...).values without detaching it (its gradient cancels exactly in
# exact arithmetic), and normalises by multiplying with the reciprocal of the sum instead of dividing.
# %%
# GRADED: softmax
import torch


def softmax(x, dim=-1):
    """Numerically stable softmax of x along `dim`: exp(x - max) / sum(exp(x - max))."""
    z = torch.movedim(x, dim, -1)  # (..., n): the reduced axis last
    m = torch.max(z, dim=-1, keepdim=True).values  # (..., 1)
    e = torch.exp(z - m)  # largest entry is exp(0) = 1
    p = e * torch.reciprocal(e.sum(dim=-1, keepdim=True))
    return torch.movedim(p, -1, dim)  # back to x's layout
