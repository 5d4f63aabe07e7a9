# MUTANT: gan_losses
# WHY: the discriminator loss averages over real and fake samples together instead of adding the two batch means
# %%
# GRADED: gan_losses
import torch
import torch.nn.functional as F


def discriminator_loss(real_logits, fake_logits):
    return torch.cat([F.softplus(-real_logits), F.softplus(fake_logits)]).mean()


def generator_loss(fake_logits):
    return F.softplus(-fake_logits).mean()
