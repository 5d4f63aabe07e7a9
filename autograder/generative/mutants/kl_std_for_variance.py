# MUTANT: gaussian_kl
# WHY: the standard deviation exp(logvar / 2) stands where the variance belongs
# %%
# GRADED: gaussian_kl
import torch


def gaussian_kl(mu, logvar):
    return 0.5 * (mu.pow(2) + torch.exp(0.5 * logvar) - logvar - 1).sum(dim=-1)
