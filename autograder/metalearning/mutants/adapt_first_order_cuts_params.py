# MUTANT: inner_adapt
# WHY: in first-order mode the adapted params are cut from params, so no meta-gradient reaches them
# %%
# GRADED: inner_adapt
import torch
from torch.func import functional_call


def inner_adapt(model, params, x, y, loss_fn, inner_lr, steps=1, first_order=False):
    adapted = dict(params)
    for _ in range(steps):
        loss = loss_fn(functional_call(model, adapted, (x,)), y)
        grads = torch.autograd.grad(loss, list(adapted.values()), create_graph=not first_order)
        adapted = {name: (p - inner_lr * g).detach().requires_grad_() if first_order else p - inner_lr * g
                   for (name, p), g in zip(adapted.items(), grads)}
    return adapted
