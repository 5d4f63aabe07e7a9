# MUTANT: reparameterize
# WHY: the standard deviation is cut off the autograd graph, so logvar gets no gradient
# %%
# GRADED: reparameterize
import torch


def reparameterize(mu, logvar, generator=None):
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
    return mu + torch.exp(0.5 * logvar).detach() * eps
