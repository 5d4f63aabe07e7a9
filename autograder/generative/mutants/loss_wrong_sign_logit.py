# MUTANT: vae_loss
# WHY: the cross term has the wrong sign (softplus(l) + x l)
# %%
# GRADED: vae_loss
import torch.nn.functional as F


def vae_loss(x, x_logits, mu, logvar, beta=1.0):
    recon = (F.softplus(x_logits) + x * x_logits).sum(dim=-1).mean()
    kl = gaussian_kl(mu, logvar).mean()  # noqa: F821 (the gaussian_kl cell)
    return recon + beta * kl, recon, kl
