# VARIANT: dropout
# WHY: a Bernoulli mask with torch.bernoulli(..., generator=...) and torch.where; p == 1 handled by
#      the all-zero mask (no division by zero is reached)
# %%
# GRADED: dropout
import torch


def dropout(x, p, training=True, generator=None):
    """Inverted dropout: zero each entry with probability p, scale the kept ones by 1 / (1 - p).

    x: any shape; returns x's shape and dtype. Identity when not training or p == 0; zeros when p == 1.
    Random numbers come only from `generator` (the global generator when it is None).
    """
    if not training or p == 0:
        return x
    probs = torch.full(x.shape, 1.0 - p, dtype=torch.float64)
    keep = torch.bernoulli(probs, generator=generator).bool().to(x.device)
    scale = 0.0 if p >= 1 else 1.0 / (1.0 - p)
    return torch.where(keep, x * scale, torch.zeros_like(x))
