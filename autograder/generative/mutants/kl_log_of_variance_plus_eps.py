# MUTANT: gaussian_kl
# WHY: the log-variance is recomputed as log(variance + a small constant), which is wrong for small variances
# %%
# GRADED: gaussian_kl
import torch


def gaussian_kl(mu, logvar):
    var = torch.exp(logvar)
    return 0.5 * (mu.pow(2) + var - torch.log(var + 1e-8) - 1).sum(dim=-1)
