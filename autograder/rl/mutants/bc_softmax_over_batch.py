# MUTANT: bc_loss
# WHY: the log-softmax normalises over the batch axis instead of the action axis
# %%
# GRADED: bc_loss
def behavior_cloning_loss(logits, expert_actions):
    log_probs = logits - logits.logsumexp(dim=0, keepdim=True)
    return -log_probs.gather(-1, expert_actions.unsqueeze(-1)).mean()
