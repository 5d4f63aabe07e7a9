# MUTANT: bc_loss
# WHY: the loss uses the probability of the expert's action instead of its log-probability
# %%
# GRADED: bc_loss
def behavior_cloning_loss(logits, expert_actions):
    probs = logits.softmax(dim=-1)
    return -probs.gather(-1, expert_actions.unsqueeze(-1)).mean()
