# MUTANT: vae_loss
# WHY: the log-likelihood takes the log of sigmoid(logits), which overflows to log(0) for large logits
# CORNER: logits of +-100 and beyond
# %%
# GRADED: vae_loss
import torch


def vae_loss(x, x_logits, mu, logvar, beta=1.0):
    p = torch.sigmoid(x_logits)
    recon = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum(dim=-1).mean()
    kl = gaussian_kl(mu, logvar).mean()  # noqa: F821 (the gaussian_kl cell)
    return recon + beta * kl, recon, kl
