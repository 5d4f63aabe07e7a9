# MUTANT: softmax_loss
# WHY: dscores lacks the -1 at each row's right class
# %%
# GRADED: softmax_loss
import torch


def softmax_loss(scores, y):
    N = scores.shape[0]
    rows = torch.arange(N, device=scores.device)
    shifted = scores - scores.amax(dim=1, keepdim=True)
    log_probs = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
    loss = -log_probs[rows, y].mean()
    dscores = log_probs.exp() / N
    return loss, dscores
