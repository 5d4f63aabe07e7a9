# MUTANT: train
# WHY: the value loss is computed on detached values, so the critic never learns
# %%
# GRADED: train
import torch


def reinforce_losses(logits, values, actions, rewards, dones, gamma, lam=1.0):
    advantages = gae(rewards, values.detach(), dones, torch.zeros_like(values[-1]), gamma, lam)[0]  # noqa: F821 (defined in another graded cell)
    returns = discounted_returns(rewards, dones, gamma)  # noqa: F821 (defined in another graded cell)
    policy_loss = policy_gradient_loss(logits, actions, advantages)  # noqa: F821 (defined in another graded cell)
    value_loss = ((values.detach() - returns) ** 2).mean()
    return policy_loss, value_loss
