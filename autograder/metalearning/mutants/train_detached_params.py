# MUTANT: train
# WHY: maml_step hands maml_loss detached copies of the weights, so the meta-gradient never reaches the model
# %%
# GRADED: train
import torch.nn.functional as F


def maml_step(model, opt, tasks, inner_lr, steps=1, first_order=False):
    opt.zero_grad(set_to_none=True)
    detached = {k: v.detach().requires_grad_() for k, v in model.named_parameters()}
    loss = maml_loss(model, detached, tasks, F.mse_loss, inner_lr,
                     steps=steps, first_order=first_order)
    loss.backward()
    opt.step()
    return loss.item()


def proto_loss(embed, xs, ys, xq, yq, n_way):
    logits = proto_logits(embed(xs), ys, embed(xq), n_way)
    loss = F.cross_entropy(logits, yq)
    accuracy = (logits.argmax(dim=-1) == yq).float().mean()
    return loss, accuracy


# ruff: noqa: F821 (inner_adapt, maml_loss, proto_logits come from their own graded cells)
