# VARIANT: reparameterize
# WHY: the standard deviation written as sqrt(exp(logvar)), equal in exact arithmetic
# %%
# GRADED: reparameterize
import torch


def reparameterize(mu, logvar, generator=None):
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
    return torch.addcmul(mu, torch.sqrt(torch.exp(logvar)), eps)
