# MUTANT: gan_losses
# WHY: the losses are summed over the batch instead of averaged
# %%
# GRADED: gan_losses
import torch.nn.functional as F


def discriminator_loss(real_logits, fake_logits):
    return F.softplus(-real_logits).sum() + F.softplus(fake_logits).sum()


def generator_loss(fake_logits):
    return F.softplus(-fake_logits).sum()
