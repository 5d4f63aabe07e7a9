# VARIANT: maml_loss
# WHY: zip over the four task tensors and a mean of a Python list via sum() / len().
# %%
# GRADED: maml_loss
from torch.func import functional_call


def maml_loss(model, params, tasks, loss_fn, inner_lr, steps=1, first_order=False):
    losses = []
    for x_s, y_s, x_q, y_q in zip(*tasks):
        adapted = inner_adapt(model, params, x_s, y_s, loss_fn, inner_lr, steps, first_order)
        losses.append(loss_fn(functional_call(model, adapted, (x_q,)), y_q))
    return sum(losses) / len(losses)


# ruff: noqa: F821 (inner_adapt, maml_loss, proto_logits come from their own graded cells)
