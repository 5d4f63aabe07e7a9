# MUTANT: softmax_loss
# WHY: the loss is averaged over the batch but dscores is not divided by N
# %%
# GRADED: softmax_loss
import torch


def softmax_loss(scores, y):
    N = scores.shape[0]
    rows = torch.arange(N, device=scores.device)
    shifted = scores - scores.amax(dim=1, keepdim=True)
    log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    loss = -log_probs[rows, y].mean()
    dscores = log_probs.exp()
    dscores[rows, y] -= 1
    return loss, dscores
