# MUTANT: pg_loss
# WHY: the standard deviation of a single advantage is NaN, and normalising divides by it
# CORNER: a batch of one step
# %%
# GRADED: pg_loss
def policy_gradient_loss(logits, actions, advantages, normalize=True):
    adv = advantages.detach()
    if normalize:
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    chosen = logits.log_softmax(dim=-1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    return -(chosen * adv).mean()
