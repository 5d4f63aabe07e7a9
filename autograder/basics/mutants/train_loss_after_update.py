# MUTANT: train
# WHY: the loss returned is computed again after the update, not the loss of the step's own forward pass
# %%
# GRADED: train
import torch


def train_step(model, X, y, configs):
    loss, grads = model.loss(X, y)
    for name in list(model.params):
        model.params[name], configs[name] = sgd_momentum(model.params[name], grads[name], configs.get(name))
    return float(model.loss(X, y)[0])
