# VARIANT: softmax
# WHY: works in the log domain: subtracts a hand-written log-sum-exp, lse = m + log sum exp(x - m), from x
# itself and exponentiates. Correct, but x - lse cancels two large numbers: for x near -1e4 in float32 the
# result carries a relative error of about 5e-4, inside the 5e-3 the stability test states (and float32's
# precision at that magnitude), so it must keep full marks.
# %%
# GRADED: softmax
import torch


def softmax(x, dim=-1):
    """Numerically stable softmax of x along `dim`: exp(x - logsumexp(x))."""
    m = x.amax(dim=dim, keepdim=True)
    lse = m + torch.log(torch.exp(x - m).sum(dim=dim, keepdim=True))
    return torch.exp(x - lse)
