# VARIANT: train
# WHY: loops over grads.items() (in whatever order grads lists them) rather than over params, and
# returns the loss with .item().
# %%
# GRADED: train
import torch


def train_step(model, X, y, configs):
    loss, grads = model.loss(X, y)
    for name, g in grads.items():
        new_w, new_config = sgd_momentum(model.params[name], g, configs.get(name))  # noqa: F821
        model.params[name] = new_w
        configs[name] = new_config
    return loss.item() if isinstance(loss, torch.Tensor) else float(loss)
