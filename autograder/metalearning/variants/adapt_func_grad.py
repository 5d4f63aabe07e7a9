# VARIANT: inner_adapt
# WHY: torch.func.grad of the support loss as a function of the parameter dict; first-order detaches the gradient.
# %%
# GRADED: inner_adapt
import torch
from torch.func import functional_call


def inner_adapt(model, params, x, y, loss_fn, inner_lr, steps=1, first_order=False):
    def support_loss(p):
        return loss_fn(functional_call(model, p, (x,)), y)

    adapted = {k: v for k, v in params.items()}
    for _ in range(steps):
        grads = torch.func.grad(support_loss)(adapted)
        adapted = {k: v - inner_lr * (grads[k].detach() if first_order else grads[k]) for k, v in adapted.items()}
    return adapted
