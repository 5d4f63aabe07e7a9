# VARIANT: inner_adapt
# WHY: autograd.grad with create_graph for second order; first order takes gradients at detached copies.
# %%
# GRADED: inner_adapt
import torch
from torch.func import functional_call


def inner_adapt(model, params, x, y, loss_fn, inner_lr, steps=1, first_order=False):
    names = list(params.keys())
    current = [params[k] for k in names]
    for _ in range(steps):
        if first_order:
            probe = [p.detach().requires_grad_(True) for p in current]
            loss = loss_fn(functional_call(model, dict(zip(names, probe)), (x,)), y)
            grads = torch.autograd.grad(loss, probe)
        else:
            loss = loss_fn(functional_call(model, dict(zip(names, current)), (x,)), y)
            grads = torch.autograd.grad(loss, current, create_graph=True)
        current = [torch.sub(p, g, alpha=inner_lr) for p, g in zip(current, grads)]
    return dict(zip(names, current))
