# MUTANT: train
# WHY: the policy is weighted by the returns alone: the critic's baseline (and GAE) is not used
# %%
# GRADED: train
def reinforce_losses(logits, values, actions, rewards, dones, gamma, lam=1.0):
    advantages = discounted_returns(rewards, dones, gamma)  # noqa: F821 (defined in another graded cell)
    returns = discounted_returns(rewards, dones, gamma)  # noqa: F821 (defined in another graded cell)
    policy_loss = policy_gradient_loss(logits, actions, advantages)  # noqa: F821 (defined in another graded cell)
    value_loss = ((values - returns) ** 2).mean()
    return policy_loss, value_loss
