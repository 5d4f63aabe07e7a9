# MUTANT: train
# WHY: gradients are paired with parameters by position instead of by name, which breaks when grads lists its keys in another order
# CORNER: a grads dict whose keys are in another order than params'
# %%
# GRADED: train
import torch


def train_step(model, X, y, configs):
    loss, grads = model.loss(X, y)
    for name, g in zip(list(model.params), grads.values()):
        model.params[name], configs[name] = sgd_momentum(model.params[name], g, configs.get(name))
    return float(loss)
