# VARIANT: gan_losses
# WHY: the stable BCE max(l, 0) - l y + log1p(exp(-|l|)) written out, with targets
# %%
# GRADED: gan_losses
import torch


def _bce(logits, target):
    return (logits.clamp(min=0) - logits * target + torch.log1p(torch.exp(-logits.abs()))).mean()


def discriminator_loss(real_logits, fake_logits):
    return _bce(real_logits, 1.0) + _bce(fake_logits, 0.0)


def generator_loss(fake_logits):
    return _bce(fake_logits, 1.0)
