# MUTANT: inner_adapt
# WHY: the first_order flag is ignored: the inner gradients keep their graph in first-order mode too
# %%
# GRADED: inner_adapt
import torch
from torch.func import functional_call


def inner_adapt(model, params, x, y, loss_fn, inner_lr, steps=1, first_order=False):
    adapted = dict(params)
    for _ in range(steps):
        loss = loss_fn(functional_call(model, adapted, (x,)), y)
        grads = torch.autograd.grad(loss, list(adapted.values()), create_graph=True)
        adapted = {name: p - inner_lr * g for (name, p), g in zip(adapted.items(), grads)}
    return adapted
