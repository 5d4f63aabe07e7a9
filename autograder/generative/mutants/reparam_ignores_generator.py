# MUTANT: reparameterize
# WHY: the noise is drawn from the global random generator, not from the generator argument
# %%
# GRADED: reparameterize
import torch


def reparameterize(mu, logvar, generator=None):
    eps = torch.randn_like(mu)
    return mu + torch.exp(0.5 * logvar) * eps
