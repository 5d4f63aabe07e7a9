# VARIANT: softmax_loss
# WHY: the log-sum-exp form written out (m + log sum exp(s - m) - s_y) with gather for the right
# class's score, and the gradient as exp(s - lse) minus F.one_hot, divided by N.
# %%
# GRADED: softmax_loss
import torch
import torch.nn.functional as F


def softmax_loss(scores, y):
    N, C = scores.shape
    m = scores.max(dim=1, keepdim=True).values  # (N, 1)
    lse = m + torch.log(torch.exp(scores - m).sum(dim=1, keepdim=True))  # (N, 1)
    correct = scores.gather(1, y.view(-1, 1))  # (N, 1)
    loss = (lse - correct).sum() / N
    dscores = (torch.exp(scores - lse) - F.one_hot(y, C).to(scores.dtype)) / N
    return loss, dscores
