# MUTANT: vae_loss
# WHY: probabilities are clamped before the log, so large logits get a wrong loss and no gradient
# CORNER: logits beyond about +-16
# %%
# GRADED: vae_loss
import torch


def vae_loss(x, x_logits, mu, logvar, beta=1.0):
    p = torch.sigmoid(x_logits).clamp(1e-7, 1 - 1e-7)
    recon = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum(dim=-1).mean()
    kl = gaussian_kl(mu, logvar).mean()  # noqa: F821 (the gaussian_kl cell)
    return recon + beta * kl, recon, kl
