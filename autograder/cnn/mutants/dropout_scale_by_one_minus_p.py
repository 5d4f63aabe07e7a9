# MUTANT: dropout
# WHY: scales the kept values down instead of up.
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
    if p == 1:
        return torch.zeros_like(x)
    where = generator.device if generator is not None else x.device
    u = torch.rand(x.shape, generator=generator, device=where).to(x.device)  # U[0, 1)
    keep = (u >= p).to(x.dtype)  # 1 with probability 1 - p
    return x * keep * (1 - p)
