# MUTANT: train
# WHY: gamma and lambda are passed to gae in the wrong order
# %%
# GRADED: train
import torch


def reinforce_losses(logits, values, actions, rewards, dones, gamma, lam=1.0):
    advantages = gae(rewards, values.detach(), dones, torch.zeros_like(values[-1]), lam, gamma)[0]  # noqa: F821 (defined in another graded cell)
    returns = discounted_returns(rewards, dones, gamma)  # noqa: F821 (defined in another graded cell)
    policy_loss = policy_gradient_loss(logits, actions, advantages)  # noqa: F821 (defined in another graded cell)
    value_loss = ((values - returns) ** 2).mean()
    return policy_loss, value_loss
