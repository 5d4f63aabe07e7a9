# MUTANT: clip_grad_norm
# WHY: clips each parameter's gradient on its own instead of all together, which changes the gradient's direction.
# %%
# GRADED: clip_grad_norm
import torch


def clip_grad_norm(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    total = torch.stack([g.norm() for g in grads]).norm()
    for g in grads:
        factor = max_norm / (g.norm() + 1e-6)
        if factor < 1:
            g.mul_(factor)
    return total
