# VARIANT: bc_loss
# WHY: torch.distributions.Categorical(logits).log_prob, negated and averaged.
# %%
# GRADED: bc_loss
import torch


def behavior_cloning_loss(logits, expert_actions):
    return -torch.distributions.Categorical(logits=logits).log_prob(expert_actions).mean()
