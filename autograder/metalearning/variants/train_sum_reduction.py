# VARIANT: train
# WHY: the model's parameters zeroed by hand, a summed cross-entropy divided by the number of queries.
# %%
# GRADED: train
import torch
import torch.nn.functional as F


def maml_step(model, opt, tasks, inner_lr, steps=1, first_order=False):
    for p in model.parameters():
        p.grad = None
    params = dict(model.named_parameters())
    loss = maml_loss(model, params, tasks, lambda out, target: ((out - target) ** 2).mean(), inner_lr,
                     steps=steps, first_order=first_order)
    loss.backward()
    opt.step()
    return loss.detach().item()


def proto_loss(embed, xs, ys, xq, yq, n_way):
    logits = proto_logits(embed(xs), ys, embed(xq), n_way)
    loss = F.cross_entropy(logits, yq, reduction="sum") / yq.shape[0]
    accuracy = torch.eq(logits.argmax(-1), yq).to(logits.dtype).mean()
    return loss, accuracy


# ruff: noqa: F821 (inner_adapt, maml_loss, proto_logits come from their own graded cells)
