# MUTANT: reparameterize
# WHY: the noise is scaled by the variance exp(logvar) instead of the standard deviation
# %%
# GRADED: reparameterize
import torch


def reparameterize(mu, logvar, generator=None):
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
    return mu + torch.exp(logvar) * eps
