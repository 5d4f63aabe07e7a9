# MUTANT: gan_losses
# WHY: the discriminator's targets are swapped: real samples are labelled fake and fake ones real
# %%
# GRADED: gan_losses
import torch.nn.functional as F


def discriminator_loss(real_logits, fake_logits):
    return F.softplus(real_logits).mean() + F.softplus(-fake_logits).mean()


def generator_loss(fake_logits):
    return F.softplus(-fake_logits).mean()
