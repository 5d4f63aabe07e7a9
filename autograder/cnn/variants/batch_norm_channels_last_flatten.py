# VARIANT: batch_norm
# WHY: moves the channels last, flattens to (m, C), computes the moments by hand and
#      writes the running statistics with copy_
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
    [0] + list(range(2, x.dim()))  # every dimension but the channels
    [1, -1] + [1] * (x.dim() - 2)  # (C,) -> broadcastable against x
    C = x.shape[1]
    flat = x.movedim(1, -1).reshape(-1, C)  # (m, C)
    if training:
        m = flat.shape[0]
        mean = flat.sum(0) / m
        var = ((flat - mean) ** 2).sum(0) / m
        with torch.no_grad():
            running_mean.copy_(running_mean + momentum * (mean - running_mean))
            running_var.copy_(running_var + momentum * (var * m / (m - 1) - running_var))
    else:
        mean, var = running_mean, running_var
    y = (flat - mean) / (var + eps).sqrt() * weight + bias
    return y.reshape(*x.movedim(1, -1).shape).movedim(-1, 1)
