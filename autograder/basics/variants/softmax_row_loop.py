# VARIANT: softmax_loss
# WHY: a Python loop over the examples, each row shifted by its own max, the loss accumulated as a
# Python float and the gradient row by row.
# %%
# GRADED: softmax_loss
import math

import torch


def softmax_loss(scores, y):
    N = scores.shape[0]
    dscores = torch.empty_like(scores)
    total = 0.0
    for n in range(N):
        row = scores[n] - scores[n].max()  # (C,)
        e = row.exp()
        z = e.sum()
        label = int(y[n])
        total += math.log(float(z)) - float(row[label])
        grad = e / z
        grad[label] = grad[label] - 1.0
        dscores[n] = grad / N
    return total / N, dscores
