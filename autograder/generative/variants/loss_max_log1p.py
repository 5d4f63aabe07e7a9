# VARIANT: vae_loss
# WHY: the stable form max(l, 0) - x l + log1p(exp(-|l|)), summed then averaged in one step
# %%
# GRADED: vae_loss
import torch


def vae_loss(x, x_logits, mu, logvar, beta=1.0):
    n = x.shape[0]
    per = torch.clamp(x_logits, min=0) - x * x_logits + torch.log1p(torch.exp(-x_logits.abs()))
    recon = per.sum() / n
    kl = gaussian_kl(mu, logvar).sum() / n  # noqa: F821 (the gaussian_kl cell)
    return recon + beta * kl, recon, kl
