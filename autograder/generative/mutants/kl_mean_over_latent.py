# MUTANT: gaussian_kl
# WHY: the KL is averaged over the latent dimensions instead of summed
# %%
# GRADED: gaussian_kl
import torch


def gaussian_kl(mu, logvar):
    return 0.5 * (mu.pow(2) + torch.exp(logvar) - logvar - 1).mean(dim=-1)
