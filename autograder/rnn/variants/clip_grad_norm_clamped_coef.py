# VARIANT: clip_grad_norm
# WHY: torch's own formulation: per-parameter norms with torch.linalg.vector_norm, their norm, and a
# clamped coefficient min(1, max_norm / (total + 1e-6)) applied to every gradient unconditionally
# (multiplying by exactly 1.0 changes nothing).
# %%
# GRADED: clip_grad_norm
import torch


def clip_grad_norm(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]
    if len(grads) == 0:
        return torch.tensor(0.0)
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.detach(), 2.0) for g in grads]), 2.0)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.detach().mul_(coef.to(g.device))
    return total
