# MUTANT: gaussian_kl
# WHY: the KL is summed over the batch too, giving one number instead of one per sample
# %%
# GRADED: gaussian_kl
import torch


def gaussian_kl(mu, logvar):
    return 0.5 * (mu.pow(2) + torch.exp(logvar) - logvar - 1).sum()
