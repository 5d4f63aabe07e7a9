# MUTANT: gan_losses
# WHY: the losses take the log of sigmoid(logits), which overflows to log(0) for large logits
# CORNER: logits of +-100 and beyond
# %%
# GRADED: gan_losses
import torch


def discriminator_loss(real_logits, fake_logits):
    return -torch.log(torch.sigmoid(real_logits)).mean() - torch.log(1 - torch.sigmoid(fake_logits)).mean()


def generator_loss(fake_logits):
    return -torch.log(torch.sigmoid(fake_logits)).mean()
