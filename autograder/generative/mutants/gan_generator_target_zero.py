# MUTANT: gan_losses
# WHY: the generator is trained towards the 'fake' target, helping the discriminator instead of fooling it
# %%
# GRADED: gan_losses
import torch.nn.functional as F


def discriminator_loss(real_logits, fake_logits):
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits):
    return F.softplus(fake_logits).mean()
