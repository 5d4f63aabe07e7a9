# MUTANT: bc_loss
# WHY: the log-probabilities are the log of a softmax computed with raw exponentials, which overflow
# CORNER: logits of size 1000
# %%
# GRADED: bc_loss
def behavior_cloning_loss(logits, expert_actions):
    probs = logits.exp() / logits.exp().sum(-1, keepdim=True)
    return -probs.log().gather(-1, expert_actions.unsqueeze(-1)).mean()
