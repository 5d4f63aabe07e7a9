# VARIANT: train
# WHY: keyword arguments everywhere, values detached under no_grad, F.mse_loss for the critic.
# %%
# GRADED: train
import torch
import torch.nn.functional as F


def reinforce_losses(logits, values, actions, rewards, dones, gamma, lam=1.0):
    with torch.no_grad():
        baseline = values.detach()
    advantages, _ = gae(rewards=rewards, values=baseline, dones=dones, last_value=0.0, gamma=gamma, lam=lam)  # noqa: F821
    targets = discounted_returns(rewards=rewards, dones=dones, gamma=gamma)  # noqa: F821
    policy_loss = policy_gradient_loss(logits=logits, actions=actions, advantages=advantages, normalize=True)  # noqa: F821
    return policy_loss, F.mse_loss(values, targets.detach())
