# VARIANT: batch_norm
# WHY: torch.var_mean with correction=0, rsqrt, and lerp_ for the running averages
#      (lerp(a, b, w) = a + w (b - a) = (1 - w) a + w b)
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
        var, mean = torch.var_mean(x, dim=dims, correction=0)
        m = x.numel() / x.shape[1]
        running_mean.lerp_(mean.detach(), momentum)
        running_var.lerp_(var.detach() * (m / (m - 1)), momentum)
    else:
        var, mean = running_var, running_mean
    scale = weight.reshape(shape) * torch.rsqrt(var.reshape(shape) + eps)
    return (x - mean.reshape(shape)) * scale + bias.reshape(shape)
