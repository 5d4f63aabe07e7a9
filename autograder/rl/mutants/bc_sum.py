# MUTANT: bc_loss
# WHY: the loss sums over samples instead of averaging
# %%
# GRADED: bc_loss
def behavior_cloning_loss(logits, expert_actions):
    log_probs = logits - logits.logsumexp(dim=-1, keepdim=True)
    return -log_probs.gather(-1, expert_actions.unsqueeze(-1)).sum()
