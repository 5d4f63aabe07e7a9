# MUTANT: inner_adapt
# WHY: only one inner step is taken whatever steps says
# %%
# GRADED: inner_adapt
import torch
from torch.func import functional_call


def inner_adapt(model, params, x, y, loss_fn, inner_lr, steps=1, first_order=False):
    adapted = dict(params)
    for _ in range(1):
        loss = loss_fn(functional_call(model, adapted, (x,)), y)
        grads = torch.autograd.grad(loss, list(adapted.values()), create_graph=not first_order)
        adapted = {name: p - inner_lr * g for (name, p), g in zip(adapted.items(), grads)}
    return adapted
