# MUTANT: clip_grad_norm
# WHY: rescales the gradients to the maximum norm even when they are already smaller, scaling small gradients up.
# %%
# GRADED: clip_grad_norm
import torch


def clip_grad_norm(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    total = torch.stack([g.norm() for g in grads]).norm()
    for g in grads:
        g.mul_(max_norm / (total + 1e-6))
    return total
