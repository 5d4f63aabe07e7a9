# VARIANT: gan_losses
# WHY: -logsigmoid(l) and -logsigmoid(-l), the same losses
# %%
# GRADED: gan_losses
import torch.nn.functional as F


def discriminator_loss(real_logits, fake_logits):
    return -(F.logsigmoid(real_logits).mean() + F.logsigmoid(-fake_logits).mean())


def generator_loss(fake_logits):
    return -F.logsigmoid(fake_logits).mean()
