# MUTANT: train
# WHY: the loss is returned as a tensor instead of a Python float
# %%
# GRADED: train


def train_step(model, X, y, configs):
    loss, grads = model.loss(X, y)
    for name in list(model.params):
        model.params[name], configs[name] = sgd_momentum(model.params[name], grads[name], configs.get(name))  # noqa: F821
    return loss
