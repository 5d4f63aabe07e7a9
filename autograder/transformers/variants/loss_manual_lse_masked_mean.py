# VARIANT: loss
# WHY: flattens to (N, V), computes the log-sum-exp as m + log sum exp(z - m) with the max NOT
# detached and picks the target logit from the UNSHIFTED logits (lse - z_target, equal to the
# reference's shifted form in exact arithmetic); ignored targets are replaced with torch.where and
# removed by multiplying with a 0/1 weight, the mean is sum(weight * nll) / sum(weight).
# %%
# GRADED: loss
import torch


def lm_loss(logits, tokens, ignore_index=-100):
    """Mean next-token cross-entropy: logits[:, t] predicts tokens[:, t + 1]."""
    if logits.ndim != 3 or tokens.ndim != 2 or tuple(tokens.shape) != tuple(logits.shape[:2]):
        raise ValueError("logits must be (B, L, V) and tokens (B, L)")
    V = logits.shape[-1]
    z = logits[:, :-1].reshape(-1, V)  # (N, V), N = B * (L - 1)
    if z.dtype in (torch.float16, torch.bfloat16):
        z = z.float()
    y = tokens[:, 1:].reshape(-1)  # (N,)
    keep = y != ignore_index
    safe_y = torch.where(keep, y, torch.zeros_like(y))  # any valid index for ignored rows
    m = z.max(dim=1, keepdim=True).values  # (N, 1)
    lse = m.squeeze(1) + torch.log(torch.exp(z - m).sum(dim=1))  # (N,)
    target_logit = z.gather(1, safe_y[:, None]).squeeze(1)  # (N,)
    weight = keep.to(z.dtype)
    return (weight * (lse - target_logit)).sum() / weight.sum()
