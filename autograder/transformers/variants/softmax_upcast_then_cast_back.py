# VARIANT: softmax
# WHY: computes the softmax in at least float32 (half-precision inputs are upcast, float64 stays
# float64) and casts the result back to x.dtype, so shape and dtype are kept as the contract asks;
# the exponentials and the sum are just more accurate than the reference's for float16/bfloat16.
# The max is taken with torch.max(dim).values and the normalisation uses torch.div.
# %%
# GRADED: softmax
import torch


def softmax(x, dim=-1):
    """Numerically stable softmax of x along `dim`: exp(x - max) / sum(exp(x - max))."""
    xf = x.to(torch.promote_types(x.dtype, torch.float32))
    e = torch.exp(xf - torch.max(xf, dim=dim, keepdim=True).values)
    return torch.div(e, e.sum(dim=dim, keepdim=True)).to(x.dtype)
