# MUTANT: train
# WHY: all parameters share one config, so they share one velocity instead of each keeping its own
# %%
# GRADED: train
import torch


def train_step(model, X, y, configs):
    loss, grads = model.loss(X, y)
    shared = configs.setdefault("all", {})
    for name in list(model.params):
        model.params[name], shared = sgd_momentum(model.params[name], grads[name], shared)
    return float(loss)
