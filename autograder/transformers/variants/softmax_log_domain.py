# VARIANT: softmax
# WHY: works in the log domain: computes the log-sum-exp by hand (m + log sum exp(x - m), no
# torch.logsumexp) and returns exp(x - lse). exp(x - lse) = exp(x - m) / sum exp(x - m) in exact
# arithmetic; -inf entries give exp(-inf) = 0 exactly, an all -inf slice gives nan (m = -inf).
# %%
# GRADED: softmax
import torch


def softmax(x, dim=-1):
    """Numerically stable softmax of x along `dim`: exp(x - max) / sum(exp(x - max))."""
    m = x.amax(dim=dim, keepdim=True)
    shifted = x - m  # <= 0 everywhere (or nan for an all -inf slice)
    log_norm = torch.log(torch.exp(shifted).sum(dim=dim, keepdim=True))  # log sum exp(x - m) >= 0
    return torch.exp(shifted - log_norm)
