# MUTANT: bc_loss
# WHY: the loss averages the log-probabilities of all actions, not of the expert's action
# %%
# GRADED: bc_loss
def behavior_cloning_loss(logits, expert_actions):
    log_probs = logits - logits.logsumexp(dim=-1, keepdim=True)
    return -log_probs.mean()
