# MUTANT: reparameterize
# WHY: the noise is uniform on [0, 1) instead of standard normal
# %%
# GRADED: reparameterize
import torch


def reparameterize(mu, logvar, generator=None):
    eps = torch.rand(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
    return mu + torch.exp(0.5 * logvar) * eps
