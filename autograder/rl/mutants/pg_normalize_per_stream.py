# MUTANT: pg_loss
# WHY: the advantages are standardised separately for each stream (over time only) rather than over all elements
# CORNER: (T, B) advantages from several parallel environments
# %%
# GRADED: pg_loss
def policy_gradient_loss(logits, actions, advantages, normalize=True):
    adv = advantages.detach()
    if normalize:
        if adv.numel() > 1:
            adv = (adv - adv.mean(dim=0)) / (adv.std(dim=0) + 1e-8)
        else:
            adv = adv - adv
    chosen = logits.log_softmax(dim=-1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    return -(chosen * adv).mean()
