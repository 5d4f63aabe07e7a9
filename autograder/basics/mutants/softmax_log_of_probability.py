# MUTANT: softmax_loss
# WHY: the loss is the log of a probability, which is -inf when that probability underflows
# CORNER: the right class scoring about 1000 below the best one
# %%
# GRADED: softmax_loss
import torch


def softmax_loss(scores, y):
    N = scores.shape[0]
    rows = torch.arange(N, device=scores.device)
    shifted = scores - scores.amax(dim=1, keepdim=True)
    probs = shifted.exp() / shifted.exp().sum(dim=1, keepdim=True)
    loss = -probs[rows, y].log().mean()
    dscores = probs.clone()
    dscores[rows, y] -= 1
    dscores = dscores / N
    return loss, dscores
