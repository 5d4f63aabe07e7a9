# MUTANT: train
# WHY: proto_loss negates the logits again before the cross-entropy, so the farthest prototype is rewarded
# %%
# GRADED: train
import torch.nn.functional as F


def maml_step(model, opt, tasks, inner_lr, steps=1, first_order=False):
    opt.zero_grad(set_to_none=True)
    loss = maml_loss(model, dict(model.named_parameters()), tasks, F.mse_loss, inner_lr,
                     steps=steps, first_order=first_order)
    loss.backward()
    opt.step()
    return loss.item()


def proto_loss(embed, xs, ys, xq, yq, n_way):
    logits = proto_logits(embed(xs), ys, embed(xq), n_way)
    loss = F.cross_entropy(-logits, yq)
    accuracy = (logits.argmax(dim=-1) == yq).float().mean()
    return loss, accuracy


# ruff: noqa: F821 (inner_adapt, maml_loss, proto_logits come from their own graded cells)
