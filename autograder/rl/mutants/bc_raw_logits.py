# MUTANT: bc_loss
# WHY: the logits are used as log-probabilities without normalising them (no log-sum-exp)
# %%
# GRADED: bc_loss
def behavior_cloning_loss(logits, expert_actions):
    return -logits.gather(-1, expert_actions.unsqueeze(-1)).mean()
