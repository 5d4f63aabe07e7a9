# MUTANT: gaussian_kl
# WHY: the constant -1 per dimension is missing, so the KL of the prior with itself is not 0
# %%
# GRADED: gaussian_kl
import torch


def gaussian_kl(mu, logvar):
    return 0.5 * (mu.pow(2) + torch.exp(logvar) - logvar).sum(dim=-1)
