# VARIANT: reparameterize
# WHY: mu - sigma * eps: -eps is standard normal too, so the distribution is the same
# %%
# GRADED: reparameterize
import torch


def reparameterize(mu, logvar, generator=None):
    eps = torch.empty(mu.shape, dtype=mu.dtype).normal_(generator=generator).to(mu.device)
    return mu - (logvar / 2).exp() * eps
