# MUTANT: train
# WHY: the new parameters sgd_momentum returns are never stored in model.params, so the model does not change
# %%
# GRADED: train
import torch


def train_step(model, X, y, configs):
    loss, grads = model.loss(X, y)
    for name in list(model.params):
        _, configs[name] = sgd_momentum(model.params[name], grads[name], configs.get(name))
    return float(loss)
