# MUTANT: batch_norm
# WHY: normalises with the current batch's statistics in evaluation mode too, instead of the running ones.
# %%
# GRADED: batch_norm
import torch


def batch_norm(x, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5):
    """Batch normalisation with F.batch_norm's semantics.

    x: (N, C) or (N, C, H, W); running_mean, running_var, weight, bias: (C,).
    training=True: normalise with the batch mean and biased variance, and update running_mean and
    running_var IN PLACE (momentum, unbiased variance). training=False: normalise with the running
    statistics and leave them unchanged. Returns a tensor of x's shape.
    """
    dims = [0] + list(range(2, x.dim()))  # every dimension but the channels
    shape = [1, -1] + [1] * (x.dim() - 2)  # (C,) -> broadcastable against x
    if training:
        mean = x.mean(dim=dims)  # (C,)
        var = x.var(dim=dims, unbiased=False)  # (C,) biased: used to normalise
        m = x.numel() // x.size(1)  # numbers per channel
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(momentum * mean)
            running_var.mul_(1 - momentum).add_(momentum * var * m / (m - 1))  # unbiased
    else:
        mean, var = x.mean(dim=dims), x.var(dim=dims, unbiased=False)
    x_hat = (x - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    return weight.reshape(shape) * x_hat + bias.reshape(shape)
