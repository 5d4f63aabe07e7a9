# MUTANT: softmax_loss
# WHY: one max over the whole batch is subtracted instead of each row's own max
# CORNER: rows whose scores differ by about 1000 from the other rows'
# %%
# GRADED: softmax_loss
import torch


def softmax_loss(scores, y):
    N = scores.shape[0]
    rows = torch.arange(N, device=scores.device)
    shifted = scores - scores.max()
    log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    loss = -log_probs[rows, y].mean()
    dscores = log_probs.exp()
    dscores[rows, y] -= 1
    dscores = dscores / N
    return loss, dscores
