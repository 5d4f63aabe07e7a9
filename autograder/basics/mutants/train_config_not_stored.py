# MUTANT: train
# WHY: the config sgd_momentum returns is not stored back in configs, so a parameter can lose its velocity between steps
# %%
# GRADED: train
import torch


def train_step(model, X, y, configs):
    loss, grads = model.loss(X, y)
    for name in list(model.params):
        model.params[name], _ = sgd_momentum(model.params[name], grads[name], configs.get(name))
    return float(loss)
