# VARIANT: clip_grad_norm
# WHY: the total norm as sqrt of a Python sum of squared entries (accumulated in float64, returned in the
# gradients' dtype), and the scaling as a Python float.
# %%
# GRADED: clip_grad_norm
import torch


def clip_grad_norm(parameters, max_norm):
    with_grad = [p for p in parameters if p.grad is not None]
    if not with_grad:
        return torch.tensor(0.0)
    squares = sum(float((p.grad.double() ** 2).sum()) for p in with_grad)
    total = squares ** 0.5
    if max_norm / (total + 1e-6) < 1:
        scale = max_norm / (total + 1e-6)
        for p in with_grad:
            p.grad.mul_(scale)
    return torch.tensor(total, dtype=with_grad[0].grad.dtype)
