# VARIANT: maml_loss
# WHY: a running sum divided by the number of tasks, tasks visited in reverse order, keyword arguments.
# %%
# GRADED: maml_loss
from torch.func import functional_call


def maml_loss(model, params, tasks, loss_fn, inner_lr, steps=1, first_order=False):
    xs, ys, xq, yq = tasks
    T = xs.shape[0]
    total = 0.0
    for i in reversed(range(T)):
        fast = inner_adapt(model=model, params=params, x=xs[i], y=ys[i], loss_fn=loss_fn, inner_lr=inner_lr,
                           steps=steps, first_order=first_order)
        total = total + loss_fn(functional_call(model, fast, xq[i]), yq[i])
    return total / T


# ruff: noqa: F821 (inner_adapt, maml_loss, proto_logits come from their own graded cells)
