# MUTANT: gaussian_kl
# WHY: the factor 1/2 is missing
# %%
# GRADED: gaussian_kl
import torch


def gaussian_kl(mu, logvar):
    return (mu.pow(2) + torch.exp(logvar) - logvar - 1).sum(dim=-1)
