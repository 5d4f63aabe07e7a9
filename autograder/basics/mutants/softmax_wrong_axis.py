# MUTANT: softmax_loss
# WHY: the softmax normalises over the batch (each column) instead of over the classes (each row)
# %%
# GRADED: softmax_loss
import torch


def softmax_loss(scores, y):
    N = scores.shape[0]
    rows = torch.arange(N, device=scores.device)
    shifted = scores - scores.amax(dim=0, keepdim=True)
    log_probs = shifted - shifted.exp().sum(dim=0, keepdim=True).log()
    loss = -log_probs[rows, y].mean()
    dscores = log_probs.exp()
    dscores[rows, y] -= 1
    dscores = dscores / N
    return loss, dscores
