# VARIANT: train
# WHY: the critic's loss first, written with pow and mean, then the policy's loss.
# %%
# GRADED: train
def reinforce_losses(logits, values, actions, rewards, dones, gamma, lam=1.0):
    G = discounted_returns(rewards, dones, gamma)  # noqa: F821 (defined in another graded cell)
    value_loss = (G - values).pow(2).mean()
    adv = gae(rewards, values.detach(), dones, values.new_zeros(()), gamma, lam)[0]  # noqa: F821 (another graded cell)
    return policy_gradient_loss(logits, actions, adv), value_loss  # noqa: F821 (defined in another graded cell)
