# MUTANT: clip_grad_norm
# WHY: adds up the gradients' separate norms instead of computing the norm of all of them together.
# %%
# GRADED: clip_grad_norm
import torch


def clip_grad_norm(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    total = sum(g.norm() for g in grads)
    factor = max_norm / (total + 1e-6)
    if factor < 1:
        for g in grads:
            g.mul_(factor)
    return total
