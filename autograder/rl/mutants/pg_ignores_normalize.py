# MUTANT: pg_loss
# WHY: the advantages are never standardised, whatever normalize says
# %%
# GRADED: pg_loss
def policy_gradient_loss(logits, actions, advantages, normalize=True):
    adv = advantages.detach()
    chosen = logits.log_softmax(dim=-1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    return -(chosen * adv).mean()
