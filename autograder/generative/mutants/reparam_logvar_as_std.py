# MUTANT: reparameterize
# WHY: the log-variance is used as the standard deviation
# %%
# GRADED: reparameterize
import torch


def reparameterize(mu, logvar, generator=None):
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
    return mu + logvar * eps
