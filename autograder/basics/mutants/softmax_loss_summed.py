# MUTANT: softmax_loss
# WHY: the loss is summed over the batch instead of averaged
# %%
# GRADED: softmax_loss
import torch


def softmax_loss(scores, y):
    N = scores.shape[0]
    rows = torch.arange(N, device=scores.device)
    shifted = scores - scores.amax(dim=1, keepdim=True)
    log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    loss = -log_probs[rows, y].sum()
    dscores = log_probs.exp()
    dscores[rows, y] -= 1
    return loss, dscores
