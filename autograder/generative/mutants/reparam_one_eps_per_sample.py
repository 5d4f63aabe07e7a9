# MUTANT: reparameterize
# WHY: one noise value is shared by all latent dimensions of a sample
# %%
# GRADED: reparameterize
import torch


def reparameterize(mu, logvar, generator=None):
    eps = torch.randn(mu.shape[0], 1, generator=generator, dtype=mu.dtype).to(mu.device)
    return mu + torch.exp(0.5 * logvar) * eps
