# MUTANT: softmax_loss
# WHY: the row max is subtracted from the caller's scores tensor in place
# %%
# GRADED: softmax_loss
import torch


def softmax_loss(scores, y):
    N = scores.shape[0]
    rows = torch.arange(N, device=scores.device)
    scores -= scores.amax(dim=1, keepdim=True)
    log_probs = scores - scores.exp().sum(dim=1, keepdim=True).log()
    loss = -log_probs[rows, y].mean()
    dscores = log_probs.exp()
    dscores[rows, y] -= 1
    dscores = dscores / N
    return loss, dscores
