# MUTANT: vae_loss
# WHY: the terms are summed over the batch instead of averaged
# %%
# GRADED: vae_loss
import torch.nn.functional as F


def vae_loss(x, x_logits, mu, logvar, beta=1.0):
    recon = (F.softplus(x_logits) - x * x_logits).sum()
    kl = gaussian_kl(mu, logvar).sum()  # noqa: F821 (the gaussian_kl cell)
    return recon + beta * kl, recon, kl
