# VARIANT: train
# WHY: zero_grad without set_to_none and float(); log_softmax + nll_loss, accuracy from a count of hits.
# %%
# GRADED: train
import torch.nn.functional as F


def maml_step(model, opt, tasks, inner_lr, steps=1, first_order=False):
    opt.zero_grad(set_to_none=False)
    params = {n: p for n, p in model.named_parameters()}
    meta = maml_loss(model, params, tasks, F.mse_loss, inner_lr, steps, first_order)
    meta.backward()
    opt.step()
    return float(meta)


def proto_loss(embed, xs, ys, xq, yq, n_way):
    logits = proto_logits(embed(xs), ys, embed(xq), n_way)
    loss = F.nll_loss(F.log_softmax(logits, dim=-1), yq)
    hits = (logits.max(dim=-1).indices == yq).sum()
    return loss, hits / yq.numel()


# ruff: noqa: F821 (inner_adapt, maml_loss, proto_logits come from their own graded cells)
