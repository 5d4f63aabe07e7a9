# MUTANT: clip_grad_norm
# WHY: does not skip parameters that have no gradient, and crashes on them.
# %%
# GRADED: clip_grad_norm
import torch


def clip_grad_norm(parameters, max_norm):
    flat = torch.cat([p.grad.flatten() for p in parameters])
    total = flat.norm()
    factor = max_norm / (total + 1e-6)
    if factor < 1:
        for p in parameters:
            p.grad.mul_(factor)
    return total
