# VARIANT: vae_loss
# WHY: -(x logsigmoid(l) + (1 - x) logsigmoid(-l)), the same Bernoulli NLL
# %%
# GRADED: vae_loss
import torch.nn.functional as F


def vae_loss(x, x_logits, mu, logvar, beta=1.0):
    recon = -(x * F.logsigmoid(x_logits) + (1 - x) * F.logsigmoid(-x_logits)).sum(dim=-1).mean()
    kl = gaussian_kl(mu, logvar).mean()  # noqa: F821 (the gaussian_kl cell)
    return recon + beta * kl, recon, kl
