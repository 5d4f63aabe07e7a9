# MUTANT: softmax_loss
# WHY: the -1 is put in every row at every label's column, not only at each row's own label
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
    dscores[:, y] -= 1
    dscores = dscores / N
    return loss, dscores
