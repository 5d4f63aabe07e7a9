# MUTANT: maml_loss
# WHY: the inner loop adapts on the query set, the set the loss is then measured on
# %%
# GRADED: maml_loss
import torch
from torch.func import functional_call


def maml_loss(model, params, tasks, loss_fn, inner_lr, steps=1, first_order=False):
    xs, ys, xq, yq = tasks
    losses = []
    for i in range(xs.shape[0]):
        adapted = inner_adapt(model, params, xq[i], yq[i], loss_fn, inner_lr, steps=steps, first_order=first_order)
        losses.append(loss_fn(functional_call(model, adapted, (xq[i],)), yq[i]))
    return torch.stack(losses).mean()


# ruff: noqa: F821 (inner_adapt, maml_loss, proto_logits come from their own graded cells)
